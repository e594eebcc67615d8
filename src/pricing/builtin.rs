//! The built-in table as build.rs compiled it from `pricing.toml`: each
//! model's values as written, validated at start-up like any pricing file.

use super::{At, Entry};

/// One model of the built-in table.
pub(super) struct Compiled {
    pub name: &'static str,
    pub provider: Option<&'static str>,
    pub input: &'static str,
    pub output: &'static str,
    pub cache_read: Option<&'static str>,
    pub cache_write: Option<&'static str>,
    pub tokenizer: Option<&'static str>,
    pub bytes_per_token: Option<f64>,
    pub chars_per_token: Option<f64>,
    pub aliases: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/builtin_table.rs"));

impl Compiled {
    /// The model's entry, placed nowhere.
    pub fn entry(&self) -> Entry<'static> {
        let at = |value| At { value, span: None };
        Entry {
            name: at(self.name),
            provider: self.provider,
            input: at(self.input),
            output: at(self.output),
            cache_read: self.cache_read.map(at),
            cache_write: self.cache_write.map(at),
            tokenizer: self.tokenizer.map(at),
            bytes_per_token: self.bytes_per_token.map(|value| At { value, span: None }),
            chars_per_token: self.chars_per_token.map(|value| At { value, span: None }),
            aliases: self.aliases.iter().map(|&alias| at(alias)).collect(),
        }
    }
}
