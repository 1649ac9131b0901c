//! Arbitrary bytes as a whole pcap or pcapng file: the streaming reader,
//! then the pipeline for every frame it hands out.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

fuzz_target!(|data: &[u8]| harness::savefile(data));
