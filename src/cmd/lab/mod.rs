//! `tcplab lab NAME`: the classroom scenarios. Each is real traffic on the
//! loopback interface, captured and explained: a short narrative before,
//! the traced exchange, then what happened and the checks, computed from
//! the capture and the socket events. `--check` turns a missed point into
//! exit 1, for teachers' CI.

mod basic;
mod custom;
mod facts;
mod session;

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::output_error;
use crate::cli::{resolve_color, terminal_width, ColorChoice, Format, LabArgs};
use crate::flow::Packet;
use crate::render::{
    records, trace_json, write_trace_text, Ladder, Paint, Palette, RowWriter, TextOptions,
    TraceReport,
};
use crate::{Error, Result};

/// Payload bytes shown per packet, in hex dumps and JSON records.
const LAB_MAX_HEX: usize = 4096;

/// A scenario: its name, the seed lesson it comes from, and what to watch.
pub struct Lab {
    pub name: &'static str,
    pub seed: &'static str,
    pub title: &'static str,
    pub narrative: &'static [&'static str],
}

/// Every scenario, in teaching order.
pub const LABS: &[Lab] = &[
    Lab { name: "handshake", seed: "001", title: "connect and close, no data", narrative: &[
        "A connection opens with three segments: SYN, SYN-ACK, ACK (the three-way handshake).",
        "Each SYN uses one sequence number, so the first data byte is number 1.",
        "It closes with a FIN from each side, each acknowledged: three segments when the second FIN carries the ACK of the first, else four.",
        "Watch the phase column and the options the SYNs carry (MSS, SACK, timestamps, window scale).",
    ]},
    Lab { name: "hello", seed: "002", title: "one text write and its PSH-ACK", narrative: &[
        "socket.write(\"hello\") sends 5 bytes. How many bytes cross the wire?",
        "Watch the PSH-ACK that carries them and the size line: Ethernet, IP and TCP headers",
        "(with timestamp options) are far larger than the payload.",
    ]},
    Lab { name: "buffer", seed: "002", title: "the raw two-byte Buffer [12, 34]", narrative: &[
        "Buffer.alloc(2) with bytes 12 and 34 is sent as they are: 0c 22 in hex.",
        "Watch the hex dump: no text encoding, no terminator, just two bytes.",
    ]},
    Lab { name: "echo", seed: "003/004", title: "the upper-case echo, socket stats and events", narrative: &[
        "The client writes two lines; the server answers each read with \"Echo: \" + upper case.",
        "Two writes may arrive as one read (one reply): TCP carries bytes, not messages.",
        "Compare bytesWritten and bytesRead on both sides with what crossed the wire,",
        "and the events each program saw: connect, data, end, close.",
    ]},
    Lab { name: "json", seed: "000", title: "a JSON message and its reply", narrative: &[
        "TCP carries bytes; JSON is text the programs agree on, one message per line.",
        "Watch the newline at the end of the message: it is what marks where one ends.",
    ]},
    Lab { name: "coalesce", seed: "003", title: "writes are not messages", narrative: &[
        "Ten small writes. Do they arrive as ten reads? Three runs show when they do not:",
        "a receiver that reads late gets them in one read; a corked sender sends one segment;",
        "with TCP_NODELAY and a prompt reader they usually stay apart. The run reports what it saw.",
    ]},
    Lab { name: "framing", seed: "003", title: "length-prefixed messages across segments", narrative: &[
        "Each message is sent as a 4-byte length and its text, the stream cut in 7-byte writes.",
        "Segments end in the middle of messages; the server's decoder still gets every message.",
        "This is how a protocol puts message boundaries back into a byte stream.",
    ]},
    Lab { name: "half-close", seed: "003", title: "end() while the server still sends", narrative: &[
        "The client calls end() right after writing: its FIN says \"I will send no more\".",
        "The server can still send: watch its data arrive after the client's FIN,",
        "and the client read it. Each direction closes on its own.",
    ]},
    Lab { name: "reset", seed: "003", title: "end() against an abortive close: FIN against RST", narrative: &[
        "The same exchange twice: closed with end(), then aborted (zero linger, as Node's",
        "socket.resetAndDestroy() does; plain destroy() sends RST only when data is still unread).",
        "end() sends FIN and waits for the other side; the abort sends RST and forgets.",
        "Watch the last segments, and the error the server sees the second time.",
    ]},
    Lab { name: "refused", seed: "003", title: "a closed port, then retry with backoff", narrative: &[
        "Nothing listens yet: the SYN is answered at once by RST-ACK (ECONNREFUSED).",
        "The client retries, doubling its wait each time, until a server starts late.",
    ]},
    Lab { name: "crash", seed: "003", title: "the server is killed under its clients", narrative: &[
        "Two clients are connected; the server process gets kill -9.",
        "Watch what each client sees: the kernel closes a dead process's sockets.",
    ]},
    Lab { name: "chat", seed: "003/004", title: "three clients, broadcast", narrative: &[
        "Three clients join a chat server; one says hello.",
        "Watch three interleaved streams: the server writes the line once per other client.",
    ]},
    Lab { name: "ipv6-mapped", seed: "001", title: "an IPv4 client of a dual-stack server", narrative: &[
        "The server's socket is IPv6, bound to the IPv4-mapped loopback address.",
        "An IPv4 client connects: the wire carries IPv4, the server sees ::ffff:127.0.0.1.",
    ]},
    Lab { name: "kv", seed: "004", title: "a CRUD session against serve kv", narrative: &[
        "create, read, update, delete, list: one request line and one reply line at a time.",
        "Each OK is sent only after the store is safely on disk.",
    ]},
];

/// One check of a lab's point.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub what: String,
    pub passed: bool,
}

/// A traced part of a lab: one connection (the trace view) or several
/// interleaved (rows).
pub struct Part {
    pub title: String,
    pub report: Option<TraceReport>,
    pub packets: Vec<Packet>,
}

impl Part {
    fn trace(title: &str, report: TraceReport) -> Part {
        Part {
            title: title.to_string(),
            report: Some(report),
            packets: Vec::new(),
        }
    }

    fn rows(title: &str, packets: Vec<Packet>) -> Part {
        Part {
            title: title.to_string(),
            report: None,
            packets,
        }
    }

    /// The part's packets, whichever view it has.
    pub fn packets(&self) -> &[Packet] {
        self.report.as_ref().map_or(&self.packets, |r| &r.packets)
    }
}

/// What a lab run found.
#[derive(Default)]
pub struct Outcome {
    pub parts: Vec<Part>,
    pub happened: Vec<String>,
    pub checks: Vec<Check>,
}

impl Outcome {
    fn check(&mut self, what: &str, passed: bool) {
        self.checks.push(Check {
            what: what.to_string(),
            passed,
        });
    }

    /// True if every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// Finds a lab by name.
pub fn find(name: &str) -> Option<&'static Lab> {
    LABS.iter().find(|l| l.name == name)
}

/// Runs one lab's traffic and computes its outcome.
pub async fn run_lab(name: &str) -> Result<Outcome> {
    match name {
        "handshake" => basic::handshake().await,
        "hello" => basic::one_write(b"hello").await,
        "buffer" => basic::one_write(&[12, 34]).await,
        "echo" => basic::echo().await,
        "json" => basic::json().await,
        "coalesce" => basic::coalesce().await,
        "framing" => basic::framing().await,
        "half-close" => basic::half_close().await,
        "reset" => basic::reset().await,
        "ipv6-mapped" => basic::ipv6_mapped().await,
        "refused" => custom::refused().await,
        "crash" => custom::crash().await,
        "chat" => custom::chat().await,
        "kv" => custom::kv().await,
        other => Err(unknown(other)),
    }
}

fn unknown(name: &str) -> Error {
    let names: Vec<&str> = LABS.iter().map(|l| l.name).collect();
    Error::Usage(format!(
        "no lab named '{name}'; try one of: {} (tcplab lab list)",
        names.join(", ")
    ))
}

/// Runs `tcplab lab`.
pub fn run(args: &LabArgs, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let pal = Palette {
        enabled: resolve_color(color),
    };
    let opts = TextOptions {
        palette: pal,
        width: terminal_width().unwrap_or(100),
        hexdump: args.hexdump,
        raw_seq: false,
        max_hex: LAB_MAX_HEX,
    };
    if args.name == "list" {
        for l in LABS {
            writeln!(out, "{:<12} seed {:<8} {}", l.name, l.seed, l.title).map_err(output_error)?;
        }
        return Ok(());
    }
    let lab = find(&args.name).ok_or_else(|| unknown(&args.name))?;
    let text = args.format == Format::Text;
    super::trace::check_diagram(&args.diagram, text)?;
    // Two threads: the server reads while the client writes, as two
    // programs would (on one thread the server read only after all writes).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let outcome = rt.block_on(run_lab(lab.name))?;
    let written = match args.format {
        Format::Json => write_json(out, lab, &outcome),
        // --mermaid makes stdout the diagrams alone, for redirecting to a file.
        Format::Text if args.diagram.mermaid => Ok(()),
        Format::Text => write_text(out, lab, &outcome, &opts),
    };
    written.map_err(output_error)?;
    if super::trace::wants_ladder(&args.diagram) {
        for (i, ladder) in ladders(&outcome).iter().enumerate() {
            // One SVG file per diagram: FILE, then FILE-2.svg, FILE-3.svg...
            let mut diagram = args.diagram.clone();
            if let (Some(path), true) = (&args.diagram.svg, i > 0) {
                let stem = path.with_extension("");
                diagram.svg = Some(PathBuf::from(format!("{}-{}.svg", stem.display(), i + 1)));
            }
            super::trace::draw_diagram(&diagram, ladder, &opts, text, out)?;
        }
    }
    if args.check && !outcome.passed() {
        out.flush().map_err(output_error)?;
        let failed: Vec<&str> = outcome
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.what.as_str())
            .collect();
        return Err(Error::Trace(format!(
            "lab {}: the point did not show: {}",
            lab.name,
            failed.join("; ")
        )));
    }
    Ok(())
}

fn write_text(
    w: &mut dyn Write,
    lab: &Lab,
    o: &Outcome,
    opts: &TextOptions,
) -> std::io::Result<()> {
    let pal = opts.palette;
    let heading = format!("lab {} · {} (seed {})", lab.name, lab.title, lab.seed);
    writeln!(w, "{}", pal.paint(Paint::Heading, &heading))?;
    for line in lab.narrative {
        crate::render::text_prose(w, "  ", line, opts)?;
    }
    for part in &o.parts {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            pal.paint(Paint::Heading, &format!("── {}", part.title))
        )?;
        match &part.report {
            Some(r) => write_trace_text(w, r, opts)?,
            None => rows(w, &part.packets, opts)?,
        }
    }
    writeln!(w)?;
    writeln!(w, "{}", pal.paint(Paint::Heading, "what happened"))?;
    for line in &o.happened {
        crate::render::text_prose(w, "  ", line, opts)?;
    }
    writeln!(w)?;
    for c in &o.checks {
        let (mark, paint) = if c.passed {
            ("✓", Paint::Good)
        } else {
            ("✗", Paint::Bad)
        };
        crate::render::text_prose(
            w,
            "",
            &pal.paint(paint, &format!("{mark} {}", c.what)),
            opts,
        )?;
    }
    Ok(())
}

/// A ladder per part: its connection, or each of its streams.
fn ladders(o: &Outcome) -> Vec<Ladder> {
    let mut out = Vec::new();
    for part in &o.parts {
        match &part.report {
            Some(r) => {
                let mut l = Ladder::of_connection(&r.connection, &r.packets);
                l.title = Some(part.title.clone());
                out.push(l);
            }
            None => {
                let streams: std::collections::BTreeSet<u32> =
                    part.packets.iter().filter_map(Packet::stream).collect();
                for s in streams {
                    if let Some(mut l) = Ladder::of_stream(&part.packets, s) {
                        l.title = Some(format!("{} · stream {s}", part.title));
                        out.push(l);
                    }
                }
            }
        }
    }
    out
}

/// Several interleaved streams as replay's rows (stream column included).
fn rows(w: &mut dyn Write, packets: &[Packet], opts: &TextOptions) -> std::io::Result<()> {
    let mut writer = RowWriter::new(*opts);
    for p in packets {
        writer.row(w, p)?;
    }
    Ok(())
}

fn write_json(w: &mut dyn Write, lab: &Lab, o: &Outcome) -> std::io::Result<()> {
    let parts: Vec<serde_json::Value> = o
        .parts
        .iter()
        .map(|p| match &p.report {
            Some(r) => serde_json::json!({"title": p.title, "trace": trace_json(r, LAB_MAX_HEX)}),
            None => {
                serde_json::json!({"title": p.title, "packets": records(&p.packets, LAB_MAX_HEX)})
            }
        })
        .collect();
    let doc = serde_json::json!({
        "lab": lab.name,
        "seed": lab.seed,
        "title": lab.title,
        "narrative": lab.narrative,
        "parts": parts,
        "happened": o.happened,
        "checks": o.checks,
        "passed": o.passed(),
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
