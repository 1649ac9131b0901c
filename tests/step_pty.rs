//! `--step` driven as a person drives it: the real binary on a
//! pseudo-terminal (openpty), Enter pressed between reads of the screen.
//! One segment appears per Enter, `b` clears the screen and redraws one
//! segment back, `q` stops; the totals come last. Runs for replay (no
//! capture rights needed), and for trace and lab.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A child on a pseudo-terminal and everything it has written so far.
struct Pty {
    child: Child,
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
    /// Bytes of `screen` already looked at by `until`.
    seen: usize,
}

impl Pty {
    fn spawn(args: &[&str], cols: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: 50,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills two descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both are open descriptors nothing else owns.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        let child = tcplab()
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("COLUMNS")
            .stdin(io(&slave))
            .stdout(io(&slave))
            .stderr(io(&slave))
            .spawn()
            .expect("run tcplab");
        drop(slave);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), screen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child has gone and the slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            master,
            screen,
            seen: 0,
        }
    }

    /// Waits until the output after what was seen contains `text`; returns
    /// that new output (up to and including `text`).
    fn until(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let all = self.screen.lock().unwrap().clone();
            let new = String::from_utf8_lossy(&all[self.seen..]).to_string();
            if let Some(i) = new.find(text) {
                self.seen += new[..i + text.len()].len();
                return new[..i + text.len()].to_string();
            }
            if Instant::now() > deadline {
                panic!("no {text:?} on the screen; it shows:\n{new}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn press(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    fn wait(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "tcplab did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader may still be draining the last bytes.
        std::thread::sleep(Duration::from_millis(100));
        let all = self.screen.lock().unwrap().clone();
        let rest = String::from_utf8_lossy(&all[self.seen..]).to_string();
        (status.code(), rest)
    }
}

/// `text` without terminal escapes (`ESC [ ... letter`) and carriage returns.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The frame numbers of the timeline rows in `text`, in order: replay's
/// rows (`    4   0.000445 s0 ...`) and trace's (`  4   0.241   c → s ...`,
/// or at 60 columns `  4   c → s ...`); not the arrows under them, which
/// have their number and time too (` 4 0.241 │──...`).
fn rows(text: &str) -> Vec<u64> {
    plain(text)
        .lines()
        .filter(|l| !l.contains(['│', '├']))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let n = words.next()?.parse().ok()?;
            let next = words.next()?;
            let time = next.contains('.') && next.parse::<f64>().is_ok();
            (time || next == "c" || next == "s").then_some(n)
        })
        .collect()
}

#[test]
fn replay_reveals_one_segment_per_enter_and_b_goes_back() {
    let file = committed_capture("hello-ethernet.pcap");
    let mut pty = Pty::spawn(&["replay", &file, "--step", "--hexdump", "payload"], 100);
    // At first: the heading only, and the hint.
    let first = pty.until("Enter: segment 1 of 10 · q: stop");
    assert!(first.contains("tcplab replay"), "{first}");
    assert_eq!(rows(&first), Vec::<u64>::new(), "{first}");
    for n in 1..=4u64 {
        pty.press("\r");
        let next = format!("Enter: segment {} of 10 · b: back · q: stop", n + 1);
        let shown = pty.until(&next);
        assert_eq!(rows(&shown), [n], "Enter {n} showed:\n{shown}");
        assert!(shown.contains('│'), "its arrow: {shown}");
        assert!(!shown.contains("frames read"), "{shown}");
    }
    // #4 carried "hello": its dump was in its piece.
    // Back: the screen is cleared and redrawn up to #3.
    pty.press("b\r");
    let redrawn = pty.until("Enter: segment 4 of 10");
    let after_clear = redrawn.rsplit("\x1b[2J").next().expect("cleared");
    assert!(redrawn.contains("\x1b[2J"), "{redrawn:?}");
    assert_eq!(rows(after_clear), [1, 2, 3], "{after_clear}");
    // Seven Enters typed ahead: their echo comes before any hint, so no
    // hint is drawn for them and no erasing takes a line of the report.
    pty.press(&"\r".repeat(7));
    let end = pty.until("Enter: the totals");
    assert_eq!(rows(&end), [4, 5, 6, 7, 8, 9, 10], "{end}");
    pty.press("\r");
    let (code, rest) = pty.wait();
    assert_eq!(code, Some(0), "{rest}");
    assert!(rest.contains("10 frames read, 10 shown"), "{rest}");
}

#[test]
fn q_stops_and_the_end_of_the_input_shows_the_rest() {
    let file = committed_capture("hello-ethernet.pcap");
    let mut pty = Pty::spawn(&["replay", &file, "--step", "--diagram"], 100);
    pty.until("Enter: segment 1 of 10");
    pty.press("\r");
    pty.until("Enter: segment 2 of 10");
    pty.press("q\r");
    let (code, rest) = pty.wait();
    assert_eq!(code, Some(0), "{rest}");
    assert!(!rest.contains("frames read"), "q stops: {rest}");
    // Ctrl-D at a terminal ends the input: the rest at once.
    let mut pty = Pty::spawn(&["replay", &file, "--step", "--diagram"], 100);
    pty.until("Enter: segment 1 of 10");
    pty.press("\x04");
    let (code, rest) = pty.wait();
    assert_eq!(code, Some(0), "{rest}");
    assert_eq!(rest.matches(['▶', '◀']).count(), 10, "{rest}");
    assert!(rest.contains("10 frames read, 10 shown"), "{rest}");
}

#[test]
fn trace_steps_a_real_exchange_at_60_columns() {
    if !can_capture("trace_steps_a_real_exchange_at_60_columns") {
        return;
    }
    let mut pty = Pty::spawn(&["trace", "--send", "hello", "--step"], 60);
    let first = pty.until("Enter: segment 1 of 10");
    assert!(first.contains("tcplab trace"), "{first}");
    assert_eq!(rows(&first), Vec::<u64>::new(), "{first}");
    for n in 1..=10u64 {
        pty.press("\r");
        let shown = match n {
            10 => pty.until("Enter: the totals"),
            _ => pty.until(&format!("Enter: segment {} of 10", n + 1)),
        };
        assert_eq!(rows(&shown), [n], "{shown}");
        assert!(!shown.contains("what the programs saw"), "{shown}");
        for line in plain(&shown).lines() {
            assert!(line.chars().count() <= 60, "{line:?}");
        }
    }
    pty.press("\r");
    let (code, rest) = pty.wait();
    assert_eq!(code, Some(0), "{rest}");
    assert!(rest.contains("what the programs saw"), "{rest}");
}

#[test]
fn lab_steps_each_part_and_ends_with_its_checks() {
    if !can_capture("lab_steps_each_part_and_ends_with_its_checks") {
        return;
    }
    let mut pty = Pty::spawn(&["lab", "hello", "--step"], 100);
    let first = pty.until("Enter: segment 1 of 10");
    assert!(first.contains("lab hello"), "{first}");
    assert!(!first.contains("what happened"), "{first}");
    for n in 1..=10 {
        pty.press("\r");
        match n {
            10 => pty.until("Enter: the totals"),
            _ => pty.until(&format!("Enter: segment {} of 10", n + 1)),
        };
    }
    pty.press("\r");
    let totals = pty.until("Enter: what happened");
    assert!(totals.contains("what the programs saw"), "{totals}");
    pty.press("\r");
    let (code, rest) = pty.wait();
    assert_eq!(code, Some(0), "{rest}");
    assert!(
        rest.contains("what happened") && rest.contains('✓'),
        "{rest}"
    );
}
