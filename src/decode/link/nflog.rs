//! NFLOG (Linux netfilter log, LINKTYPE 239): family, version, resource
//! id, then TLVs, each padded to 4 bytes; the NFULA_PAYLOAD TLV holds the
//! packet, so where IP starts depends on the TLVs before it. Read as
//! Wireshark's `packet-nflog.c` reads them.

use super::NextLayer;
use crate::decode::{DecodeError, Layer};
use crate::values::LinkType;

/// The TLV type holding the logged packet.
pub(crate) const NFULA_PAYLOAD: u16 = 9;
/// A TLV's length and type, before its value.
const TLV_HDR_LEN: usize = 4;

/// One TLV: where it starts, its length as written (header included,
/// padding not) and its type (the top bit, NLA_F_NESTED, cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NflogTlv {
    pub at: usize,
    pub len: usize,
    pub kind: u16,
}

/// TLV lengths and types are in the capturing host's byte order. As
/// Wireshark does: big-endian if a walk that way meets a known-looking type
/// first, else little-endian if that way does, else big-endian.
fn little_endian(data: &[u8]) -> bool {
    let looks_right = |read: fn([u8; 2]) -> u16| {
        let mut at = LinkType::Nflog.header_len();
        while data.len().saturating_sub(at) > TLV_HDR_LEN {
            let len = usize::from(read([data[at], data[at + 1]]));
            let kind = read([data[at + 2], data[at + 3]]) & 0x7fff;
            if len < TLV_HDR_LEN || kind >= 0x100 {
                return false;
            }
            if kind != 0 {
                return true;
            }
            at += len.next_multiple_of(4);
        }
        false
    };
    !looks_right(u16::from_be_bytes) && looks_right(u16::from_le_bytes)
}

/// The TLVs whose 4-byte header was captured, in order, and the error that
/// stopped the walk early (a length below 4, which Wireshark calls malformed).
pub(crate) fn nflog_tlvs(data: &[u8]) -> (Vec<NflogTlv>, Option<DecodeError>) {
    let read = if little_endian(data) {
        u16::from_le_bytes
    } else {
        u16::from_be_bytes
    };
    let mut out = Vec::new();
    let mut at = LinkType::Nflog.header_len();
    while data.len().saturating_sub(at) >= TLV_HDR_LEN {
        let len = usize::from(read([data[at], data[at + 1]]));
        if len < TLV_HDR_LEN {
            let reason =
                format!("NFLOG TLV length {len} is less than its {TLV_HDR_LEN}-byte header");
            let error = DecodeError {
                layer: Layer::Link,
                offset: at,
                reason,
            };
            return (out, Some(error));
        }
        let kind = read([data[at + 2], data[at + 3]]) & 0x7fff;
        out.push(NflogTlv { at, len, kind });
        at += len.next_multiple_of(4);
    }
    (out, None)
}

pub(super) fn split(data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    let (tlvs, error) = nflog_tlvs(data);
    if let Some(e) = error {
        return Err(e);
    }
    // The last payload TLV is the one Wireshark dissects.
    let Some(payload) = tlvs.iter().rev().find(|t| t.kind == NFULA_PAYLOAD) else {
        return Err(DecodeError {
            layer: Layer::Link,
            offset: 0,
            reason: format!(
                "NFLOG holds no payload TLV in its {} captured bytes",
                data.len()
            ),
        });
    };
    // Linux's address families: the payload is IP only for these.
    let next = match data[0] {
        2 => NextLayer::EtherType(0x0800),
        10 => NextLayer::EtherType(0x86dd),
        other => NextLayer::Family(u32::from(other)),
    };
    Ok((next, payload.at + TLV_HDR_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, value: &[u8], le: bool) -> Vec<u8> {
        let len = (TLV_HDR_LEN + value.len()) as u16;
        let mut v = if le {
            [len.to_le_bytes(), kind.to_le_bytes()].concat()
        } else {
            [len.to_be_bytes(), kind.to_be_bytes()].concat()
        };
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    #[test]
    fn the_payload_starts_after_the_tlvs_in_either_byte_order() {
        for le in [true, false] {
            let mut frame = vec![2, 0, 0, 0];
            frame.extend(tlv(1, &[8, 0, 3, 0], le));
            frame.extend(tlv(10, b"tcplab\0", le));
            frame.extend(tlv(NFULA_PAYLOAD, &[0x45, 0, 0, 20], le));
            let (next, start) = split(&frame).unwrap();
            assert_eq!(
                (next, start),
                (NextLayer::EtherType(0x0800), 4 + 8 + 12 + 4)
            );
        }
    }

    #[test]
    fn a_short_tlv_or_no_payload_is_an_error() {
        let mut frame = vec![2, 0, 0, 0];
        frame.extend(tlv(1, &[8, 0, 3, 0], true));
        let e = split(&frame).unwrap_err();
        assert!(e.reason.contains("no payload TLV"), "{e:?}");
        frame.extend([2, 0, 9, 0, 0]);
        assert_eq!(split(&frame).unwrap_err().offset, 12);
    }
}
