//! Transcripts: pricing JSON Lines chat records (`--input transcript`).
//!
//! Each line is checked whole before it counts, so a bad line adds nothing.
//! Input roles (system, developer, user, tool) pay the input price, assistant
//! turns the output price; a record with the provider's own usage is billed
//! from it instead of being tokenized. Role/content lines of one input form
//! one conversation; a `messages` line is a conversation of its own.

mod record;
mod tally;

pub use record::{Bill, overflow};
pub use tally::{Prices, Tally, TranscriptSummary};

use crate::plain::quoted;
use chrono::{DateTime, Utc};

use crate::pricing::{Model, Side};
use crate::tokenize::{Counter, Tokenizer};
use record::{Record, Text};

/// How conversations are billed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Every assistant turn pays input for the whole conversation before it.
    pub replay: bool,
    /// With `replay`: the part already sent at the previous turn pays the
    /// cache-read price.
    pub cache: bool,
}

impl Options {
    /// The summary's `count` field: `messages`, `replay` or `replay-cache`.
    pub fn name(self) -> &'static str {
        match (self.replay, self.cache) {
            (false, _) => "messages",
            (true, false) => "replay",
            (true, true) => "replay-cache",
        }
    }
}

/// Which side a role pays, or `None` for a role we do not know.
pub fn side_of(role: &str) -> Option<Side> {
    match role {
        "assistant" | "model" => Some(Side::Output),
        "system" | "developer" | "user" | "tool" | "function" => Some(Side::Input),
        _ => None,
    }
}

/// Token state of one conversation.
#[derive(Clone, Copy, Debug, Default)]
struct Conversation {
    /// Tokens of the conversation so far.
    context: u64,
    /// The prompt of the last billed turn: what a cache would hold.
    sent: u64,
    /// Input tokens not yet billed (without replay): usage that follows
    /// includes them in its prompt; otherwise they are billed as input.
    pending: u64,
}

/// The cards records with usage are priced by, each as a request of its
/// own: by `date`, its mode (or `mode`) and its prompt's tier.
#[derive(Clone, Debug)]
pub struct Cards {
    /// The model priced.
    pub model: Model,
    /// The mode of records that name none (`--mode`).
    pub mode: Option<String>,
    /// When the requests were made (`--date`); `None`: now.
    pub date: Option<DateTime<Utc>>,
}

/// Prices the lines of one input.
pub struct Transcript {
    counter: Box<dyn Counter>,
    options: Options,
    /// With cards, each record with usage is priced as a request.
    cards: Option<Cards>,
    /// The conversation of the role/content lines.
    conversation: Conversation,
    tally: Tally,
}

impl Transcript {
    /// A transcript counted with `tokenizer`.
    pub fn new(tokenizer: &dyn Tokenizer, options: Options) -> Transcript {
        Transcript {
            counter: tokenizer.counter(),
            options,
            cards: None,
            conversation: Conversation::default(),
            tally: Tally::default(),
        }
    }

    /// Prices each record with usage as a request of its own, at its card.
    #[must_use]
    pub fn with_cards(mut self, cards: Option<Cards>) -> Transcript {
        self.cards = cards;
        self
    }

    /// Prices one line (its newline removed). A blank line is no record. A
    /// bad line adds nothing and is counted in `bad_lines`; the error says
    /// what is wrong, and where in the line when JSON says.
    pub fn line(&mut self, line: &[u8]) -> Result<(), String> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.parse_and_count(line).inspect_err(|_| {
            self.tally.bad_lines += 1;
        })
    }

    /// Counts a line that was too long to read as bad.
    pub fn skip_bad_line(&mut self) {
        self.tally.bad_lines += 1;
    }

    /// Ends the input and returns its tally.
    pub fn finish(mut self) -> Tally {
        let mut conversation = self.conversation;
        self.end(&mut conversation);
        self.tally
    }

    fn parse_and_count(&mut self, line: &[u8]) -> Result<(), String> {
        // A byte order mark, as editors write at the start of a file.
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let repaired = replace_lone_surrogates(line);
        let line: &[u8] = &repaired;
        // A struct would also accept a JSON array, field by position.
        if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("not a JSON object".to_string());
        }
        let mut record: Record<'_> = serde_json::from_slice(line).map_err(describe)?;
        while record.role.is_none()
            && record.messages.is_none()
            && let Some(inner) = record.message.take()
        {
            let usage = record.usage.take();
            let gemini = record.usage_metadata.take();
            let tier = record.service_tier.take();
            record = *inner;
            record.usage = record.usage.or(usage);
            record.usage_metadata = record.usage_metadata.or(gemini);
            record.service_tier = record.service_tier.or(tier);
        }
        let mode = record
            .service_tier
            .as_deref()
            .or(record
                .usage
                .as_ref()
                .and_then(|u| u.service_tier.as_deref()))
            .map(str::to_string);
        let bill = match (&record.usage, &record.usage_metadata) {
            (Some(usage), _) => Some(usage.bill()?),
            (None, Some(gemini)) => Some(gemini.bill()?),
            (None, None) => None,
        };
        // The turns, and whether they are a conversation of their own (a
        // `messages` line) or the next turn of the input's conversation.
        let (turns, own_conversation) = if let Some(messages) = &record.messages {
            let turns = messages
                .iter()
                .enumerate()
                .map(|(i, m)| match side_of(&m.role) {
                    Some(side) => Ok((side, m.content.as_ref())),
                    None => Err(format!(
                        "unknown role {} in message {}",
                        quoted(&m.role),
                        i + 1
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            (turns, true)
        } else if let Some(role) = &record.role {
            let side = side_of(role).ok_or_else(|| format!("unknown role {}", quoted(role)))?;
            (vec![(side, record.content.as_ref())], false)
        } else {
            return Err(
                "not a chat record: expected \"role\" and \"content\", or \"messages\"".to_string(),
            );
        };
        let mut conversation = if own_conversation {
            Conversation::default()
        } else {
            self.conversation
        };
        // The line's own figures, added to the tally only if all fit.
        let mut line_bill = Bill::default();
        let from_usage = bill.is_some();
        // The requests of the line: its usage, or with --replay each
        // assistant turn (its prompt is the conversation before it).
        let mut requests_of_line: Vec<Bill> = Vec::new();
        if let Some(bill) = bill {
            usage(&mut conversation, &mut line_bill, bill)?;
            requests_of_line.push(bill);
        } else {
            for (side, text) in &turns {
                let tokens = self.count(*text);
                let before = line_bill;
                message(
                    self.options,
                    &mut conversation,
                    &mut line_bill,
                    *side,
                    tokens,
                )?;
                if self.options.replay && *side == Side::Output {
                    requests_of_line.push(Bill {
                        input: line_bill.input - before.input,
                        output: line_bill.output - before.output,
                        cache_read: line_bill.cache_read - before.cache_read,
                        cache_write: line_bill.cache_write - before.cache_write,
                    });
                }
            }
        }
        if own_conversation && !self.options.replay {
            line_bill.input = line_bill
                .input
                .checked_add(std::mem::take(&mut conversation.pending))
                .ok_or_else(overflow)?;
        }
        let mut requests = Bill::default();
        let mut paid = [crate::money::Money::ZERO; 4];
        let mut cards = std::collections::BTreeMap::new();
        if let Some(with) = &self.cards {
            for request in &requests_of_line {
                let (costs, card) = request_costs(with, request, mode.as_deref());
                requests = requests.checked_plus(request).ok_or_else(overflow)?;
                for (sum, cost) in paid.iter_mut().zip(costs) {
                    *sum = sum.saturating_add(cost);
                }
                *cards.entry(card).or_insert(0u64) += 1;
            }
        }
        let line = Tally {
            records: 1,
            from_usage: u64::from(from_usage),
            tokenized: u64::from(!from_usage),
            bad_lines: 0,
            messages: turns.len() as u64,
            bill: line_bill,
            requests,
            request_costs: paid,
            cards,
        };
        // Input still pending is billed later: it must fit then too.
        let tally = self
            .tally
            .checked_plus(&line)
            .filter(|t| {
                let pending = conversation.pending;
                t.bill.input.checked_add(pending).is_some()
                    && t.bill
                        .checked_tokens()
                        .and_then(|n| n.checked_add(pending))
                        .is_some()
            })
            .ok_or_else(overflow)?;
        self.tally = tally;
        if !own_conversation {
            self.conversation = conversation;
        }
        Ok(())
    }

    /// Tokens of a message's text: each piece counted on its own, at least
    /// 1 when not empty.
    fn count(&mut self, text: Option<&Text<'_>>) -> u64 {
        let Some(text) = text else { return 0 };
        text.0
            .iter()
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                self.counter.reset();
                self.counter.push(piece.as_bytes()).max(1)
            })
            .sum()
    }

    /// The end of a conversation: input no turn billed is billed once,
    /// unless replaying (nothing answered it, so nothing sent it). The
    /// line that left it pending checked that it fits.
    fn end(&mut self, conversation: &mut Conversation) {
        if !self.options.replay {
            let pending = std::mem::take(&mut conversation.pending);
            self.tally.bill.input = self.tally.bill.input.saturating_add(pending);
        }
    }
}

/// What a record's usage costs as a request of its own: at the card of its
/// date and mode (or `cards.mode`), in the tier of its prompt (uncached
/// input, cache reads and writes). Input, output, cache read, cache write.
fn request_costs(
    cards: &Cards,
    bill: &Bill,
    mode: Option<&str>,
) -> ([crate::money::Money; 4], String) {
    let usage = crate::pricing::Usage {
        input: bill.input,
        output: bill.output,
        cache_read: bill.cache_read,
        cache_write: bill.cache_write,
        ..crate::pricing::Usage::default()
    };
    let (chosen, c) = cards
        .model
        .price_request(&usage, cards.date, mode.or(cards.mode.as_deref()));
    let mut card = chosen.tier_name();
    if let Some(mode) = chosen.mode {
        card = format!("{mode} {card}");
    }
    if !std::ptr::eq(chosen.card, cards.model.card())
        && let Some(from) = chosen.card.effective_from
    {
        card = format!("{} {card}", from.format("%Y-%m-%d"));
    }
    ([c[0], c[1], c[2], c[3].saturating_add(c[4])], card)
}

/// Bills one message of `tokens` tokens into `bill`.
fn message(
    options: Options,
    conversation: &mut Conversation,
    bill: &mut Bill,
    side: Side,
    tokens: u64,
) -> Result<(), String> {
    let add = |figure: &mut u64, tokens: u64| -> Result<(), String> {
        *figure = figure.checked_add(tokens).ok_or_else(overflow)?;
        Ok(())
    };
    match (side, options.replay) {
        (Side::Input, false) => add(&mut conversation.pending, tokens)?,
        (Side::Input, true) => add(&mut conversation.context, tokens)?,
        (Side::Output, false) => {
            add(&mut bill.input, std::mem::take(&mut conversation.pending))?;
            add(&mut bill.output, tokens)?;
        }
        (Side::Output, true) => {
            if options.cache {
                add(&mut bill.cache_read, conversation.sent)?;
                add(&mut bill.input, conversation.context - conversation.sent)?;
            } else {
                add(&mut bill.input, conversation.context)?;
            }
            add(&mut bill.output, tokens)?;
            conversation.sent = conversation.context;
            add(&mut conversation.context, tokens)?;
        }
    }
    Ok(())
}

/// A turn billed by the provider: its prompt covers all before it.
fn usage(conversation: &mut Conversation, bill: &mut Bill, usage: Bill) -> Result<(), String> {
    *bill = bill.checked_plus(&usage).ok_or_else(overflow)?;
    let prompt = usage
        .input
        .checked_add(usage.cache_read)
        .and_then(|p| p.checked_add(usage.cache_write))
        .ok_or_else(overflow)?;
    conversation.pending = 0;
    conversation.sent = prompt;
    conversation.context = prompt.checked_add(usage.output).ok_or_else(overflow)?;
    Ok(())
}

/// `line` with each `\\uXXXX` escape of a surrogate that is not half of
/// a pair replaced by `\\ufffd`, as serde_json rejects lone surrogates
/// that other JSON writers emit. Borrowed when there is none.
pub(crate) fn replace_lone_surrogates(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let surrogate = |at: usize| -> Option<u16> {
        let hex = line.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        let value = u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()?;
        (0xD800..=0xDFFF).contains(&value).then_some(value)
    };
    let mut out: Option<Vec<u8>> = None;
    let mut at = 0;
    let mut copied = 0;
    while at < line.len() {
        if line[at] != b'\\' {
            at += 1;
            continue;
        }
        match surrogate(at) {
            Some(0xD800..=0xDBFF) if surrogate(at + 6).is_some_and(|low| low >= 0xDC00) => {
                at += 12;
            }
            Some(_) => {
                let out = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
                out.extend_from_slice(&line[copied..at]);
                out.extend_from_slice(b"\\ufffd");
                at += 6;
                copied = at;
            }
            // Any other escape: skip the backslash and the escaped byte.
            None => at += 2,
        }
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&line[copied..]);
            std::borrow::Cow::Owned(out)
        }
        None => std::borrow::Cow::Borrowed(line),
    }
}

/// A JSON error without serde_json's "at line 1 column N" (the caller names
/// the line), with the column kept.
pub(crate) fn describe(err: serde_json::Error) -> String {
    let text = err.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    let kind = match err.classify() {
        serde_json::error::Category::Eof => "truncated JSON: ",
        serde_json::error::Category::Syntax => "invalid JSON: ",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "",
    };
    // serde's messages embed the values at fault as written.
    let message = crate::plain::json_error(message);
    format!("column {}: {kind}{message}", err.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Heuristic;

    /// Tallies `lines` with the heuristic (4 bytes per token).
    fn tally(options: Options, lines: &[&str]) -> Tally {
        let tokenizer = Heuristic::default();
        let mut transcript = Transcript::new(&tokenizer, options);
        for line in lines {
            let _ = transcript.line(line.as_bytes());
        }
        transcript.finish()
    }

    fn bill(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Bill {
        Bill {
            input,
            output,
            cache_read,
            cache_write,
        }
    }

    // 8, 4 and 12 bytes: 2, 1 and 3 tokens.
    const CHAT: [&str; 4] = [
        r#"{"role":"system","content":"12345678"}"#,
        r#"{"role":"user","content":"1234"}"#,
        r#"{"role":"assistant","content":"123456789012"}"#,
        r#"{"role":"user","content":"1234"}"#,
    ];

    #[test]
    fn each_message_once_by_role() {
        let t = tally(Options::default(), &CHAT);
        assert_eq!(t.bill, bill(4, 3, 0, 0));
        assert_eq!((t.records, t.tokenized, t.messages), (4, 4, 4));
    }

    #[test]
    fn replay_bills_the_context_at_every_assistant_turn() {
        let mut lines = CHAT.to_vec();
        lines.push(r#"{"role":"assistant","content":"12345678"}"#);
        let replay = Options {
            replay: true,
            cache: false,
        };
        // Turn 1: prompt 3, output 3. Turn 2: prompt 3+3+1 = 7, output 2.
        assert_eq!(tally(replay, &lines).bill, bill(10, 5, 0, 0));
        let cached = Options {
            replay: true,
            cache: true,
        };
        // Turn 2 reads turn 1's prompt (3) from the cache.
        assert_eq!(tally(cached, &lines).bill, bill(7, 5, 3, 0));
    }

    #[test]
    fn usage_replaces_tokenizing_and_covers_the_input_before_it() {
        let lines = [
            r#"{"role":"user","content":"1234"}"#,
            r#"{"role":"assistant","content":"x","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":7,"cache_creation_input_tokens":1}}"#,
            r#"{"role":"user","content":"12345678"}"#,
        ];
        let t = tally(Options::default(), &lines);
        assert_eq!(t.bill, bill(10 + 2, 5, 7, 1));
        assert_eq!((t.from_usage, t.tokenized), (1, 2));
    }

    #[test]
    fn messages_lines_are_conversations_of_their_own() {
        let line = r#"{"messages":[{"role":"user","content":"1234"},{"role":"assistant","content":[{"type":"text","text":"12345678"}]}]}"#;
        let replay = Options {
            replay: true,
            cache: false,
        };
        assert_eq!(tally(replay, &[line, line]).bill, bill(2, 4, 0, 0));
        assert_eq!(tally(replay, &[line, line]).messages, 4);
    }

    #[test]
    fn bad_lines_add_nothing() {
        let lines = [
            r#"{"role":"user","content":"12345678""#,
            r#"{"role":"user","content":5}"#,
            r#"{"role":"narrator","content":"1234"}"#,
            r#"{"messages":[{"role":"user","content":"1234"},{"role":"x"}]}"#,
            r#"[1,2]"#,
            r#"{"usage":{}, "role":"assistant"}"#,
            "",
            "  ",
        ];
        let t = tally(Options::default(), &lines);
        assert_eq!(t.bad_lines, 6);
        assert_eq!((t.records, t.messages, t.tokens()), (0, 0, 0));
    }

    /// A role/content or messages line from generated parts.
    fn line_of(kind: u8, role: usize, text: &str) -> String {
        let roles = ["system", "user", "assistant", "tool", "developer"];
        let text = serde_json::to_string(text).unwrap();
        match kind % 3 {
            0 => format!(r#"{{"role":"{}","content":{text}}}"#, roles[role % 5]),
            1 => format!(
                r#"{{"role":"{}","content":[{{"type":"text","text":{text}}},{{"type":"image"}}]}}"#,
                roles[role % 5]
            ),
            _ => format!(
                r#"{{"messages":[{{"role":"user","content":{text}}},{{"role":"assistant","content":{text}}}]}}"#
            ),
        }
    }

    proptest::proptest! {
        /// Without replay every message counts once, wherever the input is
        /// cut: shards sum to the whole.
        #[test]
        fn shards_sum_to_the_whole(
            parts in proptest::collection::vec((0u8..3, 0usize..5, "\\PC{0,40}"), 0..30),
            cut in 0usize..31,
        ) {
            let lines: Vec<String> = parts.iter().map(|(k, r, t)| line_of(*k, *r, t)).collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let cut = cut.min(lines.len());
            let whole = tally(Options::default(), &lines);
            let shards = tally(Options::default(), &lines[..cut])
                .checked_plus(&tally(Options::default(), &lines[cut..]))
                .unwrap();
            proptest::prop_assert_eq!(&whole, &shards);
            proptest::prop_assert_eq!(whole.records, lines.len() as u64);
            proptest::prop_assert_eq!(whole.bad_lines, 0);
        }

        /// Replay bills the same output as counting each message once, and
        /// the cache only moves input tokens to cache reads.
        #[test]
        fn replay_keeps_outputs_and_cache_moves_input_to_cache_reads(
            parts in proptest::collection::vec((0u8..3, 0usize..5, "[a-z ]{0,40}"), 0..30),
        ) {
            let lines: Vec<String> = parts.iter().map(|(k, r, t)| line_of(*k, *r, t)).collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let once = tally(Options::default(), &lines);
            let replay = tally(Options { replay: true, cache: false }, &lines);
            let cached = tally(Options { replay: true, cache: true }, &lines);
            proptest::prop_assert_eq!(replay.bill.output, once.bill.output);
            proptest::prop_assert_eq!(cached.bill.output, replay.bill.output);
            proptest::prop_assert_eq!(cached.bill.input + cached.bill.cache_read, replay.bill.input);
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let fixed = |text: &str| {
            String::from_utf8(replace_lone_surrogates(text.as_bytes()).into_owned()).unwrap()
        };
        assert_eq!(fixed(r#""\ud800x""#), r#""\ufffdx""#);
        assert_eq!(fixed(r#""\udc00\ud800""#), r#""\ufffd\ufffd""#);
        assert_eq!(fixed(r#""\ud83d\ude00""#), r#""\ud83d\ude00""#);
        assert_eq!(fixed(r#""\\ud800""#), r#""\\ud800""#);
        assert_eq!(fixed(r#""\ud800"#), r#""\ufffd"#);
    }

    #[test]
    fn errors_say_what_and_where() {
        let tokenizer = Heuristic::default();
        let mut transcript = Transcript::new(&tokenizer, Options::default());
        let err = transcript
            .line(br#"{"role":"user","content":"abc"#)
            .unwrap_err();
        assert!(err.starts_with("column 29: truncated JSON"), "{err}");
        let err = transcript
            .line(br#"{"role":"user","content":5}"#)
            .unwrap_err();
        assert!(
            err.contains("text: a string, a list of parts, or null was expected, not 5"),
            "{err}"
        );
    }
}
