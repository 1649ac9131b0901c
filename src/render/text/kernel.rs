//! The kernel's view of a connection's sockets (TCP_INFO through
//! sock_diag) beside the wire's counts: what each side's kernel says it
//! sent, had acknowledged and received, its last state, and (a traced
//! program's, or with `--kernel`) each change with its time.

use std::io::{self, Write};

use super::{prose, Folding, TextOptions};
use crate::render::{KernelSide, Paint, TraceReport, WireTotals};

pub fn kernel_section(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let Some(k) = &r.kernel else { return Ok(()) };
    let pal = opts.palette;
    let title = "the kernel's view (TCP_INFO through sock_diag), beside the wire";
    prose(w, "", &pal.paint(Paint::Heading, title), opts)?;
    let (up, down) = (&r.wire.client_to_server, &r.wire.server_to_client);
    // What each side received is what its peer sent once, when the peer's
    // kernel says (the wire counts resent bytes again).
    let once = |peer: &Option<KernelSide>, wire: &WireTotals| {
        peer.as_ref()
            .filter(|p| !p.reset)
            .and_then(fresh)
            .unwrap_or(wire.payload_bytes)
    };
    let sides = [
        (Role::Client, &k.client, up, once(&k.server, down)),
        (Role::Server, &k.server, down, once(&k.client, up)),
    ];
    let note = "acknowledged and received count sequence numbers: a SYN or a FIN counts one, \
                as the sums say (docs/kernel-view.md)";
    prose(w, "  ", &pal.paint(Paint::Dim, note), opts)?;
    for (role, side, sent, got) in sides {
        let who = role.name();
        match side {
            Some(s) => one_side(w, role, s, sent, got, opts)?,
            None => {
                let why = if k.own[role as usize] {
                    "tcplab's own, left out"
                } else {
                    "no sample found it"
                };
                let text = format!("the {who}'s socket: no kernel view ({why})");
                prose(w, "  ", &pal.paint(Paint::Dim, &text), opts)?;
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }

    fn arrow(self) -> &'static str {
        match self {
            Role::Client => "client → server",
            Role::Server => "server → client",
        }
    }
}

/// Payload bytes sent once: resent ones left out.
fn fresh(s: &KernelSide) -> Option<u64> {
    s.bytes_sent
        .map(|b| b - s.bytes_retrans.unwrap_or(0).min(b))
}

fn one_side(
    w: &mut dyn Write,
    role: Role,
    s: &KernelSide,
    sent: &WireTotals,
    got: u64,
    opts: &TextOptions,
) -> io::Result<()> {
    if s.reset {
        let text = format!(
            "the {}'s socket closed by sending a reset, and Linux clears a reset socket's \
             counters as it closes: no final counts; the wire shows {} payload bytes {}",
            role.name(),
            sent.payload_bytes,
            role.arrow(),
        );
        prose(w, "  ", &text, opts)?;
        return changes(w, s, opts);
    }
    let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    let fresh = fresh(s);
    let text = format!(
        "the {}'s kernel says {} bytes sent{}, {} acknowledged{}, {} received{}; the wire shows \
         {} payload bytes {}; last state {}",
        role.name(),
        n(s.bytes_sent),
        match s.bytes_retrans {
            Some(r) if r > 0 => format!(" ({r} of them again)"),
            _ => String::new(),
        },
        n(s.bytes_acked),
        sum(s.bytes_acked, fresh, role == Role::Client),
        n(s.bytes_received),
        sum(s.bytes_received, Some(got), false),
        sent.payload_bytes,
        role.arrow(),
        if s.state.is_empty() { "?" } else { &s.state },
    );
    prose(w, "  ", &text, opts)?;
    changes(w, s, opts)
}

/// Each change with its time (a traced program's, or with `--kernel`).
fn changes(w: &mut dyn Write, s: &KernelSide, opts: &TextOptions) -> io::Result<()> {
    if !opts.kernel_changes {
        return Ok(());
    }
    // A bulk transfer changes at every sample: its middle is folded, as the
    // timeline's is (all in JSON, or with --every-row).
    let n = s.changes.len();
    let folded = opts.fold != Folding::Never && n > FOLD_OVER;
    for (i, c) in s.changes.iter().enumerate() {
        if folded && (KEEP..n - KEEP).contains(&i) {
            if i == KEEP {
                let text = format!(
                    "… {} more changes (all with --every-row or in JSON)",
                    n - 2 * KEEP
                );
                prose(w, "    ", &opts.palette.paint(Paint::Dim, &text), opts)?;
            }
            continue;
        }
        let line = format!("{:>9.3} ms  {}", c.t_ms, c.what);
        prose(w, "    ", &opts.palette.paint(Paint::Dim, &line), opts)?;
    }
    Ok(())
}

/// More changes than this are folded, keeping `KEEP` at each end.
const FOLD_OVER: usize = 24;
const KEEP: usize = 10;

/// ` = 33 + SYN + FIN`: a sequence-space count as payload plus the SYN
/// (`syn`: the active opener's is counted) and a FIN, when it adds up so;
/// nothing when it does not (data still unacknowledged, a reset).
fn sum(total: Option<u64>, payload: Option<u64>, syn: bool) -> String {
    let (Some(total), Some(payload)) = (total, payload) else {
        return String::new();
    };
    let base = payload + u64::from(syn);
    let syn = if syn { " + SYN" } else { "" };
    match total.checked_sub(base) {
        Some(0) if syn.is_empty() => String::new(),
        Some(0) => format!(" = {payload}{syn}"),
        Some(1) => format!(" = {payload}{syn} + FIN"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::sum;

    #[test]
    fn sums_name_the_syn_and_fin_only_when_they_add_up() {
        assert_eq!(sum(Some(35), Some(33), true), " = 33 + SYN + FIN");
        assert_eq!(sum(Some(34), Some(33), true), " = 33 + SYN");
        assert_eq!(sum(Some(40), Some(39), false), " = 39 + FIN");
        assert_eq!(sum(Some(39), Some(39), false), "");
        assert_eq!(sum(Some(20), Some(33), true), "");
        assert_eq!(sum(Some(50), Some(33), false), "");
        assert_eq!(sum(None, Some(33), false), "");
    }
}
