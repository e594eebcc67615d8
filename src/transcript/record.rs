//! One line of a transcript: the shapes accepted and how they are read.
//!
//! A line is a message (`{"role", "content"}`), a conversation
//! (`{"messages": [...]}`), or either nested under `"message"` as agents'
//! logs write them. Content is a string, null, or a list of parts whose text
//! counts; nothing else is guessed at. Unknown fields are ignored.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A parsed line, before validation.
#[derive(Debug, Default, Deserialize)]
pub struct Record<'a> {
    /// The role of a single message.
    #[serde(borrow, default)]
    pub role: Option<Cow<'a, str>>,
    /// The text of a single message.
    #[serde(borrow, default)]
    pub content: Option<Text<'a>>,
    /// A whole conversation.
    #[serde(borrow, default)]
    pub messages: Option<Vec<Message<'a>>>,
    /// The provider's own token counts.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Gemini's token counts.
    #[serde(rename = "usageMetadata", default)]
    pub usage_metadata: Option<GeminiUsage>,
    /// The same record nested one level down.
    #[serde(borrow, default)]
    pub message: Option<Box<Record<'a>>>,
    /// The mode the provider served it in (OpenAI's `service_tier`).
    #[serde(borrow, default)]
    pub service_tier: Option<Cow<'a, str>>,
}

/// One message of a conversation.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    /// `system`, `user`, `assistant`, ...
    #[serde(borrow)]
    pub role: Cow<'a, str>,
    /// Its text.
    #[serde(borrow, default)]
    pub content: Option<Text<'a>>,
}

/// The countable text of a content value: its pieces, each counted alone.
#[derive(Debug, Default)]
pub struct Text<'a>(pub Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut pieces = Vec::new();
        deserializer.deserialize_any(TextVisitor {
            pieces: &mut pieces,
            marker: PhantomData,
        })?;
        Ok(Text(pieces))
    }
}

/// Collects the text of a string, a list of parts, or a part.
struct TextVisitor<'p, 'a> {
    pieces: &'p mut Vec<Cow<'a, str>>,
    marker: PhantomData<&'a ()>,
}

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text: a string, a list of parts, or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<(), E> {
        self.pieces.push(Cow::Borrowed(text));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.pieces.push(Cow::Owned(text.to_string()));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<(), E> {
        self.pieces.push(Cow::Owned(text));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq
            .next_element_seed(TextSeed {
                pieces: &mut *self.pieces,
            })?
            .is_some()
        {}
        Ok(())
    }

    /// A part: its `text`, `thinking` and nested `content` count; images,
    /// tool inputs and other fields do not.
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<PartKey>()? {
            match key {
                PartKey::Text => map.next_value_seed(TextSeed {
                    pieces: &mut *self.pieces,
                })?,
                PartKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct TextSeed<'p, 'a> {
    pieces: &'p mut Vec<Cow<'a, str>>,
}

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for TextSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(TextVisitor {
            pieces: self.pieces,
            marker: PhantomData,
        })
    }
}

/// The fields of a part that hold countable text.
enum PartKey {
    Text,
    Other,
}

impl<'de> Deserialize<'de> for PartKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = PartKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<PartKey, E> {
                Ok(match key {
                    "text" | "thinking" | "content" => PartKey::Text,
                    _ => PartKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Token counts a provider reported, in OpenAI's or Anthropic's names.
#[derive(Debug, Default, Deserialize)]
pub struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Details>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<Details>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    /// The mode the provider served it in (Anthropic's `service_tier`).
    pub service_tier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
    /// Prompt tokens written to the cache (OpenAI, gpt-5.6 and later).
    cache_write_tokens: Option<u64>,
}

/// Gemini's `usageMetadata`: the prompt includes the cached part, the
/// thoughts are output beside the candidates.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiUsage {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

impl GeminiUsage {
    /// What Gemini billed.
    pub fn bill(&self) -> Result<Bill, String> {
        if self.prompt_token_count.is_none() && self.candidates_token_count.is_none() {
            return Err("\"usageMetadata\" holds no token counts".to_string());
        }
        let prompt = self.prompt_token_count.unwrap_or(0);
        let cached = self.cached_content_token_count.unwrap_or(0);
        Ok(Bill {
            input: prompt.checked_sub(cached).ok_or_else(|| {
                format!("\"usageMetadata\": cachedContentTokenCount ({cached}) exceeds promptTokenCount ({prompt})")
            })?,
            output: self
                .candidates_token_count
                .unwrap_or(0)
                .checked_add(self.thoughts_token_count.unwrap_or(0))
                .ok_or_else(overflow)?,
            cache_read: cached,
            cache_write: 0,
        })
    }
}

/// Billed tokens by price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bill {
    /// Input tokens at the input price.
    pub input: u64,
    /// Output tokens at the output price.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
}

impl Bill {
    /// The price-by-price sum of two bills; `None` when a sum, or all the
    /// tokens together, would pass `u64::MAX`.
    #[must_use]
    pub fn checked_plus(&self, other: &Bill) -> Option<Bill> {
        let sum = Bill {
            input: self.input.checked_add(other.input)?,
            output: self.output.checked_add(other.output)?,
            cache_read: self.cache_read.checked_add(other.cache_read)?,
            cache_write: self.cache_write.checked_add(other.cache_write)?,
        };
        sum.checked_tokens().map(|_| sum)
    }

    /// All the tokens, if they fit in a `u64`.
    pub fn checked_tokens(&self) -> Option<u64> {
        self.input
            .checked_add(self.output)?
            .checked_add(self.cache_read)?
            .checked_add(self.cache_write)
    }
}

impl Usage {
    /// What the provider billed. OpenAI's `prompt_tokens` (and the Responses
    /// API's `input_tokens`) include `cached_tokens`, which are taken out and
    /// priced as cache reads; Anthropic's `input_tokens` exclude the cache
    /// fields already.
    pub fn bill(&self) -> Result<Bill, String> {
        let prompt = self.prompt_tokens.or(self.input_tokens);
        let output = self.completion_tokens.or(self.output_tokens);
        let details = self
            .prompt_tokens_details
            .as_ref()
            .or(self.input_tokens_details.as_ref());
        let cached = details.and_then(|d| d.cached_tokens).unwrap_or(0);
        let written = details.and_then(|d| d.cache_write_tokens).unwrap_or(0);
        if prompt.is_none()
            && output.is_none()
            && self.cache_read_input_tokens.is_none()
            && self.cache_creation_input_tokens.is_none()
        {
            return Err("\"usage\" holds no token counts".to_string());
        }
        let prompt = prompt.unwrap_or(0);
        let input = prompt
            .checked_sub(cached)
            .and_then(|rest| rest.checked_sub(written))
            .ok_or_else(|| {
                format!(
                    "\"usage\": cached_tokens ({cached}) and cache_write_tokens ({written}) exceed the prompt tokens ({prompt})"
                )
            })?;
        Ok(Bill {
            input,
            output: output.unwrap_or(0),
            cache_read: cached
                .checked_add(self.cache_read_input_tokens.unwrap_or(0))
                .ok_or_else(overflow)?,
            cache_write: written
                .checked_add(self.cache_creation_input_tokens.unwrap_or(0))
                .ok_or_else(overflow)?,
        })
    }
}

/// The error of a count beyond what a total can hold.
pub fn overflow() -> String {
    format!("the token counts overflow: a total would pass {}", u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Record<'_> {
        serde_json::from_str(line).unwrap()
    }

    fn pieces(text: &Option<Text<'_>>) -> Vec<String> {
        text.as_ref()
            .map(|t| t.0.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn content_shapes() {
        let record = parse(r#"{"role":"user","content":"hi \"there\""}"#);
        assert_eq!(pieces(&record.content), ["hi \"there\""]);
        let record = parse(
            r#"{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},"b",{"type":"tool_result","content":[{"type":"text","text":"c"}]},{"type":"thinking","thinking":"d","signature":"zz"}]}"#,
        );
        assert_eq!(pieces(&record.content), ["a", "b", "c", "d"]);
        let record = parse(r#"{"role":"assistant","content":null,"tool_calls":[]}"#);
        assert!(pieces(&record.content).is_empty());
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(serde_json::from_str::<Record<'_>>(r#"{"role":"user","content":5}"#).is_err());
        assert!(serde_json::from_str::<Record<'_>>(r#"{"role":7,"content":"x"}"#).is_err());
        assert!(serde_json::from_str::<Record<'_>>(r#"{"messages":[{"content":"x"}]}"#).is_err());
        assert!(serde_json::from_str::<Record<'_>>(r#"{"usage":{"prompt_tokens":-1}}"#).is_err());
    }

    #[test]
    fn usage_in_both_dialects() {
        let openai = parse(
            r#"{"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":64}}}"#,
        );
        assert_eq!(
            openai.usage.unwrap().bill(),
            Ok(Bill {
                input: 36,
                output: 20,
                cache_read: 64,
                cache_write: 0
            })
        );
        let anthropic = parse(
            r#"{"usage":{"input_tokens":3,"output_tokens":50,"cache_read_input_tokens":1000,"cache_creation_input_tokens":200,"service_tier":"standard"}}"#,
        );
        assert_eq!(
            anthropic.usage.unwrap().bill(),
            Ok(Bill {
                input: 3,
                output: 50,
                cache_read: 1000,
                cache_write: 200
            })
        );
        let written = parse(
            r#"{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":60,"cache_write_tokens":30}}}"#,
        );
        assert_eq!(
            written.usage.unwrap().bill(),
            Ok(Bill {
                input: 10,
                output: 5,
                cache_read: 60,
                cache_write: 30
            })
        );
        let gemini = parse(
            r#"{"role":"model","usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":29,"thoughtsTokenCount":11}}"#,
        );
        assert_eq!(
            gemini.usage_metadata.unwrap().bill(),
            Ok(Bill {
                input: 40,
                output: 40,
                cache_read: 60,
                cache_write: 0
            })
        );
        assert!(parse(r#"{"usage":{}}"#).usage.unwrap().bill().is_err());
        let over =
            parse(r#"{"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":2}}}"#);
        assert!(over.usage.unwrap().bill().is_err());
    }
}
