//! The SSE parser on arbitrary bytes cut at arbitrary points: any split gives
//! the boundaries, events and tail of the whole feed; boundaries increase,
//! never pass the bytes fed, and with the tail cover the input exactly.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::input::sse::{Boundary, Parser, Tail};

/// An owned boundary: its end and the event's name, data and id.
type Seen = (u64, Option<(Vec<u8>, Vec<u8>, Vec<u8>)>);

fn keep(out: &mut Vec<Seen>) -> impl FnMut(Boundary<'_>) + '_ {
    |boundary| {
        let event = boundary
            .event
            .map(|e| (e.name.to_vec(), e.data.to_vec(), e.id.to_vec()));
        out.push((boundary.end, event));
    }
}

fn whole(data: &[u8]) -> (Vec<Seen>, Tail) {
    let mut parser = Parser::new();
    let mut seen = Vec::new();
    parser.feed(data, keep(&mut seen));
    let tail = parser.end_of_input(keep(&mut seen));
    (seen, tail)
}

fuzz_target!(|input: &[u8]| {
    // Header: piece sizes up to a 0xFF byte (0 feeds an empty piece, then
    // the next size is used); the rest is the stream.
    let split = input.iter().position(|&b| b == 0xFF).unwrap_or(0);
    let (sizes, data) = (
        &input[..split.min(32)],
        input.get(split + 1..).unwrap_or(&[]),
    );
    // Only empty pieces would never end.
    let sizes = if sizes.iter().all(|&s| s == 0) {
        &[][..]
    } else {
        sizes
    };
    let expected = whole(data);

    let mut parser = Parser::new();
    let mut seen = Vec::new();
    let mut at = 0;
    let mut turn = 0;
    while at < data.len() {
        let size = match sizes {
            [] => data.len(),
            sizes => usize::from(sizes[turn % sizes.len()]),
        };
        turn += 1;
        if size == 0 {
            parser.feed(&[], keep(&mut seen));
            continue;
        }
        let end = (at + size).min(data.len());
        parser.feed(&data[at..end], keep(&mut seen));
        assert_eq!(parser.offset(), end as u64);
        assert!(
            seen.iter().all(|(e, _)| *e <= end as u64),
            "a boundary past the bytes fed"
        );
        at = end;
    }
    let tail = parser.end_of_input(keep(&mut seen));
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "boundaries increase"
    );
    let last = seen.last().map_or(0, |(e, _)| *e);
    assert_eq!(
        last + tail.bytes,
        data.len() as u64,
        "blocks and tail cover the input"
    );
    assert_eq!(
        (seen, tail),
        expected,
        "a split feed gives what the whole does"
    );
});
