//! Subcommands: each wires capture, decode, flow, lab and render together.
//! [`main`] is the whole program behind `src/main.rs`: it parses arguments,
//! runs the command, and reports errors like a Unix tool.

pub mod capture;
mod diagram;
pub mod lab;
pub mod replay;
pub mod send;
pub mod serve;
pub mod trace;

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::error::EXIT_USAGE;
use crate::Error;

/// Runs tcplab with `args` and returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_exit(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(e),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match &cli.command {
        Command::Trace(args) => trace::run(args, &matches, cli.color, &mut out),
        Command::Replay(args) => replay::run(args, cli.color, &mut out),
        Command::Capture(args) => capture::run(args, cli.color, &mut out),
        Command::Serve(args) => serve::run(args, cli.color, &mut out),
        Command::Send(args) => send::run(args, &matches, cli.color, &mut out),
        Command::Lab(args) => lab::run(args, cli.color, &mut out),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "tcplab", &mut out);
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut out)
            .map_err(output_error),
    };
    let result = result.and_then(|()| out.flush().map_err(|e| Error::io("stdout", e)));
    match result {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("tcplab: {e}");
            e.exit_code()
        }
    }
}

/// A reader that closed our stdout (`tcplab ... | head`) is not an error.
fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Help and version go to stdout (exit 0); a usage error becomes one line.
fn clap_exit(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                EXIT_USAGE
            } else {
                0
            }
        }
        _ => {
            // clap's message spans several lines; keep the cause, the choices
            // and its tip on one.
            let rendered = e.render().to_string();
            let mut parts: Vec<&str> = Vec::new();
            for line in rendered.lines().map(str::trim) {
                if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more") {
                    continue;
                }
                parts.push(
                    line.trim_start_matches("error: ")
                        .trim_start_matches("tip: "),
                );
            }
            let text = if parts.is_empty() {
                "invalid arguments".to_string()
            } else {
                parts.join("; ")
            };
            eprintln!("tcplab: {text} (see 'tcplab --help')");
            EXIT_USAGE
        }
    }
}

/// An I/O error while writing output.
pub(crate) fn output_error(e: std::io::Error) -> Error {
    Error::io("writing output", e)
}
