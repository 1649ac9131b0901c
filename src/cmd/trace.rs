//! `tcplab trace`: runs the traced exchange of `scenario::trace`, then
//! prints its report (text or JSON), saves the frames (`--write`) and draws
//! the ladder.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use clap::ArgMatches;

use super::diagram::{check_diagram, draw_diagram, wants_ladder};
use super::output_error;
use crate::capture::PcapWriter;
use crate::cli::{text_options, ColorChoice, Format, TraceArgs, View};
use crate::lab::ExchangePlan;
use crate::render::{write_trace_json, write_trace_text, Ladder, TraceReport};
use crate::scenario::trace::trace;
use crate::{Error, Result};

/// Runs `trace` and writes its report to `out`.
pub fn run(
    args: &TraceArgs,
    matches: &ArgMatches,
    color: ColorChoice,
    out: &mut dyn Write,
) -> Result<()> {
    let text = args.format == Format::Text;
    check_diagram(&args.diagram, text)?;
    let plan = ExchangePlan {
        writes: args
            .writes
            .writes(matches.subcommand_matches("trace").unwrap_or(matches))?,
        server: args.server,
        close: args.close.into(),
        nodelay: args.nodelay,
        cork: false,
        server_read_delay: Duration::ZERO,
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let ip = if args.ipv6 {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let (report, cap) = rt.block_on(trace(SocketAddr::new(ip, args.port), plan))?;
    if let Some(path) = &args.write {
        save(path, &report)?;
    }
    let view = View::from(&args.view);
    // Tables need a width: a classic terminal's when none is known.
    let opts = text_options(&view, color, 100);
    let ladder = wants_ladder(&args.diagram)
        .then(|| Ladder::of_connection(&report.connection, &report.packets));
    let written = match args.format {
        // --mermaid makes stdout the Mermaid text alone, ready to redirect.
        _ if args.diagram.mermaid => Ok(()),
        Format::Json => write_trace_json(out, &report, view.max_hex).map_err(output_error),
        Format::Text => write_trace_text(out, &report, &opts).map_err(output_error),
    };
    // Closing a packet socket waits for the kernel (about 25 ms here): the
    // report goes out first.
    let flushed = written.and_then(|()| out.flush().map_err(output_error));
    rt.block_on(async move { drop(cap) });
    flushed?;
    match &ladder {
        Some(ladder) => draw_diagram(&args.diagram, ladder, &opts, text, out),
        None => Ok(()),
    }
}

/// Writes every captured frame, as captured, to a pcap file.
fn save(path: &Path, report: &TraceReport) -> Result<()> {
    let file_err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(file_err)?;
    let link = report.capture.link;
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), link, report.capture.snaplen)
        .map_err(file_err)?;
    for p in &report.packets {
        w.write_record(p.ts, p.frame_len, &p.data)
            .map_err(file_err)?;
    }
    w.finish().map_err(file_err)?;
    Ok(())
}
