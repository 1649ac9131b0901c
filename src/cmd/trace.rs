//! `tcplab trace`: runs the traced exchange of `scenario::trace`, then
//! prints its report (text or JSON), saves the frames (`--write`) and draws
//! the ladder.

use std::io::Write;
use std::path::Path;

use super::diagram::draw_diagram;
use super::page::write_page;
use super::step::play_steps;
use super::{load_writes, output_error};
use crate::cli::{text_options, ColorChoice, Format, Trace, TracePath};
use crate::lab::ExchangePlan;
use crate::render::{trace_steps, write_trace_json, write_trace_text, Arrows, Ladder, TraceReport};
use crate::render::{Folding, PagePart, PageText};
use crate::scenario::impaired::{trace_impaired, CaptureAt, PathPlan};
use crate::scenario::trace::trace;
use crate::{Error, Result};

/// Runs `trace` and writes its report to `out`.
pub fn run(args: &Trace, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    if let Some(program) = &args.program {
        return super::trace_program::run(args, program, color, out);
    }
    let text = args.format == Format::Text;
    let plan = ExchangePlan {
        writes: load_writes(&args.writes)?,
        server: args.server,
        close: args.close,
        nodelay: args.nodelay,
        cork: false,
        server_read_delay: args.server_read_delay,
        rcvbuf: args.rcvbuf,
        timeout: args.timeout,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let (report, cap) = match &args.path {
        None => rt.block_on(trace(args.addr, plan, args.buffer_size))?,
        Some(path) => {
            let path = path_plan(path, args);
            rt.block_on(trace_impaired(plan, &path, args.buffer_size))?
        }
    };
    if let Some(path) = &args.write {
        save(path, &report)?;
    }
    // Tables need a width: a classic terminal's when none is known.
    let mut opts = text_options(&args.view, color, 100);
    opts.fold = Folding::Long.unless(args.every_row);
    opts.kernel_changes = args.kernel;
    let ladder = args.diagram.wanted().then(|| Ladder::of_report(&report));
    // A stepped report is played once the capture is closed.
    let steps = match (args.diagram.step(), &ladder) {
        (Some(view), Some(l)) => {
            let arrows = Arrows::of(l, &opts);
            Some(trace_steps(&report, Some(&arrows), view, &opts).map_err(output_error)?)
        }
        _ => None,
    };
    let written = match args.format {
        // --mermaid makes stdout the Mermaid text alone, ready to redirect.
        _ if args.diagram.mermaid() || steps.is_some() => Ok(()),
        Format::Json => write_trace_json(out, &report, args.view.max_hex, args.view.explain)
            .map_err(output_error),
        Format::Text => write_trace_text(out, &report, &opts).map_err(output_error),
    };
    // Closing a packet socket waits for the kernel (about 25 ms here): the
    // report goes out first.
    let flushed = written.and_then(|()| out.flush().map_err(output_error));
    rt.block_on(async move { drop(cap) });
    flushed?;
    if let Some(steps) = &steps {
        play_steps(steps, &opts, out)?;
    }
    if let (Some(path), Some(ladder)) = (&args.diagram.html, &ladder) {
        let mut part = PagePart::of_trace("", &report, vec![ladder.clone()]);
        // The heading's first line is the page's title.
        let (first, rest) = part.head.split_once('\n').unwrap_or((&part.head, ""));
        let title = PageText {
            title: first.to_string(),
            ..PageText::default()
        };
        part.head = rest.to_string();
        write_page(path, &title, &[part], text.then_some((&opts, &mut *out)))?;
    }
    match &ladder {
        Some(ladder) => draw_diagram(&args.diagram, ladder, &opts, text, out),
        None => Ok(()),
    }
}

/// The impaired path `args` asks for.
fn path_plan(p: &TracePath, args: &Trace) -> PathPlan {
    PathPlan {
        impairment: p.impairment.clone(),
        capture_at: if p.capture_at_server {
            CaptureAt::Server
        } else {
            CaptureAt::Client
        },
        ipv6: args.addr.is_ipv6(),
        port: args.addr.port(),
        no_tail_loss_probe: false,
    }
}

/// Writes every captured frame, as captured, to a pcap file.
fn save(path: &Path, report: &TraceReport) -> Result<()> {
    super::save_packets(path, &report.packets, &report.capture)
}
