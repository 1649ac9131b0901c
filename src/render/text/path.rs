//! The impaired path's section of the trace text: what was asked, where the
//! capture looked, what the forwarder dropped, and what each side's kernel
//! counted.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{prose, TextOptions};
use crate::render::{Paint, PathReport};

/// The counters worth a word, and the words.
const SAID: &[(&str, &str, &str)] = &[
    ("RetransSegs", "segment resent", "segments resent"),
    ("TCPFastRetrans", "fast retransmit", "fast retransmits"),
    ("TCPLossProbes", "tail-loss probe", "tail-loss probes"),
    (
        "TCPTimeouts",
        "retransmission timeout",
        "retransmission timeouts",
    ),
    ("TCPSackRecovery", "SACK recovery", "SACK recoveries"),
    ("TCPDSACKRecv", "D-SACK received", "D-SACKs received"),
    (
        "TCPToZeroWindowAdv",
        "zero window advertised",
        "zero windows advertised",
    ),
];

/// Drops listed one per line; the rest are counted.
const SHOWN_DROPS: usize = 12;

pub fn path_section(w: &mut dyn Write, p: &PathReport, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "the impaired path"))?;
    prose(w, "  ", &format!("asked: {}", p.asked), opts)?;
    let view = match p.capture_at {
        "server" => {
            "captured at the server's end: the receiver's view, where a dropped \
                     segment is a gap (\"previous segment not captured\")"
        }
        _ => {
            "captured at the client's end: the sender's view, where a segment the path \
              dropped still shows, as it left, and so does its retransmission"
        }
    };
    prose(w, "  ", view, opts)?;
    let (f, late) = (&p.forwarded, &p.after_capture);
    let mut line = format!(
        "the forwarder {}; {}",
        way_words("client → server", f.client_to_server, dropped(p, true)),
        way_words("server → client", f.server_to_client, dropped(p, false))
    );
    if late.client_to_server + late.server_to_client > 0 {
        line.push_str(&format!(
            "; {} client → server and {} server → client of those crossed this end after the \
             capture's last frame, so the wire table does not count them",
            late.client_to_server, late.server_to_client
        ));
    }
    let r = &p.reordered;
    if r.client_to_server + r.server_to_client > 0 {
        line.push_str(&format!(
            ", sent {} and {} after their successor (--reorder)",
            r.client_to_server, r.server_to_client
        ));
    }
    prose(w, "  ", &line, opts)?;
    drops(w, p, opts)?;
    if p.forwarder_overrun > 0 {
        let text = format!(
            "warning: the forwarder itself lost {} frames (its socket buffer was full): loss \
             nobody asked for",
            p.forwarder_overrun
        );
        prose(w, "  ", &pal.paint(Paint::Warn, &text), opts)?;
    }
    prose(w, "  ", &kernel("client", &p.kernel.client), opts)?;
    prose(w, "  ", &kernel("server", &p.kernel.server), opts)
}

/// The frames one way dropped, by the forwarder's log.
fn dropped(p: &PathReport, to_server: bool) -> u64 {
    let dir = if to_server {
        "client_to_server"
    } else {
        "server_to_client"
    };
    p.dropped.iter().filter(|d| d.direction == dir).count() as u64
}

/// `read 25 TCP frames client → server, passed 24 and dropped 1`: what it
/// read is what a capture at the sending end counts, what it passed what
/// one at the receiving end counts, but for frames after the capture's
/// last (its other frames, a new link's IPv6 chatter, no `tcp port`
/// capture shows: they are counted apart, in JSON).
fn way_words(way: &str, passed: u64, dropped: u64) -> String {
    let read = passed + dropped;
    let frames = if read == 1 { "frame" } else { "frames" };
    match (dropped, passed) {
        (0, 0) => format!("read no TCP frame {way}"),
        (0, 1) => format!("read 1 TCP frame {way} and passed it"),
        (0, _) => format!("read {read} TCP {frames} {way} and passed them all"),
        _ => format!("read {read} TCP {frames} {way}, passed {passed} and dropped {dropped}"),
    }
}

fn drops(w: &mut dyn Write, p: &PathReport, opts: &TextOptions) -> io::Result<()> {
    if p.dropped.is_empty() {
        return prose(w, "  ", "dropped: nothing", opts);
    }
    let n = p.dropped.len();
    let text = format!(
        "dropped on purpose: {n} frame{}",
        if n == 1 { "" } else { "s" }
    );
    prose(w, "  ", &text, opts)?;
    for d in p.dropped.iter().take(SHOWN_DROPS) {
        let dir = if d.direction == "client_to_server" {
            "client → server"
        } else {
            "server → client"
        };
        let where_ = match d.frame {
            Some(n) => format!("#{n}"),
            None => "not captured here".to_string(),
        };
        let what = if d.len > 0 {
            format!("seq {} len {}", d.seq, d.len)
        } else {
            format!("ack-only seq {}", d.seq)
        };
        let text = format!("✗ {:.3} ms {dir} {what} ({}, {where_})", d.t_ms, d.reason);
        prose(w, "    ", &opts.palette.paint(Paint::Bad, &text), opts)?;
    }
    if n > SHOWN_DROPS {
        let more = format!(
            "… and {} more (--format json lists them all)",
            n - SHOWN_DROPS
        );
        prose(w, "    ", &more, opts)?;
    }
    Ok(())
}

/// `the client's kernel counted 2 segments resent, 1 fast retransmit...`.
fn kernel(side: &str, counters: &BTreeMap<String, u64>) -> String {
    let said: Vec<String> = SAID
        .iter()
        .filter_map(|(name, one, many)| {
            let v = counters.get(*name).copied().unwrap_or(0);
            let words = if v == 1 { one } else { many };
            (v > 0).then(|| format!("{v} {words} ({name})"))
        })
        .collect();
    if said.is_empty() {
        return format!("the {side}'s kernel counted no retransmission");
    }
    format!("the {side}'s kernel counted {}", said.join(", "))
}
