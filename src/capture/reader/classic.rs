//! Classic pcap (pcap-savefile(5)): a 24-byte file header, then records of
//! a 16-byte header and the captured bytes.
//!
//! A record that lies whole in the input buffer is handed out in place (no
//! copy); the buffer is advanced past it on the next call.

use std::io::{BufRead, Read};

use super::{read_exact_or, Bytes, Endian, FrameMeta, ReadError, MAX_FRAME};
use crate::values::LinkType;
use crate::values::{Timestamp, TsPrecision};

const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// Alexey Kuznetzov's patched libpcap: 8 more bytes per record header.
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

pub(crate) struct State {
    endian: Endian,
    /// Bytes kept per frame: the header's snaplen, if sane, as libpcap does.
    snaplen: usize,
    pub(crate) precision: TsPrecision,
    pub(crate) link: LinkType,
    record_hdr_len: usize,
    /// Bytes of the input buffer handed out last time, to skip now.
    lent: usize,
}

impl State {
    /// Reads the rest of the file header after its `magic`.
    pub(crate) fn start(input: &mut impl Read, magic: [u8; 4]) -> Result<Self, ReadError> {
        let (endian, value) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (m @ (MAGIC_MICRO | MAGIC_NANO | MAGIC_MODIFIED), _) => (Endian::Little, m),
            (_, m @ (MAGIC_MICRO | MAGIC_NANO | MAGIC_MODIFIED)) => (Endian::Big, m),
            _ => {
                return Err(ReadError::Format(format!(
                    "not a pcap or pcapng file (starts with {})",
                    hex::encode(magic)
                )))
            }
        };
        let mut rest = [0u8; 20];
        read_exact_or(input, &mut rest, "truncated pcap file header")?;
        // rest: version (2+2), thiszone, sigfigs, snaplen, link type (with FCS bits).
        let link = LinkType::of_dlt(endian.u32(&rest[16..20]) & 0x03ff_ffff);
        let snaplen = match endian.u32(&rest[12..16]) as usize {
            0 => MAX_FRAME,
            n => n.min(MAX_FRAME),
        };
        Ok(State {
            endian,
            snaplen,
            precision: if value == MAGIC_NANO {
                TsPrecision::Nano
            } else {
                TsPrecision::Micro
            },
            link,
            record_hdr_len: if value == MAGIC_MODIFIED { 24 } else { 16 },
            lent: 0,
        })
    }

    pub(crate) fn next(
        &mut self,
        input: &mut impl BufRead,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(FrameMeta, Bytes)>, ReadError> {
        input.consume(std::mem::take(&mut self.lent));
        let hdr_len = self.record_hdr_len;
        let avail = input.fill_buf()?;
        if avail.is_empty() {
            return Ok(None);
        }
        // Most records lie whole in the buffer: header and bytes are read
        // where they are, without copying the header out.
        if let Some(hdr) = avail.get(..hdr_len) {
            let (meta, cap_len) = self.record_header(hdr);
            if cap_len <= MAX_FRAME && avail.len() - hdr_len >= cap_len {
                self.lent = hdr_len + cap_len;
                let kept = cap_len.min(self.snaplen);
                return Ok(Some((meta, Bytes::InPlace(hdr_len..hdr_len + kept))));
            }
        }
        let mut hdr = [0u8; 24];
        let hdr = &mut hdr[..hdr_len];
        read_exact_or(input, hdr, "truncated record header")?;
        let (meta, cap_len) = self.record_header(hdr);
        if cap_len > MAX_FRAME {
            return Err(ReadError::Format(format!(
                "record claims {cap_len} captured bytes, more than any capture holds"
            )));
        }
        // Bytes beyond the file's snaplen are dropped, as libpcap (and so
        // tcpdump) drops them: such records come from damaged writers.
        let kept = cap_len.min(self.snaplen);
        let bytes = if input.fill_buf()?.len() >= cap_len {
            self.lent = cap_len;
            Bytes::InPlace(0..kept)
        } else {
            buf.resize(cap_len, 0);
            read_exact_or(
                input,
                buf,
                "truncated record: fewer captured bytes than announced",
            )?;
            buf.truncate(kept);
            Bytes::Copied(kept)
        };
        Ok(Some((meta, bytes)))
    }

    /// A record header's time and lengths, and its captured length.
    #[inline(always)]
    fn record_header(&self, hdr: &[u8]) -> (FrameMeta, usize) {
        let e = self.endian;
        let (sec, frac) = (e.u32(&hdr[0..4]), e.u32(&hdr[4..8]));
        let cap_len = e.u32(&hdr[8..12]) as usize;
        let orig_len = e.u32(&hdr[12..16]);
        let nsec = match self.precision {
            TsPrecision::Micro => u64::from(frac) * 1000,
            TsPrecision::Nano => u64::from(frac),
        };
        // A fraction past one second (damaged or odd writers) carries over.
        let ts = if nsec < 1_000_000_000 {
            Timestamp {
                sec: i64::from(sec),
                nsec: nsec as u32,
            }
        } else {
            Timestamp {
                sec: i64::from(sec) + (nsec / 1_000_000_000) as i64,
                nsec: (nsec % 1_000_000_000) as u32,
            }
        };
        let meta = FrameMeta {
            ts,
            orig_len,
            link: self.link,
            precision: self.precision,
        };
        (meta, cap_len)
    }
}
