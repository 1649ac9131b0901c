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

    /// The impaired path's namespaces could not be made for lack of privileges.
    #[error(
        "no permission to build the impaired path ({detail}): --loss, --drop, --delay and \
         --reorder run the client and the server in network namespaces of their own, which \
         needs root: run it with sudo"
    )]
    NoImpairPermission { detail: String },

    /// A traced program (`trace -- CMD`) did not end with 0: the trace
    /// worked, and tcplab's exit code is the program's (128 + a signal's
    /// number, 124 when `--timeout` stopped it, as `timeout(1)`).
    #[error("{message}")]
    Program { code: i32, message: String },

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
    #[error("{}: {detail}{}", path.display(), after_frame(*frames_read))]
    CorruptCapture {
        path: PathBuf,
        frames_read: u64,
        detail: String,
    },

    /// Binding the lesson server failed (port in use, address not available).
    #[error(
        "cannot listen on {addr}: {source}; pick another --port (--port 0 takes any free one)"
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

    /// Talking to a peer failed in a way that has a name (refused, reset...).
    #[error("{addr}: {kind} ({detail})")]
    Net {
        addr: String,
        kind: NetKind,
        detail: String,
    },
}

/// The network failures `send` names, each with its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetKind {
    /// ECONNREFUSED: nothing listens on that port (exit 3).
    Refused,
    /// ECONNRESET: the peer reset the connection (exit 4).
    Reset,
    /// ETIMEDOUT or our own connect timeout (exit 5).
    TimedOut,
    /// EHOSTUNREACH / ENETUNREACH (exit 6).
    Unreachable,
    /// Anything else (exit 1).
    Other,
}

impl NetKind {
    /// Classifies an I/O error.
    pub fn of(e: &std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionRefused => NetKind::Refused,
            ConnectionReset | ConnectionAborted => NetKind::Reset,
            TimedOut => NetKind::TimedOut,
            HostUnreachable | NetworkUnreachable => NetKind::Unreachable,
            _ => NetKind::Other,
        }
    }

    /// The errno name of the kind (`ECONNRESET`...).
    pub fn errno(self) -> &'static str {
        match self {
            NetKind::Refused => "ECONNREFUSED",
            NetKind::Reset => "ECONNRESET",
            NetKind::TimedOut => "ETIMEDOUT",
            NetKind::Unreachable => "EHOSTUNREACH",
            NetKind::Other => "error",
        }
    }

    /// The exit code `send` uses.
    pub fn exit_code(self) -> i32 {
        match self {
            NetKind::Refused => 3,
            NetKind::Reset => 4,
            NetKind::TimedOut => 5,
            NetKind::Unreachable => 6,
            NetKind::Other => EXIT_RUNTIME,
        }
    }
}

impl std::fmt::Display for NetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NetKind::Refused => "connection refused",
            NetKind::Reset => "connection reset by peer",
            NetKind::TimedOut => "timed out",
            NetKind::Unreachable => "no route to host",
            NetKind::Other => "network error",
        })
    }
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::NoCapturePermission { .. } | Error::NoImpairPermission { .. } => EXIT_NOPERM,
            Error::File { .. } => EXIT_NOINPUT,
            Error::CorruptCapture { .. } => EXIT_DATA,
            Error::Capture { .. } | Error::Bind { .. } | Error::Io { .. } | Error::Trace(_) => {
                EXIT_RUNTIME
            }
            Error::Net { kind, .. } => kind.exit_code(),
            Error::Program { code, .. } => *code,
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

/// Where a damaged file broke: after its last good frame, or in its header.
fn after_frame(frames_read: u64) -> String {
    match frames_read {
        0 => " (in the file header, before any frame)".to_string(),
        n => format!(" (after frame {n})"),
    }
}
