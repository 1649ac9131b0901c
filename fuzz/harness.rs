//! The code paths the fuzz targets drive, shared with
//! `tests/fuzz_regressions.rs` (which includes this file by path) so a
//! crashing input is replayed without the fuzzer.
//!
//! `frame` input: a link byte, an options byte, then frames, each as a
//! two-byte little-endian length, a timing byte and that many bytes (the
//! last frame takes what is left). The link byte picks one of [`LINKS`]
//! (its value modulo 8; 7 means all of them in turn): the frames go through
//! the pipeline with that link type, then every renderer draws what the
//! pipeline made. (Rendering each input seven times made the target seven
//! times slower; the fuzzer finds the link byte's eight values at once.)
//!
//! `savefile` input: a whole capture file.
//!
//! `cli` input: a command line. The first byte picks the subcommand; the
//! rest, as UTF-8 (lossy), is its arguments, separated by NUL bytes.

use std::io::{self, Cursor, Write};

use tcplab::capture::SavefileReader;
use tcplab::flow::{Pipeline, Reassembler, Summary};
use tcplab::render::{
    endpoints, explain_one, hexdump, layout_spans, never, play, trace_steps, write_ladder,
    write_ladder_mermaid, write_ladder_svg, write_summary, write_summary_json, write_trace_json,
    write_trace_text, Arrows, CaptureInfo, Connection, DumpBudget, EndpointInfo, Folding,
    FollowWriter, HexdumpMode, Ladder, PacketRecord, Palette, RowWriter, Screen, Sockets, StepView,
    TextOptions, TraceReport, Wire,
};
use tcplab::values::{Deadline, Frame, LinkType, Timestamp, TsPrecision};

/// Every link type the decoder knows, and one it does not.
pub const LINKS: [LinkType; 7] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
    LinkType::Other(105),
];

/// Frames read from one savefile input at most.
pub const MAX_SAVEFILE_FRAMES: usize = 10_000;

/// Splits a `frame` input into its link types, its options byte and its
/// frames' timestamps, original lengths and bytes.
/// One frame cut from a fuzz input: its time, original length and bytes.
pub type FuzzFrame<'a> = (Timestamp, u32, &'a [u8]);

pub fn split_frames(data: &[u8]) -> (&'static [LinkType], u8, Vec<FuzzFrame<'_>>) {
    let &[link, opts, ref rest @ ..] = data else {
        return (&[], 0, Vec::new());
    };
    let mut rest: &[u8] = rest;
    let links = match usize::from(link % 8) {
        7 => &LINKS[..],
        i => std::slice::from_ref(&LINKS[i]),
    };
    let mut frames = Vec::new();
    let mut ts = Timestamp {
        sec: 1_700_000_000,
        nsec: 0,
    };
    while rest.len() >= 3 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let timing = rest[2];
        rest = &rest[3..];
        let take = len.min(rest.len());
        let (bytes, tail) = rest.split_at(take);
        rest = tail;
        // Low seven bits: milliseconds since the previous frame; 0x7f steps
        // back a second (clocks do), 0x7e leaps i64::MAX seconds (a pcapng
        // if_tsoffset can say anything). High bit: the snaplen cut the frame.
        if timing & 0x7f == 0x7f {
            ts.sec = ts.sec.wrapping_sub(1);
        } else if timing & 0x7f == 0x7e {
            ts.sec = ts.sec.wrapping_add(i64::MAX);
        } else {
            ts.nsec += u32::from(timing & 0x7f) * 1_000_000;
            ts.sec = ts.sec.wrapping_add(i64::from(ts.nsec / 1_000_000_000));
            ts.nsec %= 1_000_000_000;
        }
        let orig_len = bytes.len() as u32 + if timing & 0x80 != 0 { 1500 } else { 0 };
        frames.push((ts, orig_len, bytes));
    }
    (links, opts, frames)
}

/// Text options from the options byte: width, colour, hex mode, raw seq.
pub fn text_options(opts: u8) -> TextOptions {
    const WIDTHS: [usize; 8] = [0, 1, 20, 40, 60, 80, 132, usize::MAX];
    TextOptions {
        palette: Palette {
            enabled: opts & 0x08 != 0,
        },
        width: WIDTHS[usize::from(opts & 0x07)],
        hexdump: match (opts >> 4) & 0x03 {
            0 | 3 => HexdumpMode::Payload,
            1 => HexdumpMode::Frame,
            _ => HexdumpMode::None,
        },
        raw_seq: opts & 0x40 != 0,
        max_hex: if opts & 0x80 != 0 { 16 } else { 4096 },
        // Always: an input has fewer than FOLD_OVER frames, and its runs
        // should reach the fold code all the same.
        fold: Folding::Always,
        // Hex mode 3 dumps payloads as a lab does: under a budget.
        dump_budget: match (opts >> 4) & 0x03 {
            3 => DumpBudget::Lab(16),
            _ => DumpBudget::Every,
        },
        kernel_changes: false,
        // The options byte is full: every field is explained, always.
        explain: true,
    }
}

/// The `frame` target: every link type, every renderer.
pub fn frame(data: &[u8]) {
    let (links, opts, frames) = split_frames(data);
    let opts = text_options(opts);
    for &link in links {
        let frames = frames.iter().map(|&(ts, orig_len, bytes)| Frame {
            ts,
            link,
            precision: TsPrecision::Nano,
            orig_len,
            data: bytes.to_vec(),
        });
        render_all(frames, &opts, &mut io::sink()).expect("a sink never fails");
    }
}

/// Runs `frames` through the pipeline and every renderer into `out`.
pub fn render_all(
    frames: impl IntoIterator<Item = Frame>,
    opts: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut pipeline = Pipeline::new();
    let mut rows = RowWriter::new(*opts);
    let mut summary = Summary::new();
    let mut reassembler = Reassembler::new();
    let mut follow = FollowWriter::new(*opts, opts.hexdump != HexdumpMode::None);
    let mut packets = Vec::new();
    let mut first_ts = None;
    for frame in frames {
        first_ts.get_or_insert(frame.ts);
        let packet = pipeline.push(&frame.as_raw());
        rows.row(out, &packet)?;
        let record = PacketRecord::of(&packet, opts.max_hex).explained(&packet, true);
        serde_json::to_writer(&mut *out, &record)?;
        explain_one(out, &packet, opts)?;
        let spans = layout_spans(&packet);
        hexdump(out, &packet.data, &spans, opts.palette, 16, "  ")?;
        hexdump(out, packet.payload(), &spans, opts.palette, 8, "")?;
        summary.add(&packet);
        if let (Some(seg), Some(flow)) = (packet.segment(), &packet.flow) {
            if flow.stream == 0 {
                for piece in reassembler.push(packet.number, &seg, flow.direction, packet.payload())
                {
                    follow.piece(out, &piece)?;
                }
            }
        }
        packets.push(packet);
    }
    for piece in reassembler.finish() {
        follow.piece(out, &piece)?;
    }
    follow.finish(out)?;
    write_summary(out, summary.rows(pipeline.tracker()), first_ts, opts)?;
    write_summary_json(out, summary.rows(pipeline.tracker()), first_ts)?;

    let loopback = |port| EndpointInfo {
        address: "127.0.0.1".into(),
        port,
        family: "IPv4",
    };
    let (client, server) = packets
        .iter()
        .find_map(endpoints)
        .unwrap_or_else(|| (loopback(40000), loopback(8080)));
    let report = TraceReport {
        connection: Connection {
            client,
            server,
            client_seen_by_server: None,
        },
        wire: Wire::of(&packets),
        packets,
        sockets: Sockets {
            client: Default::default(),
            server: Default::default(),
        },
        capture: CaptureInfo {
            interface: "fuzz".into(),
            link: LinkType::Ethernet,
            snaplen: 65535,
            dropped: 0,
            stats: Default::default(),
        },
        server_mode: "echo",
        warning: Some("fuzzed input".into()),
        path: None,
        kernel: None,
        lines: Vec::new(),
    };
    write_trace_text(out, &report, opts)?;
    write_trace_json(out, &report, opts.max_hex, true)?;

    let mut ladders = vec![Ladder::of_connection(&report.connection, &report.packets)];
    ladders.extend(Ladder::of_stream(&report.packets, 0));
    ladders.extend(Ladder::of_stream(&report.packets, 1));
    for ladder in &ladders {
        write_ladder(out, ladder, opts)?;
        write_ladder_svg(out, ladder)?;
        write_ladder_mermaid(out, ladder)?;
        // Stepped, both views: forward, back, on to the end.
        let arrows = Arrows::of(ladder, opts);
        for view in [StepView::Report, StepView::Ladder] {
            let steps = trace_steps(&report, Some(&arrows), view, opts)?;
            let mut answers = Cursor::new(b"\n\nb\n\n".to_vec());
            let screen = Screen {
                prompt: None,
                redraw: true,
                palette: opts.palette,
                typed_ahead: never,
            };
            play(out, &steps, &mut answers, screen)?;
        }
    }
    Ok(())
}

/// The `savefile` target: a whole capture file through the reader, the
/// pipeline and `replay`'s streaming renderers (rows, JSON records, the
/// summary), at most [`MAX_SAVEFILE_FRAMES`] frames.
pub fn savefile(data: &[u8]) {
    let Ok(mut reader) = SavefileReader::new(Cursor::new(data)) else {
        return;
    };
    let _ = reader.first_link();
    let _ = reader.precision();
    let opts = text_options(0x25);
    let mut out = io::sink();
    let mut pipeline = Pipeline::new();
    let mut packet = tcplab::flow::Packet::default();
    let mut rows = RowWriter::new(opts);
    let mut summary = Summary::new();
    let mut first_ts = None;
    let mut number = 0u64;
    while number < MAX_SAVEFILE_FRAMES as u64 {
        let raw = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        };
        number += 1;
        first_ts.get_or_insert(raw.ts);
        pipeline.step_into(number, &raw, &mut packet);
        rows.row(&mut out, &packet).expect("a sink never fails");
        serde_json::to_writer(&mut out, &PacketRecord::of(&packet, 64)).expect("records serialize");
        summary.add(&packet);
    }
    assert_eq!(reader.frames_read(), number);
    assert_eq!(pipeline.frames(), number);
    let rows = summary.rows(pipeline.tracker());
    write_summary(&mut out, rows.clone(), first_ts, &opts).expect("a sink never fails");
    write_summary_json(&mut out, rows, first_ts).expect("a sink never fails");
}

/// The subcommands a `cli` input's first byte picks from.
const SUBCOMMANDS: [&str; 8] = [
    "trace",
    "replay",
    "capture",
    "serve",
    "send",
    "lab",
    "completions",
    "man",
];

/// `cli`: a command line through clap and every value parser tcplab
/// gives it (durations, counts, sizes, hex, targets), then each argument
/// straight into the duration and hex parsers. A parse error is rendered,
/// as the binary renders it; a duration that parses becomes a deadline
/// (an `Instant + Duration` that once overflowed and panicked later).
pub fn cli(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let sub = SUBCOMMANDS[usize::from(pick) % SUBCOMMANDS.len()];
    let args = ["tcplab", sub]
        .into_iter()
        .chain(text.split('\0'))
        .map(std::ffi::OsString::from);
    match tcplab::cli::parse(args) {
        Ok(invocation) => {
            let _ = format!("{:?}", invocation.task);
        }
        Err(e) => {
            let _ = e.render().to_string();
        }
    }
    for word in text.split('\0') {
        if let Ok(d) = tcplab::cli::parse_duration(word) {
            let _ = Deadline::after(d);
        }
        let _ = tcplab::cli::parse_hex(word);
    }
}
