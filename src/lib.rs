//! tokmeter: meter a text stream in LLM tokens and money while passing it
//! through untouched.
//!
//! The engine is usable without the CLI. Data flows one way: a [`Splitter`]
//! cuts input into chunks, a [`Meter`] counts each chunk's tokens with a
//! [`Tokenizer`] over the whole stream and prices them exactly from a
//! [`PricingTable`], a [`format::Formatter`] writes each chunk, and the
//! totals become a [`Summary`]. A [`transcript::Transcript`] prices chat
//! records instead, and [`merge::merge`] sums summaries.
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

pub mod batch;
pub mod cli;
pub mod clock;
pub mod config;
pub mod decode;
pub mod error;
pub mod format;
pub mod input;
pub mod merge;
pub mod meter;
pub mod money;
pub mod output;
pub mod plain;
pub mod pricing;
pub mod progress;
pub mod run;
pub mod session;
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
