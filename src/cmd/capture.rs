//! `tcplab capture`: live frames, annotated as they arrive (the rows and
//! records of `replay`), optionally saved to a pcap file. Ctrl-C, SIGTERM,
//! SIGHUP (and SIGUSR1, SIGALRM), `--count` and `--duration` all stop it the
//! same way: the file is flushed whole and the kernel's counts are printed.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use super::output_error;
use crate::capture::{
    capture_around, loopback_interface, Ended, Gauge, LiveCapture, LiveConfig, PcapWriter, Verdict,
};
use crate::cli::{text_options, Capture, CaptureFormat, ColorChoice};
use crate::flow::{Packet, Pipeline};
use crate::render::{explain_one, write_record_explained, RowWriter};
use crate::values::{Deadline, Frame};
use crate::{Error, Result};

/// The `--write` file, unbuffered: each record is one write, so after a
/// failed one (a full disk) the file is cut back to the records before it.
type Saved = PcapWriter<File>;

/// Why the capture stopped.
enum Stop {
    Interrupted,
    Count,
    Duration,
    /// Whoever read our output went away (`| head`).
    OutputClosed,
    /// The `--write` file could not take a record (a full disk).
    SaveFailed(std::io::Error),
}

/// Runs `capture` until one of its stops, writing to `out`.
pub fn run(args: &Capture, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let interface = args.interface.clone().unwrap_or_else(loopback_interface);
    let mut rows = RowWriter::new(text_options(&args.view, color, usize::MAX));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    rt.block_on(async {
        // Before anything is opened: a signal in the first milliseconds
        // must stop the capture, not kill it without its file.
        let mut stops = Stops::install()?;
        let mut config = LiveConfig::new(interface.clone(), args.filter.clone());
        if let Some(bytes) = args.buffer_size {
            config.buffer_size = bytes;
        }
        let mut cap = LiveCapture::open(config)?;
        let mut file = match &args.write {
            Some(path) => Some(create(path, &cap)?),
            None => None,
        };
        if let Some(user) = &args.user {
            crate::capture::privileges::drop_to(user)?;
        }
        announce(args, &interface, &cap);
        let (stop, frames) = watch(&mut cap, &mut file, args, &mut rows, out, &mut stops).await?;
        let stats = cap.stats()?;
        let why = match stop {
            Stop::SaveFailed(e) => {
                return Err(match (file, &args.write) {
                    (Some(w), Some(path)) => cut_back(w, path, frames, e),
                    _ => Error::io("writing the capture file", e),
                })
            }
            Stop::Interrupted => "interrupted",
            Stop::Count => "count reached",
            Stop::Duration => "duration reached",
            Stop::OutputClosed => "output closed",
        };
        if let (Some(w), Some(path)) = (file, &args.write) {
            close(w, path)?;
        }
        eprintln!(
            "tcplab capture: {frames} packets captured, {} dropped by the kernel ({why})",
            stats.dropped + stats.if_dropped
        );
        Ok(())
    })
}

/// Frames until a stop: each saved, stepped through the pipeline and shown.
/// After a signal or the duration, the frames the kernel had already
/// captured are still read, saved and counted. The stop and the number of frames.
async fn watch(
    cap: &mut LiveCapture,
    file: &mut Option<Saved>,
    args: &Capture,
    rows: &mut RowWriter,
    out: &mut dyn Write,
    stops: &mut Stops,
) -> Result<(Stop, u64)> {
    let mut pipeline = Pipeline::new();
    let mut packet = Packet::default();
    let mut live = Live::new(rows, cap.gauge(), file.is_some());
    let deadline = Deadline::after_opt(args.duration);
    // The work a capture runs around: waiting for a signal or the duration.
    let wait = async {
        Ok(tokio::select! {
            () = stops.any() => Stop::Interrupted,
            () = deadline.reached() => Stop::Duration,
        })
    };
    tokio::pin!(wait);
    let (mut frames, mut stopped) = (0u64, None);
    let mut on_frame = |frame: Frame| {
        frames += 1;
        if let Some(w) = file.as_mut() {
            if let Err(e) = w.write_frame(&frame) {
                stopped = Some(Stop::SaveFailed(e));
                return Ok(Verdict::Stop);
            }
        }
        pipeline.step_frame(frames, frame, &mut packet);
        match live.frame(out, args, &packet) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                stopped = Some(Stop::OutputClosed)
            }
            Err(e) => return Err(output_error(e)),
            Ok(()) if args.count.is_some_and(|c| frames >= c.get()) => stopped = Some(Stop::Count),
            // No teardown to wait for: a signal ends the capture at once.
            Ok(()) => return Ok(Verdict::Settled),
        }
        Ok(Verdict::Stop)
    };
    let (waited, ended) = capture_around(cap, wait.as_mut(), Duration::ZERO, &mut on_frame).await?;
    if ended != Ended::Stopped {
        // What the kernel captured before the stop is still read (its last
        // block, and what the queue holds): the file keeps every frame.
        cap.stop();
        while let Some(frame) = cap.next_frame().await {
            if on_frame(frame?)? == Verdict::Stop {
                break;
            }
        }
    }
    live.finish(out).map_err(output_error)?;
    let stop = match (stopped, waited) {
        (Some(stop), _) => stop,
        (_, Some(stop)) => stop,
        // libpcap ended the capture (the interface went away).
        _ => Stop::Interrupted,
    };
    Ok((stop, frames))
}

/// Behind by more frames than this, the rows are folded: the analysis and
/// the file keep up with the capture, the terminal need not.
const FOLD_BEHIND: u64 = 1024;

/// What the terminal is shown: a row or record per frame, folded into one
/// line while the rows fall behind the capture; where the kernel dropped.
struct Live<'a> {
    rows: &'a mut RowWriter,
    gauge: Gauge,
    saving: bool,
    /// The first and last frame of the fold going on, and its length.
    fold: Option<(u64, u64, u64)>,
    folded: u64,
    dropped: u64,
}

impl<'a> Live<'a> {
    fn new(rows: &'a mut RowWriter, gauge: Gauge, saving: bool) -> Self {
        Live {
            rows,
            gauge,
            saving,
            fold: None,
            folded: 0,
            dropped: 0,
        }
    }

    fn frame(&mut self, out: &mut dyn Write, args: &Capture, p: &Packet) -> std::io::Result<()> {
        self.drops(out, args)?;
        let behind = self.gauge.frames();
        let text = args.format == CaptureFormat::Text;
        if text && (behind > FOLD_BEHIND || (self.fold.is_some() && behind > 0)) {
            let (first, _, n) = self.fold.unwrap_or((p.number, p.number, 0));
            self.fold = Some((first, p.number, n + 1));
            self.folded += 1;
            return Ok(());
        }
        self.end_fold(out)?;
        show(out, self.rows, args, p)
    }

    /// The line for the rows folded since the rows fell behind.
    fn end_fold(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let Some((first, last, n)) = self.fold.take() else {
            return Ok(());
        };
        let kept = if self.saving {
            "the analysis and the file"
        } else {
            "the analysis"
        };
        writeln!(
            out,
            "… frames {first}–{last} not shown: {n} rows, while the terminal was behind the \
             capture ({kept} have every frame)"
        )?;
        out.flush()
    }

    /// A line where the kernel dropped frames since the last one said so.
    fn drops(&mut self, out: &mut dyn Write, args: &Capture) -> std::io::Result<()> {
        let now = self.gauge.dropped();
        if now <= self.dropped {
            return Ok(());
        }
        let text = format!(
            "‼ the kernel dropped {} frames before this point (its buffer was full; -B gives \
             a bigger one): a \"previous segment not captured\" next may be the capture's gap, \
             not the network's",
            now - self.dropped
        );
        self.dropped = now;
        match args.format {
            CaptureFormat::Text => writeln!(out, "{text}"),
            CaptureFormat::Ndjson => {
                eprintln!("tcplab capture: {text}");
                Ok(())
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.end_fold(out)?;
        if self.folded > 0 {
            eprintln!(
                "tcplab capture: {} rows folded while the terminal was behind",
                self.folded
            );
        }
        Ok(())
    }
}

/// The signals that stop a capture the way Ctrl-C does (file flushed whole,
/// counts printed): INT, TERM, HUP (a closed terminal), and USR1 and ALRM,
/// whose default would kill it mid-record.
struct Stops(Vec<tokio::signal::unix::Signal>);

impl Stops {
    fn install() -> Result<Stops> {
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::user_defined1(),
            SignalKind::alarm(),
        ];
        kinds
            .into_iter()
            .map(|k| signal(k).map_err(|e| Error::io("installing the signal handlers", e)))
            .collect::<Result<_>>()
            .map(Stops)
    }

    /// Completes at the first of the signals.
    async fn any(&mut self) {
        let waits = self.0.iter_mut().map(|s| Box::pin(s.recv()));
        futures_util::future::select_all(waits).await;
    }
}

/// One packet as a row or an NDJSON record, flushed at once.
fn show(
    out: &mut dyn Write,
    rows: &mut RowWriter,
    args: &Capture,
    packet: &Packet,
) -> std::io::Result<()> {
    match args.format {
        CaptureFormat::Text => {
            rows.row(out, packet)?;
            if args.view.explain {
                explain_one(out, packet, rows.options())?;
                writeln!(out)?;
            }
        }
        CaptureFormat::Ndjson => {
            let mut line = Vec::with_capacity(1024);
            write_record_explained(&mut line, packet, args.view.max_hex, args.view.explain);
            line.push(b'\n');
            out.write_all(&line)?;
        }
    }
    out.flush()
}

/// The line on stderr that says what is captured, where it goes, as whom.
fn announce(args: &Capture, interface: &str, cap: &LiveCapture) {
    eprintln!(
        "tcplab capture: listening on {interface} ({}), filter '{}'{}{}; Ctrl-C stops",
        cap.link().label(),
        args.filter,
        args.write
            .as_ref()
            .map(|p| format!(", saving to {}", p.display()))
            .unwrap_or_default(),
        args.user
            .as_ref()
            .map(|u| format!(", running as {u}"))
            .unwrap_or_default()
    );
}

/// The `--write` file, created before privileges are dropped.
fn create(path: &Path, cap: &LiveCapture) -> Result<Saved> {
    let err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let f = File::create(path).map_err(err)?;
    let snaplen = cap.config().snaplen as u32;
    // Opened but not writable (a full disk, /dev/full): a runtime failure.
    PcapWriter::new(f, cap.link(), snaplen)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// After a failed write: the file cut back to its last whole record (a
/// device such as /dev/full cannot be cut; nothing else is lost), the count
/// of what was kept, and the error (exit 1).
fn cut_back(mut w: Saved, path: &Path, frames: u64, e: std::io::Error) -> Error {
    let (kept, whole) = (w.records(), w.whole_len());
    let _ = w.get_mut().set_len(whole);
    let _ = w.get_mut().sync_all();
    eprintln!(
        "tcplab capture: {frames} packets captured, {kept} saved whole to {} before the write failed",
        crate::values::terminal_safe(&path.display().to_string())
    );
    Error::io(format!("writing {}", path.display()), e)
}

/// Flushes the `--write` file whole and onto the disk.
fn close(w: Saved, path: &Path) -> Result<()> {
    w.finish()
        .and_then(|f| f.sync_all())
        .map_err(|source| Error::File {
            path: path.to_path_buf(),
            source,
        })
}
