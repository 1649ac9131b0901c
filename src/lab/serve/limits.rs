//! The limits that keep a lesson server's memory bounded whatever its
//! clients do: a connection count, a line length, an idle time, and (for
//! chat) a queue of unsent bytes per client.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The limits, as `tcplab serve` takes them on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more are told so and closed.
    pub max_connections: usize,
    /// Longest line or JSON message, in bytes. Chunk modes read at most
    /// this much at a time (and at most 64 KiB).
    pub max_line: usize,
    /// Close a connection after this long without a read or a write
    /// (`socket.setTimeout`); `None` never.
    pub idle_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            max_line: 64 * 1024,
            idle_timeout: Some(Duration::from_secs(300)),
        }
    }
}

impl Limits {
    /// A chat client may have this many bytes waiting to be sent to it
    /// before it is dropped as too slow: room for a few of the longest lines.
    pub fn chat_queue_bytes(&self) -> usize {
        (4 * self.max_line.saturating_add(64)).max(256 * 1024)
    }
}

/// The reply to a connection over the limit, before it is closed.
pub fn busy_message(active: usize) -> String {
    format!("server busy: {active} connections, try later\n")
}

/// Counts open connections; each holds an [`ActiveSlot`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveCount(Arc<AtomicUsize>);

impl ActiveCount {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// A slot if fewer than `max` are taken (only the accept loop takes slots,
    /// so the check and the increment cannot race with another taker).
    pub(crate) fn acquire(&self, max: usize) -> Option<ActiveSlot> {
        if self.get() >= max {
            return None;
        }
        self.0.fetch_add(1, Ordering::SeqCst);
        Some(ActiveSlot {
            count: Some(self.0.clone()),
        })
    }
}

/// One open connection's place in the count; given back on release or drop
/// (a task aborted at shutdown gives it back too).
#[derive(Debug)]
pub(crate) struct ActiveSlot {
    count: Option<Arc<AtomicUsize>>,
}

impl ActiveSlot {
    /// Gives the slot back and says how many are still taken.
    pub(crate) fn release(mut self) -> usize {
        match self.count.take() {
            Some(c) => c.fetch_sub(1, Ordering::SeqCst) - 1,
            None => 0,
        }
    }
}

impl Drop for ActiveSlot {
    fn drop(&mut self) {
        if let Some(c) = self.count.take() {
            c.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let count = ActiveCount::default();
        let a = count.acquire(2).unwrap();
        let b = count.acquire(2).unwrap();
        assert!(count.acquire(2).is_none());
        assert_eq!(a.release(), 1);
        drop(b);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn chat_queues_hold_a_few_long_lines() {
        let small = Limits {
            max_line: 100,
            ..Limits::default()
        };
        assert_eq!(small.chat_queue_bytes(), 256 * 1024);
        let big = Limits {
            max_line: 1 << 20,
            ..Limits::default()
        };
        assert!(big.chat_queue_bytes() > 4 << 20);
    }
}
