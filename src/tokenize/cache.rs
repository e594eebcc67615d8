//! A piece → token count cache for short pieces: prose and code repeat
//! their words, and a hit is one probe instead of a byte-pair merge.
//!
//! Invariant: a slot holds a piece's bytes (two zero-padded words, the
//! second carrying the length and the count in its top bytes) with the
//! count the vocabulary gave it, so a hit returns exactly what counting the
//! piece again would.

use super::vocabulary::{RankCache, Vocabulary, head};

/// Longest piece kept: the key's last two bytes hold its length and count.
pub(super) const SHORT: usize = 14;

/// Longest piece kept in the cache of long pieces (CJK runs between
/// punctuation are mostly shorter).
pub(super) const LONG: usize = 56;

/// Slots of the cache of long pieces (256 KiB).
const LONG_BITS: u32 = 12;

/// Slots of a new cache (64 KiB: a short stream stays small).
const FIRST_BITS: u32 = 12;

/// Slots after the first growth (256 KiB); the next growth is to the most
/// slots at once: pieces that a cache of a size between would keep are
/// lost at each growth, and counted again.
const SECOND_BITS: u32 = 14;

/// Most slots (2 MiB): enough for the distinct pieces of a large corpus
/// to hit ~97 % of the time.
const LAST_BITS: u32 = 17;

/// Most slots of a cache that counts beside another thread's (1 MiB): a
/// second thread costs half the memory, and its parts count 1.5–2.5 %
/// slower for the pieces it misses.
const HELPER_BITS: u32 = LAST_BITS - 1;

/// Whether a cache's thread counts alone or beside another's, which sets
/// how far the cache grows.
#[derive(Clone, Copy)]
pub(super) enum Counting {
    /// Up to [`LAST_BITS`].
    Alone,
    /// Up to [`HELPER_BITS`].
    BesideAnother,
}

/// A direct-mapped cache that grows while it misses often.
pub(super) struct Cache {
    /// `1 << bits` slots of `[bytes 0–7, bytes 8–13 | len << 48 | count <<
    /// 56]`; an empty slot is zero (no piece is empty).
    slots: Slots,
    bits: u32,
    /// The most `bits` may grow to.
    last_bits: u32,
    /// Misses since the last growth.
    misses: usize,
    /// Pieces of `SHORT + 1..=LONG` bytes: `LONG` bytes zero-padded, then
    /// `len | count << 8 | hash << 32`; allocated on first use.
    long: Vec<[u64; LONG / 8 + 1]>,
    /// Ranks for the merges of missed pieces.
    ranks: Option<RankCache>,
}

impl Default for Cache {
    fn default() -> Cache {
        Cache {
            slots: Slots::default(),
            bits: FIRST_BITS,
            last_bits: LAST_BITS,
            misses: 0,
            long: Vec::new(),
            ranks: None,
        }
    }
}

/// The eight bytes of `text` from `at`, as a little-endian word, zero past
/// the end of the text.
#[inline]
fn word(text: &[u8], at: usize) -> u64 {
    match text.get(at..at + 8) {
        Some(bytes) => u64::from_le_bytes(bytes.try_into().expect("8 bytes")),
        None => head(text.get(at..).unwrap_or_default()),
    }
}

/// The low `bytes` bytes of `word`.
#[inline]
fn low_bytes(word: u64, bytes: usize) -> u64 {
    if bytes >= 8 {
        word
    } else {
        word & ((1u64 << (8 * bytes)) - 1)
    }
}

/// A short piece's key (its bytes, zero-padded, and its length) and hash,
/// made once when the piece is split off and used to prefetch its slot.
#[derive(Clone, Copy)]
pub(super) struct Key {
    words: [u64; 2],
    hash: u64,
}

impl Key {
    /// The key of the piece `text[at..end]`, 1 to [`SHORT`] bytes.
    #[inline(always)]
    pub(super) fn new(text: &[u8], at: usize, end: usize) -> Key {
        debug_assert!(end > at && end - at <= SHORT);
        let len = end - at;
        let low = low_bytes(word(text, at), len);
        let high = if len > 8 {
            low_bytes(word(text, at + 8), len - 8)
        } else {
            0
        } | (len as u64) << 48;
        let hash = (low ^ high.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Key {
            words: [low, high],
            hash,
        }
    }
}

impl Cache {
    /// This cache, to grow as far as a thread `counting` so may use; a
    /// cache already larger keeps its slots and grows no more.
    pub(super) fn counting(mut self, counting: Counting) -> Cache {
        self.last_bits = match counting {
            Counting::Alone => LAST_BITS,
            Counting::BesideAnother => HELPER_BITS,
        };
        self
    }

    /// The index of `key`'s slot.
    #[inline]
    fn index(&self, key: &Key) -> usize {
        (key.hash >> (64 - self.bits)) as usize
    }

    /// Starts loading `key`'s slot into the CPU cache, so that counting a
    /// batch of pieces waits for memory once.
    #[inline]
    pub(super) fn prefetch(&self, key: &Key) {
        let Some(slot) = self.slots.get(self.index(key)) else {
            return; // no slots yet
        };
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: a prefetch never faults, and the address is in bounds.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.as_ptr().cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// The token count of the piece `text[at..end]`, 1 to [`SHORT`] bytes.
    #[inline]
    pub(super) fn count(
        &mut self,
        vocabulary: &Vocabulary,
        text: &[u8],
        at: usize,
        end: usize,
    ) -> u64 {
        self.count_key(vocabulary, &text[at..end], Key::new(text, at, end))
    }

    /// The token count of `piece`, 1 to [`SHORT`] bytes, whose key is `key`:
    /// a hit here, inlined where the pieces are split; a miss out of line.
    #[inline(always)]
    pub(super) fn count_key(&mut self, vocabulary: &Vocabulary, piece: &[u8], key: Key) -> u64 {
        if let Some(&[low, high]) = self.slots.get(self.index(&key))
            && low == key.words[0]
            && high & !(0xff << 56) == key.words[1]
        {
            return high >> 56;
        }
        self.count_miss(vocabulary, piece, key)
    }

    /// [`Cache::count_key`] for a piece not in the cache: counts it and
    /// keeps it, growing the cache while it misses often.
    #[inline(never)]
    fn count_miss(&mut self, vocabulary: &Vocabulary, piece: &[u8], key: Key) -> u64 {
        if self.slots.is_empty() {
            self.slots = Slots::new(1 << self.bits);
        }
        let [low, high] = key.words;
        let index = self.index(&key);
        // A piece of at most 14 bytes has at most 14 tokens.
        let ranks = self.ranks.get_or_insert_with(RankCache::default);
        let count = vocabulary.count_with(piece, ranks);
        self.slots[index] = [low, high | count << 56];
        self.misses += 1;
        if self.misses > self.slots.len() && self.bits < self.last_bits {
            // Many distinct pieces: a bigger cache pays for itself, and
            // so does the vocabulary's filter for the merges of the rest.
            vocabulary.prepare_filter();
            self.bits = if self.bits < SECOND_BITS {
                SECOND_BITS
            } else {
                self.last_bits
            };
            self.slots = Slots::new(1 << self.bits);
            self.misses = 0;
        }
        count
    }
}

impl Cache {
    /// The token count of `piece`, `SHORT + 1` to [`LONG`] bytes.
    pub(super) fn count_long(&mut self, vocabulary: &Vocabulary, piece: &[u8]) -> u64 {
        debug_assert!(piece.len() > SHORT && piece.len() <= LONG);
        if self.long.is_empty() {
            self.long = vec![[0; LONG / 8 + 1]; 1 << LONG_BITS];
        }
        let mut key = [0u64; LONG / 8 + 1];
        let mut hash = piece.len() as u64;
        for (word, bytes) in key.iter_mut().zip(piece.chunks(8)) {
            *word = head(bytes);
            hash = (hash.rotate_left(5) ^ *word).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        key[LONG / 8] = piece.len() as u64 | (hash >> 32) << 32;
        let slot = &mut self.long[(hash >> (64 - LONG_BITS)) as usize];
        let info = slot[LONG / 8];
        if info & !0xff00 == key[LONG / 8] && slot[..LONG / 8] == key[..LONG / 8] {
            return info >> 8 & 0xff;
        }
        // A piece of at most 56 bytes has at most 56 tokens.
        let ranks = self.ranks.get_or_insert_with(RankCache::default);
        let count = vocabulary.count_with(piece, ranks);
        key[LONG / 8] |= count << 8;
        *slot = key;
        count
    }
}

/// Huge pages: the cache is probed at random, and with 4 KiB pages most
/// probes of a large cache would also miss the TLB.
const HUGE_PAGE: usize = 2 << 20;

/// Zeroed slots in memory of their own, on huge pages where the system
/// gives them (Linux's transparent huge pages in `madvise` or `always`
/// mode).
struct Slots {
    /// The mapping (`None` if there are no slots) and its length in bytes.
    map: Option<(std::ptr::NonNull<libc::c_void>, usize)>,
    /// The first slot, inside the mapping and huge-page aligned (dangling
    /// if there are none), and how many there are: a probe reads them with
    /// no more work than a `Vec`'s.
    first: std::ptr::NonNull<[u64; 2]>,
    len: usize,
}

impl Default for Slots {
    fn default() -> Slots {
        Slots {
            map: None,
            first: std::ptr::NonNull::dangling(),
            len: 0,
        }
    }
}

// SAFETY: `Slots` owns its mapping outright, like a `Vec`.
unsafe impl Send for Slots {}

impl Slots {
    /// `len` zeroed slots.
    fn new(len: usize) -> Slots {
        let bytes = len * size_of::<[u64; 2]>();
        let size = bytes + HUGE_PAGE;
        // SAFETY: a fresh private anonymous mapping; no memory is aliased.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(map != libc::MAP_FAILED, "out of memory for the token cache");
        let start = (map as usize).next_multiple_of(HUGE_PAGE) - map as usize;
        // SAFETY: `start` is less than `HUGE_PAGE`, inside the mapping.
        let first = unsafe { map.cast::<u8>().add(start) };
        if bytes >= HUGE_PAGE {
            // SAFETY: advice on pages of the mapping just made; failure
            // (no huge pages here) only leaves small pages.
            unsafe { libc::madvise(first.cast(), bytes, libc::MADV_HUGEPAGE) };
        }
        Slots {
            map: std::ptr::NonNull::new(map).map(|map| (map, size)),
            first: std::ptr::NonNull::new(first.cast()).expect("a mapping is not null"),
            len,
        }
    }
}

impl std::ops::Deref for Slots {
    type Target = [[u64; 2]];
    fn deref(&self) -> &[[u64; 2]] {
        // SAFETY: `len` slots fit the mapping from `first` on, aligned
        // (huge-page aligned), zeroed by the kernel, owned by `self`; with
        // none, `first` is dangling and aligned, as an empty slice needs.
        unsafe { std::slice::from_raw_parts(self.first.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [[u64; 2]] {
        // SAFETY: as in `deref`, and `&mut self` makes it unique.
        unsafe { std::slice::from_raw_parts_mut(self.first.as_ptr(), self.len) }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        if let Some((map, size)) = self.map {
            // SAFETY: the mapping was made by `new` and is not used after.
            unsafe { libc::munmap(map.as_ptr(), size) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Encoding;
    use proptest::prelude::*;

    /// A cache grows from its first slots to its second, then straight to
    /// its most: a cache that counts beside another to half the slots of
    /// one that counts alone, and on to all of them once it counts alone.
    #[test]
    fn a_helpers_cache_grows_to_half_the_slots() {
        let vocabulary = Vocabulary::new(Encoding::O200kBase);
        let mut alone = Cache::default().counting(Counting::Alone);
        let mut helper = Cache::default().counting(Counting::BesideAnother);
        let mut sizes = [vec![], vec![]];
        let mut count = |mut caches: [&mut Cache; 2], pieces: std::ops::Range<u32>| {
            for n in pieces {
                let piece = format!(" w{n}");
                let want = vocabulary.count(piece.as_bytes());
                for (cache, sizes) in caches.iter_mut().zip(&mut sizes) {
                    let got = cache.count(&vocabulary, piece.as_bytes(), 0, piece.len());
                    assert_eq!(got, want);
                    if sizes.last() != Some(&cache.slots.len()) {
                        sizes.push(cache.slots.len());
                    }
                }
            }
        };
        count([&mut alone, &mut helper], 0..100_000);
        let mut helper = helper.counting(Counting::Alone);
        count([&mut alone, &mut helper], 100_000..200_000);
        let [first, second] = [1 << FIRST_BITS, 1 << SECOND_BITS];
        assert_eq!(sizes[0], [first, second, 1 << LAST_BITS]);
        assert_eq!(sizes[1], [first, second, 1 << HELPER_BITS, 1 << LAST_BITS]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 200 } else { 2_000 }))]

        /// Through the caches (cold, then warm, then after growing), every
        /// piece counts as the vocabulary counts it.
        #[test]
        fn cached_counts_are_the_vocabulary_counts(
            pieces in prop::collection::vec(prop::collection::vec(
                prop::sample::select(b"ab \0\xff=th".to_vec()), 1..=LONG), 1..64),
        ) {
            let vocabulary = Vocabulary::new(Encoding::O200kBase);
            let mut cache = Cache { bits: 2, ..Cache::default() };
            for _ in 0..3 {
                for piece in &pieces {
                    let want = vocabulary.count(piece);
                    // The piece inside a longer text, as the counter passes it.
                    let text = [piece.as_slice(), b"tail"].concat();
                    let got = if piece.len() <= SHORT {
                        cache.count(&vocabulary, &text, 0, piece.len())
                    } else {
                        cache.count_long(&vocabulary, piece)
                    };
                    prop_assert_eq!(got, want, "{:?}", piece);
                }
            }
        }
    }
}
