//! An impaired path for `trace` and the labs: the client and the server in
//! network namespaces of their own, joined through a forwarder that drops,
//! delays and reorders on purpose (this kernel has no netem; see
//! `docs/impaired-path.md` for what was measured).
//!
//! [`ImpairedPath::build`] makes three namespaces (client, middle, server)
//! on threads of their own ([`netns`]), the two veth pairs between them
//! ([`setup`]), and starts the forwarder ([`forward`]) in the middle. The
//! caller makes its sockets and its capture inside a side's namespace with
//! [`ImpairedPath::in_client`] / [`ImpairedPath::in_server`]. Nothing is
//! named, so nothing outlives the process: the kernel removes a namespace
//! and its interfaces when its last thread and socket are gone.

mod counters;
mod forward;
mod netns;
mod rules;
mod setup;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use counters::Counters;
pub use forward::{frame_hash, Dropped, Log};
pub use rules::{Impairment, Meta, Way, Why};
pub use setup::{mac_text, End};

use forward::{Forwarder, Ports};
use netns::NsThread;
use setup::{CLIENT_MAC, MIDDLE_CLIENT, MIDDLE_SERVER, SERVER_MAC};

use crate::Result;

/// The path, up and forwarding until [`ImpairedPath::finish`].
pub struct ImpairedPath {
    client: NsThread,
    server: NsThread,
    // Kept for the namespace's sake: the forwarder's sockets live in it.
    _middle: NsThread,
    forwarder: Forwarder,
    pub client_end: End,
    pub server_end: End,
}

impl ImpairedPath {
    /// Builds the path with `imp`, IPv6 addresses if `ipv6`.
    pub fn build(imp: Impairment, ipv6: bool) -> Result<Self> {
        let (client_end, server_end) = ends(ipv6);
        let client = NsThread::spawn("client")?;
        let server = NsThread::spawn("server")?;
        let middle = NsThread::spawn("middle")?;
        setup::make_links(&middle, &client, &server)?;
        setup::configure_end(&client, client_end, server_end)?;
        setup::configure_end(&server, server_end, client_end)?;
        let ports = middle.run(|| Ports::open(MIDDLE_CLIENT, MIDDLE_SERVER))??;
        let forwarder = Forwarder::start(ports, imp)?;
        Ok(ImpairedPath {
            client,
            server,
            _middle: middle,
            forwarder,
            client_end,
            server_end,
        })
    }

    /// Runs `f` in the client's namespace (to make its socket or capture).
    pub fn in_client<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        self.client.run(f)
    }

    /// Runs `f` in the server's namespace.
    pub fn in_server<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        self.server.run(f)
    }

    /// Each side's kernel counters, client first.
    pub fn counters(&self) -> Result<[Counters; 2]> {
        Ok([
            self.client.run(Counters::read)?,
            self.server.run(Counters::read)?,
        ])
    }

    /// Stops the forwarder and returns its log; the namespaces go when the
    /// last socket made in them is closed.
    pub fn finish(self) -> Log {
        self.forwarder.stop()
    }
}

fn ends(ipv6: bool) -> (End, End) {
    let (c, s): (IpAddr, IpAddr) = if ipv6 {
        (
            Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).into(),
            Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).into(),
        )
    } else {
        (
            Ipv4Addr::new(10, 0, 0, 1).into(),
            Ipv4Addr::new(10, 0, 0, 2).into(),
        )
    };
    (
        End {
            ifname: "c0",
            mac: CLIENT_MAC,
            addr: c,
        },
        End {
            ifname: "s0",
            mac: SERVER_MAC,
            addr: s,
        },
    )
}
