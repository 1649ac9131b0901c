//! Frames in, traced packets out: decode, then flow, then the record.

use crate::capture::Frame;
use crate::decode::decode;
use crate::flow::{FlowInfo, PhaseTracker, Segment, Tracker};
use crate::render::{PacketRecord, TracedPacket};

/// The per-packet path shared by every command that reads frames.
pub struct Pipeline {
    max_hex: usize,
    tracker: Tracker,
    phases: PhaseTracker,
    frames: u64,
}

impl Pipeline {
    /// `max_hex` cuts `payload_hex` to that many bytes.
    pub fn new(max_hex: usize) -> Self {
        Self {
            max_hex,
            tracker: Tracker::new(),
            phases: PhaseTracker::new(),
            frames: 0,
        }
    }

    /// Decodes and places one frame. Returns the segment (if TCP) beside the
    /// packet, so callers can watch the connection.
    pub fn push(&mut self, frame: Frame) -> (TracedPacket, Option<(Segment, FlowInfo)>) {
        self.frames += 1;
        let packet = decode(frame.link, &frame.data);
        let seg = Segment::of(&packet);
        let placed = seg.map(|s| (s, self.tracker.observe(&s)));
        let phase = placed.map(|(s, info)| self.phases.observe(&s, &info));
        let record = PacketRecord::build(
            self.frames,
            &frame,
            frame.precision,
            &packet,
            placed.as_ref().map(|(_, info)| info),
            self.max_hex,
        );
        let traced = TracedPacket {
            record,
            ts: frame.ts,
            layout: packet.layout,
            flags: packet.flags(),
            direction: placed.map(|(_, info)| info.direction),
            phase,
            data: Vec::new(),
        };
        drop(packet);
        let traced = TracedPacket {
            data: frame.data,
            ..traced
        };
        (traced, placed)
    }
}
