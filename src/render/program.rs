//! A traced program (`trace -- CMD`): what ran, what it printed, how it
//! ended, and its connections, each a [`TraceReport`] with the kernel's
//! view of its sockets; the JSON object of docs/json.md ("A program").

use std::io::{self, Write};

use serde::Serialize;

use super::{records, CaptureInfo, Connection, TraceReport, Wire};
use crate::flow::Packet;
use crate::values::Timestamp;

/// One line the program printed.
#[derive(Debug, Clone, Serialize)]
pub struct OutputLine {
    /// Milliseconds since the capture's first frame (negative: before it).
    pub t_ms: f64,
    #[serde(skip)]
    pub ts: Timestamp,
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// The line, without its newline, made safe for a terminal.
    pub line: String,
    /// Who printed it, for the timeline's prefix (`node │`).
    #[serde(skip)]
    pub who: String,
}

/// How the program ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProgramExit {
    /// Its exit code, when it exited (not killed by a signal).
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// tcplab stopped it after `--timeout`.
    pub timed_out: bool,
}

/// The program part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramInfo {
    /// The command as typed, words joined by spaces.
    pub command: String,
    /// Its first word's file name, for the prefix of its lines (`node`).
    #[serde(skip)]
    pub name: String,
    #[serde(flatten)]
    pub exit: ProgramExit,
    pub output: Vec<OutputLine>,
}

/// One side's socket as its kernel saw it (TCP_INFO through sock_diag),
/// last sample and every change.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KernelSide {
    /// The last sample's TCP state (`ESTABLISHED`, `FIN_WAIT_2`...).
    pub state: String,
    pub bytes_sent: Option<u64>,
    /// Of `bytes_sent`, those sent again.
    pub bytes_retrans: Option<u64>,
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    pub segs_out: Option<u32>,
    pub segs_in: Option<u32>,
    pub total_retrans: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    pub snd_cwnd: u32,
    /// The socket closed by sending a reset, and Linux cleared its
    /// counters as it did: the ones here are the last sample's before.
    pub reset: bool,
    /// Each change, in words, with its time since the capture's first frame.
    pub changes: Vec<KernelChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KernelChange {
    pub t_ms: f64,
    pub what: String,
}

/// The kernel's view of a connection's two sockets; a side that is not
/// the program's (nor tcplab's own) has none.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KernelView {
    pub client: Option<KernelSide>,
    pub server: Option<KernelSide>,
    /// Which sides (client, server) are tcplab's own sockets beside a
    /// traced program, and so left out.
    #[serde(skip)]
    pub own: [bool; 2],
}

/// Everything `trace -- CMD` found.
#[derive(Debug, Clone)]
pub struct ProgramReport {
    pub program: ProgramInfo,
    /// The program's connections, in the order they began (stream 0, 1...).
    pub connections: Vec<TraceReport>,
    /// Every frame of the program's connections, numbered from 1.
    pub packets: Vec<Packet>,
    pub capture: CaptureInfo,
    /// Connections seen on lo meanwhile that were not the program's.
    pub others: usize,
}

/// One connection in the JSON object.
#[derive(Debug, Serialize)]
struct ConnectionJson<'a> {
    stream: usize,
    #[serde(flatten)]
    connection: &'a Connection,
    wire: &'a Wire,
    kernel: Option<&'a KernelView>,
}

#[derive(Debug, Serialize)]
struct ProgramJson<'a> {
    program: &'a ProgramInfo,
    connections: Vec<ConnectionJson<'a>>,
    packets: Vec<super::PacketRecord>,
    capture: &'a CaptureInfo,
    other_connections: usize,
}

/// Writes the report as pretty JSON followed by a newline.
pub fn write_program_json(
    w: &mut dyn Write,
    r: &ProgramReport,
    max_hex: usize,
    explain: bool,
) -> io::Result<()> {
    let json = ProgramJson {
        program: &r.program,
        connections: r
            .connections
            .iter()
            .enumerate()
            .map(|(stream, c)| ConnectionJson {
                stream,
                connection: &c.connection,
                wire: &c.wire,
                kernel: c.kernel.as_ref(),
            })
            .collect(),
        packets: records(&r.packets, max_hex, explain),
        capture: &r.capture,
        other_connections: r.others,
    };
    serde_json::to_writer_pretty(&mut *w, &json)?;
    writeln!(w)
}
