//! When a sample must pay for a dump of connections (3.5 ms a family here,
//! against microseconds for what else it reads): when the tree holds a TCP
//! socket that no sample has found yet, and when the namespace accepted a
//! connection while the tree listens, since a connection accepted and
//! closed between two samples never shows in `/proc`, only in the dump (as
//! the listener's child, closing or in TIME_WAIT).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The longest wait before dumping again for a socket not yet found: one
/// that is not yet connected is in no table of the kernel, so each dump
/// until it connects is lost work.
const MAX_RETRY: Duration = Duration::from_millis(50);
/// At most one dump in this time for connections accepted, so a server
/// under load is not dumped for at every sample. A connection that closed
/// in the meantime lingers in TIME_WAIT for a minute, or has gone already.
const OPENS_EVERY: Duration = Duration::from_millis(10);

/// The two families, IPv4 then IPv6, as indexes of the arrays below.
pub const FAMILIES: usize = 2;

#[derive(Debug)]
pub struct Discovery {
    retry: [Retry; FAMILIES],
    /// The namespace's PassiveOpens at the last sample.
    opens: Option<u64>,
    opens_dumped: Option<Instant>,
    every: Duration,
}

impl Discovery {
    pub fn new(every: Duration) -> Discovery {
        Discovery {
            retry: Default::default(),
            opens: None,
            opens_dumped: None,
            every,
        }
    }

    /// Which families to dump now: `unfound`, each family's TCP sockets of
    /// the tree no sample found; `listens`, whether the tree listens in it;
    /// `opens`, the namespace's PassiveOpens now (read only when it does).
    pub fn due(
        &mut self,
        unfound: [BTreeSet<u64>; FAMILIES],
        listens: [bool; FAMILIES],
        opens: Option<u64>,
        now: Instant,
    ) -> [bool; FAMILIES] {
        let mut out = [false; FAMILIES];
        for (k, unfound) in unfound.into_iter().enumerate() {
            out[k] = self.retry[k].due(unfound, now, self.every);
        }
        // The first reading counts as a rise: connections may have come
        // between the listen() and this sample.
        let accepted = opens.is_some() && opens != self.opens;
        let rested = !self.opens_dumped.is_some_and(|t| now < t + OPENS_EVERY);
        if accepted && rested {
            self.opens_dumped = Some(now);
            for k in 0..FAMILIES {
                out[k] |= listens[k];
            }
        }
        // A rise not yet acted on stays a rise until it is.
        if !accepted || rested {
            self.opens = opens;
        }
        out
    }
}

/// Dumps for sockets the dumps have not found: at once for a socket never
/// looked for, then after longer and longer waits.
#[derive(Debug, Default)]
struct Retry {
    tried: BTreeSet<u64>,
    wait: Duration,
    next: Option<Instant>,
}

impl Retry {
    fn due(&mut self, unfound: BTreeSet<u64>, now: Instant, every: Duration) -> bool {
        if unfound.is_empty() {
            *self = Retry::default();
            return false;
        }
        if !unfound.is_subset(&self.tried) {
            self.wait = every;
        } else if self.next.is_some_and(|n| now < n) {
            return false;
        } else {
            self.wait = (self.wait * 2).min(MAX_RETRY);
        }
        self.tried = unfound;
        self.next = Some(now + self.wait);
        true
    }
}

/// The namespace's count of passive opens (connections accepted by the
/// kernel, RFC 1213's tcpPassiveOpens) from the calling thread's
/// `/proc/thread-self/net/snmp`.
pub fn passive_opens() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/net/snmp").ok()?;
    let mut tcp = text.lines().filter(|l| l.starts_with("Tcp:"));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let at = names.split_whitespace().position(|n| n == "PassiveOpens")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> BTreeSet<u64> {
        v.iter().copied().collect()
    }

    #[test]
    fn retries_back_off_until_a_new_socket_comes() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let every = Duration::from_millis(2);
        let mut r = Retry::default();
        assert!(!r.due(set(&[]), ms(0), every));
        assert!(r.due(set(&[7]), ms(0), every));
        assert!(!r.due(set(&[7]), ms(1), every));
        assert!(r.due(set(&[7]), ms(2), every)); // then waits 4
        assert!(!r.due(set(&[7]), ms(4), every));
        assert!(r.due(set(&[7]), ms(6), every)); // then waits 8
        assert!(r.due(set(&[7, 8]), ms(7), every), "a new socket: at once");
        let mut late = 7;
        for _ in 0..10 {
            late += 100;
            assert!(r.due(set(&[7, 8]), ms(late), every));
        }
        assert_eq!(r.wait, MAX_RETRY);
    }

    #[test]
    fn an_accepted_connection_dumps_the_listening_families_at_most_every_10_ms() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Discovery::new(Duration::from_millis(2));
        let none = || [set(&[]), set(&[])];
        let v4 = [true, false];
        assert_eq!(d.due(none(), [false; 2], None, ms(0)), [false; 2]);
        assert_eq!(
            d.due(none(), v4, Some(5), ms(2)),
            [true, false],
            "listening at last"
        );
        assert_eq!(d.due(none(), v4, Some(5), ms(12)), [false; 2]);
        assert_eq!(d.due(none(), v4, Some(6), ms(14)), [true, false]);
        assert_eq!(d.due(none(), v4, Some(7), ms(16)), [false; 2], "resting");
        assert_eq!(
            d.due(none(), v4, Some(7), ms(24)),
            [true, false],
            "the rise kept"
        );
        assert_eq!(d.due(none(), v4, Some(7), ms(30)), [false; 2]);
        assert_eq!(
            d.due([set(&[]), set(&[3])], v4, Some(7), ms(32)),
            [false, true]
        );
    }

    #[test]
    fn reads_this_namespaces_passive_opens() {
        let before = passive_opens().expect("/proc/thread-self/net/snmp");
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let _s = l.accept().unwrap();
        assert!(passive_opens().unwrap() > before);
    }
}
