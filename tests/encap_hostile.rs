//! The encapsulation walker, the reassembly table and `--explain` on
//! hostile bytes: every frame of every capture in `captures/encap/` cut at
//! every length, and with each of its header bytes in turn set to 0x00 and
//! 0xff, goes through the pipeline after the frames before it (so the
//! reassembly table holds their pieces), then its explanation and its JSON
//! record, without a panic, every field inside the bytes it names (the
//! frame's, or a reassembled segment's).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use tcplab::capture::{FileSource, PacketSource};
use tcplab::flow::{Packet, Pipeline};
use tcplab::render::{write_record, PacketRecord};
use tcplab::values::RawFrame;

/// How many leading bytes of a frame get changed.
const HEADERS: usize = 128;

/// Every field of `p` inside its bytes, or what is not.
fn outside(p: &Packet) -> Option<String> {
    let room = |reassembled: bool| match (&p.reassembled, reassembled) {
        (Some(r), true) => r.payload.len(),
        _ => p.data.len(),
    };
    p.fields()
        .into_iter()
        .find(|f| f.offset + f.len > room(f.reassembled))
        .map(|f| format!("{} at {}+{}", f.abbrev, f.offset, f.len))
}

/// Runs a pipeline over `frames` (bytes and wire length each; the rest
/// as the capture's frame `like`).
fn run(frames: &[(Vec<u8>, u32)], like: &RawFrame<'_>) -> Result<(), String> {
    let mut pipeline = Pipeline::new();
    let mut out = Vec::new();
    let mut last = Packet::default();
    for (i, (data, orig_len)) in frames.iter().enumerate() {
        let frame = RawFrame {
            data,
            orig_len: *orig_len,
            ..*like
        };
        pipeline.step_into(i as u64 + 1, &frame, &mut last);
    }
    if let Some(bad) = outside(&last) {
        return Err(format!("frame {}: {bad}", frames.len()));
    }
    let _ = PacketRecord::of(&last, usize::MAX).explained(&last, true);
    write_record(&mut out, &last, usize::MAX);
    Ok(())
}

#[test]
fn every_encapsulated_frame_survives_cuts_and_changed_bytes() {
    let mut runs = 0usize;
    let mut failures = Vec::new();
    for path in common::encap_captures() {
        let mut src = FileSource::open(&path).unwrap();
        let mut frames = Vec::new();
        let mut first = None;
        while let Some(f) = src.next_frame().unwrap() {
            first.get_or_insert((f.link, f.ts, f.precision));
            frames.push((f.data.to_vec(), f.orig_len));
        }
        let (link, ts, precision) = first.unwrap();
        let like = RawFrame {
            ts,
            orig_len: 0,
            data: &[],
            link,
            precision,
        };
        for n in 0..frames.len() {
            for at in 0..=frames[n].0.len() {
                // Cut as a snaplen cuts: the wire length stays.
                let mut variants = vec![{
                    let mut cut = frames[..=n].to_vec();
                    cut[n].0.truncate(at);
                    cut
                }];
                // The headers: no capture here has more than 128 bytes of them.
                if at < frames[n].0.len().min(HEADERS) {
                    for v in [0x00, 0xff] {
                        let mut changed = frames[..=n].to_vec();
                        changed[n].0[at] = v;
                        variants.push(changed);
                    }
                }
                for v in variants {
                    runs += 1;
                    match catch_unwind(AssertUnwindSafe(|| run(&v, &like))) {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            failures.push(format!("{} #{n} at {at}: {e}", path.display()))
                        }
                        Err(_) => failures.push(format!("{} #{n} at {at}: panic", path.display())),
                    }
                }
            }
        }
    }
    eprintln!("{runs} altered captures run");
    assert!(runs > 10_000, "only {runs} runs");
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(20)].join("\n")
    );
}
