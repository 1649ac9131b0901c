//! Frames in, analysed packets out: decode, then flow (streams, relative
//! numbers, analysis, phases). Shared by every command that reads frames.

use crate::capture::{Frame, RawFrame};
use crate::decode::{decode_frame, Packet};
use crate::flow::{FlowInfo, Phase, Segment, Tracker};
use crate::render::{PacketRecord, TracedPacket};

/// One frame after the per-packet path.
#[derive(Debug)]
pub struct Step<'a> {
    /// 1-based frame number.
    pub number: u64,
    pub packet: Packet<'a>,
    /// The segment and where the tracker placed it, if the frame is TCP.
    pub placed: Option<(Segment, FlowInfo)>,
    pub phase: Option<Phase>,
}

impl Step<'_> {
    pub fn flow(&self) -> Option<&FlowInfo> {
        self.placed.as_ref().map(|(_, f)| f)
    }
}

/// The per-packet state: conversations and phases.
pub struct Pipeline {
    max_hex: usize,
    tracker: Tracker,
    frames: u64,
}

impl Pipeline {
    /// `max_hex` cuts records' `payload_hex` to that many bytes.
    pub fn new(max_hex: usize) -> Self {
        Self {
            max_hex,
            tracker: Tracker::new(),
            frames: 0,
        }
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Streams seen so far.
    pub fn streams(&self) -> u32 {
        self.tracker.streams()
    }

    /// Decodes, places and analyses one frame, borrowing its bytes;
    /// `number` is its frame number in the source (1-based).
    pub fn step<'a>(&mut self, number: u64, frame: &RawFrame<'a>) -> Step<'a> {
        self.frames += 1;
        let packet = decode_frame(frame.link, frame.data, frame.orig_len);
        let placed = Segment::of(&packet).map(|s| (s, self.tracker.observe(number, frame.ts, &s)));
        let phase = placed.map(|(_, info)| info.phase);
        Step {
            number,
            packet,
            placed,
            phase,
        }
    }

    /// The record of a step (JSON's packet object).
    pub fn record(&self, frame: &RawFrame<'_>, step: &Step<'_>) -> PacketRecord {
        PacketRecord::build(step.number, frame, &step.packet, step.flow(), self.max_hex)
    }

    /// Steps an owned frame and keeps everything the text view needs.
    pub fn push(&mut self, frame: Frame) -> (TracedPacket, Option<(Segment, FlowInfo)>) {
        let raw = frame.as_raw();
        let step = self.step(self.frames + 1, &raw);
        let record = self.record(&raw, &step);
        let traced = TracedPacket {
            record,
            link: frame.link,
            ts: frame.ts,
            layout: step.packet.layout,
            flags: step.packet.flags(),
            direction: step.flow().map(|f| f.direction),
            phase: step.phase,
            findings: step.flow().map(|f| f.findings).unwrap_or_default(),
            window: step.flow().map(|f| f.window),
            data: Vec::new(),
        };
        let placed = step.placed;
        let traced = TracedPacket {
            data: frame.data,
            ..traced
        };
        (traced, placed)
    }
}
