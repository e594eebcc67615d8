//! Tokenizers: how many tokens a stream of text holds.
//!
//! Every tokenizer counts over the STREAM: a [`Counter`] is fed the stream's
//! text piece by piece and answers, after each piece, the token count of all
//! the text fed so far. The meter turns those running counts into per-chunk
//! figures, so a tokenizer never decides how counts are split across chunks.

mod cache;
mod chunk;
mod exact;
mod heuristic;
mod parallel;
mod split;
mod vocabulary;
mod workers;

pub use chunk::ChunkTokenizer;
pub use exact::Exact;
pub use heuristic::{Heuristic, HeuristicRule};

/// A way of counting tokens, chosen once per session.
///
/// Implementations are cheap to construct; anything expensive (a vocabulary)
/// is loaded lazily, when the first text is counted or in the background.
pub trait Tokenizer: Send + Sync {
    /// The name shown in summaries, e.g. `heuristic` or `o200k_base`.
    fn name(&self) -> &'static str;

    /// Whether counts are the model's exact token counts (as opposed to an
    /// estimate).
    fn is_exact(&self) -> bool;

    /// Whether the running count depends on the number of bytes alone, so
    /// a run of chunks can be counted as one piece with the same result.
    fn counts_bytes_only(&self) -> bool {
        false
    }

    /// Whether counting can start without waiting for a load.
    fn is_ready(&self) -> bool {
        true
    }

    /// Starts loading what counting needs (a vocabulary) on a thread of its
    /// own, so a stream can pass through while it loads.
    fn prepare_in_background(&self) {}

    /// A fresh counter for one stream.
    fn counter(&self) -> Box<dyn Counter>;

    /// The token count of `text` on its own, as if it were a whole stream.
    fn count(&self, text: &[u8]) -> u64 {
        let mut counter = self.counter();
        counter.push(text)
    }
}

/// Running token count of one stream.
pub trait Counter: Send {
    /// Appends `text` to the stream and returns the token count of the whole
    /// stream so far, as if the stream ended here.
    ///
    /// `text` is a piece of the stream as it arrived: it may be empty, end in
    /// the middle of a word, or (in rare inputs) hold invalid UTF-8, which
    /// exact tokenizers count as U+FFFD. The count may drop after a push
    /// where completing a word merges tokens; the meter absorbs such drops.
    fn push(&mut self, text: &[u8]) -> u64;

    /// Appends `text`, whole chunks each ending in `delimiter` but maybe the
    /// last, and returns the highest count the stream had at the end of any
    /// of them: what pushing them one by one and keeping the most gives (a
    /// meter's running maximum). Counters may push fewer, larger pieces
    /// where that cannot change the answer.
    fn push_chunks(&mut self, text: &[u8], delimiter: u8) -> u64 {
        push_each(self, text, delimiter)
    }

    /// Marks the end of one unit that is counted on its own (one chunk under
    /// `--count per-chunk`, one message of a transcript) and starts counting
    /// afresh, at zero.
    fn reset(&mut self);
}

/// [`Counter::push_chunks`] by pushing each chunk.
fn push_each<C: Counter + ?Sized>(counter: &mut C, text: &[u8], delimiter: u8) -> u64 {
    if text.is_empty() {
        return counter.push(text);
    }
    (text.split_inclusive(|&byte| byte == delimiter))
        .map(|chunk| counter.push(chunk))
        .fold(0, u64::max)
}

/// Text where pre-tokenizer pieces run on past newlines (whitespace,
/// slashes, punctuation tails) and the count drops at some line ends (16
/// newlines are fewer tokens than 15): for the laws of cuts and runs.
#[cfg(test)]
pub(crate) fn ragged_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Strategy;
    let part = proptest::sample::select(vec![
        "\n",
        "\n",
        "\n\n",
        "\n\n\n\n\n\n\n\n",
        " ",
        "  ",
        "\t",
        "/",
        "//",
        " /",
        ".",
        "?!",
        "!\n",
        "x.",
        "\r",
        "\u{b}",
        "\u{85}",
        "\u{a0}",
        "a",
        "Word",
        "7",
        "é",
        "'s",
        "  \n",
        "x\n",
        "漢字",
    ]);
    proptest::collection::vec(part, 0..100).prop_map(|parts| parts.concat())
}

/// An exact byte-pair encoding whose vocabulary is inside the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-5 and the o-series.
    O200kBase,
    /// GPT-4 and GPT-3.5.
    Cl100kBase,
}

impl Encoding {
    /// `o200k_base` or `cl100k_base`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }
}

/// Which tokenizer to build.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TokenizerKind {
    /// The byte- or character-ratio estimate.
    Heuristic(HeuristicRule),
    /// One token per chunk.
    Chunk,
    /// An exact encoding.
    Exact(Encoding),
}

impl Default for TokenizerKind {
    fn default() -> TokenizerKind {
        TokenizerKind::Heuristic(HeuristicRule::BytesPerToken(Heuristic::DEFAULT_RATIO))
    }
}

impl TokenizerKind {
    /// The name of the tokenizer this kind builds.
    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::Heuristic(_) => "heuristic",
            TokenizerKind::Chunk => "chunk",
            TokenizerKind::Exact(encoding) => encoding.name(),
        }
    }

    /// The tokenizer of this kind. Cheap: exact vocabularies load on first
    /// use, not here.
    pub fn build(self) -> Box<dyn Tokenizer> {
        match self {
            TokenizerKind::Heuristic(rule) => Box::new(Heuristic::new(rule)),
            TokenizerKind::Chunk => Box::new(ChunkTokenizer),
            TokenizerKind::Exact(encoding) => Box::new(Exact::new(encoding)),
        }
    }
}
