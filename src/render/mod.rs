//! Everything users read: the packet record (JSON contract), the trace
//! report as text (tables, size lines, hex dumps, socket stats) and as JSON.
//! Renderers write only into the writer they are given.

mod ascii;
mod follow;
mod hexdump;
mod html;
mod lab;
mod ladder;
mod path;
mod program;
mod record;
mod rows;
mod send;
mod step;
mod style;
mod summary;
mod text;
mod trace_json;

pub use follow::{escape, FollowWriter};
pub use hexdump::{hexdump, hexdump_at, Span};
pub use html::{write_html, PagePart, PageText, PAGE_FRAME_BYTES};
pub use lab::{
    lab_ladders, lab_page, lab_steps, write_lab_json, write_lab_text, Check, ConnectionLogs, Lab,
    Outcome, Part, LAB_DUMP_BUDGET, LAB_DUMP_BYTES, LAB_MAX_HEX,
};
pub use ladder::{
    endpoint_text, endpoints, ladder_lines, ladder_slides, write_ladder, write_ladder_mermaid,
    write_ladder_svg, write_ladder_svg_with, Arrow, Ladder, LadderLines, SvgOptions, MAX_ARROWS,
};
pub use path::{DropMark, Kernels, Marks, PathReport, WayCounts};
pub use program::{
    write_program_json, KernelChange, KernelSide, KernelView, OutputLine, ProgramExit, ProgramInfo,
    ProgramReport,
};
pub use record::{write_record, write_record_explained, PacketRecord};
pub use rows::{analysis_words, explain, push_preview, RowWriter};
pub use send::{SendEvent, SendPrinter};
pub use step::{never, play, Screen, Steps};
pub use style::{Paint, Palette, SegmentKind};
pub use summary::{write_summary, write_summary_json};
pub use text::prose as text_prose;
pub(crate) use text::NO_MARKS;
pub use text::{
    bytes_per_line, explain_one, group, head_and_tail_text, layout_spans, lines_of, options_text,
    preview, program_steps, push_segments, push_trace, size_line, timeline, trace_steps,
    visible_width, write_program_text, write_trace_text, Arrows, DumpBudget, Folding, HexdumpMode,
    Segment, StepView, TextOptions, NODE_HIGH_WATER_MARK,
};
pub use trace_json::{records, trace_json, write_trace_json, TraceJson};

use serde::Serialize;

use crate::flow::{Direction, Packet};
use crate::values::{CaptureStats, LinkType, SocketLog};

/// An address as the lessons print it (`socket.address()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointInfo {
    pub address: String,
    pub port: u16,
    /// `IPv4` or `IPv6`, as Node's `family`.
    pub family: &'static str,
}

impl From<std::net::SocketAddr> for EndpointInfo {
    fn from(a: std::net::SocketAddr) -> Self {
        EndpointInfo {
            address: a.ip().to_string(),
            port: a.port(),
            family: if a.is_ipv4() { "IPv4" } else { "IPv6" },
        }
    }
}

/// Both ends of the traced connection.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub client: EndpointInfo,
    pub server: EndpointInfo,
    /// The client as the server's accept() saw it, when that differs from
    /// the client's own view (an IPv4 client of a dual-stack server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_seen_by_server: Option<EndpointInfo>,
}

/// Both applications' views.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sockets {
    pub client: SocketLog,
    pub server: SocketLog,
}

/// Totals of one direction on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WireTotals {
    pub frames: u64,
    /// Bytes on the wire (original frame lengths).
    pub bytes: u64,
    pub payload_bytes: u64,
}

/// Wire totals per direction.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Wire {
    pub client_to_server: WireTotals,
    pub server_to_client: WireTotals,
}

impl Wire {
    /// Frames, bytes and payload per direction of the placed segments.
    pub fn of(packets: &[Packet]) -> Wire {
        let mut wire = Wire::default();
        for p in packets {
            let totals = match p.direction() {
                Some(Direction::ClientToServer) => &mut wire.client_to_server,
                Some(Direction::ServerToClient) => &mut wire.server_to_client,
                None => continue,
            };
            totals.frames += 1;
            totals.bytes += u64::from(p.frame_len);
            totals.payload_bytes += p.payload_len as u64;
        }
        wire
    }
}

/// How the capture was made.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub interface: String,
    pub link: LinkType,
    pub snaplen: u32,
    pub dropped: u32,
    #[serde(skip)]
    pub stats: CaptureStats,
}

/// Everything a trace found: what `trace` prints as text or JSON
/// ([`trace_json`] is its JSON object).
#[derive(Debug, Clone)]
pub struct TraceReport {
    pub connection: Connection,
    pub packets: Vec<Packet>,
    pub sockets: Sockets,
    pub wire: Wire,
    pub capture: CaptureInfo,
    /// The server mode's name, for the heading.
    pub server_mode: &'static str,
    /// Why the run ended early, if the teardown was not seen.
    pub warning: Option<String>,
    /// What the impaired path did, when the trace ran through one.
    pub path: Option<PathReport>,
    /// The kernel's view of the sockets (TCP_INFO), when it was sampled.
    pub kernel: Option<KernelView>,
    /// A traced program's output, shown among the rows by time.
    pub lines: Vec<OutputLine>,
}
