//! What the programs saw (socket byte counts and events) beside what
//! crossed the interface (frames, bytes, payload, header overhead).

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, Table};

use super::fold::group;
use super::waits::waits;
use super::{cut, fitting_lines, new_table, no_wrap, prose, TextOptions};
use crate::render::{Paint, TraceReport, WireTotals};
use crate::values::{EventKind, SocketLog};

/// Right-aligns the columns `cols` (numbers); no column wraps.
fn right_align(t: &mut Table, cols: &[usize]) {
    no_wrap(t);
    for &i in cols {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn socket_row(who: &str, s: &SocketLog) -> Vec<Cell> {
    vec![
        Cell::new(who),
        Cell::new(s.bytes_written),
        Cell::new(s.bytes_read),
    ]
}

fn wire_row(dir: &str, wt: &WireTotals) -> Vec<Cell> {
    vec![
        Cell::new(dir),
        Cell::new(wt.frames),
        Cell::new(wt.bytes),
        Cell::new(wt.payload_bytes),
        Cell::new(wt.bytes - wt.payload_bytes),
    ]
}

fn write_table(w: &mut dyn Write, t: &Table, width: usize) -> io::Result<()> {
    let lines = fitting_lines(t, width)
        .unwrap_or_else(|| t.lines().map(|l| cut(l.trim_end(), width)).collect());
    for line in lines {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// The side-by-side table when it fits, else the two halves one above the other.
pub fn stats(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    // A traced program's sockets are not tcplab's: no application counts,
    // only the wire here (and the kernel's view after).
    let apps_known = r.kernel.is_none()
        || !(r.sockets.client.events.is_empty() && r.sockets.server.events.is_empty());
    if apps_known {
        sockets_and_wire(w, r, opts)
    } else {
        wire_only(w, r, opts)
    }
}

/// The programs' counts and events beside the wire's.
fn sockets_and_wire(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    let sides = [
        (
            "client",
            &r.sockets.client,
            "client → server",
            &r.wire.client_to_server,
        ),
        (
            "server",
            &r.sockets.server,
            "server → client",
            &r.wire.server_to_client,
        ),
    ];
    prose(
        w,
        "",
        &pal.paint(
            Paint::Heading,
            "what the programs saw, beside what crossed the interface",
        ),
        opts,
    )?;
    let wire_header = ["wire", "frames", "bytes", "payload", "headers"];
    let mut both = new_table(opts);
    both.set_header([&["socket", "wrote", "read"][..], &wire_header[..]].concat());
    for (who, s, dir, wt) in sides {
        let mut row = socket_row(who, s);
        row.extend(wire_row(dir, wt));
        both.add_row(row);
    }
    right_align(&mut both, &[1, 2, 4, 5, 6, 7]);
    if let Some(lines) = fitting_lines(&both, opts.width) {
        for line in lines {
            writeln!(w, "{line}")?;
        }
    } else {
        let mut sockets = new_table(opts);
        sockets.set_header(["socket", "wrote", "read"]);
        let mut wire = new_table(opts);
        wire.set_header(wire_header);
        for (who, s, dir, wt) in sides {
            sockets.add_row(socket_row(who, s));
            wire.add_row(wire_row(dir, wt));
        }
        right_align(&mut sockets, &[1, 2]);
        right_align(&mut wire, &[1, 2, 3, 4]);
        write_table(w, &sockets, opts.width)?;
        write_table(w, &wire, opts.width)?;
    }

    let (a, b) = (r.wire.client_to_server, r.wire.server_to_client);
    let payload = a.payload_bytes + b.payload_bytes;
    let bytes = a.bytes + b.bytes;
    let frames = a.frames + b.frames;
    let share = if bytes > 0 {
        payload as f64 * 100.0 / bytes as f64
    } else {
        0.0
    };
    prose(
        w,
        "",
        &format!(
            "{payload} bytes of payload took {frames} frames and {bytes} bytes on the wire: {share:.1}% payload."
        ),
        opts,
    )?;
    for (who, log) in [("client", &r.sockets.client), ("server", &r.sockets.server)] {
        prose(w, "", &format!("{who} events: {}", events_text(log)), opts)?;
    }
    for (who, log) in [("client", &r.sockets.client), ("server", &r.sockets.server)] {
        for text in waits(who, log) {
            prose(w, "", &text, opts)?;
        }
    }
    for (who, log) in [("client", &r.sockets.client), ("server", &r.sockets.server)] {
        for e in log.events.iter().filter_map(|e| e.message.as_ref()) {
            prose(
                w,
                "",
                &pal.paint(Paint::Warn, &format!("{who} error: {e}")),
                opts,
            )?;
        }
    }
    let dropped = r.capture.stats.dropped + r.capture.stats.if_dropped;
    let cap = format!(
        "capture: {} packets, {dropped} dropped by the kernel",
        r.packets.len()
    );
    let paint = if dropped > 0 { Paint::Bad } else { Paint::Dim };
    prose(w, "", &pal.paint(paint, &cap), opts)
}

/// The wire's half of the table, and the capture's counts.
fn wire_only(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let title = "what crossed the interface";
    prose(w, "", &opts.palette.paint(Paint::Heading, title), opts)?;
    let mut wire = new_table(opts);
    wire.set_header(["wire", "frames", "bytes", "payload", "headers"]);
    wire.add_row(wire_row("client → server", &r.wire.client_to_server));
    wire.add_row(wire_row("server → client", &r.wire.server_to_client));
    right_align(&mut wire, &[1, 2, 3, 4]);
    write_table(w, &wire, opts.width)?;
    let dropped = r.capture.stats.dropped + r.capture.stats.if_dropped;
    let cap = format!(
        "capture: {} packets, {dropped} dropped by the kernel",
        r.packets.len()
    );
    prose(w, "", &opts.palette.paint(Paint::Dim, &cap), opts)
}

/// `connect → data(5) → end → close`. A run of the same event is one
/// item, `data(65536) ×250`; if that still leaves more than
/// [`MAX_EVENTS`] items, so is every run of data events,
/// `data ×1,024 (67,108,864 bytes)`.
fn events_text(log: &SocketLog) -> String {
    let items: Vec<(String, Option<u64>)> = log
        .events
        .iter()
        .map(|e| match (e.event, e.bytes) {
            (EventKind::Data, Some(n)) => (format!("data({n})"), Some(n as u64)),
            // Node's words for a write the kernel made wait: see `waits`.
            (EventKind::Blocked, Some(n)) => (format!("blocked({n})"), None),
            (event, _) => (event.name().to_string(), None),
        })
        .collect();
    let same = runs(
        &items,
        |a, b| a.0 == b.0,
        |run| format!("{} ×{}", run[0].0, group(run.len() as u64)),
    );
    if same.len() <= MAX_EVENTS {
        return same.join(" → ");
    }
    runs(
        &items,
        |a, b| a.1.is_some() && b.1.is_some(),
        |run| {
            let bytes: u64 = run.iter().filter_map(|i| i.1).sum();
            format!("data ×{} ({} bytes)", group(run.len() as u64), group(bytes))
        },
    )
    .join(" → ")
}

/// More event items than this are folded further.
const MAX_EVENTS: usize = 16;

/// `items` as text, each run of three or more that `alike` joins as one
/// item written by `folded`.
fn runs<T>(
    items: &[(String, T)],
    alike: impl Fn(&(String, T), &(String, T)) -> bool,
    folded: impl Fn(&[(String, T)]) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        while end < items.len() && alike(&items[start], &items[end]) {
            end += 1;
        }
        if end - start >= 3 {
            out.push(folded(&items[start..end]));
        } else {
            out.extend(items[start..end].iter().map(|i| i.0.clone()));
        }
        start = end;
    }
    out
}
