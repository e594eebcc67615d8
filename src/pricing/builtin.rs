//! The built-in table as build.rs compiled it from `pricing.toml`, with
//! the schema of every pricing file: each model's values as written,
//! validated at start-up like any pricing file.

use std::borrow::Cow;

use super::schema::{At, Entry};

include!(concat!(env!("OUT_DIR"), "/builtin_table.rs"));
