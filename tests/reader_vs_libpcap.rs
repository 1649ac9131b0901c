//! Our savefile reader against libpcap's on every capture we have: the
//! committed ones and the tcpdump project's 830 test captures beside the
//! repository (`tests/data/wild/`), many of them damaged on purpose.
//! Where libpcap reads a file, we must return the same frames (time,
//! lengths, bytes, link type); where it stops with an error, we must stop
//! too, after the same frames. pcapng files libpcap refuses for mixed link
//! types are the reason the reader exists; they are only read to the end.

mod common;

use std::path::{Path, PathBuf};

use pcap::{Capture, Precision};
use tcplab::capture::SavefileReader;
use tcplab::values::LinkType;

fn files() -> Vec<PathBuf> {
    common::all_captures()
}

/// Compares one file; returns a description of the first difference.
#[allow(clippy::unnecessary_cast)] // time_t is 32 bits on some targets
fn compare(path: &Path) -> Result<usize, String> {
    let lib = Capture::from_file_with_precision(path, Precision::Nano);
    let ours = SavefileReader::new(std::fs::File::open(path).unwrap());
    let mut lib = match (lib, ours) {
        (Err(_), Err(_)) => return Ok(0),
        (Err(e), Ok(mut r)) => {
            // libpcap refuses mixed-link pcapng and some newer block layouts: read it all.
            let mut n = 0;
            while let Ok(Some(_)) = r.next_frame() {
                n += 1;
            }
            let _ = e;
            return Ok(n);
        }
        (Ok(_), Err(e)) => return Err(format!("libpcap opens it, we do not: {e}")),
        (Ok(l), Ok(r)) => (l, r),
    };
    let (lib_cap, ref mut ours) = (&mut lib.0, &mut lib.1);
    let lib_link = lib_cap.get_datalink().0 as u32;
    let mut n = 0usize;
    loop {
        let a = lib_cap.next_packet();
        let b = ours.next_frame();
        match (a, b) {
            (Err(pcap::Error::NoMorePackets), Ok(None)) => return Ok(n),
            (Err(pcap::Error::NoMorePackets), Ok(Some(_))) => {
                return Err(format!("frame {}: we read a frame libpcap did not", n + 1))
            }
            (Err(_), Err(_)) => return Ok(n),
            (Err(e), Ok(_))
                if e.to_string()
                    .contains("different from the type of the first") =>
            {
                // The mixed-link pcapng libpcap refuses: read ours to the end.
                while let Ok(Some(_)) = ours.next_frame() {}
                return Ok(n);
            }
            (Err(e), Ok(_)) => {
                return Err(format!(
                    "frame {}: libpcap stopped ({e}), we did not",
                    n + 1
                ))
            }
            (Ok(_), Err(e)) => {
                return Err(format!(
                    "frame {}: we stopped ({e}), libpcap did not",
                    n + 1
                ))
            }
            (Ok(_), Ok(None)) => return Err(format!("frame {}: we ended early", n + 1)),
            (Ok(p), Ok(Some(f))) => {
                n += 1;
                // pcap seconds are unsigned (valid to 2106); libpcap 1.10 reads
                // them as signed. A fraction of a second or more is carried
                // into the seconds by us, kept as is by libpcap.
                let lib_sec = p.header.ts.tv_sec as i64;
                let sec_ok = f.ts.sec == lib_sec || f.ts.sec == lib_sec as u32 as i64;
                let same_ts = sec_ok && i64::from(f.ts.nsec) == p.header.ts.tv_usec as i64;
                let want_ts = (p.header.ts.tv_sec, p.header.ts.tv_usec);
                if !same_ts && !fraction_overflow(p.header.ts.tv_usec as i64) {
                    return Err(format!("frame {n}: ts {:?} vs libpcap {want_ts:?}", f.ts));
                }
                if f.orig_len != p.header.len || f.data != p.data {
                    return Err(format!(
                        "frame {n}: {} / {} bytes vs libpcap {} / {}",
                        f.data.len(),
                        f.orig_len,
                        p.data.len(),
                        p.header.len
                    ));
                }
                // libpcap hands out DLT_ values: LINKTYPE 106 becomes DLT 19.
                let same_link = match (f.link, LinkType::of_dlt(lib_link)) {
                    (LinkType::Other(_), LinkType::Other(_)) => true,
                    (a, b) => a == b,
                };
                if !same_link {
                    return Err(format!(
                        "frame {n}: link {:?} vs libpcap {lib_link}",
                        f.link
                    ));
                }
            }
        }
    }
}

/// libpcap multiplies a microsecond fraction by 1000 in 32 bits: values of
/// a second or more come out wrapped, not comparable.
fn fraction_overflow(frac: i64) -> bool {
    !(0..1_000_000_000).contains(&frac)
}

#[test]
fn reads_what_libpcap_reads() {
    let files = files();
    assert!(files.len() > 5, "no captures found");
    let mut failures = Vec::new();
    let mut frames = 0;
    for f in &files {
        match compare(f) {
            Ok(n) => frames += n,
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    eprintln!("{} files, {frames} frames compared", files.len());
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
