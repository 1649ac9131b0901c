//! The forwarder: one thread copying frames between the middle namespace's
//! two interfaces through AF_PACKET sockets, deciding each frame's fate
//! ([`super::rules`]) and keeping a log of what it dropped, so that the
//! report can mark those frames.
//!
//! A constant delay keeps each direction in order, so each way is a FIFO of
//! frames with the time they are due; the thread sleeps in `poll(2)` until
//! a frame arrives, one falls due, or [`Forwarder::stop`] writes to its
//! wake-up socket. Stopped, it first sends what it still holds, each frame
//! at its time, so that every TCP frame it read is counted, passed or
//! dropped.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use rustc_hash::FxHasher;

use super::rules::{Fate, Impairment, Judge, Meta, Way, Why};
use crate::{Error, Result};

/// A frame the forwarder dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub way: Way,
    /// When it arrived (the capture's clock).
    pub at: SystemTime,
    /// The frame's bytes hashed, to find it in a capture on the sending side.
    pub hash: u64,
    pub meta: Meta,
    pub why: Why,
}

/// What the forwarder did, each way (index: [`Way::index`]).
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub dropped: Vec<Dropped>,
    /// Each TCP frame passed, hashed as [`Dropped::hash`], in order: with
    /// the drops, every TCP frame the forwarder read. The hashes tell which
    /// of them a capture saw: the ends may still send after it ended.
    pub passed: [Vec<u64>; 2],
    /// Frames passed that are not TCP: the IPv6 multicast listener
    /// reports and neighbour solicitations each kernel sends while its
    /// link comes up. Counted apart, for a capture of `tcp port N` never
    /// shows them, and how many fall within a run is the kernel's timing.
    pub not_tcp: [u64; 2],
    pub reordered: [u64; 2],
    /// Frames the forwarder's own sockets lost (its receive buffer full):
    /// loss nobody asked for, reported so it is never mistaken for ours.
    pub overrun: u64,
}

/// Hashes a frame's bytes the way [`Dropped::hash`] does.
pub fn frame_hash(frame: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(frame);
    h.finish()
}

/// The running forwarder.
pub struct Forwarder {
    wake: UnixStream,
    thread: Option<JoinHandle<Log>>,
}

/// The packet sockets on the middle's two interfaces (index: [`Way`] the
/// frames they receive travel).
pub struct Ports {
    pub from_client: OwnedFd,
    pub from_server: OwnedFd,
}

impl Ports {
    /// Opens both sockets: call on the middle namespace's thread.
    pub fn open(client_side: &str, server_side: &str) -> Result<Ports> {
        Ok(Ports {
            from_client: packet_socket(client_side)?,
            from_server: packet_socket(server_side)?,
        })
    }
}

impl Forwarder {
    pub fn start(ports: Ports, imp: Impairment) -> Result<Forwarder> {
        let (wake, wake_rx) = UnixStream::pair().map_err(|e| Error::io("forwarder wake-up", e))?;
        let thread = std::thread::Builder::new()
            .name("forwarder".into())
            .spawn(move || Loop::new(ports, imp).run(wake_rx))
            .map_err(|e| Error::io("starting the forwarder", e))?;
        Ok(Forwarder {
            wake,
            thread: Some(thread),
        })
    }

    /// Stops the thread and returns its log.
    pub fn stop(mut self) -> Log {
        self.halt()
    }

    fn halt(&mut self) -> Log {
        let _ = self.wake.write_all(&[1]);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.halt();
        }
    }
}

/// A frame waiting for its time.
struct Due {
    at: Instant,
    frame: Vec<u8>,
    tcp: bool,
}

struct Loop {
    ports: Ports,
    imp: Impairment,
    judges: [Judge; 2],
    queues: [VecDeque<Due>; 2],
    /// A frame held back by `--reorder`, and when it arrived.
    held: [Option<(Vec<u8>, Instant)>; 2],
    log: Log,
}

/// How long a held frame waits for a successor before it goes anyway.
const HOLD_MAX: Duration = Duration::from_millis(20);

impl Loop {
    fn new(ports: Ports, imp: Impairment) -> Self {
        let judges = [
            Judge::new(Way::ToServer, imp.seed),
            Judge::new(Way::ToClient, imp.seed),
        ];
        Loop {
            ports,
            imp,
            judges,
            queues: [VecDeque::new(), VecDeque::new()],
            held: [None, None],
            log: Log::default(),
        }
    }

    fn run(mut self, mut wake: UnixStream) -> Log {
        let mut buf = vec![0u8; 65_536];
        let fds = [
            self.ports.from_client.as_raw_fd(),
            self.ports.from_server.as_raw_fd(),
            wake.as_raw_fd(),
        ];
        loop {
            let timeout = self.next_wait();
            let ready = poll(&fds, timeout);
            if ready[2] {
                let _ = wake.read(&mut [0u8; 8]);
                self.drain();
                break;
            }
            for way in [Way::ToServer, Way::ToClient] {
                if ready[way.index()] {
                    self.receive(way, fds[way.index()], &mut buf);
                }
            }
            self.send_due(Instant::now());
        }
        self.log.overrun = overruns(fds[0]) + overruns(fds[1]);
        self.log
    }

    /// Reads every frame waiting on `fd` (frames that travel `way`).
    fn receive(&mut self, way: Way, fd: RawFd, buf: &mut [u8]) {
        while let Some(n) = recv_frame(fd, buf) {
            let now = Instant::now();
            let frame = &buf[..n];
            let meta = Meta::of_frame(frame);
            match self.judges[way.index()].judge(&self.imp, meta) {
                Fate::Drop(why) => self.log.dropped.push(Dropped {
                    way,
                    at: SystemTime::now(),
                    hash: frame_hash(frame),
                    meta: meta.unwrap_or(Meta {
                        seq: 0,
                        payload: 0,
                        flags: 0,
                    }),
                    why,
                }),
                // Only a TCP frame is held (the judge passes anything else).
                Fate::Hold if self.held[way.index()].is_none() => {
                    self.held[way.index()] = Some((frame.to_vec(), now));
                }
                _ => {
                    self.queue(way, frame.to_vec(), meta.is_some(), now);
                    // The held frame goes right after the one that passed it.
                    if let Some((held, _)) = self.held[way.index()].take() {
                        self.log.reordered[way.index()] += 1;
                        self.queue(way, held, true, now);
                    }
                }
            }
        }
    }

    fn queue(&mut self, way: Way, frame: Vec<u8>, tcp: bool, now: Instant) {
        let at = now + self.imp.delay;
        self.queues[way.index()].push_back(Due { at, frame, tcp });
    }

    /// Sends every frame still queued or held, each when it is due, reading
    /// nothing new: the trace is over, and what it read must all be counted
    /// (the last ACK was still on the path in most runs). It waits at most
    /// the delay and a hold.
    fn drain(&mut self) {
        let now = Instant::now();
        for way in [Way::ToServer, Way::ToClient] {
            // No successor will come to pass a held frame.
            if let Some((frame, since)) = self.held[way.index()].take() {
                let at = (since + self.imp.delay).max(now);
                self.queues[way.index()].push_back(Due {
                    at,
                    frame,
                    tcp: true,
                });
            }
        }
        while let Some(wait) = self.next_wait() {
            std::thread::sleep(wait);
            self.send_due(Instant::now());
        }
    }

    /// Sends what is due, and any held frame that waited too long.
    fn send_due(&mut self, now: Instant) {
        for way in [Way::ToServer, Way::ToClient] {
            let i = way.index();
            let expired = self.held[i]
                .as_ref()
                .is_some_and(|(_, since)| now.duration_since(*since) >= HOLD_MAX);
            if let Some((frame, since)) = self.held[i].take_if(|_| expired) {
                self.queues[i].push_back(Due {
                    at: since + self.imp.delay,
                    frame,
                    tcp: true,
                });
            }
            let out = match way {
                Way::ToServer => self.ports.from_server.as_raw_fd(),
                Way::ToClient => self.ports.from_client.as_raw_fd(),
            };
            while self.queues[i].front().is_some_and(|d| d.at <= now) {
                if let Some(d) = self.queues[i].pop_front() {
                    // SAFETY: a valid socket and buffer; a failed send is a
                    // frame lost on the path, as on any link.
                    unsafe { libc::send(out, d.frame.as_ptr().cast(), d.frame.len(), 0) };
                    if d.tcp {
                        self.log.passed[i].push(frame_hash(&d.frame));
                    } else {
                        self.log.not_tcp[i] += 1;
                    }
                }
            }
        }
    }

    /// How long poll may sleep: until the next frame or held frame is due.
    fn next_wait(&self) -> Option<Duration> {
        let now = Instant::now();
        let queued = self.queues.iter().filter_map(|q| q.front().map(|d| d.at));
        let held = self
            .held
            .iter()
            .flatten()
            .map(|(_, since)| *since + HOLD_MAX);
        queued
            .chain(held)
            .min()
            .map(|at| at.saturating_duration_since(now))
    }
}

/// Waits for any of `fds` to be readable, or `timeout`; which are.
fn poll(fds: &[RawFd; 3], timeout: Option<Duration>) -> [bool; 3] {
    let mut p = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    // Round up: a wait of 0.3 ms must not become a busy loop of 0 ms polls.
    let ms = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000).min(60_000) as i32);
    // SAFETY: `p` is a valid array of pollfd for its length.
    let n = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms) };
    if n <= 0 {
        return [false; 3];
    }
    p.map(|x| x.revents != 0)
}

/// One frame that arrived on the interface (not one this host sent).
fn recv_frame(fd: RawFd, buf: &mut [u8]) -> Option<usize> {
    loop {
        // SAFETY: zeroed sockaddr_ll is a valid out-parameter.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: valid buffer and address out-parameters of the sizes given.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n < 0 {
            return None;
        }
        // Our own sends, if PACKET_IGNORE_OUTGOING is not honoured.
        if from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        return Some((n as usize).min(buf.len()));
    }
}

/// A raw packet socket bound to `ifname`, seeing every protocol.
fn packet_socket(ifname: &str) -> Result<OwnedFd> {
    let fail = |what: &str| {
        Error::io(
            format!("forwarder {what} on {ifname}"),
            std::io::Error::last_os_error(),
        )
    };
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain system calls; each result is checked; the fd is owned at once.
    unsafe {
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
        if fd < 0 {
            return Err(fail("socket"));
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            one,
        );
        // Room for a burst while the thread sends: a forwarder that lost
        // frames on its own would blur the loss asked for.
        setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            8 << 20,
        );
        let name = std::ffi::CString::new(ifname).map_err(|_| fail("name"))?;
        let index = libc::if_nametoindex(name.as_ptr());
        if index == 0 {
            return Err(fail("if_nametoindex"));
        }
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = index as i32;
        let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        if libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            len,
        ) != 0
        {
            return Err(fail("bind"));
        }
        Ok(fd)
    }
}

fn setsockopt(fd: RawFd, level: i32, name: i32, value: libc::c_int) {
    // SAFETY: an int option of the right size; failure leaves the default.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Frames the socket's receive queue dropped (PACKET_STATISTICS).
fn overruns(fd: RawFd) -> u64 {
    // SAFETY: tpacket_stats is the documented out-parameter of PACKET_STATISTICS.
    unsafe {
        let mut st: libc::tpacket_stats = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        let r = libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut st as *mut libc::tpacket_stats).cast(),
            &mut len,
        );
        if r == 0 {
            u64::from(st.tp_drops)
        } else {
            0
        }
    }
}
