//! `trace -- CMD` as text: what ran and how it ended, a table of its
//! connections when there are several, then each connection as `trace`
//! shows one (its rows with the program's output among them by time), and
//! the kernel's view of its sockets.

use std::io::{self, Write};

use comfy_table::CellAlignment;

use super::{fitting_lines, new_table, no_wrap, prose, write_trace_text, TextOptions};
use super::{lines_of, push_trace, Arrows, StepView};
use crate::render::{Ladder, Paint, ProgramExit, ProgramReport, Steps};

pub fn write_program_text(
    w: &mut dyn Write,
    r: &ProgramReport,
    opts: &TextOptions,
) -> io::Result<()> {
    program_head(w, r, opts)?;
    for (i, c) in r.connections.iter().enumerate() {
        writeln!(w)?;
        writeln!(w, "{}", stream_title(i, opts))?;
        write_trace_text(w, c, opts)?;
    }
    Ok(())
}

/// `trace -- CMD --step`: what ran at once, then each connection a
/// segment at a time.
pub fn program_steps(r: &ProgramReport, view: StepView, opts: &TextOptions) -> io::Result<Steps> {
    let mut steps = Steps::new(lines_of(|w| program_head(w, r, opts))?);
    for (i, c) in r.connections.iter().enumerate() {
        steps.blank();
        steps.extend([stream_title(i, opts)]);
        let arrows = Arrows::of(&Ladder::of_report(c), opts);
        push_trace(&mut steps, c, Some(&arrows), view, opts)?;
    }
    Ok(steps)
}

/// `── stream 2`, over each connection.
fn stream_title(i: usize, opts: &TextOptions) -> String {
    opts.palette
        .paint(Paint::Heading, &format!("── stream {i}"))
}

/// What ran and how it ended, and the table of its connections (or what it
/// printed, when it made none).
fn program_head(w: &mut dyn Write, r: &ProgramReport, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    let n = r.connections.len();
    let title = format!(
        "tcplab trace -- {} · {} · {n} connection{} of the program's",
        r.program.command,
        r.capture.interface,
        if n == 1 { "" } else { "s" }
    );
    prose(w, "", &pal.paint(Paint::Heading, &title), opts)?;
    let mut said = ended(&r.program.exit);
    if r.others > 0 {
        said.push_str(&format!(
            "; {} other connection{} on {} {} not the program's (left out)",
            r.others,
            if r.others == 1 { "" } else { "s" },
            r.capture.interface,
            if r.others == 1 { "was" } else { "were" }
        ));
    }
    prose(w, "  ", &said, opts)?;
    if n > 1 {
        writeln!(w)?;
        summary(w, r, opts)?;
    }
    if n == 0 {
        writeln!(w)?;
        prose(
            w,
            "",
            "the program made no TCP connection on lo; what it printed:",
            opts,
        )?;
        for l in &r.program.output {
            prose(
                w,
                "  ",
                &format!("{:.3} ms  {} │ {}", l.t_ms, l.who, l.line),
                opts,
            )?;
        }
    }
    Ok(())
}

/// `the program exited with code 0`.
fn ended(e: &ProgramExit) -> String {
    match (e.timed_out, e.exit_code, e.signal) {
        (true, _, _) => "the program was still running at --timeout: tcplab stopped it".into(),
        (false, Some(code), _) => format!("the program exited with code {code}"),
        (false, None, Some(sig)) => format!("the program was killed by signal {sig}"),
        (false, None, None) => "the program ended".into(),
    }
}

/// One row per connection: its ends, frames and payload each way.
fn summary(w: &mut dyn Write, r: &ProgramReport, opts: &TextOptions) -> io::Result<()> {
    let mut t = new_table(opts);
    t.set_header(["stream", "client", "server", "frames", "c → s", "s → c"]);
    for (i, c) in r.connections.iter().enumerate() {
        let (a, b) = (c.wire.client_to_server, c.wire.server_to_client);
        t.add_row(vec![
            i.to_string(),
            format!(
                "{}:{}",
                c.connection.client.address, c.connection.client.port
            ),
            format!(
                "{}:{}",
                c.connection.server.address, c.connection.server.port
            ),
            (a.frames + b.frames).to_string(),
            a.payload_bytes.to_string(),
            b.payload_bytes.to_string(),
        ]);
    }
    no_wrap(&mut t);
    for i in [0, 3, 4, 5] {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let lines = fitting_lines(&t, opts.width).unwrap_or_else(|| t.lines().collect());
    for line in lines {
        writeln!(w, "{line}")?;
    }
    Ok(())
}
