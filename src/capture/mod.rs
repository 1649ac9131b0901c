//! Frames from libpcap (live or a file) or from memory, and pcap savefiles.
//!
//! This module owns the capture boundary: timestamps, captured and original
//! lengths, the link type and the raw bytes. It knows nothing of TCP, flows or
//! output. End of input is `Ok(None)`, not an error.

mod around;
mod file;
mod filter;
mod live;
pub mod privileges;
mod reader;
mod savefile;

pub use around::{capture_around, Ended, Verdict};
pub use file::FileSource;
pub use filter::FrameFilter;
pub use live::{loopback_interface, LiveCapture, LiveConfig};
pub use reader::{ReadError, SavefileReader};
pub use savefile::PcapWriter;

use crate::values::{Frame, LinkType, TsPrecision};
use crate::Result;

/// Anything that hands out frames one at a time: a file, or memory in tests.
pub trait PacketSource {
    /// The link type of the frames (decides how the first bytes are read).
    fn link(&self) -> LinkType;
    /// The timestamp precision the source keeps.
    fn precision(&self) -> TsPrecision;
    /// The next frame, `Ok(None)` at the end.
    fn next_frame(&mut self) -> Result<Option<Frame>>;
}

/// Frames held in memory: the source tests feed the pipeline with.
#[derive(Debug, Clone)]
pub struct MemorySource {
    link: LinkType,
    frames: std::collections::VecDeque<Frame>,
}

impl MemorySource {
    /// A source that yields `frames` in order; `link` is what it reports
    /// as its link type (each frame carries its own).
    pub fn new(link: LinkType, frames: impl IntoIterator<Item = Frame>) -> Self {
        Self {
            link,
            frames: frames.into_iter().collect(),
        }
    }
}

impl PacketSource for MemorySource {
    fn link(&self) -> LinkType {
        self.link
    }
    fn precision(&self) -> TsPrecision {
        TsPrecision::Nano
    }
    fn next_frame(&mut self) -> Result<Option<Frame>> {
        Ok(self.frames.pop_front())
    }
}
