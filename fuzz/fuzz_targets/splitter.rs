//! The splitter and meter on random framing and read sizes: every byte in
//! exactly one chunk, in order (raw output is the input); no chunk ends
//! inside a character of valid UTF-8 input; the chunks' tokens sum to the
//! meter's total, and in stream mode to the largest count of any prefix.

#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use tokmeter::clock::Clock;
use tokmeter::decode::Text;
use tokmeter::format::{Format, formatter};
use tokmeter::output::{FlushPolicy, Output};
use tokmeter::pipeline::{Settings, Stop, run};
use tokmeter::tokenize::{ChunkTokenizer, Exact, Heuristic};
use tokmeter::{CountMode, Framing, Meter, Price, Splitter, Tokenizer};

/// A reader returning the given read sizes in turn (0 in the list is read
/// as 1, so only the end of the data ends the input).
struct Reads<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl Read for Reads<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = match self.sizes {
            [] => usize::MAX,
            sizes => usize::from(sizes[self.turn % sizes.len()].max(1)),
        };
        self.turn += 1;
        let take = size.min(self.data.len()).min(out.len());
        out[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}

static O200K: Exact = Exact::o200k_base();

fuzz_target!(|input: &[u8]| {
    // Header: framing, strip, max-chunk, tokenizer and mode, then read
    // sizes up to a 0xFF byte; the rest is the stream.
    let [framing, flags, max_chunk, rest @ ..] = input else {
        return;
    };
    let split = rest.iter().position(|&b| b == 0xFF).unwrap_or(rest.len());
    let (sizes, data) = (&rest[..split.min(16)], rest.get(split + 1..).unwrap_or(&[]));
    let framing = match framing % 5 {
        0 => Framing::Delimiter(b"\n".to_vec()),
        1 => Framing::Delimiter(b"\0".to_vec()),
        2 => Framing::Delimiter(b"::".to_vec()),
        3 => Framing::Delimiter(vec![b'a' + framing % 3; 1 + usize::from(framing / 5 % 3)]),
        _ => Framing::Arrival,
    };
    let strip = flags & 1 != 0;
    let mode = if flags & 2 != 0 {
        CountMode::PerChunk
    } else {
        CountMode::Stream
    };
    let heuristic = Heuristic::default();
    let chunk_tokenizer = ChunkTokenizer;
    let tokenizer: &dyn Tokenizer = match (flags >> 2) % 4 {
        0 | 1 => &heuristic,
        2 => &chunk_tokenizer,
        _ => &O200K,
    };
    let max_chunk = if flags & 0x40 != 0 {
        1 << 20
    } else {
        usize::from(*max_chunk).max(1)
    };
    let valid_utf8 = std::str::from_utf8(data).is_ok();

    // The splitter and meter by hand.
    let reader = Reads {
        data,
        sizes,
        turn: 0,
    };
    let mut splitter = Splitter::new(reader, framing.clone(), strip, max_chunk);
    let mut meter = Meter::new(tokenizer, mode, Price::ZERO);
    let (mut whole, mut sum, mut running_max) = (Vec::new(), 0u64, 0u64);
    let mut counter = tokenizer.counter();
    loop {
        while let Some(chunk) = splitter.next_chunk() {
            if valid_utf8 {
                assert!(
                    std::str::from_utf8(chunk.content).is_ok(),
                    "chunk ends inside a character: {:?}",
                    chunk.content
                );
            }
            assert!(chunk.content.len() <= max_chunk + 3 || !chunk.split);
            let measure = meter.measure(chunk.content);
            sum += measure.tokens;
            let bytes = chunk.content.len() + chunk.stripped.len();
            let chunk_valid = std::str::from_utf8(chunk.content).is_ok();
            meter.record(measure, bytes, chunk_valid, chunk.split);
            whole.extend_from_slice(chunk.content);
            whole.extend_from_slice(chunk.stripped);
            if mode == CountMode::Stream {
                running_max = running_max.max(counter.push(chunk.content));
            }
        }
        if splitter.at_eof() {
            break;
        }
        splitter.fill().unwrap();
    }
    assert_eq!(whole, data, "chunks concatenated are the input");
    assert_eq!(meter.totals().tokens, sum, "chunk tokens sum to the total");
    assert_eq!(meter.totals().bytes, data.len() as u64);
    if mode == CountMode::Stream {
        assert_eq!(sum, running_max, "stream tokens are the running maximum");
    }

    // The filter loop itself, raw output: the input comes out unchanged.
    let reader = Reads {
        data,
        sizes,
        turn: 0,
    };
    let mut output = Output::new(Vec::new(), FlushPolicy::Block);
    let mut format = formatter(Format::Raw, &[]);
    let mut clock = Clock::start();
    let settings = Settings {
        max_chunk,
        count: mode,
        ..Settings::new(tokenizer, framing, Price::ZERO)
    };
    let ending = run(
        reader,
        &mut output,
        format.as_mut(),
        &mut Text,
        &mut clock,
        &settings,
    );
    assert!(matches!(ending.stop, Stop::EndOfInput), "{:?}", ending.stop);
    output.flush().unwrap();
    assert_eq!(ending.totals.bytes, data.len() as u64);
    assert_eq!(output.into_inner(), data, "raw output is the input");
});
