//! Ladder diagrams of one connection in the terminal, as SVG and as
//! Mermaid: built from the committed captures through the library
//! (`FileSource` -> `Pipeline::push` -> `Ladder`, no privileges), then
//! through the real binary (`replay --diagram/--svg/--mermaid/--step`, and
//! `trace --diagram` where this process may capture).

mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;

use common::*;
use tcplab::capture::{FileSource, PacketSource};
use tcplab::decode::Flags;
use tcplab::flow::Direction;
use tcplab::flow::{Packet, Pipeline};
use tcplab::render::{
    ladder_lines, never, play, push_segments, visible_width, write_ladder_mermaid,
    write_ladder_svg, write_ladder_svg_with, Arrows, Connection, DumpBudget, Folding, HexdumpMode,
    Ladder, Palette, Screen, Segment, SegmentKind, StepView, Steps, SvgOptions, TextOptions,
    MAX_ARROWS,
};
use tcplab::values::LinkType;
use tcplab::values::{Frame, Timestamp, TsPrecision};

const CAPTURES: [&str; 3] = ["hello-ethernet.pcap", "reset.pcap", "half-close.pcap"];

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// Every frame of a capture through the per-packet pipeline.
fn packets(name: &str) -> Vec<Packet> {
    let mut src = FileSource::open(&capture(name)).expect("open capture");
    let mut pipeline = Pipeline::new();
    let mut out = Vec::new();
    while let Some(frame) = src.next_frame().expect("read frame") {
        out.push(pipeline.push(&frame.as_raw()));
    }
    out
}

/// The segments of stream 0, the ones a ladder draws.
fn segments(packets: &[Packet]) -> Vec<&Packet> {
    packets.iter().filter(|p| p.stream() == Some(0)).collect()
}

fn ladder(name: &str) -> Ladder {
    Ladder::of_stream(&packets(name), 0).expect("stream 0 has segments")
}

fn opts(width: usize, colour: bool) -> TextOptions {
    TextOptions {
        palette: Palette { enabled: colour },
        width,
        hexdump: HexdumpMode::None,
        raw_seq: false,
        max_hex: 4096,
        explain: false,
        fold: Folding::Long,
        dump_budget: DumpBudget::Every,
        kernel_changes: false,
    }
}

fn all_notes(l: &Ladder) -> Vec<String> {
    l.arrows().iter().flat_map(|a| a.notes.clone()).collect()
}

fn svg(l: &Ladder) -> String {
    let mut out = Vec::new();
    write_ladder_svg(&mut out, l).unwrap();
    String::from_utf8(out).unwrap()
}

fn mermaid(l: &Ladder) -> String {
    let mut out = Vec::new();
    write_ladder_mermaid(&mut out, l).unwrap();
    String::from_utf8(out).unwrap()
}

/// Lines holding an arrowhead, and whether each points right.
fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

fn arrow_lines(lines: &[String]) -> Vec<bool> {
    lines
        .iter()
        .filter(|l| l.contains('▶') || l.contains('◀'))
        .map(|l| l.contains('▶'))
        .collect()
}

#[test]
fn terminal_fits_every_width_with_one_arrow_per_segment() {
    for name in CAPTURES {
        let all = packets(name);
        let segs = segments(&all);
        let l = ladder(name);
        assert_eq!(l.arrows().len(), segs.len(), "{name}");
        let directions: Vec<bool> = segs
            .iter()
            .map(|p| p.direction() == Some(Direction::ClientToServer))
            .collect();
        for width in 40..=200 {
            for colour in [false, true] {
                let lines: Vec<String> = ladder_lines(&l, &opts(width, colour))
                    .lines()
                    .cloned()
                    .collect();
                for line in &lines {
                    assert!(
                        visible_width(line) <= width,
                        "{name} at {width} columns (colour {colour}): {line:?} is {} wide",
                        visible_width(line)
                    );
                }
                assert_eq!(
                    arrow_lines(&lines),
                    directions,
                    "{name} at {width} columns: one arrow per segment, client → server pointing right"
                );
            }
        }
    }
}

#[test]
fn terminal_shows_labels_notes_and_titles() {
    let l = ladder("hello-ethernet.pcap");
    let wide: Vec<String> = ladder_lines(&l, &opts(160, false))
        .lines()
        .cloned()
        .collect();
    let text = wide.join("\n");
    assert!(text.contains("client 127.0.0.1:45116"), "{text}");
    assert!(text.contains("server 127.0.0.1:33805"), "{text}");
    assert!(
        text.contains("PSH-ACK seq 1:6 ack 1 len 5 \"hello\""),
        "{text}"
    );
    assert!(text.contains("SYN-ACK seq 0 ack 1 ─"), "{text}");
    assert!(
        text.contains("ack 1 = client's ISN + 1: the SYN uses one sequence number"),
        "{text}"
    );
    // The label sits on its arrow, the note beside the server's lifeline.
    let syn_ack = wide.iter().find(|l| l.contains("SYN-ACK")).unwrap();
    assert!(
        syn_ack.contains("│◀─") && syn_ack.contains("ISN"),
        "{syn_ack}"
    );
    // Narrow: labels above their arrows, notes between the lifelines.
    let narrow: Vec<String> = ladder_lines(&l, &opts(40, false))
        .lines()
        .cloned()
        .collect();
    let label = narrow.iter().position(|l| l.contains("SYN-ACK")).unwrap();
    assert!(narrow[label + 1].contains("◀──"), "{narrow:#?}");
    assert!(!narrow[label].contains('◀'));
    // Colour: SYN green, data magenta, FIN yellow, RST red.
    let coloured = ladder_lines(&ladder("reset.pcap"), &opts(120, true));
    let rows: Vec<&String> = coloured.arrows.iter().flatten().collect();
    let find = |word: &str| *rows.iter().find(|l| l.contains(word)).unwrap();
    assert!(find("SYN seq").contains("\x1b[32m"));
    assert!(find("PSH-ACK").contains("\x1b[35m"));
    assert!(find("RST-ACK").contains("\x1b[31m"));
    let fin = ladder_lines(&l, &opts(120, true));
    assert!(fin
        .arrows
        .iter()
        .flatten()
        .any(|r| r.contains("FIN-ACK") && r.contains("\x1b[33m")));
}

#[test]
fn notes_spell_out_the_arithmetic_once() {
    let hello = all_notes(&ladder("hello-ethernet.pcap"));
    for want in [
        "ack 1 = client's ISN + 1: the SYN uses one sequence number",
        "seq 1:6 carries bytes 1 to 5",
        "ack 6: bytes up to 5 received",
        "the FIN uses one sequence number too",
        "ack 7 = the client's FIN (seq 6) + 1",
    ] {
        assert!(hello.iter().any(|n| n == want), "{want:?} in {hello:#?}");
    }
    let reset = all_notes(&ladder("reset.pcap"));
    assert!(reset
        .iter()
        .any(|n| n == "reset: no FIN, the connection is gone"));
    let half = all_notes(&ladder("half-close.pcap"));
    assert!(
        half.iter().any(|n| n.starts_with("half-close:")),
        "{half:#?}"
    );
    let refused = all_notes(&ladder("refused.pcap"));
    assert!(
        refused.iter().any(|n| n.contains("connection refused")),
        "{refused:#?}"
    );

    // A bulk transfer: the data lesson once per direction, not per segment.
    let bulk = ladder("lossy-bulk.pcap");
    let carries = all_notes(&bulk)
        .iter()
        .filter(|n| n.contains("carries byte"))
        .count();
    assert!(carries <= 2, "{carries}");
    let quiet = bulk.arrows().iter().filter(|a| a.notes.is_empty()).count();
    assert!(quiet * 2 > bulk.arrows().len(), "notes on most rows");
    // Retransmissions are explained where they happen.
    assert!(all_notes(&bulk)
        .iter()
        .any(|n| n.contains("retransmission")));
}

#[test]
fn svg_is_xml_with_one_arrow_per_segment() {
    for name in CAPTURES {
        let all = packets(name);
        let segs = segments(&all);
        let l = ladder(name);
        let text = svg(&l);
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{name}: the SVG is not XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert!(root.attribute("viewBox").is_some());
        // Self-contained: nothing fetched.
        assert!(!text.contains("href=\"http") && !text.contains("@import"));
        assert!(!text.contains("<script"));

        let arrows: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("line")
                    && n.attribute("class")
                        .is_some_and(|c| c.split(' ').any(|w| w == "arrow"))
            })
            .collect();
        assert_eq!(arrows.len(), segs.len(), "{name}");
        for (arrow, p) in arrows.iter().zip(&segs) {
            let x1: f64 = arrow.attribute("x1").unwrap().parse().unwrap();
            let x2: f64 = arrow.attribute("x2").unwrap().parse().unwrap();
            assert_eq!(x2 > x1, p.direction() == Some(Direction::ClientToServer));
            let marker = arrow.attribute("marker-end").unwrap();
            let id = marker.trim_start_matches("url(#").trim_end_matches(')');
            assert!(
                doc.descendants()
                    .any(|n| n.has_tag_name("marker") && n.attribute("id") == Some(id)),
                "{name}: marker {id} is defined"
            );
            // An RST is told from the rest without its colour: its line's
            // pattern.
            let rst = p.flags().is_some_and(|f| f.contains(Flags::RST));
            assert_eq!(
                arrow.attribute("stroke-dasharray").is_some(),
                rst,
                "{name}: frame {}",
                p.number
            );
        }
        let words: String = doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        for p in &segs {
            let spoken = p.flags().unwrap().spoken();
            assert!(words.contains(&spoken), "{name}: {spoken} in the SVG text");
        }
        // The legend names only the kinds drawn.
        let legends: String = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("legend"))
            .flat_map(|n| n.descendants())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        for (legend, kind) in [
            ("SYN: opens", SegmentKind::Syn),
            ("data", SegmentKind::Data),
            ("FIN: closes", SegmentKind::Fin),
            ("RST: aborts", SegmentKind::Rst),
            ("ACK only", SegmentKind::Ack),
        ] {
            let drawn = segs
                .iter()
                .any(|p| SegmentKind::of(p.flags().unwrap(), p.payload_len) == kind);
            assert_eq!(legends.contains(legend), drawn, "{name}: legend {legend}");
        }
        // Slide type: shown 1920 px wide, no text is under 28 px.
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
            if let Some(size) = n.attribute("font-size") {
                let shown = size.parse::<f64>().unwrap() * 1920.0 / width;
                assert!(shown >= 28.0, "{name}: {shown:.1} px at 1920 wide");
            }
        }
        // One bracket per phase, in order.
        let phases: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("phase"))
            .filter_map(|n| n.attribute("data-phase"))
            .collect();
        // A half-close: the client's FIN, the server's data after it, the rest.
        let expected = match name {
            "reset.pcap" => vec!["handshake", "data", "reset"],
            "half-close.pcap" => vec!["handshake", "data", "teardown", "data", "teardown"],
            _ => vec!["handshake", "data", "teardown"],
        };
        assert_eq!(phases, expected, "{name}");
    }
}

#[test]
fn svg_fold_acks_draws_pure_acks_thin_and_keeps_their_states() {
    let l = ladder("hello-ethernet.pcap");
    let mut out = Vec::new();
    write_ladder_svg_with(&mut out, &l, SvgOptions { fold_acks: true }).unwrap();
    let text = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let folded: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("segment folded"))
        .filter_map(|n| n.attribute("data-frame"))
        .collect();
    // The handshake's last ACK, the two ACKs of data, the last ACK.
    assert_eq!(folded, ["3", "5", "7", "10"]);
    // Every segment still has its arrow; the folded have no label.
    let arrows = doc
        .descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.starts_with("arrow "))
        })
        .count();
    assert_eq!(arrows, 10);
    let labels = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("label"))
        .count();
    assert_eq!(labels, 6);
    // #3 still says the server is ESTABLISHED, #10 that it is CLOSED.
    let states: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("state"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        states.contains(&"CLOSED") && states.contains(&"ESTABLISHED"),
        "{states:?}"
    );
    assert!(text.len() < svg(&l).len());
}

#[test]
fn mermaid_has_participants_and_one_message_per_segment() {
    for name in CAPTURES {
        let all = packets(name);
        let segs = segments(&all);
        let text = mermaid(&ladder(name));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "sequenceDiagram");
        assert!(lines
            .iter()
            .any(|l| l.trim().starts_with("participant C as client 127.0.0.1:")));
        assert!(lines
            .iter()
            .any(|l| l.trim().starts_with("participant S as server 127.0.0.1:")));
        let messages: Vec<&str> = lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| l.starts_with("C->>S: ") || l.starts_with("S->>C: "))
            .collect();
        assert_eq!(messages.len(), segs.len(), "{name}:\n{text}");
        for (m, p) in messages.iter().zip(&segs) {
            let right = p.direction() == Some(Direction::ClientToServer);
            assert_eq!(m.starts_with("C->>S"), right, "{m}");
            assert!(m.contains(&p.flags().unwrap().spoken()), "{m}");
        }
        assert!(text.contains("Note over C,S: "));
        assert_mermaid_safe(&text);
    }
}

/// No `;` or `#` outside Mermaid's entity codes.
fn assert_mermaid_safe(text: &str) {
    for line in text.lines().skip_while(|l| *l != "sequenceDiagram") {
        let mut rest = line.to_string();
        while let Some(start) = rest.find('#') {
            let end = rest[start..]
                .find(';')
                .map(|e| start + e)
                .unwrap_or_else(|| panic!("bare # in {line:?}"));
            let code = &rest[start + 1..end];
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()),
                "bad entity in {line:?}"
            );
            rest.replace_range(start..=end, "");
        }
        assert!(!rest.contains(';'), "bare ; in {line:?}");
    }
}

/// A hand-made exchange whose payload holds every character SVG, XML and
/// Mermaid treat specially.
fn nasty() -> Vec<Packet> {
    use etherparse::PacketBuilder;
    let (c, s) = ([127, 0, 0, 1], [127, 0, 0, 1]);
    let mut frames = Vec::new();
    let mut push = |data: Vec<u8>, i: u32| {
        frames.push(Frame {
            ts: Timestamp {
                sec: 1_700_000_000,
                nsec: i * 1000,
            },
            link: LinkType::Ethernet,
            precision: TsPrecision::Micro,
            orig_len: data.len() as u32,
            data,
        })
    };
    let build = |from_client: bool| {
        let b = PacketBuilder::ethernet2([0; 6], [0; 6]);
        if from_client {
            b.ipv4(c, s, 64)
        } else {
            b.ipv4(s, c, 64)
        }
    };
    let payload = b"a;b#c<d>&e\"f'g\x01";
    let mut v = Vec::new();
    build(true)
        .tcp(40000, 80, 1000, 1024)
        .syn()
        .write(&mut v, &[])
        .unwrap();
    push(std::mem::take(&mut v), 1);
    build(false)
        .tcp(80, 40000, 5000, 1024)
        .syn()
        .ack(1001)
        .write(&mut v, &[])
        .unwrap();
    push(std::mem::take(&mut v), 2);
    build(true)
        .tcp(40000, 80, 1001, 1024)
        .ack(5001)
        .write(&mut v, &[])
        .unwrap();
    push(std::mem::take(&mut v), 3);
    build(true)
        .tcp(40000, 80, 1001, 1024)
        .psh()
        .ack(5001)
        .write(&mut v, payload)
        .unwrap();
    push(std::mem::take(&mut v), 4);
    build(false)
        .tcp(80, 40000, 5001, 1024)
        .rst()
        .ack(1001 + payload.len() as u32)
        .write(&mut v, &[])
        .unwrap();
    push(std::mem::take(&mut v), 5);
    let mut pipeline = Pipeline::new();
    frames.iter().map(|f| pipeline.push(&f.as_raw())).collect()
}

#[test]
fn special_characters_are_escaped_in_every_form() {
    let mut l = Ladder::of_stream(&nasty(), 0).unwrap();
    l.title = Some("lab: <reset> & \"quotes\"; #1".into());
    assert_eq!(l.arrows().len(), 5);
    let text = svg(&l);
    let doc = roxmltree::Document::parse(&text).expect("escaped SVG parses");
    let words: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(words.contains(r#""a;b#c<d>&e\"f'g\x01""#), "{words}");
    assert!(words.contains("lab: <reset> & \"quotes\"; #1"));

    let m = mermaid(&l);
    assert!(m.starts_with("---\ntitle: \"lab: ‹reset› + \\\"quotes\\\"; #1\"\n---\n"));
    assert_mermaid_safe(&m);
    assert!(m.contains("#lt;") && m.contains("#59;") && m.contains("#35;"));

    for width in 40..=120 {
        for line in ladder_lines(&l, &opts(width, true)).lines() {
            assert!(visible_width(line) <= width);
            // The control byte was escaped, never printed.
            assert!(!line.contains('\x01'));
        }
    }
}

#[test]
fn step_mode_waits_for_a_line_per_arrow() {
    let l = ladder("hello-ethernet.pcap");
    let o = opts(100, false);
    let full: String = ladder_lines(&l, &o)
        .lines()
        .map(|x| format!("{x}\n"))
        .collect();
    let mut steps = Steps::new(Vec::new());
    Arrows::of(&l, &o).push_steps(&mut steps);
    assert_eq!(steps.waits(), 10, "a piece per arrow");
    let run = |input: &str, prompt: Option<&mut dyn std::io::Write>| {
        let mut out = Vec::new();
        let mut input = input.as_bytes();
        let screen = Screen {
            prompt,
            redraw: false,
            palette: o.palette,
            typed_ahead: never,
        };
        play(&mut out, &steps, &mut input, screen).unwrap();
        String::from_utf8(out).unwrap()
    };
    // Enough lines, or none at all (the end draws the rest): the whole ladder.
    assert_eq!(run(&"\n".repeat(20), None), full);
    assert_eq!(run("", None), full);
    // Three lines, then `q`: three arrows.
    let stopped = run("\n\n\nq\n\n", None);
    let lines: Vec<String> = stopped.lines().map(String::from).collect();
    assert_eq!(arrow_lines(&lines).len(), 3, "{stopped}");

    // The hint goes to the prompt writer and is erased after each line.
    let mut prompt = Vec::new();
    let out = run(&"\n".repeat(10), Some(&mut prompt));
    let prompt = String::from_utf8(prompt).unwrap();
    assert_eq!(prompt.matches("Enter").count(), 10, "{prompt}");
    assert_eq!(prompt.matches("\x1b[2K").count(), 10);
    assert_eq!(out, full);
}

#[test]
fn a_folded_ladder_is_stepped_arrow_by_arrow() {
    // Stepping is a piece per segment, each with its own arrow: a folded
    // ladder has fewer groups than frames, and `lab zero-window --step`
    // once looked a frame's arrow up past the last group and panicked.
    let l = ladder("lossy-bulk.pcap");
    let o = opts(120, false);
    assert!(ladder_lines(&l, &o).arrows.len() < l.arrows().len() / 2);
    let mut steps = Steps::new(Vec::new());
    Arrows::of(&l, &o).push_steps(&mut steps);
    assert_eq!(steps.waits(), l.arrows().len());
    let segments: Vec<Segment> = l
        .arrows()
        .iter()
        .map(|a| Segment::new(a.frame, vec![format!("row {}", a.frame)], Vec::new()))
        .collect();
    let mut steps = Steps::new(Vec::new());
    push_segments(
        &mut steps,
        &segments,
        &[Arrows::of(&l, &o)],
        StepView::Report,
    );
    assert_eq!(steps.waits(), segments.len());
}

#[test]
fn of_connection_picks_the_connection_among_streams() {
    let all = packets("interleaved.pcap");
    let stream2: Vec<&Packet> = all.iter().filter(|p| p.stream() == Some(2)).collect();
    let (client, server) = tcplab::render::endpoints(stream2[0]).unwrap();
    let l = Ladder::of_connection(
        &Connection {
            client: client.clone(),
            server,
            client_seen_by_server: None,
        },
        &all,
    );
    assert_eq!(l.arrows().len(), stream2.len());
    assert!(l
        .arrows()
        .iter()
        .zip(&stream2)
        .all(|(a, p)| a.frame == p.number));
    assert_eq!(l.client, client);
}

#[test]
fn ipv6_endpoints_are_bracketed() {
    let l = ladder("hello-ipv6.pcap");
    let lines: Vec<String> = ladder_lines(&l, &opts(100, false))
        .lines()
        .cloned()
        .collect();
    assert!(lines[0].contains("client [::1]:"), "{lines:#?}");
    assert!(mermaid(&l).contains("participant S as server [::1]:"));
}

#[test]
fn long_captures_are_cut_at_max_arrows() {
    let all = packets("hello-ethernet.pcap");
    let (client, server) = tcplab::render::endpoints(&all[0]).unwrap();
    let mut l = Ladder::new(client, server);
    let rounds = MAX_ARROWS / all.len() + 2;
    for _ in 0..rounds {
        for p in &all {
            l.push(p);
        }
    }
    assert_eq!(l.arrows().len(), MAX_ARROWS);
    assert_eq!(l.omitted(), rounds * all.len() - MAX_ARROWS);
    let tail = ladder_lines(&l, &opts(100, false)).tail.join("\n");
    assert!(tail.contains(&format!("{} more segments not drawn", l.omitted())));
    assert!(svg(&l).contains("more segments not drawn"));
}

#[test]
fn a_long_ladder_folds_its_uneventful_runs_as_the_timeline_does() {
    let l = ladder("lossy-bulk.pcap");
    let n = l.arrows().len();
    assert!(n > 500, "{n} arrows");
    let drawn = |fold: Folding| {
        let o = TextOptions {
            fold,
            ..opts(120, false)
        };
        ladder_lines(&l, &o).arrows
    };
    let folded = drawn(Folding::Long);
    assert!(
        folded.len() < n / 2,
        "{} groups for {n} arrows",
        folded.len()
    );
    // Each fold says how many arrows it holds; with the drawn ones, all.
    let mut held = 0;
    let mut kept = 0;
    for group in &folded {
        match group[0].split_once("⋮ ") {
            Some((_, rest)) => {
                let count: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                held += count.parse::<usize>().unwrap();
            }
            None => kept += 1,
        }
    }
    assert_eq!(held + kept, n, "folded {held} + drawn {kept} of {n}");
    // The handshake, every retransmission's first few and the teardown stay.
    let text = folded.concat().join("\n");
    assert!(text.contains("SYN seq 0"), "{text}");
    assert!(text.contains("retransmission"), "{text}");
    assert!(text.contains("FIN"), "{text}");
    // --every-row (no fold) draws every arrow.
    let every = drawn(Folding::Never);
    assert_eq!(every.len(), n);
    assert!(!every.concat().join("\n").contains("⋮"));
}

// ---- the binary ------------------------------------------------------

fn run(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut child = tcplab()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tcplab");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hello() -> String {
    capture("hello-ethernet.pcap").display().to_string()
}

#[test]
fn replay_diagram_prints_arrows_after_the_rows() {
    let (code, out, err) = run(&["replay", &hello(), "--hexdump", "none", "--diagram"], "");
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<String> = out.lines().map(String::from).collect();
    assert_eq!(
        arrow_lines(&lines),
        [true, false, true, true, false, false, true, true, false, true]
    );
    let rows_end = out.find("10 frames read").expect("rows first");
    assert!(out.find('▶').unwrap() > rows_end);
    assert!(lines.iter().all(|l| visible_width(l) <= 100), "{out}");
}

#[test]
fn replay_svg_writes_a_file() {
    let dir = std::env::temp_dir().join(format!("tcplab-ladder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hello.svg");
    let (code, out, err) = run(
        &[
            "replay",
            &hello(),
            "--svg-page",
            "--svg",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("ladder diagram of 10 segments written to"),
        "{out}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n
                .attribute("class")
                .is_some_and(|c| c.starts_with("arrow ")))
            .count(),
        10
    );
    // With JSON on stdout the file is still written and stdout stays JSON.
    let json_path = dir.join("json.svg");
    let (code, out, err) = run(
        &[
            "replay",
            &hello(),
            "--format",
            "json",
            "--svg",
            json_path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str::<serde_json::Value>(&out).expect("stdout is JSON");
    assert!(json_path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn replay_mermaid_prints_only_mermaid() {
    let (code, out, err) = run(&["replay", &hello(), "--mermaid"], "");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("sequenceDiagram\n"), "{out}");
    assert_eq!(out.matches("->>").count(), 10);
    assert!(!out.contains("frames read"));
}

#[test]
fn replay_step_reads_lines_from_a_pipe() {
    // The ladder alone: the heading and titles at once, then an arrow a line.
    let (code, out, err) = run(&["replay", &hello(), "--step", "--diagram"], "\n\nq\n");
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<String> = out.lines().map(String::from).collect();
    assert_eq!(arrow_lines(&lines).len(), 2, "{out}");
    assert!(lines[0].starts_with("tcplab replay "), "{out}");
    // Not a terminal: no hint, no escapes on stderr.
    assert!(err.is_empty(), "{err}");
    // The report: a segment's row and its arrow per line, the totals last.
    let (code, out, err) = run(&["replay", &hello(), "--step"], "\n\n\nb\n");
    assert_eq!(code, Some(0), "{err}");
    let rows = |out: &str| -> Vec<u64> {
        out.lines()
            // Not the arrows, which keep their number and time.
            .filter(|l| !l.contains('│'))
            .filter_map(|l| {
                // `    4   0.000445 s0 ...`: a number, then a time.
                let mut words = l.split_whitespace();
                let n = words.next()?.parse().ok()?;
                words.next()?.parse::<f64>().ok().map(|_| n)
            })
            .collect()
    };
    let (before, after) = out.split_once("── back to segment 2 of 10").expect(&out);
    assert_eq!(rows(before), [1, 2, 3], "{out}");
    assert!(!before.contains("frames read"), "{out}");
    // Back to #2, then the end of the input shows the rest at once.
    assert_eq!(rows(after), [2, 3, 4, 5, 6, 7, 8, 9, 10], "{out}");
    assert_eq!(arrow_lines(&lines_of(after)).len(), 9, "{out}");
    assert!(
        after.trim_end().ends_with("10 frames read, 10 shown"),
        "{out}"
    );
}

#[test]
fn replay_refuses_diagrams_it_cannot_draw() {
    let (code, _, err) = run(&["replay", &hello(), "--format", "json", "--diagram"], "");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--svg"), "{err}");
    let (code, _, err) = run(&["replay", &hello(), "--mermaid", "--diagram"], "");
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(&["replay", &hello(), "--stream", "7", "--diagram"], "");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("stream 7 has no TCP segments"), "{err}");
}

#[test]
fn replay_draws_the_chosen_stream() {
    let path = capture("interleaved.pcap").display().to_string();
    let (code, out, err) = run(&["replay", &path, "--stream", "3", "--mermaid"], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.matches("->>").count(), 10, "{out}");
}

#[test]
fn trace_diagram_draws_the_traced_connection() {
    if !can_capture("trace_diagram_draws_the_traced_connection") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcplab-trace-ladder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.svg");
    let (code, out, err) = run(
        &[
            "trace",
            "--send",
            "hello",
            "--diagram",
            "--svg",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<String> = out.lines().map(String::from).collect();
    let arrows = arrow_lines(&lines);
    assert!(arrows.len() >= 10, "{out}");
    assert_eq!(&arrows[..3], [true, false, true], "handshake first");
    assert!(out.contains("seq 1:6 carries bytes 1 to 5"), "{out}");
    assert!(lines.iter().all(|l| visible_width(l) <= 100));
    let text = std::fs::read_to_string(&path).unwrap();
    roxmltree::Document::parse(&text).expect("SVG parses");

    let (code, out, err) = run(&["trace", "--send", "hi", "--mermaid"], "");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("sequenceDiagram\n"), "{out}");
    assert!(out.contains("PSH-ACK seq 1:3 ack 1 len 2"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each arrow's state changes as `C:STATE` / `S:STATE` words, in order.
fn state_words(l: &Ladder) -> Vec<String> {
    let mut out = Vec::new();
    for a in l.arrows() {
        out.extend(a.states.client.map(|s| format!("C:{s}")));
        out.extend(a.states.server.map(|s| format!("S:{s}")));
    }
    out
}

#[test]
fn the_ladder_follows_each_sides_tcp_state() {
    let words = |name: &str| state_words(&ladder(name)).join(" ");
    // Close after close: the server's FIN-ACK acknowledges the client's FIN.
    assert_eq!(
        words("hello-ethernet.pcap"),
        "C:SYN_SENT S:SYN_RECEIVED C:ESTABLISHED S:ESTABLISHED C:FIN_WAIT_1 S:CLOSE_WAIT \
         C:TIME_WAIT S:LAST_ACK S:CLOSED"
    );
    // A half-close: the client's FIN is acknowledged alone (FIN_WAIT_2), and
    // the server sends on in CLOSE_WAIT before its own FIN.
    assert_eq!(
        words("half-close.pcap"),
        "C:SYN_SENT S:SYN_RECEIVED C:ESTABLISHED S:ESTABLISHED C:FIN_WAIT_1 S:CLOSE_WAIT \
         C:FIN_WAIT_2 C:TIME_WAIT S:LAST_ACK S:CLOSED"
    );
    assert!(words("reset.pcap").ends_with("C:CLOSED S:CLOSED"));
    // Refused: nothing listened, so the server has no state to change.
    assert_eq!(words("refused.pcap"), "C:SYN_SENT C:CLOSED");
    // The states are drawn just inside the lifelines, and given to Mermaid.
    let l = ladder("hello-ethernet.pcap");
    let text: Vec<String> = ladder_lines(&l, &opts(100, false))
        .lines()
        .cloned()
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("│ SYN_SENT ") && t.contains(" SYN_RECEIVED │")),
        "{text:#?}"
    );
    let mut mermaid = Vec::new();
    write_ladder_mermaid(&mut mermaid, &l).unwrap();
    let mermaid = String::from_utf8(mermaid).unwrap();
    assert!(mermaid.contains("Note left of C: TIME_WAIT"), "{mermaid}");
    assert!(mermaid.contains("Note right of S: CLOSED"), "{mermaid}");
    // The SVG: one text per change, under its arrow beside the lifeline.
    let mut svg = Vec::new();
    tcplab::render::write_ladder_svg(&mut svg, &l).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("SVG parses");
    let states: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("state"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(states.len(), state_words(&l).len(), "{states:?}");
    assert_eq!(states.first(), Some(&"SYN_SENT"));
    assert_eq!(states.last(), Some(&"CLOSED"));
}
