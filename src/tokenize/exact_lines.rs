//! Runs of whole lines pushed at once, a long run counted on all cores.
//!
//! Invariant: the most a run returns is the most the stream's count was at
//! the end of any of its lines, as pushing them one by one gives. A run is
//! pushed at each line end where the count might drop after it; a long run
//! is cut where a piece must end (see `parallel`), so each part counts on a
//! fresh counter and its counts add to the count before it.

use super::{Counter, Counting, StreamCounter, parallel};

impl StreamCounter {
    /// Pushes `text`, whole lines but maybe the last, at its end and at each
    /// line end where the count might drop after it: a newline that settles
    /// (see [`parallel::newline_settles`]) starts text whose counts add to
    /// the count there, so no later count is below it. A long run is counted
    /// in parts on all cores. Returns the most.
    pub(super) fn push_lines(&mut self, text: &[u8]) -> u64 {
        match parallel::run_parts(text).filter(|_| !self.alone) {
            Some(bounds) => self.push_parts(text, &bounds, parallel::threads()),
            None => self.push_lines_here(text),
        }
    }

    /// [`StreamCounter::push_lines`] on this thread.
    fn push_lines_here(&mut self, text: &[u8]) -> u64 {
        let (mut most, mut start) = (0, 0);
        for end in memchr::memchr_iter(b'\n', text).map(|at| at + 1) {
            if end < text.len() && parallel::newline_settles(&text[end..]) {
                continue;
            }
            most = most.max(self.push(&text[start..end]));
            start = end;
        }
        if start < text.len() || text.is_empty() {
            most = most.max(self.push(&text[start..]));
        }
        most
    }

    /// Pushes the run `text` cut at `bounds` (0, at least one cut,
    /// `text.len()`): the first part here, after the stream so far; the
    /// others on fresh counters, here and on up to `threads - 1` other
    /// threads, each taking the next part. The counter that counted the last
    /// part leaves its state to this one.
    pub(super) fn push_parts(&mut self, text: &[u8], bounds: &[usize], threads: usize) -> u64 {
        let parts: Vec<&[u8]> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
        let last = parts.len() - 1;
        // The most at a line end, and the count at the end, of a part.
        let count = |counter: &mut StreamCounter, index: usize| {
            let most = counter.push_lines_here(parts[index]);
            (most, counter.settled + counter.open_tokens)
        };
        let exact = self.exact;
        self.alone = true;
        let (counts, helpers) = parallel::each_part(
            parts.len(),
            threads,
            self,
            || {
                let mut counter = exact.stream_counter();
                let engine = exact.engine();
                counter.alone = true;
                (counter.engine, counter.cache) = (
                    Some(engine),
                    Some(engine.take_cache(Counting::BesideAnother)),
                );
                counter
            },
            |counter| count(counter, 0),
            |counter, index| {
                counter.reset();
                count(counter, index)
            },
        );
        self.alone = false;
        let last_counter = helpers
            .into_iter()
            .find(|&(_, counted)| counted == Some(last));
        if let Some((mut counter, _)) = last_counter {
            std::mem::swap(&mut self.open, &mut counter.open);
            std::mem::swap(&mut self.growing, &mut counter.growing);
            self.settled = counter.settled;
            self.open_tokens = counter.open_tokens;
        }
        let (mut most, mut before) = counts[0];
        for &(part_most, part_count) in &counts[1..last] {
            most = most.max(before + part_most);
            before += part_count;
        }
        most = most.max(before + counts[last].0);
        self.settled += before;
        most
    }
}
