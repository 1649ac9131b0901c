//! Arbitrary bytes as a command line, through clap and tcplab's value
//! parsers (durations, counts, sizes, hex). Input layout: see `harness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

fuzz_target!(|data: &[u8]| harness::cli(data));
