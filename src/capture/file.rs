//! A saved pcap or pcapng file as a [`PacketSource`], through our own
//! streaming reader (see `reader`).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::reader::{ReadError, SavefileReader};
use super::PacketSource;
use crate::values::{Frame, LinkType, TsPrecision};
use crate::{Error, Result};

/// Where the bytes come from: a file, or standard input for `-` (as
/// `tcpdump -r -`, so `tcpdump -w - | tcplab replay -` works).
pub enum Input {
    File(File),
    Stdin(std::io::Stdin),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Stdin(s) => s.read(buf),
        }
    }
}

/// A capture file read frame by frame (constant memory).
pub struct FileSource {
    reader: SavefileReader<Input>,
    path: PathBuf,
}

impl FileSource {
    /// Opens `path` (`-` is standard input); the error names the file (exit
    /// 66 if it cannot be opened, 65 if it is not a capture).
    pub fn open(path: &Path) -> Result<Self> {
        let (input, path) = if path == Path::new("-") {
            let stdin = Input::Stdin(std::io::stdin());
            (stdin, PathBuf::from("(standard input)"))
        } else {
            let file = File::open(path).map_err(|source| Error::File {
                path: path.to_path_buf(),
                source,
            })?;
            (Input::File(file), path.to_path_buf())
        };
        let reader = SavefileReader::new(input).map_err(|e| Self::error(&path, 0, e))?;
        Ok(Self { reader, path })
    }

    fn error(path: &Path, frames_read: u64, e: ReadError) -> Error {
        match e {
            ReadError::Io(source) if frames_read == 0 => Error::File {
                path: path.to_path_buf(),
                source,
            },
            e => Error::CorruptCapture {
                path: path.to_path_buf(),
                frames_read,
                detail: e.to_string(),
            },
        }
    }

    /// The reader underneath, for borrowed frames without copies.
    pub fn reader_mut(&mut self) -> &mut SavefileReader<Input> {
        &mut self.reader
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl PacketSource for FileSource {
    fn link(&self) -> LinkType {
        self.reader.first_link().unwrap_or(LinkType::Other(0))
    }
    fn precision(&self) -> TsPrecision {
        self.reader.precision()
    }
    fn next_frame(&mut self) -> Result<Option<Frame>> {
        let frames_read = self.reader.frames_read();
        match self.reader.next_frame() {
            Ok(Some(f)) => Ok(Some(Frame {
                ts: f.ts,
                link: f.link,
                precision: f.precision,
                orig_len: f.orig_len,
                data: f.data.to_vec(),
            })),
            Ok(None) => Ok(None),
            Err(e) => Err(Self::error(&self.path, frames_read, e)),
        }
    }
}
