//! The Claude Code and Codex readers and the ledger on arbitrary lines:
//! each line is Ok or Err, never a panic; bad lines are counted once each;
//! every line is accounted for once; the ledger bills no call twice and
//! its costs add up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::agent::{Ledger, Log, Prices, claude, codex};
use tokmeter::pricing::PricingTable;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let blank = lines
        .iter()
        .filter(|l| l.iter().all(u8::is_ascii_whitespace))
        .count() as u64;
    let mut bad = 0u64;
    let log: Log = if flags & 1 == 0 {
        let mut reader = claude::Reader::new("p", "s");
        for line in &lines {
            bad += u64::from(reader.line(line).is_err());
        }
        reader.finish()
    } else {
        let mut reader = codex::Reader::new("s");
        for line in &lines {
            bad += u64::from(reader.line(line).is_err());
        }
        reader.finish()
    };
    let l = log.lines;
    assert_eq!(l.bad, bad, "each bad line counted once");
    let accounted =
        log.calls.len() as u64 + l.duplicate + l.reemitted + l.synthetic + l.skipped + l.bad;
    assert_eq!(accounted + blank, lines.len() as u64, "every line once");
    let table = PricingTable::builtin().unwrap();
    let fallback = table.lookup("gpt-4o").unwrap().clone();
    let calls = log.calls.len();
    let mut ledger = Ledger::new(2);
    // The same log twice: the second copy adds nothing that has a key.
    let keyed = log
        .calls
        .iter()
        .filter(|c| c.id.is_some() && c.request.is_some())
        .count();
    ledger.add(0, log.clone());
    ledger.add(1, log);
    let billed = ledger.bill(&Prices {
        table: &table,
        fallback: (&fallback, true),
        mode: None,
        date: None,
    });
    assert!(billed.calls.len() <= 2 * calls - keyed);
    for call in &billed.calls {
        let sum: tokmeter::money::Money = call.costs.iter().copied().sum();
        assert_eq!(sum, call.cost);
        assert!(call.priced || call.cost == tokmeter::money::Money::ZERO);
    }
});
