//! One line per segment: how the bytes on the wire split into layers.

use std::collections::HashMap;
use std::io::{self, Write};

use super::fold::{group, plan, Shown};
use super::{prose, wrap, TextOptions};
use crate::decode::Kind;
use crate::flow::Packet;
use crate::render::{Marks, Paint, Palette};
use crate::values::LinkType;

pub(crate) fn ip_name(version: Option<u8>) -> &'static str {
    match version {
        Some(6) => "IPv6",
        _ => "IPv4",
    }
}

/// `74 bytes on the wire = 14 Ethernet + 20 IPv4 + 40 TCP (20 + 20 options) + 0 payload`
pub fn size_line(p: &Packet, pal: Palette) -> Option<String> {
    let hdr_len = p.tcp.as_ref()?.hdr_len;
    // A reassembled segment's header is in the reassembled bytes.
    let tcp_len = match p.reassembled {
        Some(_) => hdr_len,
        None => p.layout.tcp,
    };
    let tcp = if tcp_len > 20 {
        format!("{tcp_len} TCP (20 + {} options)", tcp_len - 20)
    } else {
        format!("{tcp_len} TCP")
    };
    let (ip_len, version) =
        p.ip.as_ref()
            .map_or((0, None), |ip| (ip.hdr_len, Some(ip.version)));
    let ip = format!("{ip_len} {}", ip_name(version));
    let payload = format!("{} payload", p.payload_len);
    let mut parts = outer_parts(p, pal);
    parts.push(pal.paint(Paint::Ip, &ip));
    let segment = format!(
        "{} + {}",
        pal.paint(Paint::Tcp, &tcp),
        pal.paint(Paint::Payload, &payload)
    );
    match &p.reassembled {
        Some(r) => {
            let piece = p.layout.payload;
            let frames: Vec<String> = r.frames.iter().map(|n| format!("#{n}")).collect();
            let piece = pal.paint(Paint::Payload, &format!("{piece} fragment"));
            parts.push(format!(
                "{piece}, reassembled from {}: {segment}",
                frames.join(", ")
            ));
        }
        None => parts.push(segment),
    }
    let mut line = format!("{} bytes on the wire = {}", p.frame_len, parts.join(" + "));
    if p.cap_len() < p.frame_len {
        line.push_str(&format!(" ({} captured)", p.cap_len()));
    }
    Some(line)
}

/// `14 Ethernet + 4 802.1Q` or, in a tunnel, every header before the
/// inner IP one: `14 Ethernet + 20 IPv4 + 8 UDP + 8 VXLAN + 14 Ethernet`.
fn outer_parts(p: &Packet, pal: Palette) -> Vec<String> {
    if p.outer.as_slice().is_empty() {
        let link = format!("{} {}", p.layout.link, p.link.label());
        return vec![pal.paint(Paint::Link, &link)];
    }
    p.outer
        .as_slice()
        .iter()
        .filter(|o| o.len > 0 || o.kind == Kind::Link)
        .map(|o| {
            let text = format!("{} {}", o.len, o.kind.label(p.link));
            pal.paint(outer_paint(o.kind), &text)
        })
        .collect()
}

/// The colour of an outer header: link-layer headers as the link, the
/// tunnel's IP and its UDP, GRE, VXLAN or Geneve header as IP.
pub(crate) fn outer_paint(kind: Kind) -> Paint {
    match kind {
        Kind::Ipv4
        | Kind::Ipv6
        | Kind::Udp
        | Kind::Gre
        | Kind::Wccp
        | Kind::Vxlan
        | Kind::Geneve => Paint::Ip,
        _ => Paint::Link,
    }
}

/// The size line of every TCP segment (of the rows kept, in a folded
/// trace), under a heading; segments whose lines are the same share one:
/// `#3, #5, #7-10: 66 bytes on the wire = ...`. Each fold's count after.
pub fn sizes(
    w: &mut dyn Write,
    packets: &[Packet],
    marks: &Marks,
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "header sizes"))?;
    if packets.iter().any(zero_ethernet) {
        let note = "lo has no wire: Linux gives each frame on it an Ethernet header of \
                    14 bytes, all zero, and that is what is counted here; macOS's lo0, \
                    where seed 002's Wireshark ran, has a 4-byte loopback header instead \
                    (tcplab replay captures/hello-null.pcap)";
        prose(w, "  ", &pal.paint(Paint::Dim, note), opts)?;
    }
    let mut lines: Vec<(String, Vec<u64>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut folds = Vec::new();
    for shown in plan(packets, opts.fold, marks) {
        match shown {
            Shown::Row(p) => {
                let Some(line) = size_line(p, pal) else {
                    continue;
                };
                match index.get(&line) {
                    Some(&i) => lines[i].1.push(p.number),
                    None => {
                        index.insert(line.clone(), lines.len());
                        lines.push((line, vec![p.number]));
                    }
                }
            }
            Shown::Fold(f) => folds.push(f),
        }
    }
    for (line, numbers) in &lines {
        // The numbers wrap with the text: a long list must neither push
        // the text to the right nor be cut at a narrow terminal.
        let text = format!("{}: {line}", numbers_text(numbers));
        for l in wrap("  ", &text, opts.width, "      ") {
            writeln!(w, "{l}")?;
        }
    }
    for f in folds {
        let text = pal.paint(Paint::Dim, &format!("{} folded", group(f.segments as u64)));
        prose(w, &format!("  {}: ", f.numbers()), &text, opts)?;
    }
    Ok(())
}

/// Most frame numbers named in a shared size line; the rest are counted.
const MAX_NUMBERS: usize = 12;

/// `#3, #5, #7-10`: ascending frame numbers, runs joined, at most
/// [`MAX_NUMBERS`] items and then `and 20 more`.
pub(crate) fn numbers_text(numbers: &[u64]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &n in numbers {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == n => *last = n,
            _ => runs.push((n, n)),
        }
    }
    let mut items: Vec<String> = runs
        .iter()
        .take(MAX_NUMBERS)
        .map(|&(a, b)| match b - a {
            0 => format!("#{a}"),
            1 => format!("#{a}, #{b}"),
            _ => format!("#{a}-{b}"),
        })
        .collect();
    let more: u64 = runs.iter().skip(MAX_NUMBERS).map(|(a, b)| b - a + 1).sum();
    if more > 0 {
        items.push(format!("and {} more", group(more)));
    }
    items.join(", ")
}

/// `   #4  71 bytes on the wire = ...`, the number right-aligned in `width`;
/// nothing for a frame that is not a TCP segment.
pub fn size_row(w: &mut dyn Write, p: &Packet, width: usize, opts: &TextOptions) -> io::Result<()> {
    if let Some(line) = size_line(p, opts.palette) {
        let n = format!("#{}", p.number);
        prose(w, &format!("  {n:>width$}  "), &line, opts)?;
    }
    Ok(())
}

/// True for a frame with the all-zero Ethernet addresses of Linux's
/// loopback.
fn zero_ethernet(p: &Packet) -> bool {
    p.link == LinkType::Ethernet && p.data.len() >= 12 && p.data[..12].iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::numbers_text;

    #[test]
    fn frame_numbers_join_their_runs() {
        assert_eq!(numbers_text(&[3, 5, 7, 8, 9, 10]), "#3, #5, #7-10");
        assert_eq!(numbers_text(&[1, 2]), "#1, #2");
        assert_eq!(numbers_text(&[4]), "#4");
        let many: Vec<u64> = (1..=60).map(|n| n * 2).collect();
        assert_eq!(
            numbers_text(&many),
            "#2, #4, #6, #8, #10, #12, #14, #16, #18, #20, #22, #24, and 48 more"
        );
    }
}
