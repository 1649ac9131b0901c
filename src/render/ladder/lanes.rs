//! The applications beside the wire: each side's calls (`write()`,
//! `end()`) and the events its socket saw (`'data'`, `'end'`, `'close'`...), placed among
//! the arrows, so a reader sees ten writes become one segment and one read.
//!
//! A mark goes where its time puts it: the socket log stamps each event
//! with the wall clock, the clock capture timestamps use. Causality then
//! holds it in place, since two clocks read microseconds apart could
//! otherwise swap neighbours: a write comes before the first segment that
//! carries its bytes, an `end()` before its FIN, a `'data'` after the segment that delivered its last
//! byte, an `'end'` after the peer's FIN. A log rebuilt after the fact
//! (no times) is placed by causality alone.

use super::{Arrow, MAX_ARROWS};
use crate::decode::Flags;
use crate::render::OutputLine;
use crate::values::{CallKind, EventKind, SocketEvent, SocketLog, Timestamp};

/// What a mark says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    /// The application called `write()`, `end()`...
    Call(CallKind),
    /// Its socket emitted this event.
    Event(EventKind),
    /// A traced program printed a line (`trace -- CMD`).
    Printed,
}

/// One thing one side's application did or saw.
#[derive(Debug, Clone, PartialEq)]
pub struct AppMark {
    /// The client's application; else the server's.
    pub client: bool,
    /// Milliseconds since the ladder's first segment, when known.
    pub t_ms: Option<f64>,
    /// Drawn before arrow `slot` (after all arrows when `slot` is their count).
    pub slot: usize,
    pub kind: AppKind,
    /// `write() 5 bytes: seq 1:6`
    pub text: String,
    /// The same without the sequence numbers, where room is short.
    pub short: String,
}

impl AppMark {
    /// Milliseconds with three decimals, or nothing when not known.
    pub fn time(&self) -> String {
        self.t_ms.map(|t| format!("{t:.3}")).unwrap_or_default()
    }

    /// True for an error, drawn in the error colour.
    pub fn is_error(&self) -> bool {
        self.kind == AppKind::Event(EventKind::Error)
    }
}

/// One entry of a side's log before it is placed.
struct Entry {
    /// Time on the log's own clock, for ordering writes among events.
    log_ms: f64,
    at: Option<Timestamp>,
    kind: AppKind,
    bytes: Option<usize>,
    accepted: Option<usize>,
    message: Option<String>,
    /// A call that failed (a write that sent nothing).
    failed: bool,
}

impl Entry {
    fn of_event(e: &SocketEvent) -> Entry {
        Entry {
            log_ms: e.t_ms,
            at: e.at,
            kind: AppKind::Event(e.event),
            bytes: e.bytes,
            accepted: e.accepted,
            message: e.message.clone(),
            failed: false,
        }
    }
}

/// Both sides' marks among `arrows`, whose times count from `first`.
/// `relative`: the arrows' sequence numbers count from the opening SYN,
/// so byte `k` of a side's stream is `seq k`.
pub(super) fn place(
    arrows: &[Arrow],
    first: Option<Timestamp>,
    relative: bool,
    client: &SocketLog,
    server: &SocketLog,
) -> Vec<AppMark> {
    let mut marks = Vec::new();
    for (is_client, log) in [(true, client), (false, server)] {
        let side = Side {
            arrows,
            client: is_client,
            relative,
        };
        marks.extend(side.marks(log, first));
    }
    sort(&mut marks);
    marks.truncate(MAX_ARROWS);
    marks
}

/// A traced program's printed lines, on the lane of the side that is the
/// program's (`client`), each where its time puts it.
pub(super) fn printed(
    arrows: &[Arrow],
    first: Option<Timestamp>,
    lines: &[OutputLine],
    client: bool,
) -> Vec<AppMark> {
    lines
        .iter()
        .map(|l| {
            let t_ms = first.map(|f| l.ts.secs_since(f) * 1e3);
            let slot = t_ms.map_or(0, |t| arrows.iter().take_while(|a| a.t_ms <= t).count());
            let text = format!("{}: {}", l.who, l.line);
            AppMark {
                client,
                t_ms,
                slot,
                kind: AppKind::Printed,
                short: text.clone(),
                text,
            }
        })
        .collect()
}

/// One slot's marks in time order; the untimed keep their side's order.
pub(super) fn sort(marks: &mut [AppMark]) {
    marks.sort_by(|a, b| {
        a.slot.cmp(&b.slot).then(
            a.t_ms
                .zip(b.t_ms)
                .and_then(|(x, y)| x.partial_cmp(&y))
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
}

/// One side's view of the arrows.
struct Side<'a> {
    arrows: &'a [Arrow],
    client: bool,
    relative: bool,
}

impl Side<'_> {
    fn marks(&self, log: &SocketLog, first: Option<Timestamp>) -> Vec<AppMark> {
        let mut entries: Vec<Entry> = log.events.iter().map(Entry::of_event).collect();
        entries.extend(log.calls.iter().map(|c| Entry {
            log_ms: c.t_ms,
            at: c.at,
            kind: AppKind::Call(c.call),
            bytes: c.bytes,
            accepted: None,
            message: None,
            failed: c.failed,
        }));
        // A call stamped as it began sorts before an event of the same instant.
        let is_call = |e: &Entry| matches!(e.kind, AppKind::Call(_));
        entries.sort_by(|a, b| {
            a.log_ms
                .partial_cmp(&b.log_ms)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(is_call(b).cmp(&is_call(a)))
        });
        let (mut written, mut read) = (0u32, 0u32);
        let mut prev = 0;
        let mut marks = Vec::new();
        for e in entries {
            let t_ms = e.at.zip(first).map(|(at, f)| at.secs_since(f) * 1e3);
            let n = e.bytes.unwrap_or(0) as u32;
            let range = match e.kind {
                // A failed write sent nothing: it covers no sequence numbers.
                AppKind::Call(CallKind::Write) if e.failed => None,
                AppKind::Call(CallKind::Write) => Some(&mut written),
                AppKind::Event(EventKind::Data) => Some(&mut read),
                _ => None,
            }
            .map(|total| {
                let start = 1u32.wrapping_add(*total);
                *total = total.wrapping_add(n);
                (start, start.wrapping_add(n))
            });
            let slot = self.slot(&e, t_ms, range).max(prev);
            prev = slot;
            let (text, short) = words(&e, range.filter(|_| self.relative));
            marks.push(AppMark {
                client: self.client,
                t_ms,
                slot,
                kind: e.kind,
                text,
                short,
            });
        }
        marks
    }

    /// Where the entry goes: by its time, held by what caused it.
    fn slot(&self, e: &Entry, t_ms: Option<f64>, range: Option<(u32, u32)>) -> usize {
        let by_time = t_ms.map(|t| self.arrows.iter().take_while(|a| a.t_ms <= t).count());
        let range = range.filter(|(a, b)| self.relative && a != b);
        let after = |i: Option<usize>| i.map(|i| i + 1);
        let (earliest, latest) = match e.kind {
            AppKind::Call(CallKind::Write) => {
                (None, range.and_then(|(a, _)| self.carrier(self.client, a)))
            }
            AppKind::Call(CallKind::End) => (None, self.own(Flags::FIN)),
            AppKind::Call(CallKind::ResetAndDestroy) => (None, self.own(Flags::RST)),
            // After end() its FIN is gone already: the time alone says.
            AppKind::Call(CallKind::Destroy) => (None, None),
            AppKind::Event(EventKind::Data) => (
                after(range.and_then(|(_, b)| self.delivered(b.wrapping_sub(1)))),
                None,
            ),
            AppKind::Event(EventKind::End) => (after(self.peer_fin()), None),
            AppKind::Event(EventKind::Connect) => (after(self.syn_ack()), None),
            AppKind::Event(EventKind::Connection) => (
                after(self.syn_ack().map(|i| self.next_from_client(i))),
                None,
            ),
            AppKind::Event(EventKind::Close) if by_time.is_none() => {
                (Some(self.arrows.len()), None)
            }
            AppKind::Event(_) | AppKind::Printed => (None, None),
        };
        let mut slot = by_time.or(latest).or(earliest).unwrap_or(0);
        if let Some(l) = latest {
            slot = slot.min(l);
        }
        if let Some(e) = earliest {
            slot = slot.max(e);
        }
        slot
    }

    fn from(&self, a: &Arrow, client: bool) -> bool {
        a.from_client() == client
    }

    /// The first arrow from `client`'s side carrying `seq`.
    fn carrier(&self, client: bool, seq: u32) -> Option<usize> {
        self.arrows.iter().position(|a| {
            self.from(a, client) && a.len > 0 && seq.wrapping_sub(a.seq) < a.len as u32
        })
    }

    /// The first arrow from the peer that carried `seq` and arrived.
    fn delivered(&self, seq: u32) -> Option<usize> {
        self.arrows.iter().position(|a| {
            self.from(a, !self.client)
                && !a.lost
                && a.len > 0
                && seq.wrapping_sub(a.seq) < a.len as u32
        })
    }

    /// This side's first arrow with `flag`.
    fn own(&self, flag: Flags) -> Option<usize> {
        self.arrows
            .iter()
            .position(|a| self.from(a, self.client) && a.flags.contains(flag))
    }

    fn peer_fin(&self) -> Option<usize> {
        self.arrows
            .iter()
            .position(|a| self.from(a, !self.client) && !a.lost && a.flags.contains(Flags::FIN))
    }

    fn syn_ack(&self) -> Option<usize> {
        self.arrows
            .iter()
            .position(|a| a.flags.contains(Flags::SYN | Flags::ACK) && !a.lost)
    }

    /// The client's first arrow after `i` (the handshake's last ACK), or `i`.
    fn next_from_client(&self, i: usize) -> usize {
        (i + 1..self.arrows.len())
            .find(|&j| self.arrows[j].from_client())
            .unwrap_or(i)
    }
}

/// The mark's words, long and short: `write() 5 bytes: seq 1:6`.
fn words(e: &Entry, range: Option<(u32, u32)>) -> (String, String) {
    let bytes = e.bytes.unwrap_or(0);
    let sized = |what: &str| {
        let short = format!(
            "{what} {bytes} {}",
            if bytes == 1 { "byte" } else { "bytes" }
        );
        match range {
            Some((a, b)) if a != b => (format!("{short}: seq {a}:{b}"), short),
            _ => (short.clone(), short),
        }
    };
    match e.kind {
        AppKind::Call(CallKind::Write) if e.failed => {
            let (text, _) = sized("write()");
            let text = format!("{text}: failed, nothing sent");
            (text, format!("write() {bytes} failed"))
        }
        AppKind::Call(CallKind::Write) => sized("write()"),
        AppKind::Call(call) => (call.name().to_string(), call.name().to_string()),
        AppKind::Event(EventKind::Data) => sized("'data'"),
        AppKind::Event(EventKind::Error) => {
            let message = e.message.as_deref().unwrap_or("");
            let code = message.split(':').next().unwrap_or(message);
            let text = format!("'error' {code}");
            (text.clone(), text)
        }
        AppKind::Event(EventKind::Blocked) => {
            let took = e.accepted.unwrap_or(0);
            (
                format!("send buffer full: the kernel took {took} of {bytes}"),
                "send buffer full".to_string(),
            )
        }
        AppKind::Event(kind) => {
            let text = format!("'{}'", kind.name());
            (text.clone(), text)
        }
        AppKind::Printed => Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Direction, StateChange};
    use crate::render::SegmentKind;
    use crate::values::Call;

    fn arrow(frame: u64, t_ms: f64, client: bool, flags: Flags, seq: u32, len: usize) -> Arrow {
        Arrow {
            frame,
            t_ms,
            direction: if client {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            },
            kind: SegmentKind::of(flags, len),
            flags,
            said: String::new(),
            seq,
            ack: None,
            len,
            preview: None,
            phase: None,
            notes: Vec::new(),
            lost: false,
            states: StateChange::default(),
        }
    }

    fn event(event: EventKind, t_ms: f64, bytes: Option<usize>) -> SocketEvent {
        SocketEvent {
            event,
            t_ms,
            bytes,
            accepted: None,
            message: None,
            at: None,
        }
    }

    /// The hello exchange: SYN, SYN-ACK, ACK, data both ways, FINs.
    fn hello() -> Vec<Arrow> {
        let (s, sa, a, pa, fa) = (
            Flags::SYN,
            Flags::SYN | Flags::ACK,
            Flags::ACK,
            Flags::PSH | Flags::ACK,
            Flags::FIN | Flags::ACK,
        );
        vec![
            arrow(1, 0.0, true, s, 0, 0),
            arrow(2, 0.1, false, sa, 0, 0),
            arrow(3, 0.2, true, a, 1, 0),
            arrow(4, 0.3, true, pa, 1, 5),
            arrow(5, 0.4, false, a, 1, 0),
            arrow(6, 0.5, false, pa, 1, 5),
            arrow(7, 0.6, true, fa, 6, 0),
            arrow(8, 0.7, false, fa, 6, 0),
            arrow(9, 0.8, true, a, 7, 0),
        ]
    }

    #[test]
    fn untimed_logs_are_placed_by_what_caused_them() {
        let client = SocketLog {
            events: vec![
                event(EventKind::Connect, 0.0, None),
                event(EventKind::Data, 2.0, Some(5)),
                event(EventKind::End, 3.0, None),
                event(EventKind::Close, 4.0, None),
            ],
            calls: vec![
                Call {
                    call: CallKind::Write,
                    t_ms: 1.0,
                    bytes: Some(5),
                    failed: false,
                    at: None,
                },
                Call {
                    call: CallKind::End,
                    t_ms: 2.5,
                    bytes: None,
                    failed: false,
                    at: None,
                },
            ],
            ..SocketLog::default()
        };
        let server = SocketLog {
            events: vec![
                event(EventKind::Connection, 0.0, None),
                event(EventKind::Data, 1.0, Some(5)),
            ],
            ..SocketLog::default()
        };
        let marks = place(&hello(), None, true, &client, &server);
        let got: Vec<(bool, usize, &str)> = marks
            .iter()
            .map(|m| (m.client, m.slot, m.text.as_str()))
            .collect();
        assert!(got.contains(&(true, 2, "'connect'")), "{got:?}");
        assert!(
            got.contains(&(true, 3, "write() 5 bytes: seq 1:6")),
            "{got:?}"
        );
        assert!(got.contains(&(false, 3, "'connection'")), "{got:?}");
        assert!(
            got.contains(&(false, 4, "'data' 5 bytes: seq 1:6")),
            "{got:?}"
        );
        assert!(
            got.contains(&(true, 6, "'data' 5 bytes: seq 1:6")),
            "{got:?}"
        );
        assert!(got.contains(&(true, 6, "end()")), "{got:?}");
        assert!(got.contains(&(true, 8, "'end'")), "{got:?}");
        assert!(got.contains(&(true, 9, "'close'")), "{got:?}");
        let slots: Vec<usize> = marks.iter().map(|m| m.slot).collect();
        assert!(slots.windows(2).all(|w| w[0] <= w[1]), "{slots:?}");
    }

    #[test]
    fn a_late_clock_cannot_put_a_read_before_its_bytes_arrive() {
        let first = Timestamp { sec: 100, nsec: 0 };
        // Stamped 0.05 ms after the ladder began: before the data arrived.
        let early = Timestamp {
            sec: 100,
            nsec: 50_000,
        };
        let server = SocketLog {
            events: vec![SocketEvent {
                at: Some(early),
                ..event(EventKind::Data, 0.0, Some(5))
            }],
            ..SocketLog::default()
        };
        let marks = place(&hello(), Some(first), true, &SocketLog::default(), &server);
        assert_eq!(marks[0].slot, 4);
        assert_eq!(marks[0].time(), "0.050");
    }

    #[test]
    fn a_failed_write_covers_no_sequence_numbers() {
        let call = |t_ms: f64, failed: bool| Call {
            call: CallKind::Write,
            t_ms,
            bytes: Some(5),
            failed,
            at: None,
        };
        let client = SocketLog {
            calls: vec![call(0.0, false), call(1.0, true)],
            ..SocketLog::default()
        };
        let marks = place(&hello(), None, true, &client, &SocketLog::default());
        let texts: Vec<&str> = marks.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "write() 5 bytes: seq 1:6",
                "write() 5 bytes: failed, nothing sent"
            ]
        );
    }

    #[test]
    fn ten_writes_come_before_the_one_segment_that_carries_them() {
        let mut arrows = hello();
        arrows[3].len = 50;
        let calls = (0..10)
            .map(|i| Call {
                call: CallKind::Write,
                t_ms: f64::from(i),
                bytes: Some(5),
                failed: false,
                at: None,
            })
            .collect();
        let client = SocketLog {
            calls,
            ..SocketLog::default()
        };
        let marks = place(&arrows, None, true, &client, &SocketLog::default());
        assert_eq!(marks.len(), 10);
        assert!(marks.iter().all(|m| m.slot == 3));
        assert_eq!(marks[9].text, "write() 5 bytes: seq 46:51");
    }
}
