//! The command line: clap types, and their checks turned into a validated
//! configuration. Knows no packet bytes and no table layout.

mod hex;
mod output;

pub use hex::{parse_hex, HexBytes};
pub use output::{resolve_color, terminal_width, ColorChoice};

use std::path::PathBuf;

use clap::{ArgMatches, Parser, Subcommand, ValueEnum};

use crate::lab::{CloseMode, ServerMode};
use crate::render::HexdumpMode;
use crate::{Error, Result};

const EXAMPLES: &str = "\
Examples:
  sudo tcplab trace --send hello              the whole exchange of one write, explained
  sudo tcplab trace --hex 0c22                the two raw bytes of seed 002's Buffer
  sudo tcplab trace --send a --send b         two writes, two PSH-ACK segments
  sudo tcplab trace --close destroy           RST instead of FIN
  sudo tcplab trace --send hi --format json   one JSON object for programs

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 65 corrupt capture data,
66 file cannot be opened, 77 no permission to capture.";

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
    /// Run a loopback server and client, capture the exchange, explain it.
    #[command(after_help = EXAMPLES)]
    Trace(TraceArgs),
    /// Decode and analyse a saved pcap or pcapng file (no privileges needed).
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(ReplayArgs),
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
    /// The pcap or pcapng file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Keep only frames matching this filter (libpcap syntax, as tcpdump).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,

    /// Show only this TCP stream (0-based, as tshark's tcp.stream).
    #[arg(long, value_name = "N")]
    pub stream: Option<u32>,

    /// Print the reassembled payload of one stream (--stream, default 0), both directions.
    #[arg(long, conflicts_with = "summary")]
    pub follow: bool,

    /// One row per conversation, with analysis counts.
    #[arg(long)]
    pub summary: bool,

    /// Output for people (text) or programs (json, ndjson).
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    pub format: ReplayFormat,

    /// Hex dumps of each payload, of whole frames, or none.
    #[arg(long, value_enum, default_value_t = HexdumpMode::None)]
    pub hexdump: HexdumpMode,

    /// Show raw sequence and acknowledgment numbers beside the relative ones.
    #[arg(long)]
    pub raw_seq: bool,

    /// Cut hex dumps and payload_hex after this many bytes.
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub max_hex: usize,
}

/// Output format of `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Arguments of `tcplab trace`.
#[derive(Debug, Parser)]
pub struct TraceArgs {
    /// Text the client writes (repeatable: one write each, in order with --hex and --file).
    #[arg(long = "send", value_name = "TEXT")]
    pub send: Vec<String>,

    /// Raw bytes the client writes, as hex: 0c22, "0c 22" or 0x0c,0x22 (repeatable).
    #[arg(long = "hex", value_name = "HEX", value_parser = parse_hex)]
    pub hex: Vec<HexBytes>,

    /// A file whose contents the client writes in one write (repeatable).
    #[arg(long = "file", value_name = "PATH")]
    pub file: Vec<PathBuf>,

    /// What the server does with what it reads.
    #[arg(long, value_enum, default_value_t = ServerMode::Echo)]
    pub server: ServerMode,

    /// How the client closes: end (FIN), destroy (RST), half (FIN right after writing).
    #[arg(long, value_enum, default_value_t = CloseMode::End)]
    pub close: CloseMode,

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

    /// Hex dumps of each payload, of whole frames, or none.
    #[arg(long, value_enum, default_value_t = HexdumpMode::Payload)]
    pub hexdump: HexdumpMode,

    /// Show raw sequence and acknowledgment numbers beside the relative ones.
    #[arg(long)]
    pub raw_seq: bool,

    /// Cut hex dumps (and JSON payload_hex) after this many bytes.
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub max_hex: usize,

    /// Give up if the exchange has not finished after this many milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,
}

impl TraceArgs {
    /// The client's writes, in command-line order across --send, --hex and --file.
    pub fn writes(&self, matches: &ArgMatches) -> Result<Vec<Vec<u8>>> {
        let sub = matches.subcommand_matches("trace").unwrap_or(matches);
        let idx = |id: &str| -> Vec<usize> {
            sub.indices_of(id).map(|i| i.collect()).unwrap_or_default()
        };
        let mut ordered: Vec<(usize, Vec<u8>)> = Vec::new();
        for (i, s) in idx("send").into_iter().zip(&self.send) {
            ordered.push((i, s.as_bytes().to_vec()));
        }
        for (i, h) in idx("hex").into_iter().zip(&self.hex) {
            ordered.push((i, h.0.clone()));
        }
        for (i, path) in idx("file").into_iter().zip(&self.file) {
            let bytes = std::fs::read(path).map_err(|source| Error::File {
                path: path.clone(),
                source,
            })?;
            ordered.push((i, bytes));
        }
        ordered.sort_by_key(|(i, _)| *i);
        Ok(ordered.into_iter().map(|(_, b)| b).collect())
    }
}
