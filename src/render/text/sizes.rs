//! One line per segment: how the bytes on the wire split into layers.

use std::io::{self, Write};

use super::fold::{group, plan, Shown};
use super::{prose, TextOptions};
use crate::flow::Packet;
use crate::render::{Paint, Palette};

pub(crate) fn ip_name(version: Option<u8>) -> &'static str {
    match version {
        Some(6) => "IPv6",
        _ => "IPv4",
    }
}

/// `74 bytes on the wire = 14 Ethernet + 20 IPv4 + 40 TCP (20 + 20 options) + 0 payload`
pub fn size_line(p: &Packet, pal: Palette) -> Option<String> {
    p.tcp.as_ref()?;
    let tcp_len = p.layout.tcp;
    let tcp = if tcp_len > 20 {
        format!("{tcp_len} TCP (20 + {} options)", tcp_len - 20)
    } else {
        format!("{tcp_len} TCP")
    };
    let (ip_len, version) =
        p.ip.as_ref()
            .map_or((0, None), |ip| (ip.hdr_len, Some(ip.version)));
    let ip = format!("{ip_len} {}", ip_name(version));
    let link = format!("{} {}", p.layout.link, p.link.label());
    let payload = format!("{} payload", p.payload_len);
    let mut line = format!(
        "{} bytes on the wire = {} + {} + {} + {}",
        p.frame_len,
        pal.paint(Paint::Link, &link),
        pal.paint(Paint::Ip, &ip),
        pal.paint(Paint::Tcp, &tcp),
        pal.paint(Paint::Payload, &payload),
    );
    if p.cap_len() < p.frame_len {
        line.push_str(&format!(" ({} captured)", p.cap_len()));
    }
    Some(line)
}

/// The size line of every TCP segment (of the rows kept, in a folded
/// trace, and a line for each fold), under a heading.
pub fn sizes(w: &mut dyn Write, packets: &[Packet], opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "header sizes"))?;
    let width = packets.len().to_string().len() + 1;
    for shown in plan(packets, opts.fold) {
        match shown {
            Shown::Row(p) => {
                if let Some(line) = size_line(p, pal) {
                    let n = format!("#{}", p.number);
                    prose(w, &format!("  {n:>width$}  "), &line, opts)?;
                }
            }
            Shown::Fold(f) => {
                let text = pal.paint(Paint::Dim, &format!("{} folded", group(f.segments as u64)));
                prose(w, &format!("  {}  ", f.numbers()), &text, opts)?;
            }
        }
    }
    Ok(())
}
