//! Capture files read by hand, streaming: classic pcap (micro- and
//! nanosecond, either byte order, the "modified" Kuznetzov variant) and
//! pcapng (every section, every interface with its own link type and
//! timestamp resolution). libpcap refuses pcapng files whose interfaces
//! differ in link type; this reader takes them.
//!
//! Memory is one reusable buffer whatever the file size. End of file is
//! `Ok(None)`; a damaged file is an error naming the frame it broke after,
//! and every frame before it has been returned.

mod classic;
mod pcapng;

use std::io::{self, BufRead, BufReader, Read};

use crate::values::{LinkType, RawFrame, Timestamp, TsPrecision};

/// Why a file could not be read further.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The bytes break the format: what rule, in words.
    Format(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Format(s) => f.write_str(s),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The largest captured length accepted for one frame: libpcap's
/// MAXIMUM_SNAPLEN. Larger values come from damaged files.
pub const MAX_FRAME: usize = 262_144;

/// Input buffer size. 64 KiB keeps the kernel's copy and our reading of it in
/// the CPU's cache: with 1 MiB the same file took three times the system time
/// (measured on a 1 GB capture). Larger records are copied, not lent.
const READ_BUF: usize = 64 * 1024;

enum Format {
    Classic(classic::State),
    Pcapng(pcapng::State),
}

/// A pcap or pcapng file, frame by frame.
pub struct SavefileReader<R: Read> {
    input: BufReader<R>,
    format: Format,
    buf: Vec<u8>,
    frames: u64,
}

impl<R: Read> SavefileReader<R> {
    /// Reads the file header and recognises the format.
    pub fn new(input: R) -> Result<Self, ReadError> {
        let mut input = BufReader::with_capacity(READ_BUF, input);
        let head = input.fill_buf()?;
        if head.is_empty() {
            return Err(ReadError::Format("empty file: no capture header".into()));
        }
        let mut magic = [0u8; 4];
        read_exact_or(
            &mut input,
            &mut magic,
            "the file is shorter than a capture header",
        )?;
        let format = if magic == pcapng::SHB_TYPE {
            Format::Pcapng(pcapng::State::start(&mut input)?)
        } else {
            Format::Classic(classic::State::start(&mut input, magic)?)
        };
        Ok(Self {
            input,
            format,
            buf: Vec::new(),
            frames: 0,
        })
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// Link type of the first interface (classic pcap has only one).
    pub fn first_link(&self) -> Option<LinkType> {
        match &self.format {
            Format::Classic(s) => Some(s.link),
            Format::Pcapng(s) => s.first_link(),
        }
    }

    /// Timestamp precision of the file (pcapng: the finest interface so far).
    pub fn precision(&self) -> TsPrecision {
        match &self.format {
            Format::Classic(s) => s.precision,
            Format::Pcapng(s) => s.precision(),
        }
    }

    /// The next frame, `Ok(None)` at a clean end of file.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, ReadError> {
        let found = match &mut self.format {
            Format::Classic(s) => s.next(&mut self.input, &mut self.buf)?,
            Format::Pcapng(s) => s.next(&mut self.input)?,
        };
        let Some((meta, bytes)) = found else {
            return Ok(None);
        };
        self.frames += 1;
        let data = match (bytes, &self.format) {
            (Bytes::InPlace(r), _) => &self.input.buffer()[r],
            (Bytes::Copied(n), _) => &self.buf[..n],
            (Bytes::Block(r), Format::Pcapng(s)) => &s.block()[r],
            (Bytes::Block(_), Format::Classic(_)) => unreachable!("classic pcap has no blocks"),
        };
        Ok(Some(RawFrame {
            ts: meta.ts,
            orig_len: meta.orig_len,
            data,
            link: meta.link,
            precision: meta.precision,
        }))
    }
}

/// Where a frame's bytes are after a format's `next`.
pub(crate) enum Bytes {
    /// In the input's buffer (not yet consumed), at this range.
    InPlace(std::ops::Range<usize>),
    /// In the reader's copy buffer, this long.
    Copied(usize),
    /// In the pcapng block buffer, at this range.
    Block(std::ops::Range<usize>),
}

/// What a format's `next` found; the bytes are in the shared buffer.
pub(crate) struct FrameMeta {
    ts: Timestamp,
    orig_len: u32,
    link: LinkType,
    precision: TsPrecision,
}

/// Reads exactly `buf.len()` bytes; a short read is a format error saying `what`.
pub(crate) fn read_exact_or(
    input: &mut impl Read,
    buf: &mut [u8],
    what: &str,
) -> Result<(), ReadError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ReadError::Format(what.to_string()),
        _ => ReadError::Io(e),
    })
}

/// True if the input is at its end (no byte left).
pub(crate) fn at_eof(input: &mut impl BufRead) -> Result<bool, ReadError> {
    Ok(input.fill_buf()?.is_empty())
}

/// Sixteen- and thirty-two-bit reads in the file's byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    pub(crate) fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
}
