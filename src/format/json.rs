//! JSON Lines output, and the JSON string escaping every format shares.
//!
//! Each record is one line: `{"content","tokens","cost","timestamp",
//! "metadata":{"chunk_id",…}}`. Cost is an exact decimal string. Strings
//! escape quotes, backslashes, control characters and U+2028/U+2029, and
//! carry U+FFFD for invalid UTF-8, so every line is valid JSON (and JS).

use super::{Formatter, Record};
use crate::money::{Money, push_u128};

/// The JSON Lines formatter.
pub struct JsonLines {
    /// `,"model":"…",…}}` — the fixed end of every record's metadata.
    metadata_tail: Vec<u8>,
    costs: CostText,
}

impl JsonLines {
    /// A formatter adding `metadata` (key, JSON value) after `chunk_id`.
    pub fn new(metadata: &[(String, String)]) -> JsonLines {
        JsonLines {
            metadata_tail: metadata_tail(metadata),
            costs: CostText::default(),
        }
    }
}

impl Formatter for JsonLines {
    fn needs_timestamp(&self) -> bool {
        true
    }

    fn chunk(&mut self, out: &mut Vec<u8>, record: &Record<'_>) {
        write_record(out, record, &self.metadata_tail, &mut self.costs);
        out.push(b'\n');
    }

    fn finish(&mut self, _out: &mut Vec<u8>, _summary_json: &str) {}
}

/// `,"k":v,…}}` for the metadata pairs.
pub(super) fn metadata_tail(metadata: &[(String, String)]) -> Vec<u8> {
    let mut tail = Vec::new();
    for (key, value) in metadata {
        tail.push(b',');
        write_json_string(&mut tail, key.as_bytes(), true);
        tail.push(b':');
        tail.extend_from_slice(value.as_bytes());
    }
    tail.extend_from_slice(b"}}");
    tail
}

/// The text of recently printed costs: chunks mostly cost one of a few
/// amounts (0, 1, 2 … tokens at one price), so each is printed once.
#[derive(Default)]
pub(super) struct CostText {
    /// Slot `tokens % 8`: (cost, its text).
    slots: [(Option<Money>, Vec<u8>); 8],
}

impl CostText {
    /// Appends the record's cost as a plain decimal.
    fn write(&mut self, out: &mut Vec<u8>, tokens: u64, cost: Money) {
        let (known, text) = &mut self.slots[(tokens % 8) as usize];
        if *known != Some(cost) {
            text.clear();
            cost.write_plain(text);
            *known = Some(cost);
        }
        out.extend_from_slice(text);
    }
}

/// Appends the record's JSON object (no newline).
pub(super) fn write_record(
    out: &mut Vec<u8>,
    record: &Record<'_>,
    metadata_tail: &[u8],
    costs: &mut CostText,
) {
    out.extend_from_slice(b"{\"content\":");
    write_json_string(out, record.content, record.valid_utf8);
    if let Some(piece) = &record.piece {
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(piece.kind.name().as_bytes());
        out.extend_from_slice(b"\",\"choice\":");
        push_u128(out, u128::from(piece.choice));
    }
    out.extend_from_slice(b",\"tokens\":");
    push_u128(out, u128::from(record.tokens));
    out.extend_from_slice(b",\"cost\":\"");
    costs.write(out, record.tokens, record.cost);
    out.extend_from_slice(b"\",\"timestamp\":\"");
    out.extend_from_slice(record.timestamp);
    out.extend_from_slice(b"\",\"metadata\":{\"chunk_id\":");
    push_u128(out, u128::from(record.chunk_id));
    if let Some(piece) = record
        .piece
        .as_ref()
        .filter(|piece| !piece.event.is_empty())
    {
        out.extend_from_slice(b",\"event\":");
        write_json_string(out, piece.event.as_bytes(), true);
    }
    out.extend_from_slice(metadata_tail);
}

/// What each byte needs: 0 nothing, 1 an escape, 2 a look at U+2028/9.
static CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        class[byte] = 1;
        byte += 1;
    }
    class[b'"' as usize] = 1;
    class[b'\\' as usize] = 1;
    class[0xE2] = 2;
    class
};

/// Appends `text` as a quoted JSON string. `valid_utf8` says whether `text`
/// is valid UTF-8; if not, invalid sequences become U+FFFD.
pub fn write_json_string(out: &mut Vec<u8>, text: &[u8], valid_utf8: bool) {
    if !valid_utf8 {
        let lossy = String::from_utf8_lossy(text);
        write_json_string(out, lossy.as_bytes(), true);
        return;
    }
    out.push(b'"');
    let mut copied = 0;
    let mut at = 0;
    while at < text.len() {
        let byte = text[at];
        match CLASS[byte as usize] {
            0 => {
                at += 1;
                continue;
            }
            2 => {
                // U+2028 and U+2029 are E2 80 A8 / E2 80 A9.
                if text.get(at + 1) == Some(&0x80) && matches!(text.get(at + 2), Some(0xA8 | 0xA9))
                {
                    out.extend_from_slice(&text[copied..at]);
                    out.extend_from_slice(if text[at + 2] == 0xA8 {
                        b"\\u2028"
                    } else {
                        b"\\u2029"
                    });
                    at += 3;
                    copied = at;
                } else {
                    at += 1;
                }
                continue;
            }
            _ => {}
        }
        out.extend_from_slice(&text[copied..at]);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xF)]);
            }
        }
        at += 1;
        copied = at;
    }
    out.extend_from_slice(&text[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, text, std::str::from_utf8(text).is_ok());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_what_json_needs() {
        assert_eq!(
            escaped(b"a\"b\\c\n\r\t\x00\x1f"),
            r#""a\"b\\c\n\r\t\u0000\u001f""#
        );
        assert_eq!(
            escaped("x\u{2028}y\u{2029}z€".as_bytes()),
            "\"x\\u2028y\\u2029z€\""
        );
        assert_eq!(escaped(b"ab\xffc"), "\"ab\u{fffd}c\"");
    }

    #[test]
    fn escaped_strings_parse_back() {
        let samples: [&[u8]; 4] = [
            b"plain",
            b"\"quoted\"\n",
            "日本\u{2028}😀".as_bytes(),
            b"\x01\x7f\\",
        ];
        for sample in samples {
            let back: String = serde_json::from_str(&escaped(sample)).unwrap();
            assert_eq!(back.as_bytes(), sample);
        }
    }
}
