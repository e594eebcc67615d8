//! Server-sent events: an incremental parser that follows the WHATWG rules.
//!
//! Bytes go in as they arrive, in pieces of any size. Each blank line ends
//! an event block, and the parser reports the stream offset where the block
//! ends along with the event it dispatches, if any. State carries across
//! feeds, including a line or a character cut between two reads and a CR at
//! the end of one read followed by an LF at the start of the next. Any split
//! of the input therefore gives the same boundaries and events as the whole.

use memchr::memchr2;

/// The UTF-8 byte order mark, stripped once at the start of the stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The end of one event block: a blank line and what it dispatched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Boundary<'a> {
    /// Stream offset just past the blank line that ended the block (past
    /// its LF when the line ended in CRLF). Every byte before it belongs to
    /// a complete block, so forwarding up to here never tears an event.
    pub end: u64,
    /// The event dispatched, or `None` when the block had no data (only
    /// comments, an `event:` line without data, or nothing at all).
    pub event: Option<Event<'a>>,
}

/// One dispatched event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event type: the last `event:` value, or `message` when there was
    /// none or it was empty.
    pub name: &'a [u8],
    /// The `data:` values joined with `\n`. This may be empty (a bare
    /// `data` line) and may be invalid UTF-8: the parser works in bytes.
    pub data: &'a [u8],
    /// The last event ID: the latest `id:` value without a NUL, from this
    /// or an earlier block. Empty when none was set.
    pub id: &'a [u8],
}

/// What [`Parser::end_of_input`] left undispatched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tail {
    /// The bytes after the last boundary: a block that no blank line ended.
    pub bytes: u64,
    /// The data the unfinished event would have carried if a blank line had
    /// followed, with its last line read as if it were complete. `None` when
    /// it had no data. The rules discard this event. A caller may still
    /// meter it, flagged as non-standard, because some relays close the
    /// stream without the final blank line.
    pub data: Option<Vec<u8>>,
}

/// An incremental SSE parser.
///
/// Memory grows with the longest line and the largest event. The parser
/// holds them whole and bounds neither.
///
/// ```
/// use tokmeter::input::sse::Parser;
///
/// let mut parser = Parser::new();
/// let mut seen = Vec::new();
/// for piece in [&b"data: hel"[..], b"lo\r\n\r\n: ping\n\n"] {
///     parser.feed(piece, |boundary| {
///         let data = boundary.event.map(|event| event.data.to_vec());
///         seen.push((boundary.end, data));
///     });
/// }
/// assert_eq!(seen, [(15, Some(b"hello".to_vec())), (23, None)]);
/// ```
#[derive(Debug)]
pub struct Parser {
    /// Bytes fed so far, which is the stream offset of the next byte.
    offset: u64,
    /// The end of the last boundary reported.
    last_end: u64,
    /// The part of a line begun in an earlier feed.
    line: Vec<u8>,
    /// The last line ended with CR, so an LF that comes next belongs to it.
    after_cr: bool,
    /// A blank line ended with CR at the end of a feed. Its boundary waits
    /// for the next byte, to learn whether an LF belongs to it.
    pending: bool,
    /// No line has ended yet. A BOM may start the first one.
    first_line: bool,
    data: Vec<u8>,
    name: Vec<u8>,
    id: Vec<u8>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Parser {
            offset: 0,
            last_end: 0,
            line: Vec::new(),
            after_cr: false,
            pending: false,
            first_line: true,
            data: Vec::new(),
            name: Vec::new(),
            id: Vec::new(),
        }
    }

    /// Bytes fed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The end of the last boundary reported (0 before the first).
    pub fn last_boundary(&self) -> u64 {
        self.last_end
    }

    /// Reads the next piece of the stream and calls `on` once per blank
    /// line completed in it, in stream order. A blank line that ends in CR
    /// at the very end of `bytes` is reported by the next call, once the
    /// next byte shows whether an LF belongs to it, or by
    /// [`Parser::end_of_input`].
    pub fn feed(&mut self, bytes: &[u8], mut on: impl FnMut(Boundary<'_>)) {
        let base = self.offset;
        self.offset += bytes.len() as u64;
        let Some(&first) = bytes.first() else {
            return;
        };
        let mut at = 0;
        if self.after_cr {
            self.after_cr = false;
            if first == b'\n' {
                at = 1;
            }
            if self.pending {
                self.pending = false;
                self.dispatch(base + at as u64, &mut on);
            }
        }
        while at < bytes.len() {
            let rest = &bytes[at..];
            let Some(found) = memchr2(b'\r', b'\n', rest) else {
                self.line.extend_from_slice(rest);
                return;
            };
            let mut next = at + found + 1;
            let mut end_known = true;
            if rest[found] == b'\r' {
                match bytes.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => {
                        self.after_cr = true;
                        end_known = false;
                    }
                }
            }
            let blank = if self.line.is_empty() {
                self.read_line(&rest[..found])
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..found]);
                let blank = self.read_line(&line);
                line.clear();
                self.line = line;
                blank
            };
            if blank {
                if end_known {
                    self.dispatch(base + next as u64, &mut on);
                } else {
                    self.pending = true;
                }
            }
            at = next;
        }
    }

    /// Ends the stream. This reports a blank line still waiting on a final
    /// CR and returns what no blank line ended, which the rules discard.
    /// The parser is then at the start of a new block, with its offset
    /// unchanged.
    pub fn end_of_input(&mut self, mut on: impl FnMut(Boundary<'_>)) -> Tail {
        if self.pending {
            self.pending = false;
            self.dispatch(self.offset, &mut on);
        }
        self.after_cr = false;
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // A line that reads as blank has no line end, so it dispatches
            // nothing: the event stays unfinished.
            self.read_line(&line);
        }
        let mut data = std::mem::take(&mut self.data);
        self.name.clear();
        let data = (!data.is_empty()).then(|| {
            data.pop();
            data
        });
        Tail {
            bytes: self.offset - self.last_end,
            data,
        }
    }

    /// Interprets one line, terminator excluded. Returns whether it was
    /// blank, which means the block ends here.
    fn read_line(&mut self, mut line: &[u8]) -> bool {
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        let (field, value) = match memchr::memchr(b':', line) {
            None if line.is_empty() => return true,
            None => (line, &line[line.len()..]),
            Some(0) => return false,
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
        };
        match field {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.name.clear();
                self.name.extend_from_slice(value);
            }
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id.clear();
                self.id.extend_from_slice(value);
            }
            // `retry` sets a reconnection delay, which only a client that
            // reconnects needs. Other fields are ignored by the rules.
            _ => {}
        }
        false
    }

    /// Ends the block at `end`, dispatching its event if it has data.
    fn dispatch(&mut self, end: u64, on: &mut impl FnMut(Boundary<'_>)) {
        self.last_end = end;
        if self.data.is_empty() {
            self.name.clear();
            on(Boundary { end, event: None });
            return;
        }
        self.data.pop();
        let name: &[u8] = if self.name.is_empty() {
            b"message"
        } else {
            &self.name
        };
        on(Boundary {
            end,
            event: Some(Event {
                name,
                data: &self.data,
                id: &self.id,
            }),
        });
        self.data.clear();
        self.name.clear();
    }
}

/// The end of the first event block in `bytes`, which must start where a
/// block starts: at the start of the stream or at a [`Boundary::end`]. The
/// result is the offset in `bytes` just past the block's blank line, the
/// same place the [`Parser`] reports. `None` means no block ends within
/// `bytes`. A blank line ending in CR as the last byte counts only
/// `at_eof`, since an LF may follow. `at_stream_start` lets a leading BOM
/// be stripped as the parser strips it.
///
/// This is a framing scan with no field parsing. A caller that rescans a
/// growing buffer from the block start each time pays for the block's
/// length once per rescan.
pub fn event_end(bytes: &[u8], at_stream_start: bool, at_eof: bool) -> Option<usize> {
    let mut at = 0;
    if at_stream_start && bytes.starts_with(BOM) {
        at = BOM.len();
    }
    let mut line_start = at;
    loop {
        let found = at + memchr2(b'\r', b'\n', &bytes[at..])?;
        let blank = found == line_start;
        let mut next = found + 1;
        if bytes[found] == b'\r' {
            match bytes.get(next) {
                Some(b'\n') => next += 1,
                Some(_) => {}
                None if blank && !at_eof => return None,
                None => {}
            }
        }
        if blank {
            return Some(next);
        }
        at = next;
        line_start = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned boundary, for comparing.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Seen {
        end: u64,
        event: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    }

    fn collect(out: &mut Vec<Seen>) -> impl FnMut(Boundary<'_>) + '_ {
        |boundary| {
            out.push(Seen {
                end: boundary.end,
                event: boundary
                    .event
                    .map(|e| (e.name.to_vec(), e.data.to_vec(), e.id.to_vec())),
            })
        }
    }

    /// Boundaries and tail of `input` fed in pieces of `size` bytes (0 feeds
    /// it whole).
    fn parse(input: &[u8], size: usize) -> (Vec<Seen>, Tail) {
        let mut parser = Parser::new();
        let mut seen = Vec::new();
        if size == 0 {
            parser.feed(input, collect(&mut seen));
        } else {
            for piece in input.chunks(size) {
                parser.feed(piece, collect(&mut seen));
            }
        }
        let tail = parser.end_of_input(collect(&mut seen));
        (seen, tail)
    }

    /// The data of the dispatched events.
    fn datas(input: &[u8]) -> Vec<String> {
        parse(input, 0)
            .0
            .into_iter()
            .filter_map(|seen| seen.event)
            .map(|(_, data, _)| String::from_utf8_lossy(&data).into_owned())
            .collect()
    }

    #[test]
    fn mixed_line_ends_join_data_lines() {
        // As in WPT format-comments: CR, LF and CRLF within one event.
        let input = b"data:1\r:\0\n:\r\ndata:2\n:\r\ndata:3\r\n:data:fail\r:\r\ndata:4\n\n";
        assert_eq!(datas(input), ["1\n2\n3\n4"]);
    }

    #[test]
    fn one_leading_bom_is_stripped() {
        let input = "\u{FEFF}data:1\n\n\u{FEFF}data:2\n\ndata:3\n\n";
        assert_eq!(datas(input.as_bytes()), ["1", "3"]);
    }

    #[test]
    fn one_space_after_the_colon_is_stripped() {
        assert_eq!(
            datas(b"data:x\n\ndata: x\n\ndata:  x\n\n"),
            ["x", "x", " x"]
        );
    }

    #[test]
    fn a_field_without_colon_has_an_empty_value() {
        assert_eq!(datas(b"data\n\ndata\ndata\n\n"), ["", "\n"]);
    }

    #[test]
    fn event_names_default_to_message() {
        let (seen, _) = parse(b"event: ping\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\n", 0);
        let names: Vec<_> = seen.iter().filter_map(|s| s.event.clone()).collect();
        assert_eq!(names[0].0, b"ping");
        assert_eq!(names[1].0, b"message");
        assert_eq!(names[2].0, b"message");
    }

    #[test]
    fn ids_persist_and_ids_with_nul_are_ignored() {
        let (seen, _) = parse(
            b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0\ndata: c\n\nid\ndata: d\n\n",
            0,
        );
        let ids: Vec<_> = seen
            .into_iter()
            .filter_map(|s| s.event)
            .map(|e| e.2)
            .collect();
        assert_eq!(
            ids,
            [b"1".to_vec(), b"1".to_vec(), b"1".to_vec(), b"".to_vec()]
        );
    }

    #[test]
    fn a_block_without_data_is_a_boundary_without_event() {
        let (seen, _) = parse(b": hi\n\nevent: ping\n\nretry: 10\nfoo: bar\n\n", 0);
        let ends: Vec<_> = seen.iter().map(|s| (s.end, s.event.is_some())).collect();
        assert_eq!(ends, [(6, false), (19, false), (39, false)]);
    }

    #[test]
    fn an_event_without_final_blank_line_is_discarded_into_the_tail() {
        let (seen, tail) = parse(b"data: 1\n\ndata: 2\ndata: 3", 0);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].end, 9);
        assert_eq!(tail.bytes, 15);
        assert_eq!(tail.data.as_deref(), Some(&b"2\n3"[..]));
    }

    #[test]
    fn a_crlf_split_across_feeds_is_one_line_end() {
        let mut parser = Parser::new();
        let mut seen = Vec::new();
        parser.feed(b"data: 1\r\n\r", collect(&mut seen));
        assert!(
            seen.is_empty(),
            "the blank line's boundary waits for its LF"
        );
        parser.feed(b"\ndata: 2\r", collect(&mut seen));
        parser.feed(b"\n\r", collect(&mut seen));
        parser.feed(b"\n", collect(&mut seen));
        parser.end_of_input(collect(&mut seen));
        let ends: Vec<_> = seen.iter().map(|s| s.end).collect();
        assert_eq!(ends, [11, 22]);
        assert_eq!(datas(b"data: 1\r\n\r\ndata: 2\r\n\r\n"), ["1", "2"]);
    }

    #[test]
    fn a_lone_cr_ends_the_block_when_another_byte_or_the_end_follows() {
        let mut parser = Parser::new();
        let mut seen = Vec::new();
        parser.feed(b"data: 1\r\r", collect(&mut seen));
        parser.feed(b"d", collect(&mut seen));
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].end, 9);
        let (seen, _) = parse(b"data: 2\r\r", 0);
        assert_eq!(seen[0].end, 9);
    }

    #[test]
    fn a_character_split_across_feeds_is_whole_in_the_data() {
        let input = "data: é — ✓\n\n".as_bytes();
        for size in 1..input.len() {
            let (seen, _) = parse(input, size);
            let data = seen[0].event.clone().unwrap().1;
            assert_eq!(data, "é — ✓".as_bytes(), "pieces of {size}");
        }
    }

    #[test]
    fn u2028_is_not_a_line_end() {
        assert_eq!(
            datas("data: a\u{2028}b\u{85}c\n\n".as_bytes()),
            ["a\u{2028}b\u{85}c"]
        );
    }

    #[test]
    fn edge_case_sample_gives_six_events() {
        let input = include_bytes!("../../tests/fixtures/streams/sse-edge-cases.sse");
        let whole = parse(input, 0);
        for size in [1, 7] {
            assert_eq!(parse(input, size), whole, "pieces of {size}");
        }
        let (seen, tail) = whole;
        let events: Vec<_> = seen.iter().filter_map(|s| s.event.clone()).collect();
        let texts: Vec<String> = events
            .iter()
            .map(|(_, data, _)| {
                if data.is_empty() || data == b"[DONE]" {
                    return String::from_utf8_lossy(data).into_owned();
                }
                let value: serde_json::Value = serde_json::from_slice(data).unwrap();
                value["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(texts, ["Hel", "lo", ", wor", "", "ld\u{2028}!", "[DONE]"]);
        assert!(events.iter().all(|e| e.0 == b"message"));
        assert_eq!(events[0].2, b"1", "the id set in the first block stays");
        // Blocks: the BOM comment one, the six events, the `event: ping`
        // block and the unknown-field block folded into the bare `data` one.
        assert_eq!(seen.len(), 8);
        assert_eq!(seen.last().unwrap().end + tail.bytes, input.len() as u64);
        let tail = tail.data.unwrap();
        assert!(tail.ends_with(b"no blank line before EOF\"}}]}"));
    }

    /// Input built from the pieces that matter to the rules.
    fn sse_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"data",
            b"event",
            b"id",
            b"retry",
            b":",
            b" ",
            b"\r",
            b"\n",
            b"\r\n",
            b"x",
            b"\0",
            b"\xEF\xBB\xBF",
            "é".as_bytes(),
            b"\xE2",
            b"{}",
            b"[DONE]",
        ];
        proptest::collection::vec(proptest::sample::select(pieces), 0..60)
            .prop_map(|parts| parts.concat())
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_split_gives_the_same_events_and_boundaries(
            input in sse_bytes(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let whole = parse(&input, 0);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut parser = Parser::new();
            let mut seen = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([input.len()]) {
                parser.feed(&input[from..cut], collect(&mut seen));
                let fed = parser.offset();
                prop_assert!(seen.iter().all(|s| s.end <= fed));
                from = cut;
            }
            let tail = parser.end_of_input(collect(&mut seen));
            prop_assert_eq!(&(seen.clone(), tail), &whole);
            prop_assert!(seen.windows(2).all(|w| w[0].end < w[1].end));
            prop_assert!(seen.iter().all(|s| s.end <= input.len() as u64));
            let last = seen.last().map_or(0, |s| s.end);
            prop_assert_eq!(last + whole.1.bytes, input.len() as u64);
        }

        #[test]
        fn event_end_finds_the_parsers_boundaries(input in sse_bytes(), cut in any::<usize>()) {
            let (seen, _) = parse(&input, 0);
            let ends: Vec<u64> = seen.iter().map(|s| s.end).collect();
            let mut found = Vec::new();
            let mut start = 0;
            while let Some(end) = event_end(&input[start..], start == 0, true) {
                start += end;
                found.push(start as u64);
            }
            prop_assert_eq!(&found, &ends);
            // On a prefix, without the end of input, no block is invented.
            let prefix = &input[..cut % (input.len() + 1)];
            if let Some(end) = event_end(prefix, true, false) {
                prop_assert_eq!(Some(&(end as u64)), ends.first());
            }
        }
    }
}
