//! The kernel's view of a connection's sockets (TCP_INFO through
//! sock_diag) beside the wire's counts: what each side's kernel says it
//! sent and had acknowledged, at the end and at each change.

use std::io::{self, Write};

use super::{prose, TextOptions};
use crate::render::{KernelSide, Paint, TraceReport, WireTotals};

pub fn kernel_section(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let Some(k) = &r.kernel else { return Ok(()) };
    let pal = opts.palette;
    let title = "the kernel's view (TCP_INFO through sock_diag), beside the wire";
    writeln!(w, "{}", pal.paint(Paint::Heading, title))?;
    let sides = [
        (
            "client",
            &k.client,
            &r.wire.client_to_server,
            "client → server",
        ),
        (
            "server",
            &k.server,
            &r.wire.server_to_client,
            "server → client",
        ),
    ];
    let note = "sent counts payload bytes, resent ones included; acknowledged and received \
                count sequence numbers, so a FIN counts one, and the client's acknowledged \
                counts its SYN too (docs/kernel-view.md)";
    prose(w, "  ", &pal.paint(Paint::Dim, note), opts)?;
    for (who, side, wire, dir) in sides {
        match side {
            Some(s) => one_side(w, who, s, wire, dir, opts)?,
            None => {
                let text = format!("the {who}'s socket is not the program's: no kernel view");
                prose(w, "  ", &pal.paint(Paint::Dim, &text), opts)?;
            }
        }
    }
    Ok(())
}

fn one_side(
    w: &mut dyn Write,
    who: &str,
    s: &KernelSide,
    wire: &WireTotals,
    dir: &str,
    opts: &TextOptions,
) -> io::Result<()> {
    let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    let text = format!(
        "the {who}'s kernel says {} bytes sent, {} acknowledged, {} received; the wire shows {} \
         payload bytes {dir} (last state {})",
        n(s.bytes_sent),
        n(s.bytes_acked),
        n(s.bytes_received),
        wire.payload_bytes,
        if s.state.is_empty() { "?" } else { &s.state },
    );
    prose(w, "  ", &text, opts)?;
    for c in &s.changes {
        let line = format!("{:>9.3} ms  {}", c.t_ms, c.what);
        prose(w, "    ", &opts.palette.paint(Paint::Dim, &line), opts)?;
    }
    Ok(())
}
