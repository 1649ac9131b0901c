//! Ladder (sequence) diagrams of one TCP connection: the client's and the
//! server's lifelines, one arrow per segment, and the arithmetic spelled out
//! where beginners stumble (why the SYN-ACK acknowledges 1, what `seq 1:6`
//! covers, why the FIN moves the sequence number).
//!
//! [`Ladder`] is the model, built from typed [`Packet`]s one at a time (so
//! `replay` can stream a capture and keep only the arrows); the three forms
//! draw it into a writer the caller passes:
//!
//! - [`write_ladder`]: box-drawing text that fits
//!   the terminal width (`terminal.rs`);
//! - [`write_ladder_svg`]: a self-contained SVG for slides (`svg.rs`);
//! - [`write_ladder_mermaid`]: a Mermaid `sequenceDiagram` (`mermaid.rs`).
//!
//! ```
//! use tcplab::render::{Ladder, EndpointInfo};
//! let client = EndpointInfo { address: "127.0.0.1".into(), port: 45116, family: "IPv4" };
//! let server = EndpointInfo { address: "127.0.0.1".into(), port: 33805, family: "IPv4" };
//! let ladder = Ladder::new(client, server);
//! assert!(ladder.is_empty());
//! let mut mermaid = Vec::new();
//! tcplab::render::write_ladder_mermaid(&mut mermaid, &ladder).unwrap();
//! assert!(String::from_utf8(mermaid).unwrap().starts_with("sequenceDiagram"));
//! ```

mod fold;
mod lanes;
mod mermaid;
mod notes;
mod svg;
mod terminal;

pub use lanes::{AppKind, AppMark};
pub use mermaid::write_ladder_mermaid;
pub use svg::{ladder_slides, write_ladder_svg, write_ladder_svg_with, SvgOptions};
pub use terminal::{ladder_lines, write_ladder, LadderLines};

use crate::decode::Flags;
use crate::flow::{Direction, Packet, Phase, StateChange, States, TcpState};
use crate::render::{preview, Connection, EndpointInfo, OutputLine, SegmentKind, TraceReport};
use crate::values::{SocketLog, Timestamp};

/// Arrows kept per diagram; later segments are only counted. A ladder of
/// thousands of arrows teaches nothing, and `replay` must keep memory flat.
pub const MAX_ARROWS: usize = 1000;

/// Payload characters shown in an arrow's preview (`"hello"`).
const PREVIEW_CHARS: usize = 16;

/// One segment as an arrow.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    /// Frame number in the capture (1-based), as the timeline shows it.
    pub frame: u64,
    /// Milliseconds since the ladder's first segment.
    pub t_ms: f64,
    pub direction: Direction,
    pub kind: SegmentKind,
    pub flags: Flags,
    /// The flags as the label says them ([`Packet::spoken_flags`]: the AE
    /// bit, or with AccECN the ACE counter, `ACK ACE=5`, included).
    pub said: String,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgment number, when the ACK flag is set.
    pub ack: Option<u32>,
    /// Payload bytes.
    pub len: usize,
    /// The payload's first characters, quoted and escaped, if any.
    pub preview: Option<String>,
    pub phase: Option<Phase>,
    /// The arithmetic and analysis spelled out; empty on most arrows.
    pub notes: Vec<String>,
    /// Dropped on the path on purpose: drawn stopping half-way.
    pub lost: bool,
    /// The TCP states this segment moved each side to (RFC 9293).
    pub states: StateChange,
}

impl Arrow {
    /// Flags, numbers and length, Wireshark style: `PSH-ACK seq 1:6 ack 1 len 5`.
    /// A segment with payload shows `seq first:next` (bytes first to
    /// next - 1); `len` appears only when there is payload.
    pub fn label(&self) -> String {
        let mut s = self.said.clone();
        if self.len > 0 {
            let next = self.seq.wrapping_add(self.len as u32);
            s.push_str(&format!(" seq {}:{next}", self.seq));
        } else {
            s.push_str(&format!(" seq {}", self.seq));
        }
        if let Some(ack) = self.ack {
            s.push_str(&format!(" ack {ack}"));
        }
        if self.len > 0 {
            s.push_str(&format!(" len {}", self.len));
        }
        s
    }

    /// Milliseconds with three decimals (microseconds): `0.017`.
    pub fn time(&self) -> String {
        format!("{:.3}", self.t_ms)
    }

    /// True if the client sent it.
    pub fn from_client(&self) -> bool {
        self.direction == Direction::ClientToServer
    }
}

/// The diagram of one connection: its two ends and the arrows.
#[derive(Debug, Clone)]
pub struct Ladder {
    pub client: EndpointInfo,
    pub server: EndpointInfo,
    /// A heading for the SVG and Mermaid forms (a lab scenario's name).
    pub title: Option<String>,
    /// A line over the terminal ladder: which of several connections it
    /// is (`stream 1`).
    pub caption: Option<String>,
    arrows: Vec<Arrow>,
    omitted: usize,
    first_ts: Option<Timestamp>,
    notes: notes::Notes,
    states: States,
    /// The capture holds the connection's opening SYN.
    states_known: bool,
    /// What the two applications did, among the arrows.
    marks: Vec<AppMark>,
    /// Each side's last state as its kernel reported it (TCP_INFO), when
    /// it was asked: client, server.
    pub kernel_last: [Option<String>; 2],
}

impl Ladder {
    /// An empty ladder between `client` and `server`; [`Ladder::push`] adds
    /// the segments.
    pub fn new(client: EndpointInfo, server: EndpointInfo) -> Self {
        Ladder {
            client,
            server,
            title: None,
            caption: None,
            arrows: Vec::new(),
            omitted: 0,
            first_ts: None,
            notes: notes::Notes::default(),
            states: States::default(),
            states_known: false,
            marks: Vec::new(),
            kernel_last: [None, None],
        }
    }

    /// The ladder of a traced connection (`trace`, `lab`): the packets of
    /// the stream whose ports are the connection's; a second connection
    /// that happened to use the server's port is left out.
    pub fn of_connection(connection: &Connection, packets: &[Packet]) -> Self {
        let (c, s) = (connection.client.port, connection.server.port);
        let stream = packets
            .iter()
            .find(|p| {
                let ports = p.tcp.as_ref().map(|t| (t.src_port, t.dst_port));
                ports == Some((c, s)) || ports == Some((s, c))
            })
            .or_else(|| packets.iter().find(|p| p.flow.is_some()))
            .and_then(Packet::stream);
        let mut ladder = Ladder::new(connection.client.clone(), connection.server.clone());
        for p in packets.iter().filter(|p| p.stream() == stream) {
            ladder.push(p);
        }
        ladder
    }

    /// The ladder of a trace report: [`Ladder::of_connection`], with the
    /// segments the impaired path dropped drawn as lost, and both
    /// applications' lanes from the report's socket logs.
    pub fn of_report(report: &TraceReport) -> Self {
        let mut ladder = Ladder::of_connection(&report.connection, &report.packets);
        // Lost first: a read is placed after the segment that arrived.
        if let Some(path) = &report.path {
            let frames: Vec<u64> = path.dropped.iter().filter_map(|d| d.frame).collect();
            ladder.mark_lost(&frames);
        }
        ladder.add_applications(&report.sockets.client, &report.sockets.server);
        // A traced program's lines go on its side: the client's, unless
        // the client is tcplab's own.
        let client_is_ours = report.kernel.as_ref().is_some_and(|k| k.own[0]);
        ladder.add_printed(&report.lines, !client_is_ours);
        if let Some(k) = &report.kernel {
            let last = |s: &Option<crate::render::KernelSide>| s.as_ref().map(|s| s.state.clone());
            ladder.kernel_last = [last(&k.client), last(&k.server)];
        }
        ladder
    }

    /// Marks the arrows of `frames` as lost on the path (they stop
    /// half-way) and says so in a note.
    pub fn mark_lost(&mut self, frames: &[u64]) {
        for a in self.arrows.iter_mut().filter(|a| frames.contains(&a.frame)) {
            a.lost = true;
            a.notes
                .insert(0, "✗ dropped here on purpose: it never arrived".to_string());
        }
    }

    /// The ladder of stream `stream` among `packets` (`replay --stream N`),
    /// its ends taken from the first segment; `None` if the stream has none.
    pub fn of_stream(packets: &[Packet], stream: u32) -> Option<Self> {
        Ladder::of_stream_since(packets, stream, None)
    }

    /// [`Ladder::of_stream`], its times counted from `origin` if given:
    /// the ladders of one run's several connections share the run's clock,
    /// so their times can be compared.
    pub fn of_stream_since(
        packets: &[Packet],
        stream: u32,
        origin: Option<Timestamp>,
    ) -> Option<Self> {
        let mut ladder: Option<Ladder> = None;
        for p in packets.iter().filter(|p| p.stream() == Some(stream)) {
            if ladder.is_none() {
                let (client, server) = endpoints(p)?;
                let mut l = Ladder::new(client, server);
                l.first_ts = origin;
                ladder = Some(l);
            }
            if let Some(l) = ladder.as_mut() {
                l.push(p);
            }
        }
        ladder
    }

    /// Adds one segment of this connection (anything that is not a placed
    /// TCP segment is skipped). After [`MAX_ARROWS`] arrows, segments are
    /// only counted ([`Ladder::omitted`]).
    pub fn push(&mut self, p: &Packet) {
        let (Some(flow), Some(flags)) = (p.flow, p.flags()) else {
            return;
        };
        let first = *self.first_ts.get_or_insert(p.ts);
        let len = p.payload_len;
        let mut arrow = Arrow {
            frame: p.number,
            t_ms: p.ts.secs_since(first) * 1000.0,
            direction: flow.direction,
            kind: SegmentKind::of(flags, len),
            flags,
            said: p.spoken_flags().unwrap_or_default(),
            seq: flow.seq,
            ack: flags.contains(Flags::ACK).then_some(flow.ack),
            len,
            preview: (len > 0).then(|| preview(p.payload(), PREVIEW_CHARS)),
            phase: Some(flow.phase),
            notes: Vec::new(),
            lost: false,
            states: StateChange::default(),
        };
        arrow.states = self.states_of(flow.direction, flags, flow.seq, flow.ack, len as u32);
        // The note state sees every segment, drawn or not, so it stays right.
        arrow.notes = self.notes.observe(&arrow, p);
        if self.arrows.len() < MAX_ARROWS {
            self.arrows.push(arrow);
        } else {
            self.omitted += 1;
        }
    }

    /// The states a segment moves each side to, when they can be known:
    /// the capture holds the opening SYN. A reset before any SYN-ACK means
    /// nothing listened: the server never left CLOSED, so no arrow says
    /// LISTEN or SYN_RECEIVED for it.
    fn states_of(
        &mut self,
        d: Direction,
        flags: Flags,
        seq: u32,
        ack: u32,
        len: u32,
    ) -> StateChange {
        let mut change = self.states.segment(d, flags, seq, ack, len);
        if self.arrows.is_empty() && self.omitted == 0 {
            self.states_known = flags.contains(Flags::SYN) && !flags.contains(Flags::ACK);
        }
        if !self.states_known {
            return StateChange::default();
        }
        let answered = |a: &Arrow| a.flags.contains(Flags::SYN) && !a.from_client();
        if flags.contains(Flags::RST) && !self.arrows.iter().any(answered) {
            for a in &mut self.arrows {
                a.states.server = None;
            }
            change.server = None;
        }
        change
    }

    /// Places what each side's application did among the arrows (call it
    /// once every segment is pushed). Marks after the last drawn arrow of
    /// a ladder that omitted segments are left out with them.
    pub fn add_applications(&mut self, client: &SocketLog, server: &SocketLog) {
        let relative = self.states_known;
        self.marks = lanes::place(&self.arrows, self.first_ts, relative, client, server);
        self.keep_drawn_marks();
    }

    /// Keeps at most [`MAX_ARROWS`] of the (sorted) marks, none after the
    /// last drawn arrow of a ladder that omitted segments.
    fn keep_drawn_marks(&mut self) {
        if self.omitted > 0 {
            let drawn = self.arrows.len();
            self.marks.retain(|m| m.slot < drawn);
        }
        self.marks.truncate(MAX_ARROWS);
    }

    /// Places a traced program's printed lines on the `client`'s lane or
    /// the server's.
    pub fn add_printed(&mut self, lines: &[OutputLine], client: bool) {
        if lines.is_empty() {
            return;
        }
        let first = self.first_ts;
        self.marks
            .extend(lanes::printed(&self.arrows, first, lines, client));
        lanes::sort(&mut self.marks);
        self.keep_drawn_marks();
    }

    /// The applications' marks, in drawing order.
    pub fn marks(&self) -> &[AppMark] {
        &self.marks
    }

    /// The marks around each arrow: those drawn just before it and those
    /// just after. Between two arrows, the marks up to the first call go
    /// with the arrow above (what its arrival caused), the rest with the
    /// arrow below (a `write()` and what it sends): a step shows cause and
    /// effect together.
    pub fn marks_around(&self) -> Vec<(Vec<&AppMark>, Vec<&AppMark>)> {
        let n = self.arrows.len();
        let mut groups: Vec<(Vec<&AppMark>, Vec<&AppMark>)> = vec![Default::default(); n];
        if n == 0 {
            return groups;
        }
        for slot in 0..=n {
            let here: Vec<&AppMark> = self.marks.iter().filter(|m| m.slot == slot).collect();
            let split = here
                .iter()
                .position(|m| matches!(m.kind, AppKind::Call(_)))
                .unwrap_or(here.len());
            let (above, below) = here.split_at(split);
            match slot {
                0 => groups[0].0.extend(above.iter().chain(below)),
                s if s == n => groups[n - 1].1.extend(above.iter().chain(below)),
                s => {
                    groups[s - 1].1.extend(above);
                    groups[s].0.extend(below);
                }
            }
        }
        groups
    }

    /// The kernel's last word on each side (client, server), checked
    /// against the last state the segments gave it: `kernel: TIME_WAIT ✓`
    /// when they agree, `✗` when not.
    pub fn kernel_words(&self) -> [Option<String>; 2] {
        let derived = |pick: fn(&StateChange) -> Option<TcpState>| {
            self.arrows.iter().rev().find_map(|a| pick(&a.states))
        };
        let sides = [derived(|s| s.client), derived(|s| s.server)];
        std::array::from_fn(|i| {
            let kernel = self.kernel_last[i].as_deref()?;
            Some(match sides[i] {
                Some(d) if d.name() == kernel => format!("kernel: {kernel} ✓"),
                Some(_) => format!("kernel: {kernel} ✗"),
                None => format!("kernel: {kernel}"),
            })
        })
    }

    /// The arrows, in capture order.
    pub fn arrows(&self) -> &[Arrow] {
        &self.arrows
    }

    /// Segments after the first [`MAX_ARROWS`], counted but not drawn.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// True if no segment was added.
    pub fn is_empty(&self) -> bool {
        self.arrows.is_empty()
    }

    /// The role name of a direction's sender: `client` or `server`.
    fn sender(direction: Direction) -> &'static str {
        match direction {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }
}

/// The client and server ends of `p`'s connection, from its addresses and
/// direction; `None` if it is not a placed TCP segment.
pub fn endpoints(p: &Packet) -> Option<(EndpointInfo, EndpointInfo)> {
    let seg = p.segment()?;
    let (src, dst) = (EndpointInfo::from(seg.src), EndpointInfo::from(seg.dst));
    match p.direction()? {
        Direction::ClientToServer => Some((src, dst)),
        Direction::ServerToClient => Some((dst, src)),
    }
}

/// `127.0.0.1:45116`, or `[::1]:45116` for IPv6.
pub fn endpoint_text(e: &EndpointInfo) -> String {
    if e.address.contains(':') {
        format!("[{}]:{}", e.address, e.port)
    } else {
        format!("{}:{}", e.address, e.port)
    }
}
