//! One captured frame.

use crate::values::{LinkType, Timestamp, TsPrecision};

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
    pub fn as_raw(&self) -> super::RawFrame<'_> {
        super::RawFrame {
            ts: self.ts,
            orig_len: self.orig_len,
            data: &self.data,
            link: self.link,
            precision: self.precision,
        }
    }
}

/// `tv_sec` is `time_t`: 64 bits here, 32 on some targets.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn timeval_secs(tv_sec: TimeT) -> i64 {
    tv_sec as i64
}

type TimeT = std::os::raw::c_long;
