//! The pricing file parser on arbitrary text: a table or an error, never a
//! panic; after a successful parse every model's name and alias looks up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::{PricingTable, Side};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let table = match PricingTable::parse(text, "fuzz.toml") {
        Ok(table) => table,
        Err(error) => {
            assert!(!error.message.is_empty());
            return;
        }
    };
    for model in &table.models {
        let found = table.lookup(&model.name).expect("a model's name looks up");
        let _ = (found.price(Side::Input), found.price(Side::Output));
        for alias in &model.aliases {
            assert!(table.lookup(alias).is_some(), "alias {alias:?} looks up");
        }
    }
    if let Some(default) = &table.default_model {
        assert!(table.lookup(default).is_some());
    }
    let _ = table.closest("gpt", 3);
});
