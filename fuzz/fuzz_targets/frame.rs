//! Arbitrary bytes as a handful of frames, once per link type, through
//! decode, flow and every renderer. Input layout: see `harness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

fuzz_target!(|data: &[u8]| harness::frame(data));
