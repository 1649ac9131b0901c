//! Zero-window episodes found in a capture, for the zero-window lab: when
//! the receiver's window closed (its first segment advertising 0), the
//! sender's window probes while it stayed closed and whether each was
//! answered, and the segment that opened it again.
//!
//! Read from the window fields and tshark's analysis flags only, so the
//! numbers are those a Wireshark user would count.

use crate::decode::Flags;
use crate::flow::{Analysis, Direction, Packet};
use crate::values::Timestamp;

/// A segment's frame number and capture time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub frame: u64,
    pub ts: Timestamp,
}

impl At {
    fn of(p: &Packet) -> At {
        At {
            frame: p.number,
            ts: p.ts,
        }
    }

    /// Milliseconds from `earlier` to this one.
    pub fn ms_since(self, earlier: At) -> f64 {
        self.ms_from(earlier.ts)
    }

    /// Milliseconds since `t0` (a trace's first frame: its `ms` column).
    pub fn ms_from(self, t0: Timestamp) -> f64 {
        self.ts.secs_since(t0) * 1e3
    }
}

/// One window probe: a segment the sender sent into the zero window (a
/// keep-alive's shape on Linux, tshark's `keep_alive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub at: At,
    /// The receiver's next segment, if it repeated the zero window (the
    /// answer); `None` if the next one opened the window, or none came.
    pub answer: Option<At>,
}

/// The receiver's window at zero, from the segment that closed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub closed: At,
    /// The receiver's relative ACK when it closed: the bytes it held.
    pub ack: u32,
    pub probes: Vec<Probe>,
    /// The segment that opened the window again, and the window it
    /// offered in bytes; tshark flags it a window update when it carries
    /// nothing else (`flagged_update`).
    pub reopened: Option<(At, u32)>,
    pub flagged_update: bool,
}

impl Episode {
    /// How long the window stayed zero, in ms, if it opened again.
    pub fn zero_ms(&self) -> Option<f64> {
        self.reopened.map(|(at, _)| at.ms_since(self.closed))
    }

    pub fn answered(&self) -> usize {
        self.probes.iter().filter(|p| p.answer.is_some()).count()
    }
}

/// Every zero-window episode of the window `receiver` advertises, in order.
pub fn episodes(packets: &[Packet], receiver: Direction) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut open = false;
    // A probe waits for the receiver's next segment, its answer or not.
    let mut awaiting = false;
    for p in packets {
        let (Some(tcp), Some(flow)) = (&p.tcp, &p.flow) else {
            continue;
        };
        if flow.direction == receiver {
            let zero = tcp.window == 0
                && !tcp.flags.contains(Flags::SYN)
                && !tcp.flags.contains(Flags::RST);
            match out.last_mut() {
                Some(e) if open && zero => {
                    if let (true, Some(probe)) = (awaiting, e.probes.last_mut()) {
                        probe.answer = Some(At::of(p));
                    }
                }
                Some(e) if open => {
                    e.reopened = Some((At::of(p), flow.window));
                    e.flagged_update = flow.findings.flags.contains(Analysis::WINDOW_UPDATE);
                    open = false;
                }
                _ if zero => {
                    out.push(Episode {
                        closed: At::of(p),
                        ack: flow.ack,
                        probes: Vec::new(),
                        reopened: None,
                        flagged_update: false,
                    });
                    open = true;
                }
                _ => {}
            }
            awaiting = false;
        } else if open && is_probe(p) {
            if let Some(e) = out.last_mut() {
                e.probes.push(Probe {
                    at: At::of(p),
                    answer: None,
                });
                awaiting = true;
            }
        }
    }
    out
}

/// A segment into a zero window that asks for the window: Linux's (a
/// keep-alive's shape) or a one-byte zero-window probe.
fn is_probe(p: &Packet) -> bool {
    let f = p.findings();
    f.peer_window_zero
        && (f.flags.contains(Analysis::KEEP_ALIVE) || f.flags.contains(Analysis::ZERO_WINDOW_PROBE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Tcp;
    use crate::flow::{Findings, FlowInfo, Phase};

    /// A segment at `ms` from `direction` with this raw window and flags.
    fn seg(n: u64, ms: u32, direction: Direction, window: u16, findings: Findings) -> Packet {
        Packet {
            number: n,
            ts: Timestamp {
                sec: 0,
                nsec: ms * 1_000_000,
            },
            tcp: Some(Tcp {
                flags: Flags::ACK,
                window,
                ..Tcp::default()
            }),
            flow: Some(FlowInfo {
                stream: 0,
                direction,
                seq: 1,
                ack: 49153,
                findings,
                phase: Phase::Data,
                window: u32::from(window),
                window_scale: None,
                accecn: false,
            }),
            ..Packet::default()
        }
    }

    fn flagged(flags: Analysis, peer_window_zero: bool) -> Findings {
        Findings {
            flags,
            peer_window_zero,
            ..Findings::default()
        }
    }

    const S: Direction = Direction::ServerToClient;
    const C: Direction = Direction::ClientToServer;

    #[test]
    fn an_episode_with_an_answered_and_an_unanswered_probe() {
        let none = Findings::default();
        let probe = flagged(Analysis::KEEP_ALIVE, true);
        let packets = [
            seg(8, 8, C, 64, none),
            seg(9, 44, S, 0, flagged(Analysis::ZERO_WINDOW, false)),
            seg(10, 256, C, 64, probe),
            seg(11, 256, S, 0, flagged(Analysis::ZERO_WINDOW, false)),
            seg(12, 700, C, 64, probe),
            seg(13, 1001, S, 32768, flagged(Analysis::WINDOW_UPDATE, false)),
            seg(14, 1001, C, 64, none),
        ];
        let e = episodes(&packets, S);
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!((e.closed.frame, e.ack), (9, 49153));
        let answers: Vec<_> = e.probes.iter().map(|p| p.answer.map(|a| a.frame)).collect();
        assert_eq!(answers, [Some(11), None]);
        assert_eq!(e.answered(), 1);
        assert_eq!(e.reopened.map(|(at, w)| (at.frame, w)), Some((13, 32768)));
        assert!(e.flagged_update);
        assert!((e.zero_ms().unwrap() - 957.0).abs() < 1e-6);
    }

    #[test]
    fn keep_alives_into_an_open_window_are_no_probes_and_episodes_repeat() {
        let none = Findings::default();
        let packets = [
            seg(1, 1, C, 64, flagged(Analysis::KEEP_ALIVE, false)),
            seg(2, 2, S, 0, none),
            seg(3, 3, S, 100, none),
            seg(4, 4, S, 0, none),
        ];
        let e = episodes(&packets, S);
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|e| e.probes.is_empty()));
        assert!(!e[0].flagged_update);
        assert_eq!(e[1].reopened, None);
        assert_eq!(e[1].zero_ms(), None);
    }
}
