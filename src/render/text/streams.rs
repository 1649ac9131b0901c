//! Several connections captured together (the refused, crash and chat
//! labs), in the same view as one traced connection: which connection is
//! which stream, then the timeline with a stream column, the header sizes
//! and the dumps; `--step` reveals it a segment at a time.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::stepped::segment_pieces;
use super::{
    dumps, explain_section, lines_of, prose, push_segments, sizes, timeline, Arrows, StepView,
    NO_MARKS,
};
use crate::flow::Packet;
use crate::render::{endpoints, HexdumpMode, Paint, Steps, TextOptions};

/// The whole view of `packets`.
pub fn write_streams_text(
    w: &mut dyn Write,
    packets: &[Packet],
    opts: &TextOptions,
) -> io::Result<()> {
    connections(w, packets, opts)?;
    writeln!(w)?;
    timeline(w, packets, &NO_MARKS, &[], opts)?;
    writeln!(w)?;
    sizes(w, packets, &NO_MARKS, opts)?;
    writeln!(w)?;
    if opts.hexdump != HexdumpMode::None {
        dumps(w, packets, &NO_MARKS, opts)?;
    }
    if opts.explain {
        explain_section(w, packets, &NO_MARKS, opts)?;
    }
    Ok(())
}

/// The view of `packets` as steps: the connections at once, then a piece
/// per segment (its row, arrow, sizes and dump).
pub fn push_streams(
    steps: &mut Steps,
    packets: &[Packet],
    ladders: &[Arrows],
    view: StepView,
    opts: &TextOptions,
) -> io::Result<()> {
    steps.extend(lines_of(|w| connections(w, packets, opts))?);
    steps.extend([String::new()]);
    let segments = segment_pieces(steps, packets, &NO_MARKS, &[], view, opts)?;
    push_segments(steps, &segments, ladders, view);
    Ok(())
}

/// One line per connection: `stream 0: client 127.0.0.1 port 50306 →
/// server 127.0.0.1 port 37549`, in the order they began.
fn connections(w: &mut dyn Write, packets: &[Packet], opts: &TextOptions) -> io::Result<()> {
    let mut seen = BTreeSet::new();
    let n = packets
        .iter()
        .filter_map(Packet::stream)
        .collect::<BTreeSet<_>>()
        .len();
    let title = format!(
        "{n} connection{}, told apart by their stream number",
        if n == 1 { "" } else { "s" }
    );
    writeln!(w, "{}", opts.palette.paint(Paint::Heading, &title))?;
    for p in packets {
        let Some(stream) = p.stream().filter(|s| seen.insert(*s)) else {
            continue;
        };
        let Some((c, s)) = endpoints(p) else {
            continue;
        };
        let text = format!(
            "stream {stream}: client {} port {} → server {} port {}",
            c.address, c.port, s.address, s.port
        );
        prose(w, "  ", &text, opts)?;
    }
    Ok(())
}
