//! Text from the input, made safe for an error line.
//!
//! Every message line (`error::say`) and summary line (`Summary::to_text`)
//! has its control characters escaped by [`escape_controls`], so text a
//! file, a flag or a transcript supplies can neither forge a line nor drive
//! the terminal; [`quoted`] also puts a name or a value in double quotes.

/// `text` in double quotes, escaped as Rust's `escape_debug` does
/// (`"evil\nrole\u{1b}[31m"`).
pub fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// `text` with its control characters escaped and nothing else changed:
/// for messages of libraries that embed the input as written.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// serde's "invalid type: X, expected Y" in plain words ("Y was expected,
/// not X"), Rust's type names replaced by what JSON calls them; control
/// characters escaped. Other messages are only escaped.
pub fn json_error(message: &str) -> String {
    let message = escape_controls(message);
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message;
    };
    let Some((found, wanted)) = rest.split_once(", expected ") else {
        return message;
    };
    let wanted = match wanted {
        "u64" | "u32" | "usize" => format!("a whole number from 0 to {}", u64::MAX),
        "f64" | "f32" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a string" | "a borrowed string" => "a string".to_string(),
        "a map" => "a JSON object".to_string(),
        "a sequence" => "a list".to_string(),
        other if other.starts_with("struct ") => "a JSON object".to_string(),
        other => other.to_string(),
    };
    // serde_json reads an integer too large for u64 as a float: its text
    // as printed (1e+20) would not be what the file says.
    if found.starts_with("floating point") && wanted.starts_with("a whole number") {
        return format!("{wanted} was expected");
    }
    let found = match found.split_once(' ') {
        Some(("integer" | "floating" | "boolean", value)) => value
            .trim_start_matches("point ")
            .trim_matches('`')
            .to_string(),
        _ => match found {
            "map" => "an object".to_string(),
            "sequence" => "a list".to_string(),
            "unit value" | "null" => "null".to_string(),
            other => other.to_string(),
        },
    };
    format!("{wanted} was expected, not {found}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_in_plain_words() {
        assert_eq!(
            json_error("invalid type: floating point `1e20`, expected u64"),
            "a whole number from 0 to 18446744073709551615 was expected"
        );
        assert_eq!(
            json_error("invalid type: integer `5`, expected struct Usage"),
            "a JSON object was expected, not 5"
        );
        assert_eq!(json_error("missing field `x`"), "missing field `x`");
    }

    #[test]
    fn control_characters_are_escaped() {
        let text = quoted("evil\nrole\u{1b}[31m\"");
        assert_eq!(text, r#""evil\nrole\u{1b}[31m\"""#);
        assert!(!text.chars().any(char::is_control));
    }
}
