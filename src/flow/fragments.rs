//! The pipeline's side of IP fragment reassembly: each fragment a frame
//! holds goes to the table ([`Defrag`]); the frame that completes a TCP
//! segment gets the segment, decoded from the reassembled bytes, as tshark
//! dissects it there. The other pieces say where they stand.

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
        Outcome::Skipped(why) => format!("IPv{v} fragment, not reassembled: {}", words(why)),
        Outcome::Complete(r) if f.protocol == TCP => {
            match etherparse::TcpSlice::from_slice(&r.payload) {
                Ok(tcp) => {
                    let tcp = Tcp::of(&tcp);
                    into.payload_len = r.payload.len() - tcp.hdr_len;
                    into.tcp = Some(tcp);
                    into.reassembled = Some(Box::new(r));
                    into.note = None;
                    return;
                }
                Err(e) => format!("TCP segment reassembled from fragments: {e}"),
            }
        }
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
