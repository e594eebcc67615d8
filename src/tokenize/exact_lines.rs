//! Runs of whole lines pushed at once, a long run counted on all cores.
//!
//! Invariant: the most a run returns is the most the stream's count was at
//! the end of any of its lines, as pushing them one by one gives. A run is
//! pushed at each line end where the count might drop after it; a long run
//! is cut where a piece must end (see `parallel`), so each part counts on a
//! fresh counter and its counts add to the count before it.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Counter, StreamCounter, parallel};

/// What a part of a run gave: its index, the most its count was at a line
/// end, and its count at its end.
type PartCount = (usize, u64, u64);

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
        let next = AtomicUsize::new(1);
        let work = |counter: &mut StreamCounter, counts: &mut Vec<PartCount>| {
            while let Some(index) =
                Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&i| i <= last)
            {
                counter.reset();
                let most = counter.push_lines_here(parts[index]);
                counts.push((index, most, counter.settled + counter.open_tokens));
            }
        };
        let exact = self.exact;
        self.alone = true;
        let (first, mut counts, helper_last) = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads.min(parts.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut counter = exact.stream_counter();
                        counter.alone = true;
                        let mut counts = Vec::new();
                        work(&mut counter, &mut counts);
                        let counted_last = counts.last().is_some_and(|count| count.0 == last);
                        (counts, counted_last.then_some(counter))
                    })
                })
                .collect();
            let first = self.push_lines_here(parts[0]);
            let mut counts = vec![(0, first, self.settled + self.open_tokens)];
            work(self, &mut counts);
            let mut helper_last = None;
            for helper in helpers {
                // A panic while counting is a bug; pass it on.
                let (more, counter) = helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                counts.extend(more);
                helper_last = helper_last.or(counter);
            }
            (first, counts, helper_last)
        });
        self.alone = false;
        if let Some(mut counter) = helper_last {
            std::mem::swap(&mut self.open, &mut counter.open);
            std::mem::swap(&mut self.growing, &mut counter.growing);
            self.settled = counter.settled;
            self.open_tokens = counter.open_tokens;
        }
        counts.sort_unstable_by_key(|count| count.0);
        let (mut most, mut before) = (first, counts[0].2);
        for &(_, part_most, part_count) in &counts[1..last] {
            most = most.max(before + part_most);
            before += part_count;
        }
        most = most.max(before + counts[last].1);
        self.settled += before;
        most
    }
}
