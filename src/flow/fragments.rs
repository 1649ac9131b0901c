//! The pipeline's side of IP fragment reassembly: each fragment a frame
//! holds goes to the table ([`Defrag`]); the frame that completes a TCP
//! segment gets the segment, decoded from the reassembled bytes, as tshark
//! dissects it there. The other pieces say where they stand.
//!
//! One piece is read where it lies: an IPv4 first fragment (offset 0, MF
//! set) that the table does not take because the capture cut its data.
//! tshark's IPv4 dissector reassembles only a fragment whose data it holds
//! in full (packet-ip.c: `tvb_bytes_exist(tvb, offset, ip_len - hlen)`);
//! otherwise it dissects a first fragment from the bytes it has, with
//! `pinfo->fragmented` set, and TCP then knows no segment length (see
//! [`Packet::fragmented`]). tshark's IPv6 dissector shows any fragment it
//! does not reassemble as data, so IPv6 has no such case.

use std::net::IpAddr;

use super::defrag::{Defrag, DefragKey, Fragment, Outcome, Skip};
use super::Packet;
use crate::decode::{FragmentOf, Tcp};

const TCP: u8 = 6;

/// Enters the fragment `f` of frame `into` (whose bytes are `data`) and
/// fills the packet with what came of it.
pub(super) fn enter(table: &mut Defrag, data: &[u8], f: &FragmentOf, into: &mut Packet) {
    let key = match (f.src, f.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => DefragKey::ipv4(s, d, f.id as u16, f.protocol),
        (IpAddr::V6(s), IpAddr::V6(d)) => DefragKey::ipv6(s, d, f.id),
        _ => return,
    };
    let piece = Fragment {
        frame: into.number,
        offset: f.offset,
        more: f.more,
        declared_len: f.declared_len,
        data: data.get(f.data.clone()).unwrap_or_default(),
    };
    let v = if f.src.is_ipv4() { 4 } else { 6 };
    let end = (f.offset as usize + f.declared_len).saturating_sub(1);
    into.note = Some(match table.add(key, piece) {
        Outcome::Held => format!(
            "IPv{v} fragment: bytes {}-{end} of a datagram, held until it is whole",
            f.offset
        ),
        Outcome::Skipped(Skip::NotCaptured) if v == 4 && first_tcp_piece(data, f, into) => {
            into.note = None;
            return;
        }
        Outcome::Skipped(why) => format!("IPv{v} fragment, not reassembled: {}", words(why)),
        Outcome::Complete(r) if f.protocol == TCP => match Tcp::parse(&r.payload) {
            Ok(tcp) => {
                into.payload_len = r.payload.len() - tcp.hdr_len;
                into.tcp = Some(tcp);
                into.reassembled = Some(Box::new(r));
                into.note = None;
                return;
            }
            Err(e) => format!("TCP segment reassembled from fragments: {e}"),
        },
        Outcome::Complete(r) => format!(
            "IPv{v} datagram reassembled from {} fragments: protocol {}, not TCP",
            r.frames.len(),
            f.protocol
        ),
    });
}

fn words(why: Skip) -> &'static str {
    match why {
        Skip::Empty => "it holds no data",
        Skip::NotCaptured => "the capture cut its data",
        Skip::TooLarge => "it ends past 65,535 bytes",
        Skip::TooManyFragments => "its datagram has too many pieces",
    }
}

/// Reads the TCP header at the start of first fragment `f` from the bytes
/// the frame holds, as tshark does for a first fragment it did not
/// reassemble. The 20-byte base is read by hand: the options may be cut
/// (`Tcp::parse` wants them whole), and tshark shows the base
/// and the header length it claims all the same. False (the fragment keeps
/// its note) when it is not TCP, not the first piece, or its base was cut.
fn first_tcp_piece(data: &[u8], f: &FragmentOf, into: &mut Packet) -> bool {
    if f.protocol != TCP || f.offset != 0 || !f.more {
        return false;
    }
    let held = data.get(f.data.clone()).unwrap_or_default();
    let Some(tcp) = Tcp::from_base(held) else {
        return false;
    };
    let hdr_len = tcp.hdr_len;
    into.tcp = Some(tcp);
    // The captured header, then what the frame holds of the payload: tshark
    // hands those bytes on (`tcp.payload`) though it gives them no length.
    into.layout.tcp = hdr_len.min(held.len());
    into.layout.payload = held.len() - into.layout.tcp;
    into.payload_len = 0;
    into.fragmented = true;
    true
}
