//! The kernel's view of TCP sockets, beside the wire's: every socket of the
//! network namespace with its state and TCP_INFO counters through
//! NETLINK_SOCK_DIAG ([`dump_tcp`]), the sockets a process tree holds open
//! from `/proc` ([`socket_inodes_of_tree`]), and a [`Sampler`] that follows
//! a program's sockets over time, past the close of its descriptors, until
//! the kernel forgets them.
//!
//! What each counter counts (the SYN and FIN in `bytes_acked` and
//! `bytes_received`, the passive side's uncounted SYN-ACK) was measured and
//! is written on [`TcpInfo`]'s fields and in `docs/kernel-view.md`.
//!
//! Files: `netlink` (the sock_diag socket), `wire` (its requests and
//! answers, byte by byte), `tcp_info` (`struct tcp_info` by byte offset),
//! `state` (the states' names), `procs` (process trees, their descriptors
//! and the protocol of each socket), `sampler` (the thread that samples),
//! `discover` (when a sample must pay for a dump), `history` (which sockets
//! of a sample are the tree's, and what changed in each), `transitions`
//! (which task changed which socket's state: the tracepoint).

mod discover;
mod history;
mod netlink;
mod peek;
mod procs;
mod sampler;
mod state;
mod tcp_info;
mod transitions;
mod wire;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use serde::Serialize;

pub use history::{SampleCost, Samples, SocketHistory};
pub use netlink::Diag;
pub use sampler::Sampler;
pub use state::TcpState;
pub use tcp_info::TcpInfo;
pub use transitions::{Change, Transitions};
pub use wire::{Family, States};

/// A socket's two ends as the kernel reports them: `local` is this
/// socket's own. A listening socket's `remote` is `0.0.0.0:0` or `[::]:0`;
/// an IPv4 peer of an IPv6 socket shows as `[::ffff:a.b.c.d]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SocketId {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

impl SocketId {
    pub fn new(local: SocketAddr, remote: SocketAddr) -> SocketId {
        SocketId { local, remote }
    }
}

/// An IPv4-mapped IPv6 end (`[::ffff:127.0.0.1]:80`, as an IPv6 socket
/// reports an IPv4 peer) as the IPv4 one the wire carries.
pub fn unmapped(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), a.port()),
            None => a,
        },
        std::net::IpAddr::V4(_) => a,
    }
}

/// One socket of a sock_diag dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SockInfo {
    /// The socket's inode, which `/proc/PID/fd` links name as
    /// `socket:[INODE]`; 0 once no descriptor holds it (TIME_WAIT, an
    /// orphan closing, a connection waiting in a listener's accept queue).
    pub inode: u64,
    pub uid: u32,
    pub id: SocketId,
    pub state: TcpState,
    /// `ss`'s Recv-Q: bytes received and not yet read; for a listener, the
    /// connections waiting to be accepted.
    pub recv_q: u32,
    /// `ss`'s Send-Q: bytes sent and not yet acknowledged; for a listener,
    /// its backlog.
    pub send_q: u32,
    /// TCP_INFO, for full sockets only (a TIME_WAIT or request socket has
    /// none), `None` too if shorter than the oldest layout.
    pub info: Option<TcpInfo>,
}

/// Every TCP socket of the calling thread's network namespace, IPv4 and
/// IPv6, through NETLINK_SOCK_DIAG (`inet_diag_req_v2` asking for
/// INET_DIAG_INFO), in all states.
///
/// Each family's dump walks the kernel's whole table of connections, so it
/// costs the same with 10 sockets as with 1,000: 3.5 ms a family here
/// (262,144 buckets). To follow a few sockets often, use a [`Sampler`] or
/// [`Diag::lookup`].
pub fn dump_tcp() -> crate::Result<Vec<SockInfo>> {
    Diag::open()?.dump_tcp()
}

/// The socket inodes held open by process `root` and all its descendants
/// (children found through `/proc/PID/task/*/children`, or the ppid in
/// every `/proc/*/stat` where the kernel lacks those files), read from the
/// `/proc/PID/fd` links `socket:[N]`. Processes that vanish mid-read are
/// skipped. The sockets may be of any kind (Unix ones too): match them
/// against [`dump_tcp`]'s inodes.
pub fn socket_inodes_of_tree(root: u32) -> BTreeSet<u64> {
    procs::socket_fds(&procs::tree(root)).into_keys().collect()
}
