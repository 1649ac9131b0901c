//! The trace report as one JSON object (SPEC.md: `connection`, `packets`,
//! `sockets`, `wire`, `capture`).

use std::io::{self, Write};

use super::TraceReport;

/// Writes the report as pretty JSON followed by a newline.
pub fn write_trace_json(w: &mut dyn Write, report: &TraceReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    writeln!(w)
}
