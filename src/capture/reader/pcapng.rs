//! pcapng (draft-ietf-opsawg-pcapng): blocks of type, length, body, length.
//! Section headers set the byte order; interface blocks give each
//! interface's link type and timestamp resolution; enhanced, simple and
//! obsolete packet blocks carry frames. Other blocks are skipped.

use std::io::{BufRead, Read};
use std::ops::Range;

use super::{at_eof, read_exact_or, Bytes, Endian, FrameMeta, ReadError};
use crate::values::LinkType;
use crate::values::{Timestamp, TsPrecision};

/// Block type of a Section Header Block, the same in either byte order.
pub(crate) const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const OPT_END: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
/// Blocks larger than this come from damaged files (libpcap allows 16 MiB).
const MAX_BLOCK: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp (if_tsoffset).
    offset: i64,
    precision: TsPrecision,
}

pub(crate) struct State {
    endian: Endian,
    interfaces: Vec<Interface>,
    /// Every interface ever seen, for the file's precision and first link.
    finest: TsPrecision,
    first_link: Option<LinkType>,
    block: Vec<u8>,
    /// Bytes of the input buffer handed out last time, to skip now.
    lent: usize,
}

impl State {
    /// Reads the first section header (its type bytes are already read).
    pub(crate) fn start(input: &mut impl Read) -> Result<Self, ReadError> {
        let mut s = State {
            endian: Endian::Little,
            interfaces: Vec::new(),
            finest: TsPrecision::Micro,
            first_link: None,
            block: Vec::new(),
            lent: 0,
        };
        s.section(input)?;
        Ok(s)
    }

    pub(crate) fn first_link(&self) -> Option<LinkType> {
        self.first_link
    }

    pub(crate) fn precision(&self) -> TsPrecision {
        self.finest
    }

    /// A Section Header Block after its type: length, byte-order magic, rest.
    fn section(&mut self, input: &mut impl Read) -> Result<(), ReadError> {
        let mut head = [0u8; 8];
        read_exact_or(input, &mut head, "truncated pcapng section header")?;
        self.endian = match (
            u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
            u32::from_be_bytes([head[4], head[5], head[6], head[7]]),
        ) {
            (BYTE_ORDER_MAGIC, _) => Endian::Little,
            (_, BYTE_ORDER_MAGIC) => Endian::Big,
            _ => {
                return Err(ReadError::Format(
                    "pcapng section header has no byte-order magic".into(),
                ))
            }
        };
        let total = self.endian.u32(&head[0..4]) as usize;
        if !(28..=MAX_BLOCK).contains(&total) || total % 4 != 0 {
            return Err(ReadError::Format(format!(
                "pcapng section header length {total} is impossible"
            )));
        }
        // Interfaces are numbered per section.
        self.interfaces.clear();
        self.block.resize(total - 12, 0);
        read_exact_or(input, &mut self.block, "truncated pcapng section header")?;
        check_trailer(self.endian, 0x0A0D_0D0A, total, &self.block)
    }

    pub(crate) fn next(
        &mut self,
        input: &mut impl BufRead,
    ) -> Result<Option<(FrameMeta, Bytes)>, ReadError> {
        input.consume(std::mem::take(&mut self.lent));
        loop {
            if at_eof(input)? {
                return Ok(None);
            }
            let mut head = [0u8; 8];
            read_exact_or(input, &mut head, "truncated pcapng block header")?;
            if head[0..4] == SHB_TYPE {
                // Put the length back in front of the magic: section() reads both.
                let mut rest = [0u8; 4];
                read_exact_or(input, &mut rest, "truncated pcapng section header")?;
                let mut chained = head[4..8].chain(&rest[..]).chain(&mut *input);
                self.section(&mut chained)?;
                continue;
            }
            let kind = self.endian.u32(&head[0..4]);
            let total = self.endian.u32(&head[4..8]) as usize;
            if !(12..=MAX_BLOCK).contains(&total) || total % 4 != 0 {
                return Err(ReadError::Format(format!(
                    "pcapng block of type {kind} has impossible length {total}"
                )));
            }
            // Body and the trailing length copy.
            let rest = total - 8;
            let body_len = total - 12;
            let is_packet = matches!(kind, EPB | OPB | SPB);
            if is_packet && input.fill_buf()?.len() >= rest {
                // The whole block is buffered: hand the frame out in place.
                let buffered = &input.fill_buf()?[..rest];
                check_trailer(self.endian, kind, total, buffered)?;
                let meta = self.packet(kind, &buffered[..body_len])?;
                self.lent = rest;
                if let Some((meta, range)) = meta {
                    return Ok(Some((meta, Bytes::InPlace(range))));
                }
                input.consume(std::mem::take(&mut self.lent));
                continue;
            }
            let mut block = std::mem::take(&mut self.block);
            block.resize(rest, 0);
            let read = read_exact_or(input, &mut block, "truncated pcapng block")
                .and_then(|()| check_trailer(self.endian, kind, total, &block));
            let found = read.and_then(|()| match kind {
                IDB => self.interface(&block[..body_len]).map(|()| None),
                _ if is_packet => self.packet(kind, &block[..body_len]),
                _ => Ok(None),
            });
            self.block = block;
            if let Some((meta, range)) = found? {
                return Ok(Some((meta, Bytes::Block(range))));
            }
        }
    }

    /// The bytes of the last block read by copy.
    pub(crate) fn block(&self) -> &[u8] {
        &self.block
    }

    fn interface(&mut self, body: &[u8]) -> Result<(), ReadError> {
        let e = self.endian;
        if body.len() < 8 {
            return Err(ReadError::Format("pcapng interface block too short".into()));
        }
        let link = LinkType::of_dlt(u32::from(e.u16(&body[0..2])));
        let snaplen = e.u32(&body[4..8]);
        let mut iface = Interface {
            link,
            snaplen,
            units_per_sec: 1_000_000,
            offset: 0,
            precision: TsPrecision::Micro,
        };
        for (code, value) in options(e, &body[8..]) {
            match (code, value.len()) {
                (IF_TSRESOL, 1..) => {
                    let r = value[0];
                    let exp = u32::from(r & 0x7f);
                    // High bit set: a power of two; else a power of ten.
                    let units = if r & 0x80 != 0 {
                        2u64.checked_pow(exp)
                    } else {
                        10u64.checked_pow(exp)
                    };
                    iface.units_per_sec = units.unwrap_or(1_000_000_000).max(1);
                    iface.precision = if iface.units_per_sec > 1_000_000 {
                        TsPrecision::Nano
                    } else {
                        TsPrecision::Micro
                    };
                }
                (IF_TSOFFSET, 8..) => {
                    let lo = u64::from(e.u32(&value[0..4]));
                    let hi = u64::from(e.u32(&value[4..8]));
                    iface.offset = match e {
                        Endian::Little => (hi << 32 | lo) as i64,
                        Endian::Big => (lo << 32 | hi) as i64,
                    };
                }
                _ => {}
            }
        }
        if iface.precision == TsPrecision::Nano {
            self.finest = TsPrecision::Nano;
        }
        self.first_link.get_or_insert(link);
        self.interfaces.push(iface);
        Ok(())
    }

    /// A packet block's frame: its facts and where its bytes are in `body`.
    fn packet(
        &self,
        kind: u32,
        body: &[u8],
    ) -> Result<Option<(FrameMeta, Range<usize>)>, ReadError> {
        let e = self.endian;
        let (iface_id, ts_units, cap_len, orig_len, data_at) = match kind {
            SPB => {
                if body.len() < 4 {
                    return Err(ReadError::Format(
                        "pcapng simple packet block too short".into(),
                    ));
                }
                let orig = e.u32(&body[0..4]);
                let room = body.len() - 4;
                let snap = self.interfaces.first().map_or(u32::MAX, |i| i.snaplen);
                let snap = if snap == 0 { u32::MAX } else { snap };
                let cap = (orig.min(snap) as usize).min(room);
                (0usize, None, cap, orig, 4)
            }
            _ => {
                if body.len() < 20 {
                    return Err(ReadError::Format("pcapng packet block too short".into()));
                }
                let id = if kind == OPB {
                    e.u16(&body[0..2]) as usize
                } else {
                    e.u32(&body[0..4]) as usize
                };
                let ts = (u64::from(e.u32(&body[4..8])) << 32) | u64::from(e.u32(&body[8..12]));
                (
                    id,
                    Some(ts),
                    e.u32(&body[12..16]) as usize,
                    e.u32(&body[16..20]),
                    20,
                )
            }
        };
        let Some(iface) = self.interfaces.get(iface_id).copied() else {
            return Err(ReadError::Format(format!(
                "packet block names interface {iface_id}, but the section has {}",
                self.interfaces.len()
            )));
        };
        if cap_len > body.len() - data_at {
            return Err(ReadError::Format(format!(
                "packet block claims {cap_len} captured bytes in a {}-byte block",
                body.len() + 12
            )));
        }
        let ts = match ts_units {
            Some(units) => {
                let per = iface.units_per_sec;
                // Saturating: a damaged file's huge count or offset must not
                // wrap into the past (or panic in a debug build).
                let sec = i64::try_from(units / per)
                    .unwrap_or(i64::MAX)
                    .saturating_add(iface.offset);
                let frac = units % per;
                let nsec = (u128::from(frac) * 1_000_000_000 / u128::from(per)) as u32;
                Timestamp { sec, nsec }
            }
            // Simple packet blocks carry no time.
            None => Timestamp::default(),
        };
        let meta = FrameMeta {
            ts,
            orig_len,
            link: iface.link,
            precision: iface.precision,
        };
        Ok(Some((meta, data_at..data_at + cap_len)))
    }
}

/// The (code, value) pairs of an options list, stopping at opt_endofopt or
/// at the first option that runs past the end.
fn options(e: Endian, mut rest: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let code = e.u16(&rest[0..2]);
        let len = e.u16(&rest[2..4]) as usize;
        if code == OPT_END || rest.len() < 4 + len {
            return None;
        }
        let value = &rest[4..4 + len];
        let padded = (4 + len + 3) & !3;
        rest = &rest[padded.min(rest.len())..];
        Some((code, value))
    })
}

/// A block ends with a copy of its length; a copy that differs means the
/// file is cut or overwritten there, and the reader stops, as libpcap
/// ("block total length in header and trailer don't match") and tcpdump do.
/// `rest` is the block after its type and length, the copy last.
fn check_trailer(e: Endian, kind: u32, total: usize, rest: &[u8]) -> Result<(), ReadError> {
    let trailer = e.u32(&rest[rest.len() - 4..]) as usize;
    if trailer == total {
        return Ok(());
    }
    Err(ReadError::Format(format!(
        "pcapng block of type {kind} ends with length {trailer}, not the {total} it began with"
    )))
}
