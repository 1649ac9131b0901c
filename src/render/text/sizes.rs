//! One line per segment: how the bytes on the wire split into layers.

use std::io::{self, Write};

use super::{prose, TextOptions};
use crate::render::{Paint, Palette, TracedPacket};

pub(crate) fn ip_name(version: Option<u8>) -> &'static str {
    match version {
        Some(6) => "IPv6",
        _ => "IPv4",
    }
}

/// The link layer's name as people say it, from the record's link type.
pub(crate) fn link_label(p: &TracedPacket) -> &'static str {
    p.link.label()
}

/// `74 bytes on the wire = 14 Ethernet + 20 IPv4 + 40 TCP (20 + 20 options) + 0 payload`
pub fn size_line(p: &TracedPacket, pal: Palette) -> Option<String> {
    let r = &p.record;
    let tcp_len = r.tcp_hdr_len?;
    let tcp = if tcp_len > 20 {
        format!("{tcp_len} TCP (20 + {} options)", tcp_len - 20)
    } else {
        format!("{tcp_len} TCP")
    };
    let ip = format!("{} {}", r.ip_hdr_len.unwrap_or(0), ip_name(r.ip_version));
    let link = format!("{} {}", r.link_hdr_len, link_label(p));
    let payload = format!("{} payload", r.payload_len.unwrap_or(0));
    let mut line = format!(
        "{} bytes on the wire = {} + {} + {} + {}",
        r.frame_len,
        pal.paint(Paint::Link, &link),
        pal.paint(Paint::Ip, &ip),
        pal.paint(Paint::Tcp, &tcp),
        pal.paint(Paint::Payload, &payload),
    );
    if r.cap_len < r.frame_len {
        line.push_str(&format!(" ({} captured)", r.cap_len));
    }
    Some(line)
}

/// The size line of every TCP segment, under a heading.
pub fn sizes(w: &mut dyn Write, packets: &[TracedPacket], opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "header sizes"))?;
    let width = packets.len().to_string().len() + 1;
    for p in packets {
        if let Some(line) = size_line(p, pal) {
            let n = format!("#{}", p.record.frame);
            prose(w, &format!("  {n:>width$}  "), &line, opts)?;
        }
    }
    Ok(())
}
