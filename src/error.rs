//! The library's errors and the exit code each one maps to.
//!
//! Exit codes follow BSD `sysexits.h` where one fits, so scripts can tell a bad
//! argument (2) from a missing privilege (77) or a corrupt capture file (65).

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit code for a usage error (bad argument, unknown mode).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a runtime failure (port in use, connection refused, I/O).
pub const EXIT_RUNTIME: i32 = 1;
/// `EX_DATAERR`: a capture file is truncated or corrupt.
pub const EXIT_DATA: i32 = 65;
/// `EX_NOINPUT`: a file cannot be opened.
pub const EXIT_NOINPUT: i32 = 66;
/// `EX_NOPERM`: no permission to capture packets.
pub const EXIT_NOPERM: i32 = 77;

/// Everything that can stop a tcplab command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments are wrong; the message says which and how to fix it.
    #[error("{0}")]
    Usage(String),

    /// libpcap refused to open a live capture for lack of privileges.
    #[error(
        "no permission to capture on {interface} ({detail}); run as root, or grant the binary \
         the capability once: sudo setcap cap_net_raw,cap_net_admin=eip {binary}"
    )]
    NoCapturePermission {
        interface: String,
        detail: String,
        binary: String,
    },

    /// libpcap failed for another reason.
    #[error("capture on {interface}: {detail}")]
    Capture { interface: String, detail: String },

    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A capture file is corrupt or truncated after `frames_read` good frames.
    #[error("{}: {detail} (after frame {frames_read})", path.display())]
    CorruptCapture {
        path: PathBuf,
        frames_read: u64,
        detail: String,
    },

    /// Binding the lesson server failed (port in use, address not available).
    #[error(
        "cannot listen on {addr}: {source}; pick another --port or leave it out for a free one"
    )]
    Bind {
        addr: String,
        source: std::io::Error,
    },

    /// A socket operation of the lab failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    /// The traced exchange did not finish as it should.
    #[error("{0}")]
    Trace(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::NoCapturePermission { .. } => EXIT_NOPERM,
            Error::File { .. } => EXIT_NOINPUT,
            Error::CorruptCapture { .. } => EXIT_DATA,
            Error::Capture { .. } | Error::Bind { .. } | Error::Io { .. } | Error::Trace(_) => {
                EXIT_RUNTIME
            }
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
