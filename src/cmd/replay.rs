//! `tcplab replay FILE`: the per-packet path over a saved capture, one pass,
//! streaming: a row, a record or a reassembled piece is written as soon as
//! its frame is read. Memory holds per-stream state only, except with
//! `--html FILE`, whose page needs every frame shown: those are kept.

use std::io::Write;
use std::path::Path;

use super::diagram::draw_diagram;
use super::output_error;
use super::page::write_page;
use super::step::play_steps;
use crate::capture::{FileSource, FrameFilter};
use crate::cli::{text_options, ColorChoice, Replay, ReplayFormat, ReplayShow};
use crate::flow::{Analysis, Direction, Packet, Pipeline, Reassembler, Summary};
use crate::render::{
    bytes_per_line, endpoint_text, endpoints, explain_one, hexdump, layout_spans, lines_of,
    push_segments, size_line, write_record_explained, write_summary, Arrows, Folding, FollowWriter,
    HexdumpMode, Ladder, PagePart, PageText, Paint, RowWriter, Segment, Span, Steps, TextOptions,
    NO_MARKS,
};
use crate::values::Timestamp;
use crate::{Error, Result};

/// What is written per frame.
enum Output {
    Rows(RowWriter),
    /// `--step`: the drawn stream's rows, kept for stepping at the end.
    Stepped {
        rows: RowWriter,
        segments: Vec<Segment>,
    },
    /// Records gather in `batch` (see [`RECORD_BATCH`]).
    Json {
        first: bool,
        batch: Vec<u8>,
    },
    Ndjson {
        batch: Vec<u8>,
    },
    Summary(Summary),
    Follow {
        stream: u32,
        reassembler: Reassembler,
        writer: FollowWriter,
        announced: bool,
    },
}

/// JSON records are written to a buffer of about this size and the buffer
/// to the output when full: one write for a hundred records, where writing
/// each record's pieces through `dyn Write` took most of NDJSON's time.
const RECORD_BATCH: usize = 64 * 1024;

/// Counts for the closing line.
#[derive(Default)]
struct Totals {
    frames: u64,
    shown: u64,
    analysis: Vec<u64>,
    /// The first frame's time (after `--filter`).
    first_ts: Option<Timestamp>,
}

/// What one pass over the file gathered besides what it wrote.
struct Pass {
    totals: Totals,
    /// The ladder of the drawn stream, built while streaming: arrows only.
    ladder: Option<Ladder>,
    /// Why reading stopped before the end of the file, if it did.
    damage: Option<String>,
    /// The conversations, for the summary's endpoints.
    pipeline: Pipeline,
    /// `--html FILE`: the frames shown, kept for the page.
    kept: Vec<Packet>,
}

/// Runs `replay` and writes to `out`.
pub fn run(args: &Replay, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let mut src = FileSource::open(&args.file)?;
    let filter = args.filter.as_deref().map(FrameFilter::new).transpose()?;
    // Piped or redirected, rows are never wrapped (as tcpdump's).
    // Replay streams its rows and never folds them: nor does its ladder.
    let opts = TextOptions {
        fold: Folding::Never,
        ..text_options(&args.view, color, usize::MAX)
    };
    let mut output = match (args.show, args.format) {
        (ReplayShow::Follow, _) => Output::Follow {
            stream: args.stream.unwrap_or(0),
            reassembler: Reassembler::new(),
            writer: FollowWriter::new(opts, opts.hexdump != HexdumpMode::None),
            announced: false,
        },
        (ReplayShow::Summary, _) => Output::Summary(Summary::new()),
        (ReplayShow::Packets, ReplayFormat::Text) if args.diagram.step().is_some() => {
            Output::Stepped {
                rows: RowWriter::new(opts),
                segments: Vec::new(),
            }
        }
        (ReplayShow::Packets, ReplayFormat::Text) => Output::Rows(RowWriter::new(opts)),
        (ReplayShow::Packets, ReplayFormat::Json) => Output::Json {
            first: true,
            batch: Vec::with_capacity(RECORD_BATCH + 4096),
        },
        (ReplayShow::Packets, ReplayFormat::Ndjson) => Output::Ndjson {
            batch: Vec::with_capacity(RECORD_BATCH + 4096),
        },
    };
    let pass = read_all(&mut src, filter, args, &mut output, &opts, out)?;
    // --mermaid makes stdout the Mermaid text alone.
    // A stream that is not there is said (below) before anything is played.
    let playable = pass.ladder.is_some() || pass.damage.is_some();
    if let (Output::Stepped { segments, .. }, Some(view), true) =
        (&output, args.diagram.step(), playable)
    {
        let mut steps = Steps::new(step_heading(args, pass.ladder.as_ref(), &opts));
        let arrows = pass.ladder.as_ref().map(|l| Arrows::of(l, &opts));
        push_segments(&mut steps, segments, arrows.as_slice(), view);
        steps.pause("the totals");
        steps.extend(
            lines_of(|w| finish(&mut output, w, &pass, &opts, args)).map_err(output_error)?,
        );
        play_steps(&steps, &opts, out)?;
    } else if !args.diagram.mermaid() && args.diagram.step().is_none() {
        finish(&mut output, out, &pass, &opts, args).map_err(output_error)?;
    }
    if let Some(l) = &pass.ladder {
        let text = args.format == ReplayFormat::Text;
        draw_diagram(&args.diagram, l, &opts, text, out)?;
    }
    if let Some(path) = &args.diagram.html {
        page(args, path, &pass, &opts, out)?;
    }
    let drawn_stream = args.stream.unwrap_or(0);
    let followed_nothing = matches!(
        output,
        Output::Follow {
            announced: false,
            ..
        }
    );
    match pass.damage {
        // As for a ladder: a stream that is not there is a usage error.
        None if followed_nothing => Err(Error::Usage(format!(
            "stream {drawn_stream} is not in {}: nothing to follow \
             (tcplab replay --summary lists the streams)",
            src.path().display()
        ))),
        None if pass.ladder.is_none() && args.diagram.wanted() => Err(Error::Usage(format!(
            "stream {drawn_stream} has no TCP segments in {}: no ladder diagram to draw \
             (tcplab replay --summary lists the streams)",
            src.path().display()
        ))),
        None => Ok(()),
        Some(detail) => Err(Error::CorruptCapture {
            path: src.path().to_path_buf(),
            frames_read: pass.totals.frames,
            detail,
        }),
    }
}

/// Reads every frame (to the end or the damage), steps it through the
/// pipeline, and writes what `output` shows of it as soon as it is read.
fn read_all(
    src: &mut FileSource,
    mut filter: Option<FrameFilter>,
    args: &Replay,
    output: &mut Output,
    opts: &TextOptions,
    out: &mut dyn Write,
) -> Result<Pass> {
    let mut pipeline = Pipeline::new();
    // One packet, refilled per frame: no allocation per frame.
    let mut p = Packet::default();
    let mut totals = Totals {
        analysis: vec![0; Analysis::all_names().count()],
        ..Totals::default()
    };
    let drawn_stream = args.stream.unwrap_or(0);
    let mut ladder: Option<Ladder> = None;
    let mut kept = Vec::new();
    let rows_shown = !args.diagram.mermaid();
    // A stepped replay steps through the drawn stream.
    let shown_stream = match args.diagram.step() {
        Some(_) => Some(drawn_stream),
        None => args.stream,
    };
    let damage = loop {
        let frame = match src.reader_mut().next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        };
        totals.frames += 1;
        if let Some(f) = filter.as_mut() {
            if !f.matches(frame.link, frame.data) {
                continue;
            }
        }
        totals.first_ts.get_or_insert(frame.ts);
        pipeline.step_into(totals.frames, &frame, &mut p);
        if args.diagram.wanted() && p.stream() == Some(drawn_stream) {
            if ladder.is_none() {
                ladder = endpoints(&p).map(|(c, s)| Ladder::new(c, s));
            }
            if let Some(l) = ladder.as_mut() {
                l.push(&p);
            }
        }
        if !rows_shown || shown_stream.is_some_and(|want| p.stream() != Some(want)) {
            continue;
        }
        if let Some(frames) = &args.frames {
            if !frames.contains(totals.frames) {
                continue;
            }
        }
        totals.shown += 1;
        let found = p.findings().flags;
        // Most segments have no analysis flag: skip the walk over the names.
        if !found.is_empty() {
            for i in found.indices() {
                totals.analysis[i] += 1;
            }
        }
        emit(output, out, &p, opts, opts.max_hex).map_err(output_error)?;
        if args.diagram.html.is_some() {
            kept.push(p.clone());
        }
    };
    Ok(Pass {
        totals,
        ladder,
        damage,
        pipeline,
        kept,
    })
}

fn emit(
    output: &mut Output,
    out: &mut dyn Write,
    p: &Packet,
    opts: &TextOptions,
    max_hex: usize,
) -> std::io::Result<()> {
    match output {
        Output::Rows(rows) => {
            rows.row(out, p)?;
            under_row(out, p, opts)
        }
        Output::Stepped { rows, segments } => {
            let row = lines_of(|w| rows.row(w, p))?;
            let more = lines_of(|w| under_row(w, p, opts))?;
            segments.push(Segment::new(p.number, row, more));
            Ok(())
        }
        Output::Json { first, batch } => {
            batch.extend_from_slice(if *first { b"[\n" } else { b",\n" });
            *first = false;
            write_record_explained(batch, p, max_hex, opts.explain);
            write_batch(out, batch, RECORD_BATCH)
        }
        Output::Ndjson { batch } => {
            write_record_explained(batch, p, max_hex, opts.explain);
            batch.push(b'\n');
            write_batch(out, batch, RECORD_BATCH)
        }
        Output::Summary(summary) => {
            summary.add(p);
            Ok(())
        }
        Output::Follow {
            stream,
            reassembler,
            writer,
            announced,
        } => {
            let (Some(seg), Some(flow)) = (p.segment(), &p.flow) else {
                return Ok(());
            };
            if flow.stream != *stream {
                return Ok(());
            }
            if !*announced {
                let (c, s) = match flow.direction {
                    Direction::ClientToServer => (seg.src, seg.dst),
                    Direction::ServerToClient => (seg.dst, seg.src),
                };
                writer.heading(out, &format!("stream {stream}: client {c} ⇄ server {s}"))?;
                *announced = true;
            }
            for piece in reassembler.push(p.number, &seg, flow.direction, p.payload()) {
                writer.piece(out, &piece)?;
            }
            Ok(())
        }
    }
}

/// A stepped replay's heading: the file, and the stream's ends (on a line
/// of their own when both do not fit).
fn step_heading(args: &Replay, ladder: Option<&Ladder>, opts: &TextOptions) -> Vec<String> {
    let stream = args.stream.unwrap_or(0);
    let ends = ladder.map_or(String::new(), |l| {
        let (c, s) = (endpoint_text(&l.client), endpoint_text(&l.server));
        format!(": client {c} ⇄ server {s}")
    });
    let file = format!("tcplab replay {}", args.file.display());
    let what = format!("stream {stream}{ends}");
    let lines = match file.chars().count() + 3 + what.chars().count() {
        n if n <= opts.width => vec![format!("{file} · {what}")],
        _ => vec![file, format!("  {what}")],
    };
    let pal = opts.palette;
    let mut lines: Vec<String> = lines.iter().map(|l| pal.paint(Paint::Heading, l)).collect();
    lines.push(String::new());
    lines
}

/// Under a row: its dump and, with `--explain`, its fields.
fn under_row(out: &mut dyn Write, p: &Packet, opts: &TextOptions) -> std::io::Result<()> {
    dump(out, p, opts)?;
    if opts.explain {
        explain_one(out, p, opts)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Writes out `batch` once it holds `at_least` bytes, and empties it.
fn write_batch(out: &mut dyn Write, batch: &mut Vec<u8>, at_least: usize) -> std::io::Result<()> {
    if batch.len() >= at_least {
        out.write_all(batch)?;
        batch.clear();
    }
    Ok(())
}

/// Hex dumps under a row, as `--hexdump` asks.
fn dump(out: &mut dyn Write, packet: &Packet, opts: &TextOptions) -> std::io::Result<()> {
    // The dumps sit under the rows, indented by nine columns.
    let per_line = bytes_per_line(opts.width.saturating_sub(7));
    let (bytes, spans) = match opts.hexdump {
        HexdumpMode::None => return Ok(()),
        HexdumpMode::Payload if packet.payload().is_empty() => return Ok(()),
        HexdumpMode::Payload => {
            let p = packet.payload();
            (
                p,
                vec![Span {
                    range: 0..p.len(),
                    paint: Paint::Payload,
                }],
            )
        }
        HexdumpMode::Frame => {
            // How the frame's bytes split into layers, tunnels included.
            if let Some(line) = size_line(packet, opts.palette) {
                writeln!(out, "         {line}")?;
            }
            (&packet.data[..], layout_spans(packet))
        }
    };
    let shown = &bytes[..bytes.len().min(opts.max_hex)];
    hexdump(out, shown, &spans, opts.palette, per_line, "         ")?;
    if shown.len() < bytes.len() {
        writeln!(
            out,
            "         … {} more bytes (--max-hex)",
            bytes.len() - shown.len()
        )?;
    }
    Ok(())
}

/// `10 frames read, 10 shown; analysis: retransmission 2`.
fn totals_line(totals: &Totals) -> String {
    let flagged: Vec<String> = totals
        .analysis
        .iter()
        .zip(Analysis::all_names())
        .filter(|(n, _)| **n > 0)
        .map(|(n, name)| format!("{name} {n}"))
        .collect();
    let mut line = format!("{} frames read, {} shown", totals.frames, totals.shown);
    if !flagged.is_empty() {
        line.push_str(&format!("; analysis: {}", flagged.join(", ")));
    }
    line
}

/// `--html FILE`: the frames shown, the drawn stream's ladder, the totals.
fn page(
    args: &Replay,
    path: &Path,
    pass: &Pass,
    opts: &TextOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let head = match args.stream {
        Some(n) => format!("{} · stream {n}", args.file.display()),
        None => args.file.display().to_string(),
    };
    let part = PagePart {
        title: String::new(),
        head,
        packets: &pass.kept,
        marks: &NO_MARKS,
        ladders: pass.ladder.iter().cloned().collect(),
        tail: totals_line(&pass.totals),
    };
    let text = PageText {
        title: format!("tcplab replay {}", args.file.display()),
        ..PageText::default()
    };
    let say = (args.format == ReplayFormat::Text).then_some((opts, out));
    write_page(path, &text, &[part], say)
}

fn finish(
    output: &mut Output,
    out: &mut dyn Write,
    pass: &Pass,
    opts: &TextOptions,
    args: &Replay,
) -> std::io::Result<()> {
    let totals = &pass.totals;
    match output {
        Output::Rows(_) | Output::Stepped { .. } => {
            let line = totals_line(totals);
            crate::render::text_prose(out, "", &opts.palette.paint(Paint::Dim, &line), opts)
        }
        Output::Json { first, batch } => {
            write_batch(out, batch, 0)?;
            if *first {
                out.write_all(b"[")?;
            }
            out.write_all(b"\n]\n")
        }
        Output::Ndjson { batch } => write_batch(out, batch, 0),
        Output::Summary(summary) => {
            let rows = summary.rows(pass.pipeline.tracker());
            match args.format {
                ReplayFormat::Text => write_summary(out, rows, totals.first_ts, opts),
                _ => crate::render::write_summary_json(out, rows, totals.first_ts),
            }
        }
        Output::Follow {
            reassembler,
            writer,
            announced,
            ..
        } => {
            if !*announced {
                return Ok(()); // nothing to show: run() says so on stderr
            }
            for piece in reassembler.finish() {
                writer.piece(out, &piece)?;
            }
            writer.finish(out)
        }
    }
}
