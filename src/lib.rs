//! tcplab makes TCP visible byte by byte.
//!
//! Data flows one way through the crate:
//!
//! ```text
//!  capture (live pcap | file | memory) -> decode (bytes -> typed views)
//!    -> flow (conversations, relative seq/ack, phases, teardown)
//!    -> render (text, tables, hex dumps, JSON) -> a writer the caller passes
//!  lab (tokio loopback server + client) produces the traffic and the socket-level view
//! ```
//!
//! `cmd` wires these together for each subcommand; `cli` turns arguments into a
//! validated invocation (nothing past it sees clap's `ArgMatches`); `error`
//! holds the error types and their exit codes.

pub mod capture;
pub mod cli;
pub mod cmd;
pub mod decode;
pub mod error;
pub mod flow;
pub mod lab;
pub mod render;
pub mod scenario;
pub mod values;

pub use error::{Error, NetKind, Result};
