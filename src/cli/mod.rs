//! The command line: clap types, and their checks turned into a validated
//! [`Invocation`] ([`parse`]), the one thing `cmd` receives. Knows no
//! packet bytes and no table layout.

mod frames;
mod hex;
mod invocation;
mod number;
mod output;
mod path;
mod program;
mod view;

pub use frames::{parse_frames, FrameRange};
pub use hex::{parse_hex, HexBytes};
pub use invocation::{
    command, parse, Capture, Diagram, Invocation, Lab, LadderScreen, Replay, ReplayShow, Send,
    Serve, Task, Trace, WriteSource,
};
pub use output::{resolve_color, terminal_width, ColorChoice};
pub use path::{CaptureEnd, PathArgs, TracePath};
pub use program::{ProgramArgs, ProgramRun};
pub use view::{text_options, HexdumpArg, View, ViewArgs};

use number::{at_least_one_u64, at_least_one_usize};

use std::path::PathBuf;

use std::num::{NonZeroU64, NonZeroUsize};

use clap::{Parser, Subcommand, ValueEnum};

use crate::lab::{CloseMode, ServeMode};

const EXAMPLES: &str = "\
Examples:
  sudo tcplab trace --send hello              the whole exchange of one write, explained
  sudo tcplab trace --hex 0c22                the two raw bytes of seed 002's Buffer
  sudo tcplab trace --send a --send b         two writes, two PSH-ACK segments
  sudo tcplab trace --close reset             RST instead of FIN (resetAndDestroy())
  sudo tcplab trace --send hi --format json   one JSON object for programs
  sudo tcplab trace --drop 3 --file big.bin   a segment lost on purpose, and its resend
  sudo tcplab trace -- node experiment.mjs    trace your own program: its connections,
                                              its output among the segments, the kernel's view
  sudo tcplab trace --server echo --port 3099 -- node sender.js
                                              tcplab serves your client
  sudo tcplab trace --send hi --connect 3099 -- node server.js
                                              tcplab is your server's client

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 65 corrupt capture data,
66 file cannot be opened, 77 no permission to capture (or, for --loss and the
like, to make network namespaces); with -- CMD, the program's own exit code
(124 when --timeout stopped it).";

/// tcplab makes TCP visible byte by byte.
#[derive(Debug, Parser)]
#[command(name = "tcplab", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Colour by layer: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a loopback server and client (or your own program, after --),
    /// capture the exchange, explain it.
    #[command(after_help = EXAMPLES)]
    Trace(TraceArgs),
    /// Decode and analyse a saved pcap or pcapng file (no privileges needed).
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(ReplayArgs),
    /// Watch live traffic on an interface, annotated as it arrives.
    #[command(after_help = CAPTURE_EXAMPLES)]
    Capture(CaptureArgs),
    /// Run a lesson server for nc, telnet and the lessons' Node clients.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Connect to a server, send text or bytes, show the replies byte by byte.
    #[command(after_help = SEND_EXAMPLES)]
    Send(SendArgs),
    /// Guided classroom scenarios: real traffic on loopback, explained and checked.
    #[command(after_help = LAB_EXAMPLES)]
    Lab(LabArgs),
    /// Print a shell completion script: tcplab completions bash > /etc/bash_completion.d/tcplab
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): tcplab man | man -l -
    Man,
}

const CAPTURE_EXAMPLES: &str = "\
Examples:
  sudo tcplab capture --port 8124                     watch a lesson server's traffic
  sudo tcplab capture --port 8124 --write lesson.pcap save it too (Ctrl-C stops cleanly)
  sudo tcplab capture --filter 'tcp port 80' --count 20
  sudo tcplab capture --port 8124 --duration 10s --format ndjson

Stopping: Ctrl-C (SIGINT), SIGTERM, SIGHUP, SIGUSR1 or SIGALRM, --count or
--duration; each leaves the --write file whole and prints the counts.

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 77 no permission to capture.";

const SERVE_EXAMPLES: &str = "\
Examples:
  tcplab serve echo                   on 127.0.0.1:8124; try: nc 127.0.0.1 8124
  tcplab serve upper --port 3099      replies \"Echo: \" + the text in capitals
  tcplab serve greet                  seed 004's greeting server (HELLO..., then QUIT)
  tcplab serve json                   one JSON object per line in, one per line out
  tcplab serve chat                   /nick NAME, /join CHANNEL, /who; lines go to the others
  tcplab serve kv --data store.json   create/read/update/delete/list, saved atomically

Exit codes: 0 ok (stopped by Ctrl-C), 1 runtime failure (port in use), 2 usage error.";

const SEND_EXAMPLES: &str = "\
Examples:
  tcplab send 127.0.0.1:8124 --send hello           one write, replies as hex dumps
  tcplab send 127.0.0.1:3099 --hex 0c22              seed 002's two raw bytes
  tcplab send 127.0.0.1:8124 --interactive           lines from stdin, like nc
  tcplab send 127.0.0.1:9 --retry 5 --send hi        exponential backoff while refused

Exit codes: 0 ok, 1 other runtime failure, 2 usage error, 3 connection refused,
4 connection reset by peer, 5 timed out, 6 no route to host / network unreachable.";

/// Arguments of `tcplab capture`.
#[derive(Debug, Parser)]
pub struct CaptureArgs {
    /// Interface to capture on (default: the loopback interface).
    #[arg(short, long, value_name = "NAME")]
    pub interface: Option<String>,

    /// Capture TCP on this port (shorthand for --filter 'tcp port N').
    #[arg(long, value_name = "N", conflicts_with = "filter")]
    pub port: Option<u16>,

    /// A capture filter in libpcap's syntax (default: tcp).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,

    /// Also save every captured frame to this pcap file (complete after Ctrl-C).
    #[arg(short, long, value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Stop after this many frames.
    #[arg(short, long, value_name = "N", value_parser = at_least_one_u64())]
    pub count: Option<NonZeroU64>,

    /// Stop after this long: 4, 4s, 500ms or 2m.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,

    /// Rows for people (text) or one JSON record per line (ndjson).
    #[arg(long, value_enum, default_value_t = CaptureFormat::Text)]
    pub format: CaptureFormat,

    #[command(flatten)]
    pub view: ViewArgs,

    /// After opening the capture (and the --write file), drop root and run
    /// as this user, as tcpdump's -Z does.
    #[arg(short = 'Z', long = "user", value_name = "NAME")]
    pub user: Option<String>,

    /// The kernel's capture buffer, in KiB, as tcpdump's -B (default 65536:
    /// 64 MiB, about 0.1 s of a full-speed transfer on lo with 2 cores).
    #[arg(short = 'B', long, value_name = "KiB", value_parser = buffer_kib)]
    pub buffer_size: Option<usize>,
}

/// Output format of `capture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureFormat {
    Text,
    Ndjson,
}

/// The modes `tcplab serve` offers, in the order help lists them.
const SERVE_MODES: &[&str] = &["echo", "upper", "greet", "json", "chat", "kv", "discard"];

/// The modes `trace --server` offers: one client, no store file.
const TRACE_MODES: &[&str] = &["echo", "upper", "discard", "json", "frames"];

/// Parses one of `names` into a [`ServeMode`], each listed in `--help`
/// with what it does (the lab enum does not derive clap's `ValueEnum`).
fn mode_parser(
    names: &'static [&'static str],
) -> impl clap::builder::TypedValueParser<Value = ServeMode> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = names.iter().map(|&name| {
        let about = name.parse::<ServeMode>().map_or("", ServeMode::about);
        PossibleValue::new(name).help(about)
    });
    PossibleValuesParser::new(values).try_map(|name| name.parse::<ServeMode>())
}

/// Arguments of `tcplab serve`.
#[derive(Debug, Parser)]
pub struct ServeArgs {
    /// What the server does.
    #[arg(value_parser = mode_parser(SERVE_MODES))]
    pub mode: ServeMode,

    /// Address to listen on (another host only when asked).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0: any free port, printed at start).
    #[arg(short, long, default_value_t = 8124)]
    pub port: u16,

    /// kv: the file the store lives in.
    #[arg(long, value_name = "FILE", default_value = "tcplab-kv.json")]
    pub data: PathBuf,

    /// Connections served at once; more are told so and closed.
    #[arg(long, default_value = "256", value_name = "N", value_parser = at_least_one_usize())]
    pub max_connections: NonZeroUsize,

    /// Longest line or message accepted, in bytes; longer gets an error reply.
    #[arg(long, default_value = "65536", value_name = "BYTES", value_parser = at_least_one_usize())]
    pub max_line: NonZeroUsize,

    /// Close a connection idle this long: 300, 300s, 5m.
    #[arg(long, default_value = "300s", value_parser = parse_duration, value_name = "TIME")]
    pub idle_timeout: std::time::Duration,

    /// Log a hex dump of every chunk received.
    #[arg(short, long)]
    pub verbose: bool,

    /// chat, kv: spell out control bytes (ESC, BEL, ...) as \xNN in what
    /// one client's text becomes on another's screen. Without it chat and
    /// kv relay it byte for byte, as a Node server that writes what it read
    /// does: a message can set another student's terminal title or clear it.
    #[arg(long)]
    pub safe: bool,
}

/// How `send` closes its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SendClose {
    /// FIN after the replies went quiet (socket.end()).
    End,
    /// RST instead of FIN (zero linger), as Node's socket.resetAndDestroy().
    Reset,
    /// The old name of `reset` (it warns): Node's destroy() sends FIN.
    #[value(hide = true)]
    Destroy,
    /// FIN right after the writes; keep reading until the server closes.
    Half,
}

/// Arguments of `tcplab send`.
#[derive(Debug, Parser)]
pub struct SendArgs {
    /// Where to connect: HOST:PORT (e.g. 127.0.0.1:8124, [::1]:8124, localhost:8124).
    #[arg(value_name = "HOST:PORT", value_parser = parse_target)]
    pub target: String,

    #[command(flatten)]
    pub writes: WriteArgs,

    /// Send lines from stdin as they are typed, print replies as they come (like nc).
    #[arg(short, long, conflicts_with_all = ["send", "hex", "file"])]
    pub interactive: bool,

    /// How to close: end (FIN), reset (RST), half (FIN right after writing).
    #[arg(long, value_enum, default_value_t = SendClose::End)]
    pub close: SendClose,

    /// Milliseconds without reply bytes after which the reply is taken as complete.
    #[arg(long, default_value_t = 300, value_name = "MS")]
    pub idle: u64,

    /// Retry a refused or unreachable connect this many times, with exponential backoff.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retry: u32,

    /// First backoff delay in milliseconds (doubles each time, capped by --retry-max).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub retry_delay: u64,

    /// Largest backoff delay in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub retry_max: u64,

    /// Give up connecting after this many milliseconds (each attempt).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub connect_timeout: u64,

    /// Disable Nagle's algorithm (TCP_NODELAY).
    #[arg(long)]
    pub nodelay: bool,

    /// Output for people (text) or one JSON object (json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Checks the form of `send`'s target, HOST:PORT with a port number (the
/// name is looked up when `send` runs).
fn parse_target(s: &str) -> Result<String, String> {
    match s.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => Ok(s.to_string()),
        _ => Err("not HOST:PORT (e.g. 127.0.0.1:8124, [::1]:8124, localhost:8124)".to_string()),
    }
}

/// `-B KiB` as bytes: 1 KiB to libpcap's most (an `int` of bytes).
fn buffer_kib(s: &str) -> Result<usize, String> {
    const MAX_KIB: u64 = (i32::MAX as u64) / 1024;
    match s.trim().parse::<u64>() {
        Ok(k @ 1..=MAX_KIB) => Ok(k as usize * 1024),
        Ok(0) => Err("the buffer must be at least 1 KiB".to_string()),
        _ => Err(format!(
            "'{s}' is not a size in KiB from 1 to {MAX_KIB} (2 GiB)"
        )),
    }
}

/// Parses `4`, `4s`, `500ms`, `2m` (seconds when no unit is given).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration: write 4, 4s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s, m or h)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{s}' is not a duration"));
    }
    // from_secs_f64 panics past 2^64 seconds; a longer wait is no wait tcplab can make.
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("'{s}' is too long: at most 2^64 seconds (about 584 billion years)"))
}

const REPLAY_EXAMPLES: &str = "\
Examples:
  tcplab replay captures/hello-ethernet.pcap            the timeline, analysis explained
  tcplab replay big.pcap --summary                      one row per conversation
  tcplab replay big.pcap --stream 3 --follow            the reassembled bytes of stream 3
  tcplab replay big.pcap --filter 'tcp port 80'         libpcap's filter syntax
  tcplab replay big.pcap --format ndjson | jq .         one JSON record per frame

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 65 corrupt capture data
(frames before the damage are still reported), 66 file cannot be opened.";

const LAB_EXAMPLES: &str = "\
Examples:
  tcplab lab list                        every scenario and the seed lesson it comes from
  sudo tcplab lab handshake              the 3-way handshake and the FIN teardown
  sudo tcplab lab reset --diagram        end() against an abortive close: FIN against RST
  sudo tcplab lab coalesce --check       exits 1 if the writes did not coalesce
  sudo tcplab lab loss --check --quiet   the verdict line only
  sudo tcplab lab reset --write reset.pcap   the lab's frames, for Wireshark

Exit codes: 0 ok, 1 runtime failure or (with --check) the lesson's point did not
show, 2 usage error, 77 no permission to capture.";

/// Arguments of `tcplab lab`.
#[derive(Debug, Parser)]
pub struct LabArgs {
    /// The scenario to run, or `list`.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Exit 1 when the point of the lesson did not show (for teachers' CI);
    /// the report ends with a one-line verdict.
    #[arg(long)]
    pub check: bool,

    /// With --check: print the verdict line only (for grading scripts).
    #[arg(long, requires = "check")]
    pub quiet: bool,

    /// Save every frame the lab captured as a pcap file (for Wireshark);
    /// the parts follow one another.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Output for people (text) or programs (json: the trace plus the checks).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Hex dumps of each payload, of whole frames, or none.
    #[arg(long, value_enum, default_value_t = HexdumpArg::Payload)]
    pub hexdump: HexdumpArg,

    /// Every header field of each frame: its bytes, its value and what it
    /// means, then the frame's bytes marked field by field (JSON: `fields`).
    #[arg(long)]
    pub explain: bool,

    /// Show every row, size line and arrow of a long part (60 frames or
    /// more), which is folded by default as `trace` folds it.
    #[arg(long)]
    pub every_row: bool,

    #[command(flatten)]
    pub diagram: DiagramArgs,
}

/// Output format of `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    Text,
    /// One JSON array of packet records.
    Json,
    /// One packet record per line.
    Ndjson,
}

/// Arguments of `tcplab replay`.
#[derive(Debug, Parser)]
pub struct ReplayArgs {
    /// The pcap or pcapng file; `-` reads standard input (`tcpdump -w - | tcplab replay -`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Keep only frames matching this filter (libpcap syntax, as tcpdump).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,

    /// Show only this TCP stream (0-based, as tshark's tcp.stream).
    #[arg(long, value_name = "N")]
    pub stream: Option<u32>,

    /// Show only frame N, or frames N to M (1-based, as tshark's
    /// frame.number); the analysis still reads every frame before them.
    #[arg(long = "frame", value_name = "N[-M]", value_parser = parse_frames)]
    pub frames: Option<FrameRange>,

    /// Print the reassembled payload of one stream (--stream, default 0), both directions.
    #[arg(long, conflicts_with = "summary")]
    pub follow: bool,

    /// One row per conversation, with analysis counts.
    #[arg(long)]
    pub summary: bool,

    /// Output for people (text) or programs (json, ndjson).
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    pub format: ReplayFormat,

    #[command(flatten)]
    pub view: ViewArgs,

    /// Ladder diagram of one stream (--stream, default 0).
    #[command(flatten)]
    pub diagram: DiagramArgs,
}

/// Output format of `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The client's writes: text, hex and files, one write each, in
/// command-line order (shared by `trace` and `send`).
#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    /// Text to write (repeatable: one write each, in order with --hex and --file).
    #[arg(long = "send", value_name = "TEXT")]
    pub send: Vec<String>,

    /// Raw bytes to write, as hex: 0c22, "0c 22" or 0x0c,0x22 (repeatable).
    #[arg(long = "hex", value_name = "HEX", value_parser = parse_hex)]
    pub hex: Vec<HexBytes>,

    /// A regular file whose contents are written in one write (repeatable; at
    /// most 256 MiB, read whole before connecting).
    #[arg(long = "file", value_name = "PATH")]
    pub file: Vec<PathBuf>,
}

/// Ladder diagrams of one connection (trace, replay --stream N, lab).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DiagramArgs {
    /// Draw the exchange as a ladder diagram in the terminal.
    #[arg(long)]
    pub diagram: bool,

    /// Write the ladder diagram as self-contained 16:9 SVG slides: FILE,
    /// then FILE-slide2.svg, FILE-slide3.svg... as many as the rows need.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Write the SVG as one long page instead of slides (for documents
    /// and print).
    #[arg(long, requires = "svg")]
    pub svg_page: bool,

    /// In the SVG, draw each pure ACK (no payload, nothing noted but its
    /// arithmetic) as a thin unlabelled line, so the ladder takes less room.
    #[arg(long, requires = "svg")]
    pub svg_fold_acks: bool,

    /// Write one self-contained web page (works offline): the timeline,
    /// the ladder, and the selected segment's fields and bytes, linked as
    /// in Wireshark; arrow keys step, f follows the stream.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Print the ladder diagram as a Mermaid sequence diagram (for handouts).
    #[arg(long, conflicts_with_all = ["diagram", "step"])]
    pub mermaid: bool,

    /// Show the report one segment at a time, advancing on Enter; b goes back,
    /// q stops (for pacing a class). With --diagram: the ladder instead of the
    /// table, an arrow per Enter; the totals still come at the end.
    #[arg(long)]
    pub step: bool,
}

/// `trace --close`: the command line's side of [`CloseMode`] (the lab type
/// knows nothing of clap); the docs are the ones `--help` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceClose {
    /// `socket.end()`: FIN after the replies arrived; the server ends too.
    End,
    /// `socket.resetAndDestroy()` (zero linger): RST instead of FIN. Plain
    /// `destroy()` sends FIN, unless received data is still unread.
    Reset,
    /// The old name of `reset` (it warns): Node's destroy() sends FIN.
    #[value(hide = true)]
    Destroy,
    /// `end()` right after the writes: the server reads to the end, then
    /// still sends its replies over the half-closed connection.
    Half,
}

impl From<TraceClose> for CloseMode {
    fn from(arg: TraceClose) -> Self {
        match arg {
            TraceClose::End => CloseMode::End,
            TraceClose::Reset | TraceClose::Destroy => CloseMode::Reset,
            TraceClose::Half => CloseMode::Half,
        }
    }
}

/// Arguments of `tcplab trace`. Its hex dumps default to each payload
/// (the shared `--hexdump` defaults to none).
#[derive(Debug, Parser)]
#[command(mut_arg("hexdump", |a| a.default_value("payload")))]
pub struct TraceArgs {
    #[command(flatten)]
    pub writes: WriteArgs,

    /// What the server does with what it reads.
    #[arg(long, value_parser = mode_parser(TRACE_MODES), default_value_t = ServeMode::Echo)]
    pub server: ServeMode,

    /// How the client closes: end (FIN), reset (RST), half (FIN right after writing).
    #[arg(long, value_enum, default_value_t = TraceClose::End)]
    pub close: TraceClose,

    /// Disable Nagle's algorithm (TCP_NODELAY) on both sockets.
    #[arg(long)]
    pub nodelay: bool,

    /// Use IPv6 (::1) instead of IPv4 (127.0.0.1).
    #[arg(long)]
    pub ipv6: bool,

    /// Server port (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Save exactly what was captured as a pcap file.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Output for people (text) or programs (json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub view: ViewArgs,

    /// Give up once no byte has moved, either way, for this many
    /// milliseconds (a watchdog: a transfer that keeps moving may take longer).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,

    /// The server waits this many milliseconds before its first read, then
    /// reads as fast as it can. Meanwhile the client's writes fill the
    /// server's receive buffer; with more data than it holds (a big --file)
    /// the server's window falls to 0 until it reads: flow control. Must be
    /// shorter than --timeout-ms, which would take the wait for a stall.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub server_read_delay: u64,

    /// The server's receive buffer (SO_RCVBUF) in bytes, set before listen()
    /// so the accepted socket has it (default: the kernel's, which grows
    /// while the reader keeps up). The kernel caps the value at
    /// net.core.rmem_max, doubles it for its bookkeeping and no longer
    /// tunes it: the window it offers stays small.
    #[arg(long, value_name = "BYTES", value_parser = at_least_one_usize())]
    pub rcvbuf: Option<NonZeroUsize>,

    /// Show every frame's row, size line and dump. A long exchange (60
    /// frames or more) is folded by default: the handshake, each
    /// direction's first and last data, the first segments of each analysis
    /// flag and the teardown are kept, and each run between is one line.
    #[arg(long)]
    pub every_row: bool,

    /// List each change of each socket's kernel view (TCP_INFO: state,
    /// bytes, segments, rtt, cwnd) with its time; the totals are shown
    /// without it. A traced program's are always listed.
    #[arg(long)]
    pub kernel: bool,

    /// The kernel's capture buffer, in KiB, as tcpdump's -B (default 65536:
    /// 64 MiB, about 0.1 s of a full-speed transfer on lo with 2 cores).
    #[arg(short = 'B', long, value_name = "KiB", value_parser = buffer_kib)]
    pub buffer_size: Option<usize>,

    #[command(flatten)]
    pub diagram: DiagramArgs,

    #[command(flatten)]
    pub path: PathArgs,

    #[command(flatten)]
    pub program: ProgramArgs,
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_target};
    use std::time::Duration;

    #[test]
    fn a_target_needs_a_port_number() {
        for ok in ["127.0.0.1:8124", "[::1]:8124", "localhost:0"] {
            assert_eq!(parse_target(ok).unwrap(), ok);
        }
        for bad in ["nowhere", "host:", "host:99999", "host:80x"] {
            assert!(
                parse_target(bad).unwrap_err().contains("HOST:PORT"),
                "{bad}"
            );
        }
    }

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("4").unwrap(), Duration::from_secs(4));
        assert_eq!(parse_duration("4s").unwrap(), Duration::from_secs(4));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("4x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
        // Past 2^64 seconds: an error, not a panic.
        for huge in ["18446744073709551615", "99999999999999999999", "1e19"] {
            assert!(parse_duration(huge).is_err(), "{huge}");
        }
        assert!(parse_duration("10000000000000000000").is_ok());
    }
}
