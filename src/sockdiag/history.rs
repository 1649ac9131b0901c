//! Which sockets of a dump are the program's, and what changed in each.
//!
//! A socket becomes the program's when the tree holds its inode, or when it
//! is the child of one of the program's listeners that no descriptor holds
//! (waiting in the accept queue, or accepted and closed between samples).
//! From then on it is followed by its 4-tuple (its inode 0 once no
//! descriptor holds it: FIN_WAIT, LAST_ACK, TIME_WAIT) for as long as each
//! sample still finds it.
//! Pure: it reads dumps and inode sets given to it, so tests need no kernel.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::state::TcpState;
use super::tcp_info::TcpInfo;
use super::{SockInfo, SocketId};

/// What a [`super::Sampler`] saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Samples {
    /// Every socket of the tree, in the order first seen.
    pub sockets: Vec<SocketHistory>,
    /// Loopback TCP sockets destroyed during the run, each with its final
    /// TCP_INFO (the destroy broadcast, root only), in the order they went:
    /// whoever's they were; the caller picks the program's by their ends.
    pub destroyed: Vec<(SystemTime, SockInfo)>,
    /// Every process ever seen in the tree.
    pub pids: BTreeSet<u32>,
    pub cost: SampleCost,
}

/// How many samples were taken and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SampleCost {
    pub samples: u64,
    /// Samples whose dump failed (the kernel's error is not kept: the next
    /// sample tries again).
    pub failed: u64,
    /// Time spent sampling, all samples together.
    pub busy: Duration,
    pub slowest: Duration,
}

/// One socket of the tree over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketHistory {
    /// The inode the tree held it by (0 if it was seen only in a
    /// listener's accept queue).
    pub inode: u64,
    pub id: SocketId,
    pub first_seen: SystemTime,
    /// The last sample that found it: it was gone by the next one, or the
    /// sampler stopped.
    pub last_seen: SystemTime,
    /// One entry at first sight, then one each time a field of [`TcpInfo`]
    /// changes (state, bytes, segments, retransmissions, rtt, cwnd...), with
    /// the wall-clock time of the sample.
    pub changes: Vec<(SystemTime, TcpInfo)>,
}

impl Samples {
    /// The history whose socket has exactly these ends (`local` is the
    /// socket's own; the reverse orientation is the peer's socket). When a
    /// 4-tuple was used twice, the later socket's.
    pub fn by_id(&self, local: SocketAddr, remote: SocketAddr) -> Option<&SocketHistory> {
        let id = SocketId { local, remote };
        self.sockets.iter().rev().find(|h| h.id == id)
    }

    /// The final word of the socket with exactly these ends, if it was
    /// destroyed during the run (the latest, if the ends were used twice).
    pub fn destroyed(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<&(SystemTime, SockInfo)> {
        let id = SocketId { local, remote };
        self.destroyed.iter().rev().find(|(_, s)| s.id == id)
    }

    /// The last word of the socket at `local` if it closed by sending a
    /// reset (SO_LINGER 0, Node's `resetAndDestroy()`): Linux disconnects
    /// such a socket before freeing it, so its last word keeps only its
    /// local port and the peer's address (`0.0.0.0:PORT` to `PEER:0`), and
    /// its counters are cleared.
    pub fn reset_word(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<&(SystemTime, SockInfo)> {
        self.destroyed
            .iter()
            .rev()
            .find(|(_, s)| is_reset_word(s, local, remote))
    }

    /// The ports the tree listened on at any time, ascending.
    pub fn listening_ports(&self) -> Vec<u16> {
        let ports: BTreeSet<u16> = self
            .sockets
            .iter()
            .filter(|h| h.changes.iter().any(|(_, i)| i.state == TcpState::Listen))
            .map(|h| h.id.local.port())
            .collect();
        ports.into_iter().collect()
    }
}

/// Whether `s` is what a reset leaves of the socket at `local` talking to
/// `remote`: `0.0.0.0:PORT` to `PEER:0` (see [`Samples::reset_word`]).
pub fn is_reset_word(s: &SockInfo, local: SocketAddr, remote: SocketAddr) -> bool {
    s.id.local.ip().is_unspecified()
        && s.id.local.port() == local.port()
        && s.id.remote.port() == 0
        && s.id.remote.ip() == remote.ip()
}

/// The tree's sockets followed from sample to sample.
#[derive(Debug, Default)]
pub struct Follow {
    pub samples: Samples,
    by_inode: HashMap<u64, usize>,
    /// The histories the last sample found, by 4-tuple.
    live: HashMap<SocketId, usize>,
    /// Sockets without an owner at the first sample: a listener's child
    /// among them is from before the program's time (an earlier run's
    /// TIME_WAIT on the same port).
    before: HashSet<SocketId>,
}

impl Follow {
    /// Notes the sockets no descriptor holds at the start (from a dump of
    /// every connection): none of them will be taken for a child of the
    /// tree's listeners.
    pub fn note_before(&mut self, socks: &[SockInfo]) {
        self.before = socks
            .iter()
            .filter(|s| s.inode == 0)
            .map(|s| s.id)
            .collect();
    }

    /// Takes in the sockets found at `now`, and the inodes the tree holds.
    #[cfg(test)]
    pub fn observe(&mut self, now: SystemTime, socks: &[SockInfo], inodes: &BTreeSet<u64>) {
        let stamped: Vec<(SystemTime, SockInfo)> = socks.iter().map(|s| (now, *s)).collect();
        self.observe_stamped(&stamped, inodes);
    }

    /// [`Follow::observe`] with each socket stamped when it was read: one
    /// sample's dumps and lookups take some milliseconds, and a bulk
    /// transfer moves megabytes meanwhile.
    pub fn observe_stamped(&mut self, socks: &[(SystemTime, SockInfo)], inodes: &BTreeSet<u64>) {
        let listeners: Vec<SocketAddr> = socks
            .iter()
            .filter(|(_, s)| s.state == TcpState::Listen && inodes.contains(&s.inode))
            .map(|(_, s)| s.id.local)
            .collect();
        let mut live = HashMap::with_capacity(self.live.len());
        for (now, s) in socks {
            if let Some(i) = self.which(s, inodes, &listeners, *now) {
                self.record(i, s, *now);
                live.insert(s.id, i);
            }
        }
        self.live = live;
    }

    /// The ports the tree's sockets listen on in the last sample.
    pub fn listening(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .live
            .iter()
            .filter(|(_, &i)| self.last_state(i) == Some(TcpState::Listen))
            .map(|(id, _)| id.local.port())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn last_state(&self, i: usize) -> Option<TcpState> {
        self.samples.sockets[i].changes.last().map(|(_, c)| c.state)
    }

    /// The history `s` belongs to, made if `s` is the tree's and new.
    fn which(
        &mut self,
        s: &SockInfo,
        inodes: &BTreeSet<u64>,
        listeners: &[SocketAddr],
        now: SystemTime,
    ) -> Option<usize> {
        // Followed by its ends, once no descriptor holds it; but the same
        // ends with another inode are another socket (a listener of another
        // process sharing the port by SO_REUSEPORT).
        if let Some(&i) = self.live.get(&s.id) {
            let h = &mut self.samples.sockets[i];
            if h.inode == 0 || s.inode == 0 || h.inode == s.inode {
                if h.inode == 0 && s.inode != 0 {
                    h.inode = s.inode; // accepted at last
                    self.by_inode.insert(s.inode, i);
                }
                return Some(i);
            }
        }
        if s.inode != 0 && inodes.contains(&s.inode) {
            // One a sample missed is the same socket if its ends are.
            return Some(match self.by_inode.get(&s.inode) {
                Some(&i) if self.samples.sockets[i].id == s.id => i,
                _ => self.start(s, now),
            });
        }
        // A listener's child that no descriptor holds: waiting to be
        // accepted, or accepted and closed between two samples.
        let child = s.inode == 0
            && s.state != TcpState::Listen
            && !self.before.contains(&s.id)
            && listeners.iter().any(|l| accepts(*l, s.id.local));
        child.then(|| self.start(s, now))
    }

    /// The ends of the connections the last sample found (listeners left
    /// out), to look each up by them.
    pub fn connections(&self) -> impl Iterator<Item = SocketId> + '_ {
        self.live
            .iter()
            .filter(|(_, &i)| self.last_state(i) != Some(TcpState::Listen))
            .map(|(id, _)| *id)
    }

    /// Whether the last sample found the socket of this inode.
    pub fn found(&self, inode: u64) -> bool {
        self.by_inode
            .get(&inode)
            .is_some_and(|&i| self.live.get(&self.samples.sockets[i].id) == Some(&i))
    }

    fn start(&mut self, s: &SockInfo, now: SystemTime) -> usize {
        let i = self.samples.sockets.len();
        self.samples.sockets.push(SocketHistory {
            inode: s.inode,
            id: s.id,
            first_seen: now,
            last_seen: now,
            changes: Vec::new(),
        });
        if s.inode != 0 {
            self.by_inode.insert(s.inode, i);
        }
        i
    }

    fn record(&mut self, i: usize, s: &SockInfo, now: SystemTime) {
        let h = &mut self.samples.sockets[i];
        h.last_seen = now;
        let last = h.changes.last().map(|(_, c)| *c);
        let info = s.info.unwrap_or_else(|| TcpInfo::stale(s.state, last));
        if last != Some(info) {
            h.changes.push((now, info));
        }
    }
}

/// Whether a listener bound to `listener` takes connections to `local`
/// (a wildcard address takes any of its port).
fn accepts(listener: SocketAddr, local: SocketAddr) -> bool {
    listener.port() == local.port()
        && (listener.ip().is_unspecified() || listener.ip() == local.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn sock(inode: u64, local: &str, remote: &str, state: TcpState, acked: u64) -> SockInfo {
        let info = (!matches!(state, TcpState::TimeWait | TcpState::NewSynRecv)).then(|| {
            let mut i = TcpInfo::stale(state, None);
            i.stale = false;
            i.bytes_acked = Some(acked);
            i
        });
        SockInfo {
            inode,
            uid: 0,
            id: SocketId {
                local: local.parse().unwrap(),
                remote: remote.parse().unwrap(),
            },
            state,
            recv_q: 0,
            send_q: 0,
            info,
        }
    }

    fn inodes(of: &[u64]) -> BTreeSet<u64> {
        of.iter().copied().collect()
    }

    const C: &str = "127.0.0.1:40000";
    const S: &str = "127.0.0.1:8080";

    #[test]
    fn a_closed_socket_is_followed_by_its_tuple_until_it_vanishes() {
        use TcpState::*;
        let mut f = Follow::default();
        let other = sock(9, "127.0.0.1:1", "127.0.0.1:2", Established, 0);
        f.observe(
            at(0),
            &[sock(7, C, S, Established, 1), other],
            &inodes(&[7]),
        );
        f.observe(at(2), &[sock(7, C, S, Established, 1)], &inodes(&[7]));
        f.observe(at(4), &[sock(7, C, S, Established, 6)], &inodes(&[7]));
        f.observe(at(6), &[sock(0, C, S, FinWait2, 7)], &inodes(&[]));
        f.observe(at(8), &[sock(0, C, S, TimeWait, 0)], &inodes(&[]));
        f.observe(at(10), &[], &inodes(&[]));
        // A later socket with the same tuple and no inode is not ours.
        f.observe(at(12), &[sock(0, C, S, TimeWait, 0)], &inodes(&[]));
        let s = &f.samples;
        assert_eq!(s.sockets.len(), 1);
        let h = s.by_id(C.parse().unwrap(), S.parse().unwrap()).unwrap();
        assert_eq!((h.inode, h.first_seen, h.last_seen), (7, at(0), at(8)));
        let seen: Vec<(SystemTime, TcpState, Option<u64>, bool)> = h
            .changes
            .iter()
            .map(|(t, i)| (*t, i.state, i.bytes_acked, i.stale))
            .collect();
        assert_eq!(
            seen,
            [
                (at(0), Established, Some(1), false),
                (at(4), Established, Some(6), false),
                (at(6), FinWait2, Some(7), false),
                (at(8), TimeWait, Some(7), true),
            ]
        );
        assert!(s.by_id(S.parse().unwrap(), C.parse().unwrap()).is_none());
    }

    #[test]
    fn listeners_and_their_children_are_the_trees() {
        use TcpState::*;
        let mut f = Follow::default();
        let l = || sock(5, "0.0.0.0:8080", "0.0.0.0:0", Listen, 0);
        // An earlier run's TIME_WAIT on the port, there before we looked.
        let old_tw = sock(0, S, "127.0.0.1:39999", TimeWait, 0);
        f.note_before(&[old_tw]);
        f.observe(at(0), &[l(), old_tw], &inodes(&[5]));
        assert_eq!(f.listening(), [8080]);
        // The handshake's request socket, then the connection unaccepted,
        // then accepted: one history that learns its inode.
        f.observe(
            at(2),
            &[l(), sock(0, S, C, NewSynRecv, 0), old_tw],
            &inodes(&[5]),
        );
        f.observe(at(4), &[l(), sock(0, S, C, Established, 0)], &inodes(&[5]));
        f.observe(
            at(6),
            &[l(), sock(8, S, C, Established, 0)],
            &inodes(&[5, 8]),
        );
        // A connection accepted and closed between two samples.
        let quick = sock(0, S, "127.0.0.1:40001", TimeWait, 0);
        f.observe(at(8), &[l(), quick, old_tw], &inodes(&[5]));
        f.observe(at(10), &[], &inodes(&[]));
        assert_eq!(f.listening(), Vec::<u16>::new());
        let s = &f.samples;
        assert_eq!(s.sockets.len(), 3, "{:?}", s.sockets);
        assert_eq!(s.listening_ports(), [8080]);
        let h = s.by_id(S.parse().unwrap(), C.parse().unwrap()).unwrap();
        assert_eq!(h.inode, 8);
        let states: Vec<TcpState> = h.changes.iter().map(|(_, i)| i.state).collect();
        assert_eq!(states, [NewSynRecv, Established]);
        let q = s.by_id(S.parse().unwrap(), quick.id.remote).unwrap();
        assert_eq!(
            (q.inode, q.changes.len(), q.changes[0].1.stale),
            (0, 1, true)
        );
    }

    #[test]
    fn another_inode_on_the_same_tuple_is_another_socket() {
        use TcpState::*;
        let mut f = Follow::default();
        let mine = sock(5, "0.0.0.0:8080", "0.0.0.0:0", Listen, 0);
        let theirs = sock(6, "0.0.0.0:8080", "0.0.0.0:0", Listen, 0);
        f.observe(at(0), &[mine, theirs], &inodes(&[5]));
        f.observe(at(2), &[mine, theirs], &inodes(&[5]));
        assert_eq!(f.samples.sockets.len(), 1);
        assert_eq!(f.samples.sockets[0].inode, 5);
    }
}
