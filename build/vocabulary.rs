//! Build-time generation of the exact tokenizers' data: one zero-copy rank
//! table per encoding, from the `.tiktoken` files in `build/data/`, and the
//! character classes of the pre-tokenizers, from regex-syntax's Unicode
//! tables (the same tables the regex engines use).
//!
//! The table layout is read by `src/tokenize/vocabulary.rs`; both sides
//! must agree on [`hash`] and on the order of the sections.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// First word of every table: "TKRV" read as a little-endian u32.
const MAGIC: u32 = u32::from_le_bytes(*b"TKRV");

/// Writes `o200k_base.ranks`, `cl100k_base.ranks` and `classes.rs` into
/// `OUT_DIR`.
pub fn generate() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for name in ["o200k_base", "cl100k_base"] {
        let source = format!("build/data/{name}.tiktoken.gz");
        println!("cargo::rerun-if-changed={source}");
        let tokens = read_tiktoken(Path::new(&source));
        std::fs::write(out.join(format!("{name}.ranks")), table(&tokens)).expect("write ranks");
    }
    println!("cargo::rerun-if-changed=build/vocabulary.rs");
    std::fs::write(out.join("classes.rs"), classes()).expect("write classes.rs");
}

/// The tokens of a gzipped `.tiktoken` file (`base64 rank` lines), in rank
/// order; the ranks must be 0, 1, 2, … as in OpenAI's files.
fn read_tiktoken(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut tokens = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let (token, rank) = line.split_once(' ').expect("a `base64 rank` line");
        assert_eq!(
            rank.parse::<usize>().ok(),
            Some(tokens.len()),
            "ranks in order"
        );
        tokens.push(base64(token));
    }
    tokens
}

/// Decodes standard base64 with padding.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {text:?}"),
    };
    let (mut bytes, mut bits, mut count) = (Vec::new(), 0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | u32::from(value(c));
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    bytes
}

/// The hash of a token's bytes. Must equal `vocabulary::hash` bit for bit.
fn hash(bytes: &[u8]) -> u64 {
    let mut hash = (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for word in bytes.chunks(8) {
        let mut padded = [0; 8];
        padded[..word.len()].copy_from_slice(word);
        hash =
            (hash.rotate_left(5) ^ u64::from_le_bytes(padded)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ hash >> 33
}

/// The first eight bytes of a token, zero-padded, as a little-endian word.
fn first_word(token: &[u8]) -> u64 {
    let mut padded = [0; 8];
    let len = token.len().min(8);
    padded[..len].copy_from_slice(&token[..len]);
    u64::from_le_bytes(padded)
}

/// The second word of a token's slot: `rank + 1`, its length and 24 bits of
/// its hash. Must equal `vocabulary::slot_info`.
fn slot_info(rank: u32, len: usize, hash: u64) -> u64 {
    u64::from(rank + 1) | (len as u64) << 32 | (hash >> 40) << 40
}

/// The table of one encoding, all little-endian, every section 8-byte
/// aligned:
/// - header `[MAGIC, n, bits, nbytes, longest, 0]` (u32s);
/// - `starts: [[u8; 3]; n + 1]`, token `i` being
///   `bytes[starts[i]..starts[i+1]]`, each offset in three bytes, then 8
///   zero bytes, padded to 8;
/// - `slots: [[u64; 2]; 4 << bits]`: `1 << bits` buckets of four slots, a
///   token in the first free slot of its hash's bucket or the buckets after;
///   each slot `[first_word, slot_info]`, zero when empty;
/// - `pair: [u32; 65536]`, the rank of each 2-byte string or `u32::MAX`;
/// - `single: [u32; 256]`, the rank of each byte;
/// - `split: [[u8; 6]; n]`, the two tokens each token is merged from
///   (itself twice for a byte), as the `bpe` crate derives them, each rank
///   in three bytes, padded to 8;
/// - `bytes`, then 16 zero bytes, padded to 8.
fn table(tokens: &[Vec<u8>]) -> Vec<u8> {
    let n = tokens.len();
    let ids: HashMap<&[u8], u32> = (tokens.iter().enumerate())
        .map(|(id, token)| (token.as_slice(), id as u32))
        .collect();
    assert_eq!(ids.len(), n, "tokens are distinct");
    // Buckets of four slots (a cache line), filled to about 3/4.
    let bits = (usize::BITS - (n / 3).leading_zeros() - 1).max(4);
    let mut slots = vec![[0u64; 2]; 4 << bits];
    let mask = (1usize << bits) - 1;
    for (id, token) in tokens.iter().enumerate() {
        let hash = hash(token);
        let mut bucket = hash as usize & mask;
        let slot = loop {
            let free = (0..4).find(|&i| slots[bucket * 4 + i][1] == 0);
            match free {
                Some(i) => break bucket * 4 + i,
                None => bucket = (bucket + 1) & mask,
            }
        };
        slots[slot] = [first_word(token), slot_info(id as u32, token.len(), hash)];
    }
    let mut pair = vec![u32::MAX; 65536];
    let mut single = vec![u32::MAX; 256];
    for (id, token) in tokens.iter().enumerate() {
        match *token.as_slice() {
            [a] => single[usize::from(a)] = id as u32,
            [a, b] => pair[usize::from(a) << 8 | usize::from(b)] = id as u32,
            _ => {}
        }
    }
    assert!(
        single.iter().all(|&id| id != u32::MAX),
        "every byte is a token"
    );
    let split = split_table(tokens, &ids);
    let mut out = Vec::new();
    let longest = tokens.iter().map(Vec::len).max().unwrap_or(0);
    let nbytes: usize = tokens.iter().map(Vec::len).sum();
    for word in [MAGIC, n as u32, bits, nbytes as u32, longest as u32, 0] {
        out.extend(word.to_le_bytes());
    }
    assert!(nbytes < 1 << 24, "offsets fit in three bytes");
    let mut start = 0u32;
    out.extend(&start.to_le_bytes()[..3]);
    for token in tokens {
        start += token.len() as u32;
        out.extend(&start.to_le_bytes()[..3]);
    }
    // Room to read the last offsets as one eight-byte word.
    out.extend([0; 8]);
    pad(&mut out);
    slots
        .iter()
        .flatten()
        .for_each(|word| out.extend(word.to_le_bytes()));
    pair.iter().for_each(|id| out.extend(id.to_le_bytes()));
    single.iter().for_each(|id| out.extend(id.to_le_bytes()));
    assert!(n < 1 << 24, "ranks fit in three bytes");
    for &(first, second) in &split {
        out.extend(&first.to_le_bytes()[..3]);
        out.extend(&second.to_le_bytes()[..3]);
    }
    pad(&mut out);
    tokens.iter().for_each(|token| out.extend(token));
    out.extend([0; 16]);
    pad(&mut out);
    out
}

/// Zero bytes up to a multiple of 8.
fn pad(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(8), 0);
}

/// For each token, the pair of lower-ranked tokens byte-pair encoding merges
/// into it, derived as the `bpe` crate derives its split table: the longest
/// proper prefix that is a token and whose rest is a token, such that the
/// pair is itself a valid encoding. A byte, which is no merge, is split into
/// itself twice.
fn split_table(tokens: &[Vec<u8>], ids: &HashMap<&[u8], u32>) -> Vec<(u32, u32)> {
    let mut split: Vec<(u32, u32)> = Vec::with_capacity(tokens.len());
    let merged = |split: &[(u32, u32)], first: u32, second: u32| {
        let bytes = [tokens[first as usize].as_slice(), &tokens[second as usize]].concat();
        let id = *ids.get(bytes.as_slice())?;
        (split.get(id as usize) == Some(&(first, second))).then_some(id)
    };
    for (id, token) in tokens.iter().enumerate() {
        let id = id as u32;
        let pair = (1..token.len()).rev().find_map(|len| {
            let first = *ids.get(&token[..len])?;
            let second = *ids.get(&token[len..])?;
            (first < id && second < id && valid_pair(&split, &merged, first, second))
                .then_some((first, second))
        });
        split.push(pair.unwrap_or((id, id)));
    }
    split
}

/// Whether `first` followed by `second` is how byte-pair encoding leaves
/// their bytes (no merge across the boundary comes first): the `bpe`
/// crate's `is_valid_token_pair`, over the split table built so far.
fn valid_pair(
    split: &[(u32, u32)],
    merged: &impl Fn(&[(u32, u32)], u32, u32) -> Option<u32>,
    mut first: u32,
    mut second: u32,
) -> bool {
    let mut limit = u32::MAX;
    loop {
        if merged(split, first, second).is_some_and(|id| id < limit) {
            return false;
        }
        if first > second {
            limit = first;
            first = split[first as usize].1;
            if first == limit {
                limit = second + 1;
                second = split[second as usize].0;
                if second + 1 == limit {
                    return true;
                }
            }
        } else {
            limit = second + 1;
            second = split[second as usize].0;
            if second + 1 == limit {
                limit = first;
                first = split[first as usize].1;
                if first == limit {
                    return true;
                }
            }
        }
    }
}

/// Rust source of the pre-tokenizers' character classes: a bit set per
/// character (`UPPER` = Lu|Lt|Lm|Lo|M, `LOWER` = Ll|Lm|Lo|M, `LETTER` = L,
/// `NUMBER` = N, `SPACE` = White_Space), as a two-stage table of
/// 256-character blocks.
fn classes() -> String {
    const BITS: [(&str, &str); 5] = [
        ("UPPER", r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"),
        ("LOWER", r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"),
        ("LETTER", r"\p{L}"),
        ("NUMBER", r"\p{N}"),
        ("SPACE", r"\s"),
    ];
    let mut class = vec![0u8; 0x11_0000];
    for (bit, (_, pattern)) in BITS.iter().enumerate() {
        for (start, end) in ranges(pattern) {
            for cp in start..=end {
                class[cp as usize] |= 1 << bit;
            }
        }
    }
    let (mut blocks, mut stage1): (Vec<&[u8]>, Vec<u8>) = (Vec::new(), Vec::new());
    for block in class.chunks(256) {
        let index = blocks.iter().position(|b| *b == block).unwrap_or_else(|| {
            blocks.push(block);
            blocks.len() - 1
        });
        stage1.push(u8::try_from(index).expect("at most 256 distinct blocks"));
    }
    let mut out =
        String::from("// Generated by build/vocabulary.rs from regex-syntax's Unicode tables.\n");
    for (bit, (name, pattern)) in BITS.iter().enumerate() {
        writeln!(
            out,
            "/// `{pattern}`\npub(super) const {name}: u8 = 1 << {bit};"
        )
        .unwrap();
    }
    // The contractions' letters match their two ASCII cases, and `s` also
    // U+017F (ſ), which the pre-tokenizers assume.
    for letter in "strvemld".chars() {
        let mut want = vec![letter.to_ascii_uppercase() as u32, letter as u32];
        want.extend((letter == 's').then_some(0x17f));
        let got: Vec<u32> = (ranges(&format!("(?i){letter}")).into_iter())
            .flat_map(|(start, end)| start..=end)
            .collect();
        assert_eq!(got, want, "case folds of {letter}");
    }
    writeln!(
        out,
        "/// Block of each 256 characters.\npub(super) static STAGE1: [u8; {}] = {stage1:?};",
        stage1.len()
    )
    .unwrap();
    writeln!(out, "/// Classes of the characters of each block.\npub(super) static STAGE2: [[u8; 256]; {}] = [", blocks.len()).unwrap();
    for block in blocks {
        writeln!(out, "{block:?},").unwrap();
    }
    out.push_str("];\n");
    out
}

/// The code point ranges a one-class pattern matches.
fn ranges(pattern: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::parse(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}"));
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => (class.ranges().iter())
            .map(|range| (u32::from(range.start()), u32::from(range.end())))
            .collect(),
        HirKind::Literal(literal) => {
            let c = std::str::from_utf8(&literal.0)
                .expect("UTF-8")
                .chars()
                .next()
                .expect("a char");
            vec![(c as u32, c as u32)]
        }
        other => panic!("{pattern}: not a class: {other:?}"),
    }
}
