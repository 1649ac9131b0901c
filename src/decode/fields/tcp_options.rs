//! Each TCP option's fields: kind, length and value (RFC 9293 §3.2; RFC
//! 7323 window scale and timestamps; RFC 2018 SACK, RFC 2883 D-SACK).

use super::value::colon_hex;
use super::{Fields, FlowContext, Spec};
use crate::decode::option_spans;

/// Where the options start in the TCP header.
const START: usize = 20;
/// Where the acknowledgment number is in the TCP header.
const ACK_AT: usize = 8;

/// The options of the TCP header at `tcp` (`hdr_len` bytes long).
pub(super) fn fields(out: &mut Fields<'_>, tcp: usize, hdr_len: usize, ctx: &FlowContext) {
    if hdr_len <= START {
        return;
    }
    let (from, end) = (tcp + START, tcp + hdr_len);
    let Some(all) = out.bytes(from, end - from) else {
        return;
    };
    let names = summary(all);
    out.push(
        Spec::new("tcp", "tcp.options", from, end - from),
        colon_hex(all),
        format!("options ({} bytes): {names}", end - from),
    );
    // SACK edges count from the same base as the acknowledgment number.
    let ack_base = match (ctx.rel_ack, out.uint(tcp + ACK_AT, 4)) {
        (Some(rel), Some(raw)) => Some((raw.wrapping_sub(rel), rel)),
        _ => None,
    };
    for span in option_spans(all) {
        match span {
            Ok((kind, off, len)) => option(out, u32::from(kind), from + off, len, ack_base),
            Err(off) => return malformed(out, from + off, end),
        }
    }
}

/// `MSS, SACK permitted, timestamps, NOP, window scale`.
fn summary(all: &[u8]) -> String {
    let mut names = Vec::new();
    for span in option_spans(all) {
        match span {
            Ok((kind, _, _)) => names.push(kind_name(u32::from(kind))),
            // An option whose length runs past the list is still named.
            Err(at) => {
                if all.get(at + 1).is_some_and(|&l| l >= 2) {
                    names.push(kind_name(u32::from(all[at])));
                }
                break;
            }
        }
    }
    names.join(", ")
}

fn kind_name(kind: u32) -> &'static str {
    match kind {
        0 => "end of options",
        1 => "NOP",
        2 => "MSS",
        3 => "window scale",
        4 => "SACK permitted",
        5 => "SACK",
        8 => "timestamps",
        19 => "MD5 signature",
        28 => "user timeout",
        29 => "TCP-AO",
        30 => "MPTCP",
        34 => "fast open cookie",
        253 | 254 => "experimental",
        _ => "unknown option",
    }
}

/// Wireshark's field for an option as a whole.
fn option_abbrev(kind: u32) -> &'static str {
    match kind {
        0 => "tcp.options.eol",
        1 => "tcp.options.nop",
        2 => "tcp.options.mss",
        3 => "tcp.options.wscale",
        4 => "tcp.options.sack_perm",
        5 => "tcp.options.sack",
        8 => "tcp.options.timestamp",
        _ => "tcp.options.unknown",
    }
}

fn option(out: &mut Fields<'_>, kind: u32, at: usize, len: usize, ack: Option<(u32, u32)>) {
    let Some(bytes) = out.bytes(at, len) else {
        return;
    };
    let s = |abbrev, off, len| Spec::new("tcp", abbrev, at + off, len);
    // The option's bytes were captured whole (checked above).
    let n = |off: usize, width: usize| {
        bytes[off..off + width]
            .iter()
            .fold(0u32, |v, &b| v << 8 | u32::from(b))
    };
    let value = match (kind, len) {
        (0, _) => "end of the option list".to_string(),
        (1, _) => "padding to a 4-byte boundary".to_string(),
        (2, 4) => format!("{}, the most payload this side takes in a segment", n(2, 2)),
        (3, 3) => format!(
            "shift {}, so its later windows count in units of {}",
            n(2, 1),
            1u64 << n(2, 1).min(30)
        ),
        (4, 2) => "this side can take SACK blocks".to_string(),
        (5, _) => sack_words(bytes, ack),
        (8, 10) => format!(
            "TSval {} (the sender's clock), TSecr {} (echoed)",
            n(2, 4),
            n(6, 4)
        ),
        _ => format!("{} bytes of value", len.saturating_sub(2)),
    };
    let label = match len {
        1 => format!("{} (kind {kind})", kind_name(kind)),
        _ => format!("{} (kind {kind}, length {len})", kind_name(kind)),
    };
    out.push(
        s(option_abbrev(kind), 0, len),
        colon_hex(bytes),
        format!("{label}: {value}"),
    );
    out.push(
        s("tcp.option_kind", 0, 1).detail(),
        kind.to_string(),
        format!("kind {kind}: {}", kind_name(kind)),
    );
    if len < 2 {
        return;
    }
    out.push(
        s("tcp.option_len", 1, 1).detail(),
        len.to_string(),
        format!("length {len}"),
    );
    match (kind, len) {
        (2, 4) => {
            let mss = n(2, 2);
            out.push(
                s("tcp.options.mss_val", 2, 2).detail(),
                mss.to_string(),
                format!("MSS {mss}"),
            );
        }
        (3, 3) => {
            let shift = n(2, 1);
            let mult = 1u64 << shift.min(30);
            out.push(
                s("tcp.options.wscale.shift", 2, 1).detail(),
                shift.to_string(),
                format!("shift {shift}"),
            );
            out.push(
                s("tcp.options.wscale.multiplier", 2, 1).detail(),
                mult.to_string(),
                format!("multiplier {mult}"),
            );
        }
        (5, _) => sack_blocks(out, at, len, ack),
        (8, 10) => {
            let (val, ecr) = (n(2, 4), n(6, 4));
            out.push(
                s("tcp.options.timestamp.tsval", 2, 4).detail(),
                val.to_string(),
                format!("TSval {val}"),
            );
            out.push(
                s("tcp.options.timestamp.tsecr", 6, 4).detail(),
                ecr.to_string(),
                format!("TSecr {ecr}"),
            );
        }
        _ => {}
    }
}

/// `bytes 8689-10137 arrived, past a gap`, relative where the flow knows.
fn sack_words(bytes: &[u8], ack: Option<(u32, u32)>) -> String {
    let base = ack.map_or(0, |(b, _)| b);
    let blocks: Vec<String> = bytes[2..]
        .chunks_exact(8)
        .map(|c| {
            let le = u32::from_be_bytes([c[0], c[1], c[2], c[3]]).wrapping_sub(base);
            let re = u32::from_be_bytes([c[4], c[5], c[6], c[7]]).wrapping_sub(base);
            format!("{le}-{re}")
        })
        .collect();
    format!("bytes {} arrived, past a gap", blocks.join(", "))
}

/// The SACK blocks, relative to the acknowledgment number's base when the
/// flow knows it, and the first block again as D-SACK when it lies below
/// the acknowledgment number (RFC 2883: data received twice).
fn sack_blocks(out: &mut Fields<'_>, at: usize, len: usize, ack: Option<(u32, u32)>) {
    let base = ack.map_or(0, |(b, _)| b);
    let mut first = None;
    let mut off = 2;
    while off + 8 <= len {
        let (Some(le), Some(re)) = (out.uint(at + off, 4), out.uint(at + off + 4, 4)) else {
            return;
        };
        let (le, re) = (le.wrapping_sub(base), re.wrapping_sub(base));
        let s = |abbrev, o| Spec::new("tcp", abbrev, at + o, 4).detail();
        out.push(
            s("tcp.options.sack_le", off),
            le.to_string(),
            format!("SACK left edge {le}"),
        );
        out.push(
            s("tcp.options.sack_re", off + 4),
            re.to_string(),
            format!("SACK right edge {re}: bytes {le}-{re} arrived, past a gap"),
        );
        first.get_or_insert((off, le, re));
        off += 8;
    }
    if let (Some((off, le, re)), Some((_, rel_ack))) = (first, ack) {
        if (le.wrapping_sub(rel_ack) as i32) < 0 {
            let s = |abbrev, o| Spec::new("tcp", abbrev, at + o, 4).detail();
            out.push(
                s("tcp.options.sack.dsack_le", off),
                le.to_string(),
                format!("D-SACK: bytes {le}-{re} arrived twice"),
            );
            out.push(
                s("tcp.options.sack.dsack_re", off + 4),
                re.to_string(),
                "D-SACK right edge".into(),
            );
        }
    }
}

/// An option whose length is missing, too small or past the header: the
/// rest of the list as bytes, as far as it goes.
fn malformed(out: &mut Fields<'_>, at: usize, end: usize) {
    if let Some(rest) = out.bytes(at, end - at) {
        let text = format!(
            "malformed option (kind {}): its length is missing or runs past the header",
            rest[0]
        );
        out.push(
            Spec::new("tcp", "tcplab.tcp.options.malformed", at, end - at),
            colon_hex(rest),
            text,
        );
    }
}
