//! tokmeter: meter a text stream in LLM tokens and money while passing it
//! through untouched.
//!
//! This library is the engine; the `tokmeter` binary adds the command line
//! on top (flags, stderr, exit statuses) and nothing here knows of it. Data
//! flows one way, through one pipeline:
//!
//! ```text
//! source ─▶ splitter ─▶ decoder ─▶ meter ─▶ formatter ─▶ output
//! (input)   (input)     (decode)   (meter)  (format)     (output)
//!                                     └──▶ totals ─▶ summary (adds up)
//! ```
//!
//! A [`Splitter`] cuts an input into units (lines, delimited records,
//! reads); a [`decode::Decoder`] says what each unit holds; a [`Meter`]
//! counts text with a [`Tokenizer`] over the whole stream and prices it
//! exactly from a [`PricingTable`]; a [`format::Formatter`] writes each
//! chunk; [`output::Output`] buffers, flushes before a read that may
//! block, and accounts exactly for what was delivered. [`pipeline::run`]
//! is that loop. The totals become a [`Summary`]; summaries add up
//! ([`Summary::add`]), which is how totals and `tokmeter merge` are made.
//!
//! A text stream through the pipeline, with the [`decode::Text`] decoder:
//!
//! ```
//! use tokmeter::clock::Clock;
//! use tokmeter::decode::Text;
//! use tokmeter::format::{Format, formatter};
//! use tokmeter::output::{FlushPolicy, Output};
//! use tokmeter::pipeline::{self, Settings, Stop};
//! use tokmeter::{Framing, PricingTable, Side};
//!
//! let table = PricingTable::builtin().unwrap();
//! let model = table.lookup("gpt-4o").unwrap();
//! let tokenizer = tokmeter::tokenize::Heuristic::default(); // 4 bytes a token
//! let lines = Framing::Delimiter(b"\n".to_vec());
//! let settings = Settings::new(&tokenizer, lines, model.price(Side::Output));
//! let input: &[u8] = b"12345678\n1234\n";
//! let mut output = Output::new(Vec::new(), FlushPolicy::Block);
//! let mut json = formatter(Format::Json, &[]);
//! let mut clock = Clock::start();
//! let ending = pipeline::run(input, &mut output, json.as_mut(), &mut Text, &mut clock, &settings);
//! assert!(matches!(ending.stop, Stop::EndOfInput));
//! assert_eq!((ending.totals.chunks, ending.totals.tokens), (2, 4));
//! assert_eq!(ending.totals.cost.to_string(), "0.00004"); // 4 × $10/1M
//! let records = String::from_utf8(output.into_inner()).unwrap();
//! assert_eq!(records.lines().count(), 2);
//! ```
//!
//! The meter alone:
//!
//! ```
//! use tokmeter::{CountMode, Meter, PricingTable, Side, Tokenizer};
//!
//! let table = PricingTable::builtin().unwrap();
//! let model = table.lookup("gpt-4o").unwrap();
//! let tokenizer = tokmeter::tokenize::Heuristic::default();
//! let mut meter = Meter::new(&tokenizer, CountMode::Stream, model.price(Side::Output));
//! let tokens: Vec<u64> = ["hello", " ", "world"]
//!     .iter()
//!     .map(|piece| meter.measure(piece.as_bytes()).tokens)
//!     .collect();
//! assert_eq!(tokens, [1, 1, 1]);
//! ```
//!
//! Transcripts are priced by role, each side at its own price:
//!
//! ```
//! use tokmeter::transcript::{Options, Prices, Transcript, TranscriptSummary};
//! use tokmeter::PricingTable;
//!
//! let table = PricingTable::builtin().unwrap();
//! let prices = Prices::of(table.lookup("gpt-4o").unwrap());
//! let tokenizer = tokmeter::tokenize::Heuristic::default(); // 4 bytes a token
//! let mut transcript = Transcript::new(&tokenizer, Options::default());
//! transcript.line(br#"{"role": "user", "content": "12345678"}"#).unwrap();
//! transcript.line(br#"{"role": "assistant", "content": "1234"}"#).unwrap();
//! assert!(transcript.line(br#"{"role": "user", "content": 5}"#).is_err());
//! let tally = transcript.finish();
//! let (summary, total) = TranscriptSummary::priced(&tally, &prices);
//! assert_eq!((summary.input_tokens, summary.output_tokens), (2, 1));
//! assert_eq!(summary.bad_lines, 1);
//! assert_eq!(total.to_string(), "0.000015"); // 2 × $2.50/1M + 1 × $10/1M
//! ```
//!
//! Money is exact:
//!
//! ```
//! use tokmeter::money::Price;
//!
//! let price = Price::parse("0.15").unwrap(); // USD per 1M tokens
//! assert_eq!(price.cost(3).to_string(), "0.00000045");
//! ```

pub mod agent;
pub mod clock;
pub mod decode;
pub mod format;
pub mod input;
pub mod meter;
pub mod money;
pub mod output;
pub mod pipeline;
pub mod plain;
pub mod pricing;
pub mod signal;
pub mod summary;
pub mod tokenize;
pub mod transcript;

pub use input::{Chunk, Framing, Splitter};
pub use meter::{CountMode, Measure, Meter, Totals};
pub use money::{Money, Price};
pub use pricing::{Model, PricingTable, Side};
pub use summary::Summary;
pub use tokenize::{Counter, Tokenizer};
