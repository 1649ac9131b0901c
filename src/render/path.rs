//! What the impaired path did, as the trace report carries it: what was
//! asked, what the forwarder dropped (and where each drop sits in the
//! capture), each side's kernel counters, and the words put on the rows of
//! the timeline (a frame dropped on purpose, how a retransmission came).

use std::collections::BTreeMap;

use serde::Serialize;

/// Notes for timeline rows, by frame number: such a row is never folded.
pub type Marks = BTreeMap<u64, String>;

/// The impaired path's part of a trace report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathReport {
    /// What was asked, in words: `loss 5% (seed 7) · delay 20 ms each way`.
    pub asked: String,
    /// Which end the capture watched: `client` or `server`.
    pub capture_at: &'static str,
    pub dropped: Vec<DropMark>,
    /// TCP frames the forwarder passed, each way: with the drops of that
    /// way, every TCP frame it read. A capture at a way's sending end saw
    /// passed + dropped - `after_capture` of its frames, one at the
    /// receiving end passed - `after_capture`.
    pub forwarded: WayCounts,
    /// Of those frames (read, at the sending end; passed, at the receiving
    /// end), the ones the capture does not hold: they crossed its end after
    /// its last frame (an end still sending after the teardown it waits
    /// for, or a frame the forwarder released as it stopped).
    pub after_capture: WayCounts,
    /// Frames it passed that are not TCP (a new link's IPv6 multicast
    /// reports and neighbour solicitations), which a `tcp port` capture
    /// never shows.
    pub not_tcp: WayCounts,
    /// Frames held back and sent after their successor, each way.
    pub reordered: WayCounts,
    /// Frames the forwarder's own sockets lost (never asked for).
    pub forwarder_overrun: u64,
    /// Each side's kernel TCP counters after the run (its own namespace).
    pub kernel: Kernels,
    /// The words on the timeline's rows, by frame number.
    #[serde(rename = "notes")]
    pub marks: Marks,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct WayCounts {
    pub client_to_server: u64,
    pub server_to_client: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Kernels {
    pub client: BTreeMap<String, u64>,
    pub server: BTreeMap<String, u64>,
}

/// One frame the forwarder dropped.
#[derive(Debug, Clone, Serialize)]
pub struct DropMark {
    /// `client_to_server` or `server_to_client`.
    pub direction: &'static str,
    /// Relative to its side's ISN, as the timeline shows it.
    pub seq: u32,
    pub len: u32,
    /// `drop 3` (the third data segment, `--drop 3`) or `loss` (random).
    pub reason: String,
    /// The captured frame it was, when the capture saw it before the drop.
    pub frame: Option<u64>,
    /// Milliseconds since the capture's first frame.
    pub t_ms: f64,
}
