//! One pass over a run of lines: how many delimiters it holds, and whether
//! it is valid UTF-8.
//!
//! Most text is ASCII. The pass counts the delimiter and notes, per 256-byte
//! block, whether any byte has its high bit set; only the stretches of such
//! blocks are then validated. An ASCII block ends any character, so a
//! stretch starts and ends on character boundaries and validating stretches
//! alone gives the same answer as validating the whole.

/// Bytes per block whose ASCII-ness is noted.
const BLOCK: usize = 256;

/// (occurrences of `needle` in `bytes`, whether `bytes` is valid UTF-8).
pub fn count_and_validate(bytes: &[u8], needle: u8) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2::count_and_validate(bytes, needle) };
        }
    }
    portable(bytes, needle)
}

/// The same without SIMD: memchr's count and simdutf8's validation.
fn portable(bytes: &[u8], needle: u8) -> (u64, bool) {
    (
        memchr::memchr_iter(needle, bytes).count() as u64,
        simdutf8::basic::from_utf8(bytes).is_ok(),
    )
}

/// Validates the stretches of non-ASCII blocks as the blocks go by.
struct Stretches<'a> {
    bytes: &'a [u8],
    start: Option<usize>,
    valid: bool,
}

impl<'a> Stretches<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Stretches {
            bytes,
            start: None,
            valid: true,
        }
    }

    /// The block at `at` is ASCII (`ascii`) or not.
    #[inline]
    fn block(&mut self, at: usize, ascii: bool) {
        match (ascii, self.start) {
            (true, Some(start)) => {
                self.valid &= simdutf8::basic::from_utf8(&self.bytes[start..at]).is_ok();
                self.start = None;
            }
            (false, None) => self.start = Some(at),
            _ => {}
        }
    }

    fn finish(mut self) -> bool {
        self.block(self.bytes.len(), true);
        self.valid
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_setzero_si256,
    };

    use super::{BLOCK, Stretches};

    /// See [`super::count_and_validate`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn count_and_validate(bytes: &[u8], needle: u8) -> (u64, bool) {
        let wanted = _mm256_set1_epi8(needle as i8);
        let mut stretches = Stretches::new(bytes);
        let mut count = 0u64;
        let mut at = 0;
        while at + BLOCK <= bytes.len() {
            let mut high = _mm256_setzero_si256();
            let mut lane = 0;
            while lane < BLOCK {
                // SAFETY: at + lane + 32 <= at + BLOCK <= bytes.len(), and
                // loadu has no alignment requirement.
                let v =
                    unsafe { _mm256_loadu_si256(bytes.as_ptr().add(at + lane).cast::<__m256i>()) };
                high = _mm256_or_si256(high, v);
                let hits = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, wanted)) as u32;
                count += u64::from(hits.count_ones());
                lane += 32;
            }
            stretches.block(at, _mm256_movemask_epi8(high) == 0);
            at += BLOCK;
        }
        let tail = &bytes[at..];
        count += tail.iter().filter(|&&b| b == needle).count() as u64;
        stretches.block(at, tail.is_ascii());
        (count, stretches.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) {
        let expected = (
            bytes.iter().filter(|&&b| b == b'\n').count() as u64,
            std::str::from_utf8(bytes).is_ok(),
        );
        assert_eq!(count_and_validate(bytes, b'\n'), expected, "{bytes:?}");
        assert_eq!(portable(bytes, b'\n'), expected);
    }

    #[test]
    fn agrees_with_std_at_block_edges() {
        for len in [0, 1, 31, 32, 255, 256, 257, 511, 512, 700] {
            let ascii: Vec<u8> = (0..len)
                .map(|i| if i % 7 == 0 { b'\n' } else { b'a' })
                .collect();
            check(&ascii);
            // A two- and a four-byte character across every block edge.
            for at in [0, 1, 254, 255, 256, 257, 510, 511] {
                for ch in ["é", "😀"] {
                    if at + ch.len() <= len {
                        let mut text = ascii.clone();
                        text[at..at + ch.len()].copy_from_slice(ch.as_bytes());
                        check(&text);
                        // Cut the character short: invalid.
                        text[at + ch.len() - 1] = b'x';
                        check(&text);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_std(bytes in proptest::collection::vec(
            proptest::prop_oneof![8 => 0x20u8..0x7f, 1 => proptest::prelude::Just(b'\n'), 1 => proptest::prelude::any::<u8>()],
            0..2000,
        )) {
            check(&bytes);
        }

        #[test]
        fn agrees_with_std_on_text(text in "(\\PC|\n){0,1500}") {
            check(text.as_bytes());
        }
    }
}
