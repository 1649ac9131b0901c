//! The words the impaired path puts on the timeline: what was asked, and
//! for each retransmission how TCP found out, with the sending side's
//! kernel counters naming the timer when the capture cannot.

use crate::flow::{recoveries, Direction, Found, Packet, Recovery};
use crate::impair::{Counters, Impairment};
use crate::render::Marks;

/// `loss 5% (seed 7) · drop 3 · delay 20 ms each way`.
pub fn asked(imp: &Impairment) -> String {
    let mut parts = Vec::new();
    if imp.loss > 0.0 {
        parts.push(format!("loss {}% (seed {})", percent(imp.loss), imp.seed));
    }
    if !imp.drop.is_empty() {
        let list: Vec<String> = imp.drop.iter().map(u32::to_string).collect();
        let way = if imp.drop_reply {
            "server → client"
        } else {
            "client → server"
        };
        parts.push(format!("drop data segment {} {way}", list.join(", ")));
    }
    if !imp.delay.is_zero() {
        parts.push(format!("delay {} ms each way", imp.delay.as_millis()));
    }
    if imp.reorder > 0.0 {
        parts.push(format!(
            "reorder {}% (seed {})",
            percent(imp.reorder),
            imp.seed
        ));
    }
    if parts.is_empty() {
        parts.push("nothing (a clean path)".to_string());
    }
    parts.join(" · ")
}

fn percent(p: f64) -> String {
    let v = p * 100.0;
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Appends `text` to the mark of `frame`.
pub fn add(marks: &mut Marks, frame: u64, text: String) {
    marks
        .entry(frame)
        .and_modify(|m| {
            m.push_str(" · ");
            m.push_str(&text);
        })
        .or_insert(text);
}

/// Marks each retransmission's row with how it came; `kernel` is
/// [client, server].
pub fn mark_recoveries(packets: &[Packet], kernel: &[Counters; 2], marks: &mut Marks) {
    for r in recoveries(packets) {
        let side = match r.direction {
            Direction::ClientToServer => &kernel[0],
            Direction::ServerToClient => &kernel[1],
        };
        add(marks, r.frame, recovery_text(&r, side));
    }
}

fn recovery_text(r: &Recovery, sender: &Counters) -> String {
    let since = format!("{:.1} ms after #{}", r.waited_ms, r.previous);
    match &r.found {
        Found::FastRetransmit { dup_acks, sack } => format!(
            "↻ fast retransmit: after {dup_acks} duplicate ACKs{}, {since}",
            sack_text(sack)
        ),
        Found::Sack { dup_acks, sack } => format!(
            "↻ resent after {dup_acks} duplicate ACK{}{} ({since}): the SACK blocks showed the \
             hole, so the sender did not wait for a third",
            if *dup_acks == 1 { "" } else { "s" },
            sack_text(sack)
        ),
        // ACKs of earlier bytes may have come meanwhile: none covered these.
        Found::Timer => format!(
            "↻ no ACK covered #{1} for {0:.1} ms: {2}",
            r.waited_ms,
            r.previous,
            timer_name(sender)
        ),
    }
}

fn sack_text(sack: &[[u32; 2]]) -> String {
    if sack.is_empty() {
        return String::new();
    }
    let blocks: Vec<String> = sack.iter().map(|b| format!("{}-{}", b[0], b[1])).collect();
    format!(" (SACK {})", blocks.join(", "))
}

/// Which timer fired, as the sender's kernel counted them: the capture
/// shows only the silence.
fn timer_name(k: &Counters) -> String {
    let (probes, timeouts) = (k.get("TCPLossProbes"), k.get("TCPTimeouts"));
    match (probes, timeouts) {
        (0, 0) => "a timer fired".to_string(),
        (_, 0) => "the tail-loss probe timer fired (TLP: the sender's kernel counted \
                   TCPLossProbes, no timeout)"
            .to_string(),
        (0, _) => "the retransmission timer fired (RTO: the sender's kernel counted \
                   TCPTimeouts)"
            .to_string(),
        (p, t) => format!(
            "a timer fired (the sender's kernel counted {p} tail-loss probe{} and {t} \
             retransmission timeout{})",
            if p == 1 { "" } else { "s" },
            if t == 1 { "" } else { "s" }
        ),
    }
}
