//! A captured frame: its time, lengths, link type and bytes, owned or
//! borrowed. Capture makes them; the pipeline reads them.

use super::{LinkType, Timestamp, TsPrecision};

/// One frame borrowed from where it lies (a file reader's buffer, an owned
/// [`Frame`]): what the per-packet pipeline reads.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    pub ts: Timestamp,
    pub orig_len: u32,
    pub data: &'a [u8],
    pub link: LinkType,
    pub precision: TsPrecision,
}

/// A frame as the capture layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub ts: Timestamp,
    /// How to read the first bytes (per frame: pcapng interfaces differ).
    pub link: LinkType,
    /// Digits of a second the source keeps for this frame.
    pub precision: TsPrecision,
    /// Length on the wire; `data` may be shorter when the snaplen cut it.
    pub orig_len: u32,
    /// The captured bytes (`cap_len` is their length).
    pub data: Vec<u8>,
}

impl Frame {
    /// Captured length.
    pub fn cap_len(&self) -> u32 {
        self.data.len() as u32
    }

    /// A borrowed view, as the file reader hands frames out.
    pub fn as_raw(&self) -> RawFrame<'_> {
        RawFrame {
            ts: self.ts,
            orig_len: self.orig_len,
            data: &self.data,
            link: self.link,
            precision: self.precision,
        }
    }
}
