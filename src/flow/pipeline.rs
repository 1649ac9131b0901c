//! The per-packet pipeline every command, lab, fuzz target and test runs:
//! a frame in, decoded once, placed in its conversation (stream, direction,
//! relative numbers, analysis, phase), a typed [`Packet`] out.

use super::defrag::Defrag;
use super::{fragments, Packet, Tracker};
use crate::decode::{decode_common, decode_frame, Layer};
use crate::values::{Frame, RawFrame};

/// The per-packet state: the conversations seen so far.
#[derive(Debug, Default)]
pub struct Pipeline {
    tracker: Tracker,
    frames: u64,
    /// IP fragments waiting for the rest of their datagram.
    defrag: Defrag,
}

impl Pipeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Streams seen so far.
    pub fn streams(&self) -> u32 {
        self.tracker.streams()
    }

    /// The conversations: who is client and server of each stream.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// Decodes and places frame number `number` (1-based, its number in the
    /// source) into `into`, reusing its byte buffer: the hot path of replay
    /// allocates nothing per frame.
    pub fn step_into(&mut self, number: u64, frame: &RawFrame<'_>, into: &mut Packet) {
        into.data.clear();
        into.data.extend_from_slice(frame.data);
        self.decode(number, frame, into);
        self.observe(into);
    }

    /// Every decoded field of `into` but its bytes and its flow, from `frame`.
    fn decode(&mut self, number: u64, frame: &RawFrame<'_>, into: &mut Packet) {
        self.frames += 1;
        into.number = number;
        into.ts = frame.ts;
        into.precision = frame.precision;
        into.link = frame.link;
        into.frame_len = frame.orig_len;
        if let Some(c) = decode_common(frame.link, frame.data, frame.orig_len) {
            into.outer = c.outer;
            into.layout = c.layout;
            into.ip = Some(c.ip);
            into.tcp = Some(c.tcp);
            into.payload_len = c.payload_len;
            into.error = None;
            into.note = None;
            into.reassembled = None;
            into.fragmented = false;
            return;
        }
        let sliced = decode_frame(frame.link, frame.data, frame.orig_len);
        into.outer = sliced.outer;
        into.layout = sliced.layout;
        into.ip = sliced.ip.clone();
        into.tcp = sliced.tcp_values();
        into.payload_len = sliced.payload_len;
        into.error = sliced.error;
        into.note = sliced.note;
        into.reassembled = None;
        into.fragmented = false;
        if let Some(f) = &sliced.fragment {
            fragments::enter(&mut self.defrag, frame.data, f, into);
        }
    }

    /// The packet's place in its conversation; reads its bytes (a SYN's
    /// window scale), so they must be in place.
    fn observe(&mut self, into: &mut Packet) {
        into.flow = into.segment().map(|seg| {
            if into.fragmented {
                self.tracker.place_unanalysed(&seg)
            } else {
                self.tracker.observe(into.number, into.ts, &seg)
            }
        });
        // A TCP header that broke stops tshark's dissection before it
        // counts bytes in flight (the rest of the analysis came first).
        if let (Some(flow), Some(e)) = (into.flow.as_mut(), &into.error) {
            if e.layer == Layer::Tcp {
                flow.findings.bytes_in_flight = None;
            }
        }
    }

    /// Like [`Pipeline::step_into`] for a frame the caller owns: its bytes
    /// move into the packet instead of being copied (a live capture's
    /// 64 KB loopback frames, at full speed).
    pub fn step_frame(&mut self, number: u64, frame: Frame, into: &mut Packet) {
        let data = frame.data;
        let raw = RawFrame {
            ts: frame.ts,
            orig_len: frame.orig_len,
            data: &data,
            link: frame.link,
            precision: frame.precision,
        };
        self.decode(number, &raw, into);
        into.data = data;
        self.observe(into);
    }

    /// Like [`Pipeline::step_into`], into a new packet.
    pub fn step(&mut self, number: u64, frame: &RawFrame<'_>) -> Packet {
        let mut p = Packet::default();
        self.step_into(number, frame, &mut p);
        p
    }

    /// The next frame of a live capture: numbered in arrival order.
    pub fn push(&mut self, frame: &RawFrame<'_>) -> Packet {
        self.step(self.frames + 1, frame)
    }
}
