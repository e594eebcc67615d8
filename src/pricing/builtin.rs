//! The built-in table as build.rs compiled it from `pricing.toml`, with
//! the schema of every pricing file: each model's values as written,
//! validated at start-up like any pricing file.

use std::borrow::Cow;

#[allow(unused_imports)] // tiers, modes and history appear as the table has them
use super::schema::{At, CardEntry, Entry, Keys, ModeEntry, TierEntry};

include!(concat!(env!("OUT_DIR"), "/builtin_table.rs"));
