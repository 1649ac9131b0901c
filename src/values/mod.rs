//! Leaf values every layer may use: capture time and the time between
//! frames, link types, frames,
//! sequence numbers with wrapping order, deadlines, what the kernel dropped,
//! what an application saw of its socket, what an impaired path is asked to do, and text made safe for a terminal. They import nothing else of the crate.

mod capture_stats;
mod deadline;
mod frame;
mod impairment;
pub mod link;
mod safe;
mod seq;
mod socket_log;
mod time;

pub use capture_stats::CaptureStats;
pub use deadline::Deadline;
pub use frame::{Frame, RawFrame};
pub use impairment::Impairment;
pub use link::LinkType;
pub use safe::terminal_safe;
pub use seq::SeqNumber;
pub use socket_log::{
    describe_io_error, errno_code, errno_name, Call, CallKind, EventKind, SocketEvent, SocketLog,
};
pub use time::{Elapsed, Timestamp, TsPrecision};
