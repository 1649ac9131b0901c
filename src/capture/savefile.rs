//! Writing classic pcap savefiles (nanosecond variant), readable by tcpdump,
//! Wireshark and libpcap. Written by hand because the format is 24 + 16 bytes
//! of header and this way it goes to any `Write`, not only a libpcap handle.

use std::io::{IoSlice, Write};

use crate::values::{Frame, LinkType, Timestamp};

/// Magic of a pcap file with nanosecond timestamps (pcap-savefile(5)).
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
const VERSION_MAJOR: u16 = 2;
const VERSION_MINOR: u16 = 4;

/// Streams frames into a pcap file. It counts the bytes of the header and
/// of every record handed over whole, so that after a failed write (a full
/// disk) the caller can cut the file back to its last whole record.
pub struct PcapWriter<W: Write> {
    out: W,
    whole_len: u64,
    records: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header at once.
    pub fn new(mut out: W, link: LinkType, snaplen: u32) -> std::io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NANO.to_le_bytes());
        h.extend_from_slice(&VERSION_MAJOR.to_le_bytes());
        h.extend_from_slice(&VERSION_MINOR.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone: always 0 (UTC)
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs: always 0
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&link.dlt().to_le_bytes());
        out.write_all(&h)?;
        Ok(Self {
            out,
            whole_len: h.len() as u64,
            records: 0,
        })
    }

    /// Bytes of the header and the records written whole so far.
    pub fn whole_len(&self) -> u64 {
        self.whole_len
    }

    /// Records written whole so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The writer underneath (to cut a file back after a failed write).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Appends one frame.
    pub fn write_frame(&mut self, frame: &Frame) -> std::io::Result<()> {
        self.write_record(frame.ts, frame.orig_len, &frame.data)
    }

    /// Appends one record: captured `data` of a frame `orig_len` bytes long.
    pub fn write_record(
        &mut self,
        ts: Timestamp,
        orig_len: u32,
        data: &[u8],
    ) -> std::io::Result<()> {
        let mut h = [0u8; 16];
        // pcap's seconds field is 32 bits: unsigned, it lasts until 2106.
        h[0..4].copy_from_slice(&(ts.sec as u32).to_le_bytes());
        h[4..8].copy_from_slice(&ts.nsec.to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        // One writev of header and data: no copy of the frame into a record
        // buffer (a 64 KB loopback frame at full speed is worth keeping).
        let total = h.len() + data.len();
        let mut done = self
            .out
            .write_vectored(&[IoSlice::new(&h), IoSlice::new(data)])?;
        if done < h.len() {
            self.out.write_all(&h[done..])?;
            done = h.len();
        }
        if done < total {
            self.out.write_all(&data[done - h.len()..])?;
        }
        self.whole_len += total as u64;
        self.records += 1;
        Ok(())
    }

    /// Flushes and hands back the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
