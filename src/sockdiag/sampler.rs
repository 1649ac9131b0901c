//! The sampling thread, and what one sample asks of the kernel.
//!
//! A full dump walks the kernel's whole table of connections (3.5 ms per
//! family here, see [`super::Diag`]), too slow to repeat every 2 ms. So a
//! sample reads, in this order: the tree's descriptors in `/proc` (a new
//! socket's protocol from its extended attribute, once); the listeners of
//! the families the tree uses (a dump that skips the table of connections);
//! each connection already followed, by a lookup of its ends; and a dump
//! of one family's connections only when [`super::discover`] says one is
//! due: the tree holds a TCP socket no sample has found yet (a new
//! connection), or the namespace accepted a connection while the tree
//! listens.
//!
//! Measured on the 2-core test machine (Linux 6.18, release build, the
//! tree a shell and a Python client holding one connection; `cargo run
//! --release --example sockdiag_cost`): the tree's descriptors 61 µs, the
//! IPv4 listeners 24 µs, a lookup 2.5 µs; a Sampler every 2 ms for 1 s took
//! 494 samples at 0.16 ms each on average (the first, which dumps every
//! connection of both families, 11 ms): some 8% of one core. A sample that
//! dumps costs 3.5 ms more a family. `Samples::cost` reports each run's own
//! figures.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::discover::{passive_opens, Discovery, FAMILIES};
use super::history::{is_reset_word, Follow, Samples};
use super::netlink::{Destroyed, Diag};
use super::procs::{self, Proto, Watch};
use super::wire::{Family, States};
use super::{unmapped, SockInfo, SocketId};
use crate::{Error, Result};

/// Samples in a thread of its own, every `every`, from [`Sampler::start`]
/// until [`Sampler::stop`]: the sockets of `root`'s process tree (by inode,
/// then by 4-tuple once closed) and for each its TCP_INFO history.
pub struct Sampler {
    stop: mpsc::Sender<Settle>,
    thread: JoinHandle<Samples>,
    listening: Arc<Mutex<Vec<u16>>>,
}

impl Sampler {
    /// Takes the first sample at once, on the calling thread (so a missing
    /// sock_diag is an error here, and the network namespace is the calling
    /// thread's), then samples every `every` on a thread of its own.
    pub fn start(root: u32, every: Duration) -> Result<Sampler> {
        Sampler::begin(root, every, true)
    }

    /// A Sampler of this process's own sockets, whose first sample does
    /// not dump every connection (7 ms here) to learn which were there
    /// before: for a caller that picks its sockets by their ends.
    pub fn of_own_sockets(every: Duration) -> Result<Sampler> {
        Sampler::begin(std::process::id(), every, false)
    }

    fn begin(root: u32, every: Duration, dump_first: bool) -> Result<Sampler> {
        let mut work = Work {
            diag: Diag::open()?,
            destroyed: Destroyed::open().ok(),
            watch: Watch::new(root),
            follow: Follow::default(),
            protos: HashMap::new(),
            discovery: Discovery::new(every),
            every,
            listening: Arc::default(),
        };
        work.sample(dump_first)?;
        let listening = Arc::clone(&work.listening);
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sockdiag".into())
            .spawn(move || work.run(stopped))
            .map_err(|e| Error::io("sockdiag: spawning the sampler", e))?;
        Ok(Sampler {
            stop,
            thread,
            listening,
        })
    }

    /// The ports the tree listens on as of the last sample, ascending: to
    /// wait until the program under trace is ready for connections.
    pub fn listening(&self) -> Vec<u16> {
        self.listening.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Takes one last sample, once the destroy broadcast has been quiet
    /// for 10 ms, and returns every history.
    pub fn stop(self) -> Samples {
        self.stop_when(Settle::Quiet)
    }

    /// [`Sampler::stop`] for a caller that knows which sockets were freed:
    /// the last sample waits for their last words (at most 50 ms), not for
    /// a quiet broadcast. `freed` are each socket's ends, its own first.
    pub fn stop_after(self, freed: Vec<SocketId>) -> Samples {
        self.stop_when(Settle::Freed(freed))
    }

    fn stop_when(self, settle: Settle) -> Samples {
        let _ = self.stop.send(settle);
        match self.thread.join() {
            Ok(samples) => samples,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// How long the last sample waits for the destroy broadcasts of sockets
/// closed just before it: the kernel sends them from a work queue.
const QUIET: Duration = Duration::from_millis(10);
const FREED_AT_MOST: Duration = Duration::from_millis(50);

/// What the last sample waits for.
enum Settle {
    /// No broadcast for [`QUIET`].
    Quiet,
    /// The last words of these sockets, or [`FREED_AT_MOST`].
    Freed(Vec<SocketId>),
}

/// Whether `s` is the last word of the socket `id` (IPv4-mapped ends as
/// the IPv4 ones): by its ends, or by what a reset leaves of them.
fn last_word_of(id: &SocketId, s: &SockInfo) -> bool {
    let (local, remote) = (unmapped(id.local), unmapped(id.remote));
    (unmapped(s.id.local) == local && unmapped(s.id.remote) == remote)
        || is_reset_word(s, local, remote)
}

/// Stamps the sockets read since the last stamp with the time now.
fn stamp(socks: &[SockInfo], stamps: &mut Vec<SystemTime>) {
    stamps.resize(socks.len(), SystemTime::now());
}

fn is_mapped_loopback(a: std::net::SocketAddr) -> bool {
    match a.ip() {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        std::net::IpAddr::V4(_) => false,
    }
}

/// What the thread owns.
struct Work {
    diag: Diag,
    /// The destroy broadcast, when it could be joined (root).
    destroyed: Option<Destroyed>,
    watch: Watch,
    follow: Follow,
    /// The protocol of each socket inode the tree holds.
    protos: HashMap<u64, Proto>,
    discovery: Discovery,
    every: Duration,
    listening: Arc<Mutex<Vec<u16>>>,
}

/// The families in the order of [`Family::index`], with the protocol of
/// their TCP sockets.
const FAMILY: [(Family, Proto); FAMILIES] =
    [(Family::Inet, Proto::Tcp4), (Family::Inet6, Proto::Tcp6)];

impl Work {
    fn run(mut self, stopped: mpsc::Receiver<Settle>) -> Samples {
        let mut next = Instant::now() + self.every;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            let last = match stopped.recv_timeout(wait) {
                Ok(settle) => {
                    self.settle(settle);
                    true
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            if self.sample(false).is_err() {
                self.follow.samples.cost.failed += 1;
            }
            if last {
                let mut samples = self.follow.samples;
                samples.pids = self.watch.ever;
                return samples;
            }
            // A late tick is not made up for: the next one is `every` on.
            next = (next + self.every).max(Instant::now());
        }
    }

    /// Waits for the broadcasts the last sample needs.
    fn settle(&mut self, settle: Settle) {
        let Some(d) = self.destroyed.as_mut() else {
            return;
        };
        let freed = match settle {
            Settle::Quiet => return d.settle(QUIET),
            Settle::Freed(freed) => freed,
        };
        let deadline = Instant::now() + FREED_AT_MOST;
        let earlier = &self.follow.samples.destroyed;
        loop {
            let heard = |id: &SocketId| {
                earlier.iter().any(|(_, s)| last_word_of(id, s))
                    || d.held().iter().any(|s| last_word_of(id, s))
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if freed.iter().all(heard) || !d.wait(left) {
                return;
            }
        }
    }

    /// One sample; the first dumps every connection, to know which lingering
    /// sockets were there before the program's.
    fn sample(&mut self, first: bool) -> Result<()> {
        let began = Instant::now();
        let held = self.watch.socket_fds();
        self.classify(&held);
        let mut socks = Vec::new();
        // When each was read: `now` is the sample's start.
        let mut stamps = Vec::new();
        for (family, proto) in FAMILY {
            if held.keys().any(|i| self.protos.get(i) == Some(&proto)) {
                self.diag.dump(family, States::LISTEN, &mut socks)?;
                stamp(&socks, &mut stamps);
            }
        }
        let dump = if first {
            [true; FAMILIES]
        } else {
            self.due(&held, &socks, began)
        };
        for (k, (family, _)) in FAMILY.into_iter().enumerate() {
            if dump[k] {
                self.diag.dump(family, States::CONNECTIONS, &mut socks)?;
                stamp(&socks, &mut stamps);
            }
        }
        if first {
            self.follow.note_before(&socks);
        }
        // First the final words of sockets destroyed since the last sample,
        // so a lookup that finds one in TIME_WAIT keeps their counters.
        // New sockets of the tree, read from their descriptors: found now,
        // not at the next dump (see `peek`).
        for (inode, path) in &held {
            if !self.follow.found(*inode) && self.protos.contains_key(inode) {
                // A lookup that fails costs this socket a sample, not the sample.
                if let Some(Ok(found)) = super::peek::ends(path).map(|id| self.diag.lookup(id)) {
                    socks.extend(found);
                    stamp(&socks, &mut stamps);
                }
            }
        }
        let followed: Vec<SocketId> = self.follow.connections().collect();
        if let Some(d) = self.destroyed.as_mut() {
            let mut gone = Vec::new();
            d.drain(&mut gone);
            // Freed after this sample's dumps read them, maybe: stamped now.
            let drained = SystemTime::now();
            // Every loopback socket's last word is kept (the caller knows
            // which connections were the program's); the tree's followed
            // ones also end their histories with it.
            for s in gone.into_iter().filter(|s| s.info.is_some()) {
                // A socket that sent a reset has lost its local address by
                // now (`Samples::reset_word`): its peer's still says lo.
                let lo = |a: std::net::SocketAddr| a.ip().is_loopback() || is_mapped_loopback(a);
                if lo(s.id.local) || lo(s.id.remote) {
                    self.follow.samples.destroyed.push((drained, s));
                }
                if followed.contains(&s.id) {
                    socks.push(s);
                    stamp(&socks, &mut stamps);
                }
            }
        }
        for id in &followed {
            if !dump[Family::of(id.local).index()] {
                socks.extend(self.diag.lookup(*id)?);
                stamp(&socks, &mut stamps);
            }
        }
        // A followed connection's peer on this host may be the tree's too
        // (a program that is its own client): looked up by the reversed
        // ends, it is found without waiting for a dump, which a client that
        // connects and closes within a few ms would otherwise slip through.
        let known: BTreeSet<SocketId> = followed.iter().copied().collect();
        for id in &followed {
            let peer = SocketId {
                local: id.remote,
                remote: id.local,
            };
            if peer.local.ip().is_loopback() && !known.contains(&peer) && peer.local.port() != 0 {
                if let Ok(found) = self.diag.lookup(peer) {
                    socks.extend(found);
                    stamp(&socks, &mut stamps);
                }
            }
        }
        let inodes: BTreeSet<u64> = held.into_keys().collect();
        let stamped: Vec<(SystemTime, SockInfo)> = stamps.into_iter().zip(socks).collect();
        self.follow.observe_stamped(&stamped, &inodes);
        if let Ok(mut l) = self.listening.lock() {
            *l = self.follow.listening();
        }
        let cost = &mut self.follow.samples.cost;
        let took = began.elapsed();
        cost.samples += 1;
        cost.busy += took;
        cost.slowest = cost.slowest.max(took);
        Ok(())
    }

    /// Learns the protocol of each new socket, forgets those let go.
    fn classify(&mut self, held: &BTreeMap<u64, PathBuf>) {
        self.protos.retain(|inode, _| held.contains_key(inode));
        for (inode, path) in held {
            if !self.protos.contains_key(inode) {
                self.protos.extend(procs::proto(path).map(|p| (*inode, p)));
            }
        }
    }

    /// Which families' connections to dump, given the tree's sockets and
    /// this sample's listeners (of the whole namespace).
    fn due(
        &mut self,
        held: &BTreeMap<u64, PathBuf>,
        listeners: &[SockInfo],
        now: Instant,
    ) -> [bool; FAMILIES] {
        let unfound = FAMILY.map(|(_, proto)| {
            held.keys()
                .filter(|i| self.protos.get(i) == Some(&proto))
                .filter(|&&i| !self.follow.found(i) && !listeners.iter().any(|l| l.inode == i))
                .copied()
                .collect()
        });
        let listens = FAMILY.map(|(family, _)| {
            listeners
                .iter()
                .any(|l| held.contains_key(&l.inode) && Family::of(l.id.local) == family)
        });
        let opens = if listens.contains(&true) {
            passive_opens()
        } else {
            None
        };
        self.discovery.due(unfound, listens, opens, now)
    }
}
