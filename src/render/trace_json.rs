//! The trace report as one JSON object (SPEC.md: `connection`, `packets`,
//! `sockets`, `wire`, `capture`), the packets as their records.

use std::io::{self, Write};

use serde::Serialize;

use super::{
    CaptureInfo, Connection, KernelView, PacketRecord, PathReport, Sockets, TraceReport, Wire,
};
use crate::flow::Packet;

/// The JSON object of a trace report.
#[derive(Debug, Serialize)]
pub struct TraceJson<'a> {
    pub connection: &'a Connection,
    pub packets: Vec<PacketRecord>,
    pub sockets: &'a Sockets,
    pub wire: &'a Wire,
    pub capture: &'a CaptureInfo,
    /// Only for a trace through the impaired path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a PathReport>,
    /// Each side's kernel view (TCP_INFO), when sock_diag could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<&'a KernelView>,
}

/// The records of `packets`, each `payload_hex` cut at `max_hex` bytes,
/// with their fields when `explain`.
pub fn records(packets: &[Packet], max_hex: usize, explain: bool) -> Vec<PacketRecord> {
    packets
        .iter()
        .map(|p| PacketRecord::of(p, max_hex).explained(p, explain))
        .collect()
}

/// The report as its JSON object.
pub fn trace_json(report: &TraceReport, max_hex: usize, explain: bool) -> TraceJson<'_> {
    TraceJson {
        connection: &report.connection,
        packets: records(&report.packets, max_hex, explain),
        sockets: &report.sockets,
        wire: &report.wire,
        capture: &report.capture,
        path: report.path.as_ref(),
        kernel: report.kernel.as_ref(),
    }
}

/// Writes the report as pretty JSON followed by a newline.
pub fn write_trace_json(
    w: &mut dyn Write,
    report: &TraceReport,
    max_hex: usize,
    explain: bool,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &trace_json(report, max_hex, explain))?;
    writeln!(w)
}
