//! The validated invocation `cmd` receives: [`parse`] runs clap, checks
//! what clap's attributes cannot say (diagrams against JSON output), puts
//! the client's writes in command-line order, and maps the clap types to
//! the domain ones. Nothing past this module sees `ArgMatches`.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use super::view::View;
use super::{
    CaptureArgs, CaptureFormat, Cli, ColorChoice, Command, DiagramArgs, Format, LabArgs,
    ProgramRun, ReplayArgs, ReplayFormat, SendArgs, SendClose, ServeArgs, TraceArgs, TracePath,
    WriteArgs,
};
use crate::lab::client::{Ending, RetryPolicy};
use crate::lab::serve::Limits;
use crate::lab::{CloseMode, ServeMode};
use crate::render::{HexdumpMode, StepView, LAB_MAX_HEX};

/// What to run, checked: the global colour choice and one task.
#[derive(Debug)]
pub struct Invocation {
    pub color: ColorChoice,
    pub task: Task,
}

/// One subcommand, its arguments validated.
#[derive(Debug)]
pub enum Task {
    Trace(Trace),
    Replay(Replay),
    Capture(Capture),
    Serve(Serve),
    Send(Send),
    Lab(Lab),
    Completions(clap_complete::Shell),
    Man,
}

/// One client write. Files are read where they are used, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteSource {
    /// `--send TEXT` or `--hex HEX`.
    Bytes(Vec<u8>),
    /// `--file PATH`: its contents, in one write.
    File(PathBuf),
}

/// What a ladder diagram goes to stdout as. `--mermaid` excludes the
/// terminal ladders (clap refuses the mix).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LadderScreen {
    #[default]
    None,
    /// `--diagram`: drawn in the terminal after the report.
    Draw,
    /// `--step`: the report one segment at a time (its row, sizes, dump
    /// and arrow), advancing on a line of stdin.
    Step,
    /// `--step --diagram`: the ladder alone, one arrow at a time.
    StepLadder,
    /// `--mermaid`: stdout is the Mermaid text alone.
    Mermaid,
}

/// The ladder diagrams asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagram {
    pub screen: LadderScreen,
    /// `--svg FILE`: goes with anything, it writes a file.
    pub svg: Option<PathBuf>,
    /// `--svg-fold-acks`: pure ACKs thin in the SVG.
    pub svg_fold_acks: bool,
    /// `--svg-page`: one long page instead of 16:9 slides.
    pub svg_page: bool,
    /// `--html FILE`: the page of the report, with its ladder.
    pub html: Option<PathBuf>,
}

impl Diagram {
    /// True if any ladder diagram is asked for.
    pub fn wanted(&self) -> bool {
        self.screen != LadderScreen::None || self.svg.is_some() || self.html.is_some()
    }

    /// True if stdout is the Mermaid text alone (no report).
    pub fn mermaid(&self) -> bool {
        self.screen == LadderScreen::Mermaid
    }

    /// What `--step` shows of each segment, if it was given.
    pub fn step(&self) -> Option<StepView> {
        match self.screen {
            LadderScreen::Step => Some(StepView::Report),
            LadderScreen::StepLadder => Some(StepView::Ladder),
            _ => None,
        }
    }
}

/// `tcplab trace`.
#[derive(Debug)]
pub struct Trace {
    pub writes: Vec<WriteSource>,
    pub server: ServeMode,
    pub close: CloseMode,
    pub nodelay: bool,
    /// The server's address: loopback (`--ipv6`: ::1) and `--port`.
    pub addr: SocketAddr,
    /// `--write FILE`: the frames as captured.
    pub write: Option<PathBuf>,
    pub format: Format,
    pub view: View,
    pub timeout: Duration,
    /// `--server-read-delay`: the server's wait before its first read.
    pub server_read_delay: Duration,
    /// `--rcvbuf`: the server's SO_RCVBUF, if not the kernel's default.
    pub rcvbuf: Option<usize>,
    pub diagram: Diagram,
    /// `-B`: the kernel's capture buffer in bytes (`None`: the capture's default).
    pub buffer_size: Option<usize>,
    /// `--every-row`: no folding of a long exchange.
    pub every_row: bool,
    /// `--kernel`: each change of the kernel's view listed.
    pub kernel: bool,
    /// The impaired path (`--loss`, `--drop`, `--delay`...), if asked for.
    pub path: Option<TracePath>,
    /// `-- CMD`: the user's own program, traced.
    pub program: Option<ProgramRun>,
}

/// What `replay` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayShow {
    /// A row or record per frame.
    Packets,
    /// `--summary`: one row per conversation.
    Summary,
    /// `--follow`: the reassembled bytes of one stream.
    Follow,
}

/// `tcplab replay FILE`.
#[derive(Debug)]
pub struct Replay {
    pub file: PathBuf,
    pub filter: Option<String>,
    pub stream: Option<u32>,
    /// `--frame`: the frames shown (all when `None`).
    pub frames: Option<super::FrameRange>,
    pub show: ReplayShow,
    pub format: ReplayFormat,
    pub view: View,
    pub diagram: Diagram,
}

/// `tcplab capture`.
#[derive(Debug)]
pub struct Capture {
    /// `None`: the loopback interface (the capture layer knows its name).
    pub interface: Option<String>,
    /// The libpcap filter: `--filter`, `tcp port N` for `--port N`, or `tcp`.
    pub filter: String,
    pub write: Option<PathBuf>,
    pub count: Option<NonZeroU64>,
    pub duration: Option<Duration>,
    pub format: CaptureFormat,
    pub view: View,
    /// `-Z NAME`: drop root after opening.
    pub user: Option<String>,
    /// `-B`: the kernel's capture buffer in bytes (`None`: the capture's default).
    pub buffer_size: Option<usize>,
}

/// `tcplab serve MODE`.
#[derive(Debug)]
pub struct Serve {
    pub mode: ServeMode,
    pub host: String,
    pub port: u16,
    /// kv's store file.
    pub data: PathBuf,
    pub limits: Limits,
    pub verbose: bool,
    /// chat, kv: escape control bytes relayed between clients.
    pub safe: bool,
}

/// `tcplab send HOST:PORT`.
#[derive(Debug)]
pub struct Send {
    pub target: String,
    pub writes: Vec<WriteSource>,
    /// Lines from stdin instead of `writes` (which is then empty).
    pub interactive: bool,
    pub ending: Ending,
    pub idle: Duration,
    pub retry: RetryPolicy,
    pub nodelay: bool,
    pub format: Format,
}

/// `tcplab lab NAME`.
#[derive(Debug)]
pub struct Lab {
    /// A scenario's name, or `list`.
    pub name: String,
    pub check: bool,
    /// `--check --quiet`: the verdict line only.
    pub quiet: bool,
    /// `--every-row`: no folding of a long part.
    pub every_row: bool,
    /// `--write FILE`: every frame captured, the parts in order.
    pub write: Option<PathBuf>,
    pub format: Format,
    pub view: View,
    pub diagram: Diagram,
}

/// The clap command tcplab parses with (for completions and the man page).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses and validates `args` (the program name first). Help and version
/// come back as clap errors of their kinds, as usage errors do.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, clap::Error> {
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(with_tips)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let sub = matches.subcommand().map_or(&matches, |(_, m)| m);
    let task = match cli.command {
        Command::Trace(a) => Task::Trace(trace(a, sub)?),
        Command::Replay(a) => Task::Replay(replay(a)?),
        Command::Capture(a) => Task::Capture(capture(a)),
        Command::Serve(a) => Task::Serve(serve(a)?),
        Command::Send(a) => Task::Send(send(a, sub)),
        Command::Lab(a) => Task::Lab(lab(a)?),
        Command::Completions { shell } => Task::Completions(shell),
        Command::Man => Task::Man,
    };
    Ok(Invocation {
        color: cli.color,
        task,
    })
}

/// `--close destroy` still works, under its old name: it sends RST, which
/// Node's `destroy()` does not.
fn warn_destroy(command: &str) {
    eprintln!(
        "tcplab {command}: --close destroy is now --close reset (RST, as Node's \
         socket.resetAndDestroy(); Node's destroy() sends FIN unless data is unread)"
    );
}

fn trace(a: TraceArgs, sub: &ArgMatches) -> Result<Trace, clap::Error> {
    if a.close == super::TraceClose::Destroy {
        warn_destroy("trace");
    }
    if a.every_row && a.format == Format::Json {
        return Err(conflict(
            "trace",
            "--every-row is for the text view; --format json has every packet's record anyway",
        ));
    }
    // Nothing moves while the server waits once the buffers are full: the
    // watchdog would call a wait as long as its period a stall.
    if a.server_read_delay >= a.timeout_ms {
        return Err(conflict(
            "trace",
            &format!(
                "--server-read-delay {} is not shorter than --timeout-ms {}: the watchdog \
                 would take the server's wait for a stall; raise --timeout-ms",
                a.server_read_delay, a.timeout_ms
            ),
        ));
    }
    let ip = if a.ipv6 {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let program = program_run(&a, sub)?;
    Ok(Trace {
        program,
        writes: a.writes.ordered(sub),
        server: a.server,
        close: a.close.into(),
        nodelay: a.nodelay,
        addr: SocketAddr::new(ip, a.port),
        write: a.write,
        view: View::from(&a.view),
        timeout: Duration::from_millis(a.timeout_ms),
        server_read_delay: Duration::from_millis(a.server_read_delay),
        rcvbuf: a.rcvbuf.map(NonZeroUsize::get),
        buffer_size: a.buffer_size,
        every_row: a.every_row,
        kernel: a.kernel,
        path: a.path.path(),
        diagram: diagram("trace", a.diagram, a.format == Format::Text)?,
        format: a.format,
    })
}

/// `-- CMD` and the flags that go with it, checked against the rest.
fn program_run(a: &TraceArgs, sub: &ArgMatches) -> Result<Option<ProgramRun>, clap::Error> {
    let given = |id: &str| sub.value_source(id) == Some(ValueSource::CommandLine);
    let p = &a.program;
    if p.command.is_empty() {
        return match (p.connect.is_some(), given("timeout")) {
            (false, false) => Ok(None),
            _ => Err(conflict(
                "trace",
                "--connect and --timeout are for your own program, after `--`: \
                 tcplab trace --send hi --connect 3099 -- node server.js",
            )),
        };
    }
    let writes = !a.writes.send.is_empty() || !a.writes.hex.is_empty() || !a.writes.file.is_empty();
    let own_server = given("server");
    let why = if own_server && a.port == 0 {
        Some("--server with a program needs --port N, the port the program connects to")
    } else if writes && p.connect.is_none() {
        Some(
            "with a program, --send/--hex/--file are written by tcplab's client: add \
             --connect PORT, the port the program's server listens on",
        )
    } else if own_server && p.connect.is_some() {
        Some("--server (tcplab serves the program) and --connect (tcplab is its client): pick one")
    } else if a.path.path().is_some() {
        Some("the impaired path (--loss, --drop, --delay...) cannot trace a program yet")
    } else {
        None
    };
    if let Some(why) = why {
        return Err(conflict("trace", why));
    }
    Ok(Some(ProgramRun {
        command: p.command.clone(),
        connect: p.connect,
        own_server,
        timeout: p.timeout,
    }))
}

fn replay(a: ReplayArgs) -> Result<Replay, clap::Error> {
    let show = match (a.follow, a.summary) {
        (true, _) => ReplayShow::Follow,
        (false, true) => ReplayShow::Summary,
        (false, false) => ReplayShow::Packets,
    };
    // Flags the chosen view would silently ignore are refused instead.
    let ignored = match (show, a.format) {
        (ReplayShow::Follow, ReplayFormat::Json | ReplayFormat::Ndjson) => Some(
            "--follow prints the reassembled bytes as text; --format json and ndjson are for \
             packet records: drop one of them",
        ),
        (ReplayShow::Summary, ReplayFormat::Ndjson) => Some(
            "--summary is one table, or one JSON object with --format json; ndjson is for \
             packet records",
        ),
        (ReplayShow::Summary, _) if View::from(&a.view).hexdump != HexdumpMode::None => {
            Some("--summary shows conversations, not bytes: --hexdump has nothing to dump there")
        }
        (ReplayShow::Summary | ReplayShow::Follow, _) if a.view.explain => Some(
            "--explain shows each frame's header fields; --summary and --follow show no frames",
        ),
        _ => None,
    };
    if let Some(why) = ignored {
        return Err(conflict("replay", why));
    }
    Ok(Replay {
        diagram: diagram("replay", a.diagram, a.format == ReplayFormat::Text)?,
        file: a.file,
        filter: a.filter,
        stream: a.stream,
        frames: a.frames,
        show,
        format: a.format,
        view: View::from(&a.view),
    })
}

fn capture(a: CaptureArgs) -> Capture {
    let filter = match (a.port, a.filter) {
        (Some(p), _) => format!("tcp port {p}"),
        (None, Some(f)) => f,
        (None, None) => "tcp".to_string(),
    };
    Capture {
        interface: a.interface,
        filter,
        write: a.write,
        count: a.count,
        duration: a.duration,
        format: a.format,
        view: View::from(&a.view),
        user: a.user,
        buffer_size: a.buffer_size,
    }
}

fn serve(a: ServeArgs) -> Result<Serve, clap::Error> {
    if a.safe && !matches!(a.mode, ServeMode::Chat | ServeMode::Kv) {
        return Err(conflict(
            "serve",
            &format!(
                "--safe applies to chat and kv, the modes that relay one client's text \
                 to another; {} sends no client's text to another",
                a.mode.name()
            ),
        ));
    }
    Ok(Serve {
        mode: a.mode,
        host: a.host,
        port: a.port,
        data: a.data,
        limits: Limits {
            max_connections: a.max_connections.get(),
            max_line: a.max_line.get(),
            // 0 switches the idle timeout off.
            idle_timeout: Some(a.idle_timeout).filter(|d| !d.is_zero()),
        },
        verbose: a.verbose,
        safe: a.safe,
    })
}

fn send(a: SendArgs, sub: &ArgMatches) -> Send {
    Send {
        writes: a.writes.ordered(sub),
        target: a.target,
        interactive: a.interactive,
        ending: match a.close {
            SendClose::End => Ending::End,
            SendClose::Reset => Ending::Reset,
            SendClose::Destroy => {
                warn_destroy("send");
                Ending::Reset
            }
            SendClose::Half => Ending::Half,
        },
        idle: Duration::from_millis(a.idle),
        retry: RetryPolicy {
            retries: a.retry,
            first_delay: Duration::from_millis(a.retry_delay),
            max_delay: Duration::from_millis(a.retry_max),
            connect_timeout: Duration::from_millis(a.connect_timeout),
        },
        nodelay: a.nodelay,
        format: a.format,
    }
}

fn lab(a: LabArgs) -> Result<Lab, clap::Error> {
    // `lab list` prints names only: no diagram to refuse.
    let text = a.format == Format::Text || a.name == "list";
    let screen = a.diagram.diagram || a.diagram.step || a.diagram.mermaid;
    if a.quiet && (a.format == Format::Json || screen) {
        return Err(conflict(
            "lab",
            "--quiet prints the verdict line alone: it goes without --format json, --mermaid, \
             --diagram and --step (--svg FILE and --write FILE still write their files)",
        ));
    }
    Ok(Lab {
        diagram: diagram("lab", a.diagram, text)?,
        view: View {
            hexdump: a.hexdump.into(),
            raw_seq: false,
            max_hex: LAB_MAX_HEX,
            explain: a.explain,
        },
        name: a.name,
        every_row: a.every_row,
        check: a.check,
        quiet: a.quiet,
        write: a.write,
        format: a.format,
    })
}

impl WriteArgs {
    /// The writes in command-line order; `sub` is the subcommand's matches
    /// (clap keeps each repeated option's values apart, with their indices).
    fn ordered(self, sub: &ArgMatches) -> Vec<WriteSource> {
        let idx = |id: &str| -> Vec<usize> {
            sub.indices_of(id).map(|i| i.collect()).unwrap_or_default()
        };
        let mut ordered: Vec<(usize, WriteSource)> = Vec::new();
        for (i, s) in idx("send").into_iter().zip(self.send) {
            ordered.push((i, WriteSource::Bytes(s.into_bytes())));
        }
        for (i, h) in idx("hex").into_iter().zip(self.hex) {
            ordered.push((i, WriteSource::Bytes(h.0)));
        }
        for (i, path) in idx("file").into_iter().zip(self.file) {
            ordered.push((i, WriteSource::File(path)));
        }
        ordered.sort_by_key(|(i, _)| *i);
        ordered.into_iter().map(|(_, w)| w).collect()
    }
}

/// The diagram flags, refused when stdout carries JSON (`text` false): the
/// terminal ladder and Mermaid would corrupt it; `--svg` writes a file and
/// goes with anything. (`--mermaid` against `--diagram`/`--step` is clap's
/// `conflicts_with`.)
fn diagram(sub: &str, a: DiagramArgs, text: bool) -> Result<Diagram, clap::Error> {
    let screen = match (a.mermaid, a.step, a.diagram) {
        (true, _, _) => LadderScreen::Mermaid,
        (false, true, false) => LadderScreen::Step,
        (false, true, true) => LadderScreen::StepLadder,
        (false, false, true) => LadderScreen::Draw,
        (false, false, false) => LadderScreen::None,
    };
    if !text && screen != LadderScreen::None {
        return Err(conflict(
            sub,
            "--diagram, --step and --mermaid print text and cannot be mixed with JSON output; \
             drop --format, or use --svg FILE, which writes a file",
        ));
    }
    Ok(Diagram {
        screen,
        svg: a.svg,
        svg_fold_acks: a.svg_fold_acks,
        svg_page: a.svg_page,
        html: a.html,
    })
}

/// A conflict between flags that clap's `conflicts_with` cannot say (it
/// depends on a value), as clap's own error of subcommand `sub`.
fn conflict(sub: &str, why: &str) -> clap::Error {
    let mut cmd = Cli::command();
    let cmd = cmd.find_subcommand_mut(sub).expect("a tcplab subcommand");
    cmd.error(ErrorKind::ArgumentConflict, why)
}

/// Adds the why to clap's conflict of `--mermaid` with the terminal ladders.
fn with_tips(mut e: clap::Error) -> clap::Error {
    let names = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut involved = names(ContextKind::InvalidArg);
    involved.extend(names(ContextKind::PriorArg));
    if e.kind() == ErrorKind::ArgumentConflict && involved.iter().any(|n| n == "--mermaid") {
        let tip = "--mermaid prints only the Mermaid text (to redirect to a file): \
                   run once with --mermaid and once with --diagram or --step";
        e.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.to_string().into()]),
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HexdumpMode;

    fn task(args: &[&str]) -> Result<Task, clap::Error> {
        let args = std::iter::once("tcplab").chain(args.iter().copied());
        parse(args.map(OsString::from)).map(|i| i.task)
    }

    fn conflict(args: &[&str]) -> String {
        let e = task(args).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{args:?}");
        e.render().to_string()
    }

    #[test]
    fn writes_keep_command_line_order_and_files_stay_paths() {
        let Task::Trace(t) =
            task(&["trace", "--hex", "0c22", "--send", "a", "--file", "f"]).unwrap()
        else {
            panic!("not a trace");
        };
        assert_eq!(
            t.writes,
            [
                WriteSource::Bytes(vec![0x0c, 0x22]),
                WriteSource::Bytes(b"a".to_vec()),
                WriteSource::File("f".into()),
            ]
        );
        let Task::Send(s) =
            task(&["send", "h:1", "--send", "b", "--hex", "01", "--send", "c"]).unwrap()
        else {
            panic!("not a send");
        };
        let bytes: Vec<_> = s.writes.iter().map(|w| format!("{w:?}")).collect();
        assert_eq!(bytes, ["Bytes([98])", "Bytes([1])", "Bytes([99])"]);
    }

    #[test]
    fn trace_dumps_payloads_by_default_the_others_nothing() {
        let Task::Trace(t) = task(&["trace"]).unwrap() else {
            panic!()
        };
        assert_eq!(t.view.hexdump, HexdumpMode::Payload);
        let Task::Replay(r) = task(&["replay", "f.pcap"]).unwrap() else {
            panic!()
        };
        assert_eq!(r.view.hexdump, HexdumpMode::None);
        assert_eq!(r.view.max_hex, 4096);
    }

    #[test]
    fn diagrams_that_would_corrupt_stdout_are_refused() {
        let e = conflict(&["replay", "f.pcap", "--diagram", "--mermaid"]);
        assert!(e.contains("run once with --mermaid"), "{e}");
        let e = conflict(&["trace", "--format", "json", "--step"]);
        assert!(e.contains("cannot be mixed with JSON output"), "{e}");
        let e = conflict(&["lab", "reset", "--format", "json", "--mermaid"]);
        assert!(e.contains("--svg FILE"), "{e}");
        // --svg writes a file: it goes with JSON.
        let Task::Replay(r) = task(&["replay", "f", "--format", "json", "--svg", "x.svg"]).unwrap()
        else {
            panic!()
        };
        assert!(r.diagram.wanted() && !r.diagram.mermaid());
        // --step with --diagram steps the ladder alone.
        let Task::Trace(t) = task(&["trace", "--diagram", "--step"]).unwrap() else {
            panic!()
        };
        assert_eq!(t.diagram.screen, LadderScreen::StepLadder);
        let Task::Trace(t) = task(&["trace", "--step"]).unwrap() else {
            panic!()
        };
        assert_eq!(t.diagram.screen, LadderScreen::Step);
    }

    #[test]
    fn a_slow_reader_takes_a_delay_and_a_receive_buffer() {
        let Task::Trace(t) =
            task(&["trace", "--server-read-delay", "250", "--rcvbuf", "4096"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.server_read_delay, Duration::from_millis(250));
        assert_eq!(t.rcvbuf, Some(4096));
        let Task::Trace(t) = task(&["trace"]).unwrap() else {
            panic!()
        };
        assert_eq!((t.server_read_delay, t.rcvbuf), (Duration::ZERO, None));
        let e = task(&["trace", "--rcvbuf", "0"]).unwrap_err();
        assert!(e
            .render()
            .to_string()
            .contains("--rcvbuf must be at least 1"));
        let e = conflict(&["trace", "--server-read-delay", "5000"]);
        assert!(e.contains("raise --timeout-ms"), "{e}");
        assert!(task(&[
            "trace",
            "--server-read-delay",
            "6000",
            "--timeout-ms",
            "7000"
        ])
        .is_ok());
    }

    #[test]
    fn zero_limits_are_usage_errors_naming_the_option() {
        for (args, name) in [
            (&["capture", "--count", "0"][..], "--count"),
            (&["serve", "echo", "--max-line", "0"], "--max-line"),
            (
                &["serve", "echo", "--max-connections", "0"],
                "--max-connections",
            ),
        ] {
            let e = task(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValueValidation, "{args:?}");
            assert!(
                e.render()
                    .to_string()
                    .contains(&format!("{name} must be at least 1")),
                "{e}"
            );
        }
        let Task::Serve(s) = task(&["serve", "echo", "--idle-timeout", "0"]).unwrap() else {
            panic!()
        };
        assert_eq!(s.limits.max_connections, 256);
        assert_eq!(s.limits.max_line, 65536);
        assert_eq!(s.limits.idle_timeout, None);
    }
}
