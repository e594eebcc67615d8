//! Values of flags that are parsed beyond their shape: delimiters and
//! metadata pairs.

use super::exit::usage;

/// Decodes `\n \t \r \0 \\ \xHH` in a delimiter; the result is not empty.
pub fn parse_delimiter(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let value = std::str::from_utf8(&hex)
                    .ok()
                    .filter(|h| h.len() == 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("\\x needs two hex digits in \"{text}\""))?;
                out.push(value);
            }
            Some(other) => {
                return Err(format!("unknown escape \\{} in \"{text}\"", other as char));
            }
            None => return Err(format!("\"{text}\" ends with a lone backslash")),
        }
    }
    if out.is_empty() {
        return Err("the delimiter is empty".to_string());
    }
    Ok(out)
}

/// `KEY=VALUE` → (KEY, VALUE); KEY is non-empty and not a reserved field.
pub fn parse_meta(pair: &str) -> anyhow::Result<(String, String)> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| usage(format!("--meta {pair}: expected KEY=VALUE")))?;
    if key.is_empty() {
        return Err(usage(format!("--meta {pair}: the key is empty")));
    }
    if ["chunk_id", "model", "input"].contains(&key) {
        return Err(usage(format!("--meta {pair}: {key} is set by tokmeter")));
    }
    Ok((key.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_decode_escapes() {
        assert_eq!(parse_delimiter("\\n\\n").unwrap(), b"\n\n");
        assert_eq!(parse_delimiter("\\0").unwrap(), b"\0");
        assert_eq!(parse_delimiter("a\\x41\\\\").unwrap(), b"aA\\");
        assert_eq!(parse_delimiter("→").unwrap(), "→".as_bytes());
        assert!(parse_delimiter("").is_err());
        assert!(parse_delimiter("\\q").is_err());
        assert!(parse_delimiter("\\x4").is_err());
        assert!(parse_delimiter("a\\").is_err());
    }

    #[test]
    fn meta_pairs_parse() {
        assert_eq!(parse_meta("k=v=w").unwrap(), ("k".into(), "v=w".into()));
        assert!(parse_meta("novalue").is_err());
        assert!(parse_meta("=v").is_err());
        assert!(parse_meta("model=x").is_err());
    }
}
