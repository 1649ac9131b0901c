//! Every header field of a frame, described once: its layer, Wireshark's
//! display-filter name, its bytes (and bit mask), its value as `tshark -T
//! pdml` shows it, and what it means in plain words. `--explain` prints
//! these; the JSON record carries them as `fields`.
//!
//! Each layer's module keeps its field ranges in one `mod range` (as
//! smoltcp's `wire` does), and reads only bytes that were captured: a
//! field the snaplen cut is left out, never read past the buffer.

mod checksum;
mod encap;
mod link;
mod network;
mod tcp;
mod tcp_options;
mod tunnel;
mod value;

use serde::Serialize;

use super::{IpInfo, Kind, Layout, Outer, Stack};
use crate::values::LinkType;

pub use checksum::{Checksum, ChecksumStatus};

/// One field of one header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Wireshark's protocol name: `eth`, `sll`, `null`, `ip`, `ipv6`, `tcp`.
    pub layer: &'static str,
    /// Wireshark's display-filter field name (`ip.ttl`, `tcp.flags.syn`).
    pub abbrev: &'static str,
    /// First byte, counted from the start of the frame.
    pub offset: usize,
    /// Bytes the field occupies (0 for a verdict about other bytes, such as
    /// a checksum's status).
    pub len: usize,
    /// For a bit field: which bits of those bytes, read big-endian.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<u32>,
    /// The value as tshark's PDML `show` attribute gives it.
    pub value: String,
    /// What it means, in words.
    pub text: String,
    /// A detail of the field before it (a flag bit, an option's kind): the
    /// JSON lists it, the text view leaves it to its parent's line.
    #[serde(skip)]
    pub detail: bool,
    /// The field lies in a TCP segment reassembled from IP fragments:
    /// `offset` counts from the segment's first byte, not the frame's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reassembled: bool,
}

/// What the flow knows about a segment that its bytes alone do not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowContext {
    /// Sequence and acknowledgment numbers relative to each side's ISN.
    pub rel_seq: Option<u32>,
    pub rel_ack: Option<u32>,
    /// The window scale factor as tshark's `tcp.window_size_scalefactor`:
    /// the multiplier, -1 when the handshake was not seen, -2 when a side
    /// did not offer scaling. `None` on a SYN (never scaled).
    pub window_scale: Option<i32>,
    /// The handshake negotiated Accurate ECN and this is not a SYN: the
    /// ECE, CWR and AE bits are one field, the ACE counter (`tcp.flags.ace`).
    pub accecn: bool,
    /// The segment was placed in its stream without analysis (a first IP
    /// fragment the capture cut): tshark shows its window unscaled, and
    /// its scale factor all the same.
    pub unanalysed: bool,
}

/// What [`explain`] reads: a decoded frame's bytes and layers.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub link: LinkType,
    pub data: &'a [u8],
    /// The headers before the inner IP header.
    pub outer: &'a Stack,
    pub layout: &'a Layout,
    pub ip: Option<&'a IpInfo>,
    /// The TCP segment this frame's fragment completed, if it did: its
    /// fields are placed in these bytes, as tshark places them.
    pub reassembled: Option<&'a [u8]>,
}

/// The fields of one frame, layer by layer, in byte order within a layer.
pub fn explain(frame: Frame<'_>, ctx: &FlowContext) -> Vec<Field> {
    let Frame {
        link,
        data,
        outer,
        layout,
        ip,
        reassembled,
    } = frame;
    let mut out = Fields {
        data,
        list: Vec::new(),
    };
    if outer.as_slice().is_empty() {
        link::fields(&mut out, link);
    }
    for o in outer.as_slice() {
        outer_fields(&mut out, link, o);
    }
    network::fields(&mut out, layout);
    match reassembled {
        Some(bytes) => {
            let mut seg = Fields {
                data: bytes,
                list: Vec::new(),
            };
            let tcp_len = bytes.get(12).map_or(0, |b| usize::from(b >> 4) * 4);
            let l = Layout {
                link: 0,
                ip: 0,
                tcp: tcp_len.min(bytes.len()),
                payload: bytes.len().saturating_sub(tcp_len),
            };
            // The pseudo-header counts the whole segment, not this piece.
            let whole = ip.map(|ip| IpInfo {
                payload_len: bytes.len(),
                ..ip.clone()
            });
            tcp::fields(&mut seg, &l, whole.as_ref(), ctx);
            out.list.extend(seg.list.into_iter().map(|f| Field {
                reassembled: true,
                ..f
            }));
        }
        None => tcp::fields(&mut out, layout, ip, ctx),
    }
    out.list
}

/// The fields of one header before the inner IP header.
fn outer_fields(out: &mut Fields<'_>, link: LinkType, o: &Outer) {
    let at = o.start as usize;
    match o.kind {
        Kind::Link => link::fields(out, link),
        Kind::Ethernet => link::ethernet(out, at),
        Kind::Vlan => encap::vlan(out, at),
        Kind::ServiceTag => encap::service_tag(out, at),
        Kind::Mpls => encap::mpls(out, at),
        Kind::Pppoe => encap::pppoe(out, at),
        Kind::Ppp => encap::ppp(out, at),
        Kind::Ipv4 | Kind::Ipv6 => {
            let l = Layout {
                link: at,
                ip: o.len as usize,
                tcp: 0,
                payload: 0,
            };
            network::fields(out, &l);
        }
        Kind::Udp => encap::udp(out, at),
        Kind::Vxlan => encap::vxlan(out, at),
        Kind::Gre => tunnel::gre(out, at),
        Kind::Geneve => tunnel::geneve(out, at),
        Kind::Pbb => encap::pbb(out, at),
        Kind::LlcSnap => encap::llc_snap(out, at),
        // Its FTag and TTL end the header the walker took.
        Kind::FabricPath => tunnel::fabricpath(out, at + o.len as usize - 2),
        // WCCP's redirect header is described by its size only.
        Kind::Wccp => {}
    }
}

/// The list being built, with the frame it reads from.
pub(crate) struct Fields<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) list: Vec<Field>,
}

impl<'a> Fields<'a> {
    /// The bytes `at..at + len` if they were captured.
    pub(crate) fn bytes(&self, at: usize, len: usize) -> Option<&'a [u8]> {
        self.data.get(at..at.checked_add(len)?)
    }

    /// The big-endian number in `at..at + len` (at most 4 bytes).
    pub(crate) fn uint(&self, at: usize, len: usize) -> Option<u32> {
        let b = self.bytes(at, len)?;
        Some(b.iter().fold(0u32, |n, &x| n << 8 | u32::from(x)))
    }

    /// Adds a field whose bytes were captured; false (and nothing added)
    /// when the snaplen cut them.
    pub(crate) fn push(&mut self, f: Spec, value: String, text: String) -> bool {
        if self.bytes(f.offset, f.len).is_none() {
            return false;
        }
        self.list.push(Field {
            layer: f.layer,
            abbrev: f.abbrev,
            offset: f.offset,
            len: f.len,
            mask: f.mask,
            value,
            text,
            detail: f.detail,
            reassembled: false,
        });
        true
    }
}

impl Fields<'_> {
    /// A checksum field at `field`, its status and its calculated value
    /// (`<abbrev>.status`, `<abbrev>_calculated`, as Wireshark names them).
    pub(crate) fn checksum(
        &mut self,
        field: Spec,
        names: [&'static str; 2],
        what: &str,
        c: Checksum,
    ) {
        let Some(stored) = self.uint(field.offset, 2) else {
            return;
        };
        let words = c.status.words();
        self.push(
            field,
            value::hex(stored, 4),
            format!("{what} {} {words}", value::hex(stored, 4)),
        );
        self.push(
            Spec {
                abbrev: names[0],
                len: 0,
                ..field
            }
            .detail(),
            c.status.wireshark_value().into(),
            format!("{what} status {words}"),
        );
        if let Some(right) = c.calculated {
            let v = value::hex(u32::from(right), 4);
            self.push(
                Spec {
                    abbrev: names[1],
                    ..field
                }
                .detail(),
                v.clone(),
                format!("{what} the bytes call for: {v}"),
            );
        }
    }
}

/// Where a field lies and what it is called, before its value is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) layer: &'static str,
    pub(crate) abbrev: &'static str,
    pub(crate) offset: usize,
    pub(crate) len: usize,
    pub(crate) mask: Option<u32>,
    pub(crate) detail: bool,
}

impl Spec {
    pub(crate) fn new(
        layer: &'static str,
        abbrev: &'static str,
        offset: usize,
        len: usize,
    ) -> Self {
        Spec {
            layer,
            abbrev,
            offset,
            len,
            mask: None,
            detail: false,
        }
    }

    /// The same bytes, only the bits of `mask`.
    pub(crate) fn bits(self, mask: u32) -> Self {
        Spec {
            mask: Some(mask),
            ..self
        }
    }

    /// Marks a detail of the field before it (see [`Field::detail`]).
    pub(crate) fn detail(self) -> Self {
        Spec {
            detail: true,
            ..self
        }
    }
}
