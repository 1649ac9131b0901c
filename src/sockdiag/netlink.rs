//! The sock_diag socket: requests out, answers in ([`super::wire`] holds
//! their bytes).
//!
//! A dump costs the kernel a walk of its whole table of connections, empty
//! buckets included, whatever the number of sockets: 3.5 ms per family on
//! the test machine (262,144 buckets, `net.ipv4.tcp_ehash_entries`), 7 ms
//! for [`Diag::dump_tcp`]. A dump of listeners skips that table (23 µs),
//! and a lookup by 4-tuple is one hash lookup. The socket belongs to the
//! network namespace of the thread that opened it, which is what [`Diag`]
//! reports on, even from another thread.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::wire::{self, End, Family, States};
use super::{SockInfo, SocketId};
use crate::{Error, Result};

/// Large enough for any answer: the kernel sizes each datagram of a dump
/// after the reader's buffer, at most 32 KiB.
const RECV_BUF: usize = 64 * 1024;

/// A sock_diag socket and its receive buffer, reused request after request.
pub struct Diag {
    fd: OwnedFd,
    buf: Vec<u8>,
    seq: u32,
}

impl Diag {
    /// Opens a sock_diag socket in the calling thread's network namespace.
    pub fn open() -> Result<Diag> {
        let fail = |what: &str| Error::io(format!("sock_diag: {what}"), last_os_error());
        // SAFETY: a plain system call; the result is checked and owned at once.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(fail("socket(AF_NETLINK, NETLINK_SOCK_DIAG)"));
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // The kernel answers at once; the timeout only turns one that never
        // answers into an error instead of a hung sampler.
        let tv = libc::timeval {
            tv_sec: 1,
            tv_usec: 0,
        };
        // SAFETY: a timeval option of the right size on a valid socket.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(fail("setsockopt(SO_RCVTIMEO)"));
        }
        Ok(Diag {
            fd,
            buf: vec![0; RECV_BUF],
            seq: 0,
        })
    }

    /// Every TCP socket, IPv4 then IPv6, in every state.
    pub fn dump_tcp(&mut self) -> Result<Vec<SockInfo>> {
        let mut out = Vec::new();
        for family in [Family::Inet, Family::Inet6] {
            self.dump(family, States::ALL, &mut out)?;
        }
        Ok(out)
    }

    /// `family`'s TCP sockets in `states`, added to `out`.
    pub fn dump(&mut self, family: Family, states: States, out: &mut Vec<SockInfo>) -> Result<()> {
        match self.ask(family, states, None, out)? {
            0 => Ok(()),
            e => Err(Error::io(
                "sock_diag: the kernel refused the dump",
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }

    /// The socket with exactly these ends (a full, timewait or request
    /// socket), if there is one.
    pub fn lookup(&mut self, id: SocketId) -> Result<Option<SockInfo>> {
        let mut out = Vec::with_capacity(1);
        match self.ask(Family::of(id.local), States::ALL, Some(id), &mut out)? {
            // Without a connection of these ends the kernel answers with
            // the listener of the local port: not the socket asked for.
            0 => Ok(out.pop().filter(|s| s.id == id)),
            libc::ENOENT => Ok(None),
            e => Err(Error::io(
                format!("sock_diag: looking up {} -> {}", id.local, id.remote),
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }

    /// Sends one request and reads its answers into `out`; the errno the
    /// kernel answered with, 0 if none.
    fn ask(
        &mut self,
        family: Family,
        states: States,
        id: Option<SocketId>,
        out: &mut Vec<SockInfo>,
    ) -> Result<i32> {
        self.seq = self.seq.wrapping_add(1);
        let req = wire::request(family, states, id, self.seq);
        // SAFETY: a valid socket and a buffer of the length given; the
        // kernel is the default destination of an unbound netlink socket.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        if n < 0 {
            return Err(Error::io("sock_diag: send", last_os_error()));
        }
        loop {
            let n = self.recv()?;
            match wire::read_batch(&self.buf[..n], self.seq, id.is_none(), out)? {
                End::More => {}
                End::Done => return Ok(0),
                End::Errno(e) => return Ok(e),
            }
        }
    }

    /// One datagram into the buffer; its length.
    fn recv(&mut self) -> Result<usize> {
        // SAFETY: a valid socket and a buffer of the length given;
        // MSG_TRUNC makes the call return the datagram's real length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return Err(Error::io("sock_diag: recv", last_os_error()));
        }
        let n = n as usize;
        if n > self.buf.len() {
            return Err(Error::io(
                format!("sock_diag: a {n}-byte answer for a {RECV_BUF}-byte buffer"),
                std::io::Error::from(std::io::ErrorKind::InvalidData),
            ));
        }
        Ok(n)
    }
}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// The kernel's last word on each TCP socket as it is destroyed (the
/// sock_diag destroy broadcast, what `ss -E` shows): a full socket going to
/// TIME_WAIT or closed ends here with its final TCP_INFO, which no later
/// sample can read (a TIME_WAIT socket has none).
pub struct Destroyed {
    fd: OwnedFd,
    buf: Vec<u8>,
    /// Read by [`Destroyed::settle`], handed out by the next drain.
    held: Vec<SockInfo>,
}

/// sock_diag's multicast groups of TCP sockets destroyed, IPv4 and IPv6.
const DESTROY_GROUPS: [libc::c_int; 2] = [1, 3];

impl Destroyed {
    /// Joins both groups (root only: CAP_NET_ADMIN); non-blocking. Bound
    /// as a mask, as `ss -E` does: NETLINK_ADD_MEMBERSHIP was accepted
    /// here but delivered nothing.
    pub fn open() -> Result<Destroyed> {
        let fail = |what: &str| Error::io(format!("sock_diag: {what}"), last_os_error());
        // SAFETY: a plain system call; the result is checked and owned at once.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(fail("socket(AF_NETLINK) for the destroy broadcast"));
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // As `ss -E`: the groups bound as a mask (group N is bit N - 1).
        // SAFETY: a zeroed sockaddr_nl is valid; its size is given.
        let r = unsafe {
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as u16;
            addr.nl_groups = DESTROY_GROUPS
                .iter()
                .map(|g| 1u32 << (g - 1))
                .fold(0, |a, b| a | b);
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(fail("joining the destroy broadcast"));
        }
        Ok(Destroyed {
            fd,
            buf: vec![0; RECV_BUF],
            held: Vec::new(),
        })
    }

    /// Waits until no broadcast has come for `quiet`: the kernel sends each
    /// from a work queue, a little after the socket was freed, so a last
    /// sample taken at once would miss the final words of sockets closed
    /// just before.
    pub fn settle(&mut self, quiet: Duration) {
        // Bounded: a host that frees sockets without pause is never quiet.
        let until = std::time::Instant::now() + 10 * quiet;
        while std::time::Instant::now() < until && self.wait(quiet) {}
    }

    /// Waits at most `timeout` for broadcasts and reads those that came;
    /// false if none did.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(1000) as libc::c_int;
        // SAFETY: one valid pollfd, its count given.
        if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
            return false;
        }
        let mut got = std::mem::take(&mut self.held);
        self.read_all(&mut got);
        self.held = got;
        true
    }

    /// The broadcasts read by [`Destroyed::wait`] and not yet drained.
    pub fn held(&self) -> &[SockInfo] {
        &self.held
    }

    /// Every socket destroyed since the last call, into `out`.
    pub fn drain(&mut self, out: &mut Vec<SockInfo>) {
        out.append(&mut self.held);
        self.read_all(out);
    }

    fn read_all(&mut self, out: &mut Vec<SockInfo>) {
        loop {
            // SAFETY: a valid socket and a buffer of the length given.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    0,
                )
            };
            if n <= 0 {
                return;
            }
            // Broadcasts carry sequence number 0; a damaged one is skipped.
            let _ = wire::read_batch(&self.buf[..n as usize], 0, true, out);
        }
    }
}
