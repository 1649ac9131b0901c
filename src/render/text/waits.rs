//! The writer's side of flow control in the socket view: a write the
//! kernel could not take whole (`blocked`: its send buffer was full) and the
//! moment it took the last byte (`drain`), told in Node's words.
//!
//! What Node 20 does, measured on loopback against a paused server
//! (docs/labs/zero-window.md): `socket.write()` returns true whenever the
//! kernel takes the whole write at once, even a 1 MiB one. A write it
//! cannot take whole stays in Node's buffer, and `writableLength` counts
//! all of it until the kernel has the last byte; `write()` returns false
//! once `writableLength` reaches `writableHighWaterMark` (16 KiB), and
//! `'drain'` fires when the buffer is empty again.

use crate::values::{EventKind, SocketEvent, SocketLog};

use super::fold::group;

/// A net.Socket's default `writableHighWaterMark`.
pub const NODE_HIGH_WATER_MARK: usize = 16 * 1024;

/// Blocked writes told one by one; more are counted in one sentence.
const TOLD: usize = 2;

/// A sentence for each write of `log` that waited for the kernel's send
/// buffer (the first [`TOLD`], then how many more), `who` naming the side.
pub fn waits(who: &str, log: &SocketLog) -> Vec<String> {
    let events = &log.events;
    let blocked: Vec<(usize, &SocketEvent)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event == EventKind::Blocked)
        .collect();
    let mut out: Vec<String> = blocked
        .iter()
        .take(TOLD)
        .map(|&(i, e)| {
            let drain = events[i + 1..]
                .iter()
                .take_while(|d| d.event != EventKind::Blocked)
                .find(|d| d.event == EventKind::Drain);
            one_wait(who, e, drain)
        })
        .collect();
    if blocked.len() > TOLD {
        out.push(format!(
            "{who}: {} more writes waited the same way",
            group((blocked.len() - TOLD) as u64)
        ));
    }
    out
}

/// One blocked write, its wait, and what a Node program sees of it.
fn one_wait(who: &str, blocked: &SocketEvent, drain: Option<&SocketEvent>) -> String {
    let len = blocked.bytes.unwrap_or(0);
    let took = blocked.accepted.unwrap_or(0);
    let waited = match drain {
        Some(d) => format!(
            "the kernel took the rest as the peer's ACKs freed room, the last byte at {:.1} ms \
             ({:.1} ms later)",
            d.t_ms,
            d.t_ms - blocked.t_ms
        ),
        None => "it never finished: the connection ended first".to_string(),
    };
    let node = if len >= NODE_HIGH_WATER_MARK {
        format!(
            "In Node, socket.write() returns false here: writableLength counts the whole \
             write, {} bytes, which reaches writableHighWaterMark ({}); 'drain' fires once \
             the kernel has the last byte.",
            group(len as u64),
            group(NODE_HIGH_WATER_MARK as u64)
        )
    } else {
        format!(
            "In Node, socket.write() still returns true here: writableLength, {} bytes, is \
             under writableHighWaterMark ({}), so Node keeps the bytes and no 'drain' follows.",
            group(len as u64),
            group(NODE_HIGH_WATER_MARK as u64)
        )
    };
    format!(
        "{who} write of {} bytes: at {:.1} ms the kernel's send buffer was full after {} \
         of them; {waited}. {node}",
        group(len as u64),
        blocked.t_ms,
        group(took as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: EventKind, t_ms: f64, bytes: usize, accepted: Option<usize>) -> SocketEvent {
        SocketEvent {
            event,
            t_ms,
            bytes: Some(bytes),
            accepted,
            message: None,
            at: None,
        }
    }

    fn log(events: Vec<SocketEvent>) -> SocketLog {
        SocketLog {
            events,
            ..SocketLog::default()
        }
    }

    #[test]
    fn a_big_blocked_write_is_node_write_false_then_drain() {
        let l = log(vec![
            event(EventKind::Blocked, 6.0, 8_388_608, Some(4_014_080)),
            event(EventKind::Drain, 1029.7, 8_388_608, None),
        ]);
        let said = waits("client", &l);
        assert_eq!(said.len(), 1);
        let s = &said[0];
        assert!(
            s.starts_with("client write of 8,388,608 bytes: at 6.0 ms"),
            "{s}"
        );
        assert!(s.contains("full after 4,014,080 of them"), "{s}");
        assert!(s.contains("at 1029.7 ms (1023.7 ms later)"), "{s}");
        assert!(s.contains("socket.write() returns false"), "{s}");
        assert!(s.contains("'drain' fires"), "{s}");
    }

    #[test]
    fn a_small_blocked_write_is_still_true_in_node_and_has_no_drain() {
        let l = log(vec![event(EventKind::Blocked, 1.0, 1000, Some(0))]);
        let s = &waits("server", &l)[0];
        assert!(s.contains("still returns true"), "{s}");
        assert!(s.contains("no 'drain' follows"), "{s}");
        assert!(s.contains("never finished"), "{s}");
    }

    #[test]
    fn many_waits_are_counted_after_the_first_two() {
        let mut events = Vec::new();
        for i in 0..5 {
            let t = f64::from(i) * 10.0;
            events.push(event(EventKind::Blocked, t, 65536, Some(0)));
            events.push(event(EventKind::Drain, t + 5.0, 65536, None));
        }
        let said = waits("client", &log(events));
        assert_eq!(said.len(), 3);
        assert!(said[1].contains("at 10.0 ms"), "{}", said[1]);
        assert_eq!(said[2], "client: 3 more writes waited the same way");
        assert!(waits("client", &SocketLog::default()).is_empty());
    }
}
