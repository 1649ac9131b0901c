//! The hand-read common frames (`decode::decode_common`) against
//! etherparse's lax slicer (`decode::decode_frame`): on every frame of
//! every capture in the repository (ours and the 830 wild ones), where the
//! common path reads a frame, both agree on every value the pipeline keeps.

mod common;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::decode::{decode_common, decode_frame};

#[test]
fn the_common_path_agrees_with_etherparse_on_every_frame_it_reads() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("captures"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.extend(common::encap_captures());
    files.extend(common::wild_captures());
    let (mut frames, mut tcp, mut common, mut differ) = (0u64, 0u64, 0u64, Vec::new());
    for path in &files {
        let Ok(mut src) = FileSource::open(path) else {
            continue;
        };
        while let Ok(Some(f)) = src.next_frame() {
            frames += 1;
            let s = decode_frame(f.link, &f.data, f.orig_len);
            tcp += u64::from(s.tcp.is_some() && s.error.is_none() && s.note.is_none());
            let Some(c) = decode_common(f.link, &f.data, f.orig_len) else {
                continue;
            };
            common += 1;
            // Cut by a snaplen anywhere, the two still agree wherever the
            // common path reads the cut frame.
            for cut in 0..f.data.len() {
                let bytes = &f.data[..cut];
                if let Some(c) = decode_common(f.link, bytes, f.orig_len) {
                    let s = decode_frame(f.link, bytes, f.orig_len);
                    if !agree(&c, &s) {
                        differ.push(format!("{} frame {frames} cut at {cut}", path.display()));
                    }
                }
            }
            if !agree(&c, &s) {
                differ.push(format!(
                    "{} frame {frames}: {c:?} against {s:?}",
                    path.display()
                ));
            }
        }
    }
    eprintln!("{frames} frames, {tcp} clean TCP segments, {common} read by the common path");
    // The rest are VLAN-tagged, tunnelled or carry IPv6 extension headers.
    assert!(
        common * 10 >= tcp * 8,
        "the common path read only {common} of {tcp} segments"
    );
    assert!(
        differ.is_empty(),
        "{}",
        differ[..differ.len().min(10)].join("\n")
    );
}

fn agree(c: &tcplab::decode::Common, s: &tcplab::decode::Sliced<'_>) -> bool {
    s.outer == c.outer
        && s.layout == c.layout
        && s.ip.as_ref() == Some(&c.ip)
        && s.tcp_values().as_ref() == Some(&c.tcp)
        && s.payload_len == c.payload_len
        && s.error.is_none()
        && s.note.is_none()
}
