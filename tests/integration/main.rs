//! Integration tests: the real binary on real bytes, one test binary with a
//! module per concern.

mod agents;
mod cards;
mod util;

mod cli;
mod completions;
mod counting;
mod docs;
mod exact;
mod faults;
mod formats;
mod golden;
mod guards;
mod layout;
mod mirror;
mod pipe;
mod pricing;
mod pricing_import;
mod providers;
mod schemas;
mod stream;
mod terminal;
mod transcript;
mod transparency;
