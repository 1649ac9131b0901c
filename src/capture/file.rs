//! Reading a saved pcap or pcapng file through libpcap.

use std::path::{Path, PathBuf};

use pcap::{Capture, Offline, Precision};

use super::frame::timeval_secs;
use super::{Frame, PacketSource, Timestamp, TsPrecision};
use crate::decode::LinkType;
use crate::{Error, Result};

/// A capture file read frame by frame (constant memory).
pub struct FileSource {
    cap: Capture<Offline>,
    link: LinkType,
    precision: TsPrecision,
    path: PathBuf,
    frames_read: u64,
}

impl FileSource {
    /// Opens `path`; the error names the file.
    pub fn open(path: &Path) -> Result<Self> {
        if let Err(source) = std::fs::File::open(path) {
            return Err(Error::File {
                path: path.to_path_buf(),
                source,
            });
        }
        let cap = Capture::from_file_with_precision(path, Precision::Nano).map_err(|e| {
            Error::CorruptCapture {
                path: path.to_path_buf(),
                frames_read: 0,
                detail: e.to_string(),
            }
        })?;
        let dlt = cap.get_datalink().0 as u32;
        let link = LinkType::from_dlt(dlt).ok_or_else(|| Error::CorruptCapture {
            path: path.to_path_buf(),
            frames_read: 0,
            detail: format!("link type {dlt} is not one tcplab decodes"),
        })?;
        // libpcap hides the file's own precision; the magic number tells it.
        let precision = file_precision(path).unwrap_or(TsPrecision::Micro);
        Ok(Self {
            cap,
            link,
            precision,
            path: path.to_path_buf(),
            frames_read: 0,
        })
    }
}

/// Nanosecond pcap files start with magic a1b23c4d (either byte order);
/// pcapng keeps per-interface resolution and is reported at nanoseconds.
fn file_precision(path: &Path) -> Option<TsPrecision> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut magic)
        .ok()?;
    Some(match magic {
        [0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1] => TsPrecision::Nano,
        [0x0a, 0x0d, 0x0d, 0x0a] => TsPrecision::Nano,
        _ => TsPrecision::Micro,
    })
}

impl PacketSource for FileSource {
    fn link(&self) -> LinkType {
        self.link
    }
    fn precision(&self) -> TsPrecision {
        self.precision
    }
    fn next_frame(&mut self) -> Result<Option<Frame>> {
        match self.cap.next_packet() {
            Ok(p) => {
                self.frames_read += 1;
                Ok(Some(Frame {
                    ts: Timestamp {
                        sec: timeval_secs(p.header.ts.tv_sec),
                        nsec: p.header.ts.tv_usec as u32,
                    },
                    orig_len: p.header.len,
                    data: p.data.to_vec(),
                }))
            }
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(Error::CorruptCapture {
                path: self.path.clone(),
                frames_read: self.frames_read,
                detail: e.to_string(),
            }),
        }
    }
}
