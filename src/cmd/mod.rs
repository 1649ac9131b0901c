//! Subcommands: each wires capture, decode, flow, lab and render together.
//! [`main`] is the whole program behind `src/main.rs`: it has `cli` parse
//! and validate the arguments, runs the task it gets back, and reports
//! errors like a Unix tool.

pub mod capture;
mod diagram;
pub mod lab;
mod page;
pub mod replay;
pub mod send;
pub mod serve;
mod step;
pub mod trace;
mod trace_program;

use std::ffi::OsString;
use std::io::Write;

use crate::cli::{self, Task, WriteSource};
use crate::error::EXIT_USAGE;
use crate::{Error, Result};

/// Runs tcplab with `args` and returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let invocation = match cli::parse(args) {
        Ok(i) => i,
        Err(e) => return clap_exit(e),
    };
    let color = invocation.color;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match &invocation.task {
        Task::Trace(t) => trace::run(t, color, &mut out),
        Task::Replay(r) => replay::run(r, color, &mut out),
        Task::Capture(c) => capture::run(c, color, &mut out),
        Task::Serve(s) => serve::run(s, color, &mut out),
        Task::Send(s) => send::run(s, color, &mut out),
        Task::Lab(l) => lab::run(l, color, &mut out),
        Task::Completions(shell) => {
            clap_complete::generate(*shell, &mut cli::command(), "tcplab", &mut out);
            Ok(())
        }
        Task::Man => clap_mangen::Man::new(cli::command())
            .render(&mut out)
            .map_err(output_error),
    };
    let result = result.and_then(|()| out.flush().map_err(|e| Error::io("stdout", e)));
    match result {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            // A file name or an address may hold escapes: never raw to the terminal.
            eprintln!("tcplab: {}", crate::values::terminal_safe(&e.to_string()));
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
            eprintln!(
                "tcplab: {}",
                one_line(&e.render().to_string(), &help_of_typed())
            );
            EXIT_USAGE
        }
    }
}

/// `tcplab trace --help` when the command line names `trace`: clap gives
/// no usage line for some errors (an invalid value), and the subcommand's
/// help is still the one to read.
fn help_of_typed() -> String {
    let command = cli::command();
    let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).collect();
    std::env::args()
        .skip(1)
        .take_while(|a| a != "--")
        .find(|a| names.contains(&a.as_str()))
        .map_or("tcplab --help".to_string(), |s| {
            format!("tcplab {s} --help")
        })
}

/// clap's message, which spans several lines, as one: the cause, the
/// choices and the tip, and which command's help to read. A line ending in
/// a colon runs on into the next ("not provided: <FILE>").
fn one_line(rendered: &str, help_typed: &str) -> String {
    let mut text = String::new();
    let mut help = help_typed.to_string();
    for line in rendered.lines().map(str::trim) {
        if let Some(usage) = line.strip_prefix("Usage: ") {
            // "Usage: tcplab replay [OPTIONS] <FILE>": the command's own help
            // (clap may name an option there too: "tcplab trace --format <FORMAT>").
            let words: Vec<&str> = usage
                .split(' ')
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            // (A subcommand's own error names it without the program.)
            let program = if words.first() == Some(&"tcplab") {
                ""
            } else {
                "tcplab "
            };
            help = format!("{program}{} --help", words.join(" "));
            continue;
        }
        if line.is_empty() || line.starts_with("For more") {
            continue;
        }
        let part = line
            .trim_start_matches("error: ")
            .trim_start_matches("tip: ");
        let joint = match text.chars().last() {
            None => "",
            Some(':') => " ",
            Some(_) => "; ",
        };
        text.push_str(joint);
        text.push_str(part);
    }
    if text.is_empty() {
        text.push_str("invalid arguments");
    }
    format!("{} (see '{help}')", crate::values::terminal_safe(&text))
}

/// An I/O error while writing output.
pub(crate) fn output_error(e: std::io::Error) -> Error {
    Error::io("writing output", e)
}

/// The client's writes as bytes, in order: `--file` contents are read now.
pub(crate) fn load_writes(writes: &[WriteSource]) -> Result<Vec<Vec<u8>>> {
    writes
        .iter()
        .map(|w| match w {
            WriteSource::Bytes(b) => Ok(b.clone()),
            WriteSource::File(path) => read_write_file(path),
        })
        .collect()
}

/// The most `--file` reads: the whole file is one write, held in memory.
const MAX_WRITE_FILE: u64 = 256 << 20;

/// A `--file`: a regular file of at most [`MAX_WRITE_FILE`] bytes. A device
/// (`/dev/zero`), a FIFO or a directory is refused before it is read: one
/// would fill the memory, the other block without a word.
fn read_write_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let file_err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(file_err)?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "--file {}: not a regular file (a device, FIFO or directory cannot be sent whole)",
            path.display()
        )));
    }
    if meta.len() > MAX_WRITE_FILE {
        return Err(Error::Usage(format!(
            "--file {}: {} bytes, more than the {} MiB one write may take",
            path.display(),
            meta.len(),
            MAX_WRITE_FILE >> 20
        )));
    }
    std::fs::read(path).map_err(file_err)
}

/// Writes `packets`, as captured, to a pcap file.
pub(crate) fn save_packets(
    path: &std::path::Path,
    packets: &[crate::flow::Packet],
    capture: &crate::render::CaptureInfo,
) -> Result<()> {
    let file_err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(file_err)?;
    let mut w = crate::capture::PcapWriter::new(
        std::io::BufWriter::new(file),
        capture.link,
        capture.snaplen,
    )
    .map_err(file_err)?;
    for p in packets {
        w.write_record(p.ts, p.frame_len, &p.data)
            .map_err(file_err)?;
    }
    w.finish().map_err(file_err)?;
    Ok(())
}
