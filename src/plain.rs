//! Text from the input, made safe for an error line.
//!
//! Anything a file, a flag or a transcript supplies reaches stderr only
//! through [`quoted`]: in double quotes, with quotes, backslashes, newlines,
//! escapes and other control characters escaped, so it can neither forge a
//! line nor drive the terminal.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let text = quoted("evil\nrole\u{1b}[31m\"");
        assert_eq!(text, r#""evil\nrole\u{1b}[31m\"""#);
        assert!(!text.chars().any(char::is_control));
    }
}
