//! A provider stream decoder through the whole filter loop, on arbitrary
//! bytes read in arbitrary pieces, with the format told from the bytes
//! (`--input auto`): never a panic, raw output is the input, and the
//! figures are those of the whole read at once.

#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use tokmeter::clock::Clock;
use tokmeter::decode::Provider;
use tokmeter::format::{Format, formatter};
use tokmeter::output::{FlushPolicy, Output};
use tokmeter::pipeline::{Settings, run};
use tokmeter::tokenize::Heuristic;
use tokmeter::{Framing, Price};

/// Hands out the data in reads of the given sizes, in turn.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = match self.sizes {
            [] => self.data.len(),
            sizes => usize::from(sizes[self.turn % sizes.len()]).max(1),
        };
        self.turn += 1;
        let take = size.min(out.len()).min(self.data.len());
        out[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}

fn meter(data: &[u8], sizes: &[u8]) -> (Vec<u8>, String) {
    let tokenizer = Heuristic::default();
    let settings = Settings::new(&tokenizer, Framing::Delimiter(b"\n".to_vec()), Price::ZERO);
    let mut decoder = Provider::new(None);
    let mut output = Output::new(Vec::new(), FlushPolicy::Block);
    let mut raw = formatter(Format::Raw, &[]);
    let mut clock = Clock::start();
    let reader = Pieces {
        data,
        sizes,
        turn: 0,
    };
    let ending = run(
        reader,
        &mut output,
        raw.as_mut(),
        &mut decoder,
        &mut clock,
        &settings,
    );
    let figures = format!(
        "{:?} {:?} {:?} {:?} {}",
        decoder.verdict(),
        ending.totals,
        decoder.usage,
        decoder.model,
        decoder.ended
    );
    (output.into_inner(), figures)
}

fuzz_target!(|input: &[u8]| {
    let Some((&count, rest)) = input.split_first() else {
        return;
    };
    let count = usize::from(count % 8).min(rest.len());
    let (sizes, data) = rest.split_at(count);
    let (whole_output, whole) = meter(data, &[]);
    assert_eq!(whole_output, data, "raw output is the input");
    let (output, pieces) = meter(data, sizes);
    assert_eq!(output, data, "raw output is the input, in pieces");
    assert_eq!(pieces, whole, "pieces give the figures of the whole");
});
