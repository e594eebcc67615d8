//! A provider stream's unit through the meter: its deltas counted in
//! lanes, one per choice and kind, then written whole or not at all.

use std::io::Write;

use super::{Budget, Settings, Stop, write_stop};
use crate::clock::Clock;
use crate::decode::Event;
use crate::format::{Formatter, PieceInfo, Record};
use crate::meter::{Measure, Meter};
use crate::money::Price;
use crate::output::Output;

/// One unit of a provider stream on its way through the meter.
pub(super) struct EventUnit<'e> {
    pub(super) event: &'e Event<'e>,
    /// The output price its text pays.
    pub(super) price: Price,
    pub(super) needs_timestamp: bool,
}

impl EventUnit<'_> {
    /// Counts the unit's text deltas, each in its own lane, and writes the
    /// unit (or, past the budget, nothing): its bytes as they came and a
    /// record per delta, as the formatter says. `Err` is why the session
    /// stops.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn meter<W: Write>(
        &self,
        lanes: &mut Lanes,
        meter: &mut Meter,
        output: &mut Output<W>,
        formatter: &mut dyn Formatter,
        clock: &mut Clock,
        timestamp: &mut Vec<u8>,
        settings: &Settings<'_>,
    ) -> Result<(), Stop> {
        let pieces = self.event.pieces;
        let mut measures = Vec::with_capacity(pieces.len());
        let mut sum = Measure::ZERO;
        for piece in pieces {
            let lane = lanes.lane(piece.choice, piece.kind as u8, settings, self.price);
            let measure = lane.measure(piece.text.as_bytes());
            sum = sum.plus(measure);
            measures.push(measure);
        }
        if settings.budget != Budget::default()
            && let Some(why) = settings.over_budget(meter.totals(), sum)
        {
            return Err(Stop::BudgetExceeded(why));
        }
        if self.needs_timestamp && !pieces.is_empty() {
            timestamp.clear();
            clock.write_now(timestamp);
        }
        formatter.passthrough(output.buffer(), self.event.bytes);
        let first_id = meter.totals().chunks;
        for ((piece, measure), id) in pieces.iter().zip(&measures).zip(first_id..) {
            let record = Record {
                content: piece.text.as_bytes(),
                valid_utf8: true,
                tokens: measure.tokens,
                cost: measure.cost,
                timestamp,
                chunk_id: id,
                piece: Some(PieceInfo {
                    kind: piece.kind,
                    choice: piece.choice,
                    event: &piece.event,
                }),
            };
            formatter.chunk(output.buffer(), &record);
        }
        meter.record_run(sum, self.event.bytes.len(), pieces.len() as u64);
        if let Some(watch) = settings.watch {
            watch(meter.totals());
        }
        output.end_chunk(meter.totals()).map_err(write_stop)
    }
}

/// The meters of a stream's text deltas: each choice and kind of text is
/// a stream of its own, counted over its whole length.
#[derive(Default)]
pub(super) struct Lanes {
    lanes: Vec<((u32, u8), Meter)>,
}

impl Lanes {
    /// The meter of one choice and kind, priced at `price`.
    fn lane(&mut self, choice: u32, kind: u8, settings: &Settings<'_>, price: Price) -> &mut Meter {
        let key = (choice, kind);
        let at = match self.lanes.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let meter = Meter::new(settings.tokenizer, settings.count, price);
                self.lanes.push((key, meter));
                self.lanes.len() - 1
            }
        };
        let meter = &mut self.lanes[at].1;
        meter.set_price(price);
        meter
    }
}
