//! `tcplab trace`: bind a loopback server, open the capture filtered on its
//! port, run the exchange, read packets until the teardown is complete, then
//! report.
//!
//! Order matters: the listener is bound first (so the port is known), the
//! capture is opened with its filter (libpcap captures everything after
//! `pcap_activate` returns), and only then does the client connect. The run
//! ends when both FINs are acknowledged or a reset is seen; a grace timer
//! after the applications finished is only the fallback.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::ArgMatches;
use tokio::net::TcpListener;

use super::output_error;
use crate::capture::{loopback_interface, LiveCapture, LiveConfig, PcapWriter};
use crate::cli::{resolve_color, terminal_width, ColorChoice, DiagramArgs, Format, TraceArgs};
use crate::flow::{CloseWatch, Direction, Packet, Pipeline};
use crate::lab::{run_exchange, ExchangePlan};
use crate::render::{
    write_ladder, write_ladder_mermaid, write_ladder_stepped, write_ladder_svg, write_trace_json,
    write_trace_text, CaptureInfo, Connection, Ladder, Palette, Sockets, TextOptions, TraceReport,
    Wire,
};
use crate::{Error, Result};

/// How long to wait for the last teardown packets once both applications
/// are done; reached only if the capture missed them.
const GRACE: Duration = Duration::from_millis(1000);

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
        close: args.close,
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
    let opts = TextOptions {
        palette: Palette {
            enabled: resolve_color(color),
        },
        // Tables need a width: a classic terminal's when none is known.
        width: terminal_width().unwrap_or(100),
        hexdump: args.hexdump,
        raw_seq: args.raw_seq,
        max_hex: args.max_hex,
    };
    let ladder = wants_ladder(&args.diagram)
        .then(|| Ladder::of_connection(&report.connection, &report.packets));
    let written = match args.format {
        // --mermaid makes stdout the Mermaid text alone, ready to redirect.
        _ if args.diagram.mermaid => Ok(()),
        Format::Json => write_trace_json(out, &report, args.max_hex).map_err(output_error),
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

/// True if any ladder diagram is asked for (`--diagram`, `--svg`,
/// `--mermaid`, `--step`).
pub fn wants_ladder(args: &DiagramArgs) -> bool {
    args.diagram || args.svg.is_some() || args.mermaid || args.step
}

/// Refuses diagram flags that cannot go together, before anything runs.
/// `text` is false when stdout carries JSON: the terminal ladder and
/// Mermaid would corrupt it (`--svg` writes a file and goes with anything).
/// `--mermaid` makes stdout the Mermaid text alone, so it excludes the
/// terminal ladder.
pub fn check_diagram(args: &DiagramArgs, text: bool) -> Result<()> {
    let terminal = args.diagram || args.step;
    if !text && (terminal || args.mermaid) {
        return Err(Error::Usage(
            "--diagram, --step and --mermaid print text and cannot be mixed with JSON output; \
             drop --format, or use --svg FILE, which writes a file"
                .into(),
        ));
    }
    if args.mermaid && terminal {
        return Err(Error::Usage(
            "--mermaid prints only the Mermaid text (to redirect to a file); \
             run once with --mermaid and once with --diagram or --step"
                .into(),
        ));
    }
    Ok(())
}

/// Draws `ladder` as `args` ask, after the report (`trace`, `replay`,
/// `lab`): `--svg FILE` writes the file, `--mermaid` prints Mermaid,
/// `--diagram` draws it in the terminal and `--step` does so one arrow at
/// a time, reading a line of stdin before each (Enter at a terminal; from
/// a pipe or file each line advances one arrow, the end draws the rest).
/// `text` says stdout carries a text report, which may then say where the
/// SVG went. Call [`check_diagram`] first.
pub fn draw_diagram(
    args: &DiagramArgs,
    ladder: &Ladder,
    opts: &TextOptions,
    text: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if let Some(path) = &args.svg {
        let file_err = |source| Error::File {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(file_err)?);
        write_ladder_svg(&mut file, ladder).map_err(file_err)?;
        file.flush().map_err(file_err)?;
    }
    if args.mermaid {
        write_ladder_mermaid(out, ladder).map_err(output_error)?;
    }
    if args.diagram || args.step {
        writeln!(out).map_err(output_error)?;
    }
    if args.step {
        let stdin = std::io::stdin();
        let mut stderr = std::io::stderr();
        // The hint goes to the terminal only, never into a pipe or a file,
        // and only when the ladder goes there too (it erases itself by
        // moving the cursor).
        let tty = stdin.is_terminal() && stderr.is_terminal() && std::io::stdout().is_terminal();
        let prompt: Option<&mut dyn Write> = tty.then_some(&mut stderr);
        write_ladder_stepped(out, ladder, opts, &mut stdin.lock(), prompt).map_err(output_error)?;
    } else if args.diagram {
        write_ladder(out, ladder, opts).map_err(output_error)?;
    }
    if let (Some(path), true, false) = (&args.svg, text, args.mermaid) {
        let line = format!(
            "ladder diagram of {} segments written to {}",
            ladder.arrows().len() + ladder.omitted(),
            path.display()
        );
        writeln!(
            out,
            "{}",
            opts.palette.paint(crate::render::Paint::Dim, &line)
        )
        .map_err(output_error)?;
    }
    out.flush().map_err(output_error)
}

/// Does the traced exchange and returns its report (which keeps every
/// frame's bytes) and the still open capture, for the caller to close.
pub async fn trace(bind: SocketAddr, plan: ExchangePlan) -> Result<(TraceReport, LiveCapture)> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| Error::Bind {
            addr: bind.to_string(),
            source,
        })?;
    let server_addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    let config = LiveConfig::new(
        loopback_interface(),
        format!("tcp port {}", server_addr.port()),
    );
    let mut cap = LiveCapture::open(config)?;
    let mut pipeline = Pipeline::new();
    let server_mode = plan.server.name();

    let clock = Instant::now();
    let mut exchange = tokio::spawn(async move { run_exchange(listener, &plan, clock).await });
    let mut outcome = None;
    let mut grace = None;
    let mut watch = CloseWatch::new();
    let mut packets: Vec<Packet> = Vec::new();
    let mut warning = None;

    loop {
        tokio::select! {
            frame = cap.next_frame() => {
                let Some(frame) = frame else { break };
                let frame = frame?;
                let packet = pipeline.push(&frame.as_raw());
                if let (Some(seg), Some(dir)) = (packet.segment(), packet.direction()) {
                    watch.observe(&seg, dir);
                }
                packets.push(packet);
                if watch.is_closed() {
                    break;
                }
            }
            done = &mut exchange, if outcome.is_none() => {
                let done = done.map_err(|e| Error::Trace(format!("exchange task failed: {e}")))??;
                outcome = Some(done);
                grace = Some(tokio::time::Instant::now() + GRACE);
            }
            _ = sleep_until(grace), if grace.is_some() => {
                warning = Some(format!(
                    "the teardown was not seen within {} ms after both programs finished; \
                     the capture may have missed packets",
                    GRACE.as_millis()
                ));
                break;
            }
        }
    }
    let exchange = match outcome {
        Some(x) => x,
        None => exchange
            .await
            .map_err(|e| Error::Trace(format!("exchange task failed: {e}")))??,
    };
    let stats = cap.stats()?;
    let link = cap.link();
    let report = TraceReport {
        connection: Connection {
            client: exchange.client_addr.into(),
            server: exchange.server_addr.into(),
            client_seen_by_server: (exchange.client_seen_by_server != exchange.client_addr)
                .then(|| exchange.client_seen_by_server.into()),
        },
        wire: wire_totals(&packets),
        packets,
        sockets: Sockets {
            client: exchange.client,
            server: exchange.server,
        },
        capture: CaptureInfo {
            interface: cap.config().interface.clone(),
            link,
            snaplen: cap.config().snaplen as u32,
            dropped: stats.dropped + stats.if_dropped,
            stats,
        },
        server_mode,
        warning,
    };
    Ok((report, cap))
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Frames, bytes and payload per direction.
pub fn wire_totals(packets: &[Packet]) -> Wire {
    let mut wire = Wire::default();
    for p in packets {
        let totals = match p.direction() {
            Some(Direction::ClientToServer) => &mut wire.client_to_server,
            Some(Direction::ServerToClient) => &mut wire.server_to_client,
            None => continue,
        };
        totals.frames += 1;
        totals.bytes += u64::from(p.frame_len);
        totals.payload_bytes += p.payload_len as u64;
    }
    wire
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
