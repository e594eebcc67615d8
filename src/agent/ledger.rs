//! Every call of a run once, priced at its own model.
//!
//! Logs are added in argument order (a directory's files in path order).
//! Two lines with the same `message.id` and `requestId` are one response,
//! wherever they are: the one with the largest token total is billed, the
//! first met on a tie, and the input it was met in is billed for it. A
//! sub-agent line whose `message.id` the main session has under another
//! request is a replay of that response and is not billed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Agent, Call, Lines, Log, Tokens};
use crate::money::Money;
use crate::pricing::{Model, PricingTable};

/// The calls of a run, each once, with the input it is billed to.
#[derive(Debug, Default)]
pub struct Ledger {
    calls: Vec<(usize, Agent, Call)>,
    /// `(message.id, requestId)` → index into `calls`.
    keys: HashMap<(Box<str>, Box<str>), usize>,
    /// Per input: what became of its lines.
    lines: Vec<Lines>,
}

/// Where each call's price comes from.
pub struct Prices<'t> {
    /// The table the models a log names are looked up in.
    pub table: &'t PricingTable,
    /// The model of calls that name none (`-m`), and whether it is priced.
    pub fallback: (&'t Model, bool),
    /// The mode of calls that name none (`--mode`).
    pub mode: Option<&'t str>,
    /// The time of calls without one (`--date`; else now).
    pub date: Option<DateTime<Utc>>,
}

/// One call, priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priced {
    /// The input it is billed to.
    pub input: usize,
    /// The agent that logged it.
    pub agent: Agent,
    /// The model: its name in the table, or as the log wrote it when the
    /// table lacks it.
    pub model: Arc<str>,
    /// False when the table lacks the model: the call has no cost.
    pub priced: bool,
    /// Tokens by class.
    pub tokens: Tokens,
    /// What they cost (zero when not priced).
    pub cost: Money,
    /// The cost by class: input, output, cache read, cache write (5m),
    /// cache write (1h).
    pub costs: [Money; 5],
    /// The card it paid: the size of its context tier, if one applied.
    pub tier: Option<u64>,
    /// The mode it was billed in, when the card has it.
    pub mode: Option<Arc<str>>,
    /// When the card it paid began, if dated.
    pub card_from: Option<DateTime<Utc>>,
    /// It named a mode its model's card lacks (billed at the card's own
    /// prices).
    pub mode_unknown: bool,
    /// Its prompt passed the model's input limit: the table or the log is
    /// wrong.
    pub over_limit: bool,
    /// Its cache writes had no 5-minute/1-hour split though its model
    /// prices 1-hour writes apart: all were billed as 5-minute writes.
    pub unsplit_writes: bool,
    /// When it was logged.
    pub time: Option<DateTime<Utc>>,
    /// Its session.
    pub session: Arc<str>,
    /// Its project.
    pub project: Arc<str>,
}

/// A run's calls, priced, and each input's line counts.
#[derive(Clone, Debug, Default)]
pub struct Billed {
    /// The calls billed, in the order they were met.
    pub calls: Vec<Priced>,
    /// Per input: what became of its lines.
    pub lines: Vec<Lines>,
}

impl Ledger {
    /// A ledger for a run of `inputs` inputs.
    pub fn new(inputs: usize) -> Ledger {
        Ledger {
            lines: vec![Lines::default(); inputs],
            ..Ledger::default()
        }
    }

    /// Adds a file of input `input`; files are added in argument order.
    pub fn add(&mut self, input: usize, log: Log) {
        if self.lines.len() <= input {
            self.lines.resize(input + 1, Lines::default());
        }
        self.lines[input] = self.lines[input].plus(&log.lines);
        for call in log.calls {
            let Some((id, request)) = call.key() else {
                self.calls.push((input, log.agent, call));
                continue;
            };
            let key = (Box::from(id), Box::from(request));
            match self.keys.get(&key) {
                Some(&at) => {
                    if call.tokens.total() > self.calls[at].2.tokens.total() {
                        self.lines[self.calls[at].0].duplicate += 1;
                        self.calls[at] = (input, log.agent, call);
                    } else {
                        self.lines[input].duplicate += 1;
                    }
                }
                None => {
                    self.keys.insert(key, self.calls.len());
                    self.calls.push((input, log.agent, call));
                }
            }
        }
    }

    /// Drops replays and prices each call at its own model (a model the
    /// table lacks is not priced: its call costs nothing and says so).
    pub fn bill(mut self, prices: &Prices<'_>) -> Billed {
        // The requests of each main-session response.
        let mut main: HashMap<&str, Vec<&str>> = HashMap::new();
        for (_, _, call) in &self.calls {
            if let (false, Some((id, request))) = (call.sidechain, call.key()) {
                main.entry(id).or_default().push(request);
            }
        }
        let replays: Vec<bool> = self
            .calls
            .iter()
            .map(|(_, _, call)| match (call.sidechain, call.key()) {
                (true, Some((id, request))) => main
                    .get(id)
                    .is_some_and(|requests| requests.iter().any(|r| *r != request)),
                _ => false,
            })
            .collect();
        drop(main);
        let mut models: HashMap<Arc<str>, Option<(Arc<str>, Model)>> = HashMap::new();
        let mut calls = Vec::with_capacity(self.calls.len());
        for ((input, agent, call), replay) in self.calls.into_iter().zip(replays) {
            if replay {
                self.lines[input].replay += 1;
                continue;
            }
            let found = match &call.model {
                Some(name) => models
                    .entry(name.clone())
                    .or_insert_with(|| {
                        prices
                            .table
                            .lookup(name)
                            .map(|m| (Arc::from(m.name.as_str()), m.clone()))
                    })
                    .as_ref()
                    .map(|(canonical, model)| (canonical.clone(), model))
                    .ok_or_else(|| name.clone()),
                None => match prices.fallback {
                    (model, true) => Ok((Arc::from(model.name.as_str()), model)),
                    (model, false) => Err(Arc::from(model.name.as_str())),
                },
            };
            let usage = call.tokens;
            let mut bill = Bill::default();
            match found {
                Ok((name, model)) => {
                    let (chosen, costs) = model.price_request(
                        &usage,
                        call.time.or(prices.date),
                        call.mode.as_deref().or(prices.mode),
                    );
                    let prompt = usage.prompt().unwrap_or(u64::MAX);
                    bill.costs = costs;
                    bill.model = name;
                    bill.priced = true;
                    bill.tier = chosen.tier;
                    bill.mode = chosen.mode.map(Arc::from);
                    bill.card_from = chosen.card.effective_from;
                    bill.mode_unknown = chosen.mode_unknown;
                    bill.over_limit = model.limit_input.is_some_and(|limit| prompt > limit);
                    bill.unsplit_writes =
                        call.unsplit_writes && chosen.prices.cache_write_1h.is_some();
                }
                Err(name) => bill.model = name,
            }
            calls.push(Priced {
                input,
                agent,
                model: bill.model,
                priced: bill.priced,
                tokens: call.tokens,
                cost: bill.costs.iter().copied().sum(),
                costs: bill.costs,
                tier: bill.tier,
                mode: bill.mode,
                card_from: bill.card_from,
                mode_unknown: bill.mode_unknown,
                over_limit: bill.over_limit,
                unsplit_writes: bill.unsplit_writes,
                time: call.time,
                session: call.session,
                project: call.project,
            });
        }
        Billed {
            calls,
            lines: self.lines,
        }
    }
}

/// What a call came to, while it is priced.
struct Bill {
    model: Arc<str>,
    priced: bool,
    costs: [Money; 5],
    tier: Option<u64>,
    mode: Option<Arc<str>>,
    card_from: Option<DateTime<Utc>>,
    mode_unknown: bool,
    over_limit: bool,
    unsplit_writes: bool,
}

impl Default for Bill {
    fn default() -> Bill {
        Bill {
            model: Arc::from(""),
            priced: false,
            costs: [Money::ZERO; 5],
            tier: None,
            mode: None,
            card_from: None,
            mode_unknown: false,
            over_limit: false,
            unsplit_writes: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, request: &str, sidechain: bool, output: u64) -> Call {
        Call {
            id: Some(id.into()),
            request: Some(request.into()),
            sidechain,
            model: Some(Arc::from("claude-sonnet-4-5")),
            mode: None,
            time: None,
            session: Arc::from("s"),
            project: Arc::from("p"),
            tokens: Tokens {
                output,
                ..Tokens::default()
            },
            unsplit_writes: false,
            line: 1,
        }
    }

    fn log(calls: Vec<Call>) -> Log {
        Log {
            agent: Agent::ClaudeCode,
            calls,
            lines: Lines::default(),
        }
    }

    #[test]
    fn copies_across_files_are_billed_once_and_replays_not_at_all() {
        let table = PricingTable::builtin().unwrap();
        let fallback = table.lookup("gpt-4o").unwrap().clone();
        // The sub-agent's file comes first: its replay is still found.
        let mut ledger = Ledger::new(3);
        ledger.add(
            0,
            log(vec![call("m1", "r9", true, 10), call("m2", "r2", true, 5)]),
        );
        ledger.add(
            1,
            log(vec![
                call("m1", "r1", false, 10),
                call("m3", "r3", false, 4),
            ]),
        );
        ledger.add(
            2,
            log(vec![
                call("m3", "r3", false, 4),
                call("m1", "r1", false, 12),
            ]),
        );
        let billed = ledger.bill(&Prices {
            table: &table,
            fallback: (&fallback, true),
            mode: None,
            date: None,
        });
        let kept: Vec<(usize, u64)> = billed
            .calls
            .iter()
            .map(|c| (c.input, c.tokens.output))
            .collect();
        // m1's fuller copy in input 2 wins; m3 stays with input 1.
        assert_eq!(kept, [(0, 5), (2, 12), (1, 4)]);
        assert_eq!(billed.lines[0].replay, 1);
        assert_eq!(billed.lines[1].duplicate, 1);
        assert_eq!(billed.lines[2].duplicate, 1);
        assert!(
            billed
                .calls
                .iter()
                .all(|c| &*c.model == "claude-sonnet-4-5")
        );
    }
}
