//! Frames from libpcap live or from capture files, and pcap savefiles.
//!
//! This module owns the capture boundary: timestamps, captured and original
//! lengths, the link type and the raw bytes. It knows nothing of TCP, flows or
//! output. End of input is `Ok(None)`, not an error.

mod around;
mod drain;
mod file;
mod filter;
mod live;
mod pcap_error;
pub mod privileges;
mod reader;
mod savefile;

pub use around::{capture_around, Ended, Verdict};
pub use drain::{Gauge, QUEUE_BYTES};
pub use file::FileSource;
pub use filter::FrameFilter;
pub use live::{loopback_interface, LiveCapture, LiveConfig, BLOCK_TIMEOUT_MS, DEFAULT_BUFFER};
pub use reader::{ReadError, SavefileReader};
pub use savefile::PcapWriter;

use crate::values::{Frame, LinkType, TsPrecision};
use crate::Result;

/// Anything that hands out frames one at a time: today a capture file
/// ([`FileSource`]); tests build [`Frame`]s and push them into the pipeline
/// directly.
pub trait PacketSource {
    /// The link type of the frames (decides how the first bytes are read).
    fn link(&self) -> LinkType;
    /// The timestamp precision the source keeps.
    fn precision(&self) -> TsPrecision;
    /// The next frame, `Ok(None)` at the end.
    fn next_frame(&mut self) -> Result<Option<Frame>>;
}
