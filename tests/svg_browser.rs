//! The ladder SVGs in a real browser: headless Chromium (Debian's
//! `chromium`) parses each one as XML without an error page, finds every
//! arrow and application mark the file holds, and draws it to a PNG of the
//! SVG's own size. Without chromium the test fails naming the fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Chromium run headless on `url` with `args`; its stdout.
fn headless(args: &[&str], url: &Path) -> String {
    let profile = url.with_extension("profile");
    let out = Command::new(chromium())
        // No sandbox as root; /tmp rather than a container's small /dev/shm.
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", url.display()))
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `width="1337.6"` → 1338 (the page's pixels).
fn size_of(svg: &str, attr: &str) -> u32 {
    let key = format!("{attr}=\"");
    let at = svg.find(&key).unwrap() + key.len();
    let end = at + svg[at..].find('"').unwrap();
    svg[at..end].parse::<f64>().unwrap().ceil() as u32
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcplab-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The PNG's width and height, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[1..4], b"PNG");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

fn check_in_browser(svg_path: &Path) {
    let svg = std::fs::read_to_string(svg_path).unwrap();
    let dom = headless(&["--dump-dom"], svg_path);
    assert!(
        !dom.contains("parsererror"),
        "{}: Chromium could not parse it:\n{dom}",
        svg_path.display()
    );
    for class in ["class=\"arrow ", "class=\"app\"", "class=\"state\""] {
        assert_eq!(
            dom.matches(class).count(),
            svg.matches(class).count(),
            "{}: {class}",
            svg_path.display()
        );
    }
    let (w, h) = (size_of(&svg, "width"), size_of(&svg, "height"));
    // Shown 1920 px wide (a slide), no text is under 28 px.
    let smallest = svg
        .split("font-size=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse::<f64>().ok())
        .fold(f64::MAX, f64::min);
    let shown = smallest * 1920.0 / f64::from(w);
    assert!(shown >= 28.0, "{}: {shown:.1} px", svg_path.display());
    let png = svg_path.with_extension("png");
    headless(
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={w},{h}"),
        ],
        svg_path,
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&bytes), (w, h), "{}", png.display());
}

#[test]
fn committed_captures_ladders_open_in_chromium() {
    let dir = scratch("svg-captures");
    for name in ["hello-ethernet.pcap", "reset.pcap", "half-close.pcap"] {
        let svg = dir.join(name.replace(".pcap", ".svg"));
        let out = tcplab()
            .args(["replay", &format!("captures/{name}"), "--svg"])
            .arg(&svg)
            .output()
            .unwrap();
        assert_success(&out);
        check_in_browser(&svg);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_traced_ladder_with_its_applications_opens_in_chromium() {
    if !can_capture("a_traced_ladder_with_its_applications_opens_in_chromium") {
        return;
    }
    let dir = scratch("svg-hello");
    let svg = dir.join("hello.svg");
    let out = tcplab()
        .args(["trace", "--send", "hello", "--svg-page", "--svg"])
        .arg(&svg)
        .output()
        .unwrap();
    assert_success(&out);
    let text = std::fs::read_to_string(&svg).unwrap();
    // connect, connection, two writes, two reads, two end() calls, two
    // 'end's, two 'close's.
    assert!(text.matches("class=\"app\"").count() >= 12, "{text}");
    check_in_browser(&svg);
    let _ = std::fs::remove_dir_all(dir);
}

/// The default SVG is 16:9 slides: a hello's ten segments on three, each
/// one phase, every frame on exactly one slide, the kernel's words on the
/// last, and each slide opens in Chromium at its own size.
#[test]
fn a_traced_ladder_is_shared_out_on_16_9_slides() {
    if !can_capture("a_traced_ladder_is_shared_out_on_16_9_slides") {
        return;
    }
    let dir = scratch("svg-slides");
    let svg = dir.join("hello.svg");
    let out = tcplab()
        .args(["trace", "--send", "hello", "--svg"])
        .arg(&svg)
        .output()
        .unwrap();
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(said.contains("(3 16:9 slides)"), "{said}");
    let files = [
        svg.clone(),
        dir.join("hello-slide2.svg"),
        dir.join("hello-slide3.svg"),
    ];
    let mut frames = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).unwrap();
        let (w, h) = (size_of(&text, "width"), size_of(&text, "height"));
        assert!(
            (h as f64 - w as f64 * 9.0 / 16.0).abs() <= 1.0,
            "{}: {w}x{h}",
            file.display()
        );
        assert!(
            text.contains(&format!("({}/3)", i + 1)),
            "{}",
            file.display()
        );
        let phases = text.matches("class=\"phase\"").count();
        assert_eq!(phases, 1, "{}: one phase a slide", file.display());
        assert_eq!(text.contains("kernel: "), i == 2, "{}", file.display());
        for part in text.split("data-frame=\"").skip(1) {
            frames.push(part[..part.find('"').unwrap()].parse::<u32>().unwrap());
        }
        check_in_browser(file);
    }
    assert_eq!(frames, (1..=10).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(dir);
}
