//! `tcplab capture`: live frames, annotated as they arrive (the rows and
//! records of `replay`), optionally saved to a pcap file. Ctrl-C, SIGTERM,
//! `--count` and `--duration` all stop it the same way: the file is
//! flushed whole and the kernel's counts are printed.

use std::io::{BufWriter, Write};

use tokio::signal::unix::{signal, SignalKind};

use super::output_error;
use crate::capture::{loopback_interface, LiveCapture, LiveConfig, PcapWriter};
use crate::cli::{text_options, Capture, CaptureFormat, ColorChoice};
use crate::flow::{Packet, Pipeline};
use crate::render::{PacketRecord, RowWriter};
use crate::values::Deadline;
use crate::{Error, Result};

/// Why the capture stopped.
enum Stop {
    Interrupted,
    Count,
    Duration,
    /// Whoever read our output went away (`| head`).
    OutputClosed,
}

/// Runs `capture` until one of its stops, writing to `out`.
pub fn run(args: &Capture, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let interface = args.interface.clone().unwrap_or_else(loopback_interface);
    let filter = args.filter.clone();
    let opts = text_options(&args.view, color, usize::MAX);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    rt.block_on(async {
        let config = LiveConfig::new(interface.clone(), filter.clone());
        let mut cap = LiveCapture::open(config)?;
        let link = cap.link();
        let mut file = match &args.write {
            Some(path) => {
                let err = |source| Error::File {
                    path: path.clone(),
                    source,
                };
                let f = std::fs::File::create(path).map_err(err)?;
                Some(PcapWriter::new(BufWriter::new(f), link, cap.config().snaplen as u32).map_err(err)?)
            }
            None => None,
        };
        if let Some(user) = &args.user {
            crate::capture::privileges::drop_to(user)?;
        }
        eprintln!(
            "tcplab capture: listening on {interface} ({}), filter '{filter}'{}{}; Ctrl-C stops",
            link.label(),
            args.write
                .as_ref()
                .map(|p| format!(", saving to {}", p.display()))
                .unwrap_or_default(),
            args.user
                .as_ref()
                .map(|u| format!(", running as {u}"))
                .unwrap_or_default()
        );
        let mut pipeline = Pipeline::new();
        let mut packet = Packet::default();
        let mut rows = RowWriter::new(opts);
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("SIGTERM handler", e))?;
        let deadline = Deadline::after_opt(args.duration);
        let mut frames = 0u64;
        let stop = loop {
            tokio::select! {
                frame = cap.next_frame() => {
                    let Some(frame) = frame else { break Stop::Interrupted };
                    let frame = frame?;
                    frames += 1;
                    if let Some(w) = file.as_mut() {
                        let path = args.write.clone().unwrap_or_default();
                        w.write_frame(&frame).map_err(|source| Error::File { path, source })?;
                    }
                    pipeline.step_into(frames, &frame.as_raw(), &mut packet);
                    let written = match args.format {
                        CaptureFormat::Text => rows.row(out, &packet),
                        CaptureFormat::Ndjson => serde_json::to_writer(&mut *out, &PacketRecord::of(&packet, opts.max_hex))
                            .map_err(std::io::Error::from)
                            .and_then(|()| out.write_all(b"\n")),
                    };
                    if let Err(e) = written.and_then(|()| out.flush()) {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            break Stop::OutputClosed;
                        }
                        return Err(output_error(e));
                    }
                    if args.count.is_some_and(|c| frames >= c.get()) {
                        break Stop::Count;
                    }
                }
                _ = tokio::signal::ctrl_c() => break Stop::Interrupted,
                _ = term.recv() => break Stop::Interrupted,
                () = deadline.reached() => break Stop::Duration,
            }
        };
        if let Some(w) = file.take() {
            let path = args.write.clone().unwrap_or_default();
            w.finish()
                .and_then(|f| f.into_inner().map_err(|e| e.into_error()))
                .and_then(|f| f.sync_all())
                .map_err(|source| Error::File { path, source })?;
        }
        let stats = cap.stats()?;
        let why = match stop {
            Stop::Interrupted => "interrupted",
            Stop::Count => "count reached",
            Stop::Duration => "duration reached",
            Stop::OutputClosed => "output closed",
        };
        eprintln!(
            "tcplab capture: {frames} packets captured, {} dropped by the kernel ({why})",
            stats.dropped + stats.if_dropped
        );
        Ok(())
    })
}
