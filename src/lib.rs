//! tcplab makes TCP visible byte by byte.
//!
//! Data flows one way through the crate:
//!
//! ```text
//!  capture (live pcap | file) -> values::RawFrame
//!    -> flow::Pipeline: decode (bytes -> borrowed layer views, once per frame)
//!                       + tracker (stream, direction, relative seq/ack, analysis, phase)
//!    -> flow::Packet, the one typed packet every view reads
//!    -> render (rows, trace text and JSON, hex dumps, summary, follow, ladders) -> a writer
//!  lab (tokio servers and clients) makes the traffic and the socket-level view;
//!  sockdiag reads the kernel's view of sockets (sock_diag, TCP_INFO over time);
//!  scenario captures it whole (session, trace, the classroom labs)
//! ```
//!
//! `values` holds the leaf types every layer may use; `cli` turns arguments
//! into a validated invocation (nothing past it sees clap's `ArgMatches`);
//! `cmd` wires the pieces per subcommand; `error` holds the error types and
//! their exit codes. `docs/architecture.md` says what each module owns and
//! may import (`tests/house.rs` checks it).

pub mod capture;
pub mod cli;
pub mod cmd;
pub mod decode;
pub mod error;
pub mod flow;
pub mod impair;
pub mod lab;
pub mod render;
pub mod scenario;
pub mod sockdiag;
pub mod values;

pub use error::{Error, NetKind, Result};
