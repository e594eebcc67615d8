//! Tests of the rank table: every token found, merges and appendable counts
//! against bpe-openai, with and without the rank cache and the filter.

use super::*;
use proptest::prelude::*;

impl Vocabulary {
    /// Whether [`Vocabulary::endings`] was built.
    pub(in crate::tokenize) fn has_endings(&self) -> bool {
        self.endings.get().is_some()
    }
}

/// Every token is found with its own rank and counts as one token.
#[test]
fn every_token_is_found() {
    for (encoding, tokens) in [
        (Encoding::O200kBase, 199_998),
        (Encoding::Cl100kBase, 100_256),
    ] {
        let vocabulary = Vocabulary::new(encoding);
        assert_eq!(vocabulary.len(), tokens);
        // Without the filter, then through it.
        for filtered in [false, true] {
            if filtered {
                vocabulary.prepare_filter();
            }
            for rank in 0..tokens as u32 {
                let token = vocabulary.token(rank);
                assert_eq!(vocabulary.rank(token), Some(rank), "{token:?}");
                assert_eq!(vocabulary.count(token), 1);
            }
            assert_eq!(vocabulary.rank(b"not a token at all"), None);
        }
    }
}

/// The filter answers most strings that are no token: were its bits
/// all set, or taken from the wrong part of the hash, it would not.
#[test]
fn the_filter_turns_most_non_tokens_away() {
    let vocabulary = Vocabulary::new(Encoding::O200kBase);
    vocabulary.prepare_filter();
    let filter = vocabulary.filter.get().expect("prepared");
    let strings: Vec<String> = (0..10_000).map(|i| format!("{i}q{i}z")).collect();
    let passed = (strings.iter())
        .filter(|string| in_filter(filter, hash(string.as_bytes())))
        .count();
    assert!(vocabulary.rank(b"0q0z").is_none());
    assert!(passed < strings.len() / 4, "{passed} of 10,000 passed");
}

/// A word of a slice's first bytes is those bytes, zero-padded, at
/// every length.
#[test]
fn head_is_the_zero_padded_first_word() {
    let bytes: Vec<u8> = (1..=10).map(|byte| byte * 17).collect();
    for len in 0..=bytes.len() {
        let mut padded = [0; 8];
        let take = len.min(8);
        padded[..take].copy_from_slice(&bytes[..take]);
        assert_eq!(head(&bytes[..len]), u64::from_le_bytes(padded), "{len}");
    }
}

/// Pieces whose bytes make many merges possible.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let parts = prop::sample::select(vec![
        "a", "b", "ab", "the", " ", "=", "漢", "字", "😀", "1", "\n", "ing", "\u{301}",
    ]);
    prop::collection::vec(parts, 1..120).prop_map(|parts| parts.concat().into_bytes())
}

/// The references: bpe-openai's encoders.
fn references() -> [(Vocabulary, &'static bpe_openai::Tokenizer); 2] {
    [
        (
            Vocabulary::new(Encoding::O200kBase),
            bpe_openai::o200k_base(),
        ),
        (
            Vocabulary::new(Encoding::Cl100kBase),
            bpe_openai::cl100k_base(),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 200 } else { 3_000 }))]

    /// The quadratic merge and the heap merge agree with bpe-openai, with
    /// and without a rank cache and the filter.
    #[test]
    fn merges_count_like_bpe(piece in piece()) {
        for (vocabulary, reference) in references() {
            let want = reference.bpe.count(&piece) as u64;
            // Without the filter, then through it.
            for filtered in [false, true] {
                if filtered {
                    vocabulary.prepare_filter();
                }
                prop_assert_eq!(vocabulary.count_large(&piece), want);
                prop_assert_eq!(vocabulary.count(&piece), want);
                // Through a rank cache, cold and then warm.
                let mut ranks = RankCache::default();
                prop_assert_eq!(vocabulary.count_with(&piece, &mut ranks), want);
                prop_assert_eq!(vocabulary.count_with(&piece, &mut ranks), want);
            }
        }
    }

    /// The appendable count of every prefix is the prefix's merge count,
    /// whether the piece grows or shrinks between counts.
    #[test]
    fn appendable_counts_every_prefix(piece in piece(), cut in 0..200usize) {
        for (vocabulary, _) in references() {
            let mut appendable = Appendable::default();
            let cut = cut.min(piece.len());
            for end in (1..=piece.len()).chain([cut.max(1), piece.len()]) {
                prop_assert_eq!(
                    appendable.count(&vocabulary, &piece[..end]),
                    vocabulary.count_large(&piece[..end])
                );
            }
        }
    }
}
