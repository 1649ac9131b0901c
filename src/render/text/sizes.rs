//! One line per segment: how the bytes on the wire split into layers.

use std::io::{self, Write};

use super::fold::{group, plan, Shown};
use super::{prose, TextOptions};
use crate::decode::Kind;
use crate::flow::Packet;
use crate::render::{Marks, Paint, Palette};

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
/// trace, and a line for each fold), under a heading.
pub fn sizes(
    w: &mut dyn Write,
    packets: &[Packet],
    marks: &Marks,
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "header sizes"))?;
    let width = packets.len().to_string().len() + 1;
    for shown in plan(packets, opts.fold, marks) {
        match shown {
            Shown::Row(p) => size_row(w, p, width, opts)?,
            Shown::Fold(f) => {
                let text = pal.paint(Paint::Dim, &format!("{} folded", group(f.segments as u64)));
                prose(w, &format!("  {}  ", f.numbers()), &text, opts)?;
            }
        }
    }
    Ok(())
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
