//! Damaged captures, made on purpose: every committed capture cut at every
//! byte (a dense sample for the larger ones) and with bytes flipped (fixed
//! seed), and the same for the tcpdump project's 830 test captures. The
//! reader and the whole per-packet path must never panic or hang, must
//! stop with a clean end or an error, and must return every frame that
//! lies whole before a cut. A sample also runs through the binary: exit 0
//! or 65, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tcplab::capture::SavefileReader;
use tcplab::flow::Pipeline;
use tcplab::render::{DumpBudget, Folding, PacketRecord, Palette, RowWriter, TextOptions};

/// A small deterministic generator (xorshift64*): the same mutations every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What reading a (maybe damaged) capture gave.
#[derive(Debug)]
struct Read {
    /// Each frame's captured bytes, in order.
    frames: Vec<Vec<u8>>,
    /// Whether it ended with an error (exit 65 in the CLI).
    failed: bool,
}

/// Reads `bytes` as a capture through the reader, the pipeline, records and
/// rows, on a thread: a panic or a run over 10 s fails the test.
fn read_all(bytes: Vec<u8>, what: &str) -> Read {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(move || {
            let mut frames = Vec::new();
            let Ok(mut reader) = SavefileReader::new(std::io::Cursor::new(bytes)) else {
                return Read {
                    frames,
                    failed: true,
                };
            };
            let mut pipeline = Pipeline::new();
            let opts = TextOptions {
                palette: Palette { enabled: true },
                width: 80,
                hexdump: tcplab::render::HexdumpMode::Frame,
                raw_seq: true,
                explain: false,
                max_hex: 4096,
                fold: Folding::Long,
                dump_budget: DumpBudget::Every,
                kernel_changes: false,
            };
            let mut rows = RowWriter::new(opts);
            let mut sink = std::io::sink();
            let mut n = 0;
            loop {
                match reader.next_frame() {
                    Ok(Some(f)) => {
                        n += 1;
                        frames.push(f.data.to_vec());
                        let packet = pipeline.step(n, &f);
                        let record = PacketRecord::of(&packet, 4096);
                        serde_json::to_writer(&mut sink, &record).unwrap();
                        rows.row(&mut sink, &packet).unwrap();
                    }
                    Ok(None) => {
                        return Read {
                            frames,
                            failed: false,
                        }
                    }
                    Err(_) => {
                        return Read {
                            frames,
                            failed: true,
                        }
                    }
                }
            }
        });
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(read)) => read,
        Ok(Err(_)) => panic!("{what}: panicked"),
        Err(_) => panic!("{what}: still reading after 10 s (a hang)"),
    }
}

/// Where each frame of a well-formed file ends (classic pcap with 16-byte
/// record headers, or pcapng packet blocks); None for other layouts.
fn frame_ends(bytes: &[u8]) -> Option<Vec<usize>> {
    let magic = bytes.get(..4)?;
    let mut ends = Vec::new();
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let le = bytes.get(8..12)? == [0x4d, 0x3c, 0x2b, 0x1a];
        let u32_at = |i: usize| -> Option<usize> {
            let b: [u8; 4] = bytes.get(i..i + 4)?.try_into().ok()?;
            Some(if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            } as usize)
        };
        let mut at = 0;
        while at < bytes.len() {
            let (kind, len) = (u32_at(at)?, u32_at(at + 4)?);
            if len < 12 {
                return None;
            }
            if matches!(kind, 2 | 3 | 6) {
                ends.push(at + len);
            }
            at += len;
        }
        return Some(ends);
    }
    let le = match u32::from_le_bytes(magic.try_into().ok()?) {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        _ => match u32::from_be_bytes(magic.try_into().ok()?) {
            0xa1b2_c3d4 | 0xa1b2_3c4d => false,
            _ => return None,
        },
    };
    let mut at = 24;
    while at < bytes.len() {
        let b: [u8; 4] = bytes.get(at + 8..at + 12)?.try_into().ok()?;
        let caplen = if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        } as usize;
        at += 16 + caplen;
        ends.push(at);
    }
    Some(ends)
}

/// Cuts `bytes` at `cut` and checks the frames before it all come back.
fn check_cut(bytes: &[u8], cut: usize, whole: &Read, ends: Option<&[usize]>, name: &str) {
    let read = read_all(bytes[..cut].to_vec(), &format!("{name} cut at {cut}"));
    let got = read.frames.len();
    assert!(
        read.frames.iter().zip(&whole.frames).all(|(a, b)| a == b),
        "{name} cut at {cut}: frames differ from the whole file's"
    );
    if let Some(ends) = ends {
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        assert!(
            got >= complete,
            "{name} cut at {cut}: {got} frames back, {complete} lay whole before the cut"
        );
    }
}

fn committed() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

fn wild() -> Vec<PathBuf> {
    common::wild_captures()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn committed_captures_cut_at_every_byte() {
    for path in committed() {
        let bytes = std::fs::read(&path).unwrap();
        let name = name(&path);
        let whole = read_all(bytes.clone(), &name);
        assert!(!whole.failed, "{name} itself does not read");
        let ends = frame_ends(&bytes);
        // Every byte of the small captures; for the larger ones 300 offsets
        // and 100 frame boundaries with their neighbours, drawn with a seed.
        let mut cuts: Vec<usize> = if bytes.len() <= 4096 {
            (0..bytes.len()).collect()
        } else {
            let mut rng = Rng(0x07c9_01ab);
            let mut c: Vec<usize> = (0..300).map(|_| rng.below(bytes.len())).collect();
            if let Some(ends) = &ends {
                for _ in 0..100 {
                    let e = ends[rng.below(ends.len())];
                    c.extend([e.saturating_sub(1), e, e + 1]);
                }
            }
            c
        };
        cuts.retain(|&c| c < bytes.len());
        for cut in cuts {
            check_cut(&bytes, cut, &whole, ends.as_deref(), &name);
        }
    }
}

#[test]
fn committed_captures_with_flipped_bytes() {
    let mut rng = Rng(0x05ee_df11);
    for path in committed() {
        let bytes = std::fs::read(&path).unwrap();
        for i in 0..200 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(m.len());
                m[at] ^= 1 << rng.below(8);
            }
            read_all(m, &format!("{} flip set {i}", name(&path)));
        }
    }
}

#[test]
fn wild_captures_cut_and_flipped() {
    let mut rng = Rng(0xdead_beef);
    let files = wild();
    assert!(files.len() > 800, "only {} wild captures", files.len());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = name(&path);
        let whole = read_all(bytes.clone(), &name);
        let ends = if whole.failed {
            None
        } else {
            frame_ends(&bytes)
        };
        for _ in 0..12 {
            if bytes.is_empty() {
                break;
            }
            let cut = rng.below(bytes.len());
            if whole.failed {
                read_all(bytes[..cut].to_vec(), &format!("{name} cut at {cut}"));
            } else {
                check_cut(&bytes, cut, &whole, ends.as_deref(), &name);
            }
        }
        for i in 0..12 {
            if bytes.is_empty() {
                break;
            }
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(m.len());
                m[at] ^= 1 << rng.below(8);
            }
            read_all(m, &format!("{name} flip set {i}"));
        }
    }
}

/// Through the binary: damaged files exit 0 or 65 with one line, never a
/// panic or a backtrace.
#[test]
fn the_binary_exits_0_or_65_on_damage() {
    let mut rng = Rng(42);
    let dir = std::env::temp_dir().join(format!("tcplab-mutation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = committed()
        .into_iter()
        .chain(wild().into_iter().step_by(17))
        .collect();
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        if bytes.len() < 2 {
            continue;
        }
        let mut m = bytes[..1 + rng.below(bytes.len() - 1)].to_vec();
        let at = rng.below(m.len());
        m[at] ^= 1 << rng.below(8);
        let file = dir.join(format!("m{i}.pcap"));
        std::fs::write(&file, &m).unwrap();
        for mode in [
            &["--format", "ndjson"][..],
            &["--summary"][..],
            &["--follow"][..],
        ] {
            let out = assert_cmd::Command::cargo_bin("tcplab")
                .unwrap()
                .arg("replay")
                .arg(&file)
                .args(mode)
                .env("RUST_BACKTRACE", "1")
                .timeout(Duration::from_secs(10))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            // --follow of a file without TCP: stream 0 is not there (exit 2).
            let no_stream = mode == ["--follow"] && err.contains("stream 0 is not in");
            assert!(
                matches!(out.status.code(), Some(0) | Some(65)) || no_stream,
                "{} ({}) {mode:?}: exit {:?}: {err}",
                name(path),
                file.display(),
                out.status.code()
            );
            assert!(!err.contains("panicked"), "{}: {err}", name(path));
            assert!(err.lines().count() <= 1, "{}: {err}", name(path));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
