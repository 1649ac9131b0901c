//! `trace -- CMD [ARGS...]`: trace a program of the user's own. The flags
//! that only mean something with a program: `--connect` (tcplab's client
//! against the program's server) and `--timeout` (how long it may run).

use std::ffi::OsString;
use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// The flags as clap reads them.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Your own program (trace -- CMD [ARGS...])")]
pub struct ProgramArgs {
    /// With `-- CMD`: tcplab's client connects to the program's server on
    /// 127.0.0.1:PORT once it listens, writes --send/--hex/--file and ends.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub connect: Option<u16>,

    /// With `-- CMD`: stop the program (SIGTERM, then SIGKILL) if it runs
    /// longer than this (4, 4s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub timeout: Duration,

    /// The program to run and trace, after `--`: `tcplab trace -- node sender.js`.
    /// Its own connections on lo are traced, from before it starts until it
    /// exits and they close; run through sudo, it runs as the invoking user.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// The validated program run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramRun {
    pub command: Vec<OsString>,
    /// The program's server port tcplab's client connects to.
    pub connect: Option<u16>,
    /// tcplab serves (`--server MODE`) on 127.0.0.1:`--port` for the program.
    pub own_server: bool,
    pub timeout: Duration,
}
