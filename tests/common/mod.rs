//! Helpers for tests that run the real `tcplab` binary.
#![allow(dead_code)]

use std::fmt::Display;
use std::process::{Command, Output};
use std::sync::OnceLock;

use assert_cmd::cargo::CommandCargoExt;

/// The binary under test.
pub fn tcplab() -> Command {
    let mut cmd = Command::cargo_bin("tcplab").expect("binary built by cargo");
    cmd.env_remove("NO_COLOR").env("COLUMNS", "100");
    cmd
}

/// True if this process may capture. Without the privilege the test fails
/// with a message saying so, unless TCPLAB_ALLOW_NO_CAPTURE=1 is set, in
/// which case the caller skips (and says so on stderr).
pub fn can_capture(test: &str) -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    let ok = *PROBE.get_or_init(|| {
        let out = tcplab()
            .args(["trace", "--format", "json"])
            .output()
            .expect("run tcplab");
        out.status.code() != Some(77)
    });
    if ok {
        return true;
    }
    if std::env::var("TCPLAB_ALLOW_NO_CAPTURE").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: no capture privilege (TCPLAB_ALLOW_NO_CAPTURE=1)");
        return false;
    }
    panic!(
        "{test} needs capture privileges: run the tests as root, or \
         `sudo setcap cap_net_raw,cap_net_admin=eip target/debug/tcplab`, or set \
         TCPLAB_ALLOW_NO_CAPTURE=1 to skip the capture tests"
    );
}

/// Runs `tcplab trace ARGS --format json` and parses the report.
pub fn trace_json(args: &[&str]) -> serde_json::Value {
    let out = tcplab()
        .arg("trace")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run tcplab");
    assert_success(&out);
    serde_json::from_slice(&out.stdout).expect("trace prints valid JSON")
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "tcplab failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `flags` of a packet record joined with '-', e.g. "SYN-ACK".
pub fn flags(p: &serde_json::Value) -> String {
    p["flags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join("-")
        })
        .unwrap_or_default()
}

/// True if the packet's flags include `flag`.
pub fn has(p: &serde_json::Value, flag: &str) -> bool {
    p["flags"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f == flag))
}

/// Whether a packet goes from the client (by the report's client port).
pub fn from_client(report: &serde_json::Value, p: &serde_json::Value) -> bool {
    p["sport"] == report["connection"]["client"]["port"]
}

/// The tcpdump project's 830 test captures carried in `tests/data/wild/`,
/// sorted. Panics if any is missing, so a test over them cannot pass on fewer.
pub fn wild_captures() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wild");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.sort();
    assert_eq!(
        v.len(),
        WILD_CAPTURES,
        "{} should hold the tcpdump captures",
        dir.display()
    );
    v
}

/// The captures in `captures/` (sorted), then those of `captures/encap/`,
/// then the wild ones.
pub fn all_captures() -> Vec<std::path::PathBuf> {
    let mut out = captures_in("captures");
    out.extend(encap_captures());
    out.extend(wild_captures());
    out
}

/// The encapsulation and fragment captures of `captures/encap/`, sorted.
pub fn encap_captures() -> Vec<std::path::PathBuf> {
    let v = captures_in("captures/encap");
    assert!(v.len() >= 30, "captures/encap holds {v:?}");
    v
}

/// The capture files directly in `dir` (of the repository), sorted.
fn captures_in(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.extension().is_some_and(|x| x == "md"))
        .collect();
    out.sort();
    out
}

/// The path of `captures/NAME`, as an argument.
pub fn committed_capture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
        .display()
        .to_string()
}

/// How many captures `tests/data/wild/` holds.
pub const WILD_CAPTURES: usize = 830;

/// Runs the binary with `args` as a user without capture rights: as root
/// through setpriv (util-linux) as `nobody` with no capabilities; as
/// another user from a copy, which carries no file capabilities.
pub fn without_capture_rights(args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("tcplab");
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if is_root {
        return Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(["--inh-caps=-all", "--bounding-set=-all"])
            .arg(&bin)
            .args(args)
            .output()
            .expect("setpriv (util-linux) runs");
    }
    let copy = std::env::temp_dir().join(format!("tcplab-nocap-{}", std::process::id()));
    std::fs::copy(&bin, &copy).unwrap();
    let out = Command::new(&copy).args(args).output().unwrap();
    std::fs::remove_file(&copy).unwrap();
    out
}

/// Starts `tcplab capture ARGS` with stdout and stderr piped and waits for
/// its "listening on" line: from then on every packet is captured. The
/// caller drains both (a full pipe would stall the capture).
pub fn spawn_capture(
    args: &[&str],
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::BufRead;
    let mut child = tcplab()
        .arg("capture")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start capture");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.contains("listening on"),
        "capture did not start: {line}"
    );
    (child, err)
}

/// A reader for tshark's `-E header=y -E separator=, -E quote=d` output
/// (the fixtures of `scripts/tshark-fixtures.sh`).
/// One CSV row: `None` for an empty unquoted value (tshark: field absent),
/// `Some` for a quoted one.
pub fn parse_csv_line(line: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        match chars.peek() {
            Some('"') => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            value.push('"');
                        }
                        Some('"') => break,
                        Some(c) => value.push(c),
                        None => return Err(format!("unterminated quote in {line:?}")),
                    }
                }
                out.push(Some(value));
            }
            _ => {
                let mut value = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                out.push(if value.is_empty() { None } else { Some(value) });
            }
        }
        match chars.next() {
            Some(',') => continue,
            None => return Ok(out),
            Some(c) => return Err(format!("unexpected {c:?} after a value in {line:?}")),
        }
    }
}

/// An optional value as text, empty when absent.
pub fn opt<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// tshark's flag bits as record names, in the record's order. Bits the
/// record cannot name (NS/AE, reserved) show up as hex so they mismatch.
pub fn flag_names(hex: &str) -> String {
    let Ok(bits) = u16::from_str_radix(hex.trim_start_matches("0x"), 16) else {
        return format!("unreadable {hex:?}");
    };
    const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
    let mut names: Vec<String> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    if bits & !0xff != 0 {
        names.push(format!("0x{:03x}", bits & !0xff));
    }
    names.join(" ")
}

/// The name of every lab, as `lab list` gives them.
pub fn lab_names() -> Vec<String> {
    let out = tcplab().args(["lab", "list"]).output().unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// A lab's text report at `width` columns, plain, without dumps.
pub fn lab_text(lab: &str, width: usize) -> String {
    let out = tcplab()
        .args(["lab", lab, "--hexdump", "none", "--color", "never"])
        .env("COLUMNS", width.to_string())
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// Debian's headless Chromium; without it the test fails naming the fix.
pub fn chromium() -> std::path::PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        for name in ["chromium", "chromium-browser"] {
            let p = std::path::Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("these tests need headless Chromium: run `bash scripts/setup.sh` (Debian's chromium)");
}
