//! Messages one connection sends another (chat's broadcast): a queue per
//! receiving connection, counted in bytes so the sender can tell a client
//! that stopped reading, and a flag to drop that client.
//!
//! The sending side ([`Mailbox`]) lives with whoever routes messages; the
//! receiving side ([`Inbox`]) goes to the connection loop, which writes
//! what arrives. Neither knows any protocol.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

/// A new queue: its sending and its receiving side.
pub(crate) fn inbox() -> (Mailbox, Inbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (kick, kicked) = watch::channel(false);
    let queued = Arc::new(AtomicUsize::new(0));
    let mailbox = Mailbox {
        tx,
        queued: queued.clone(),
        kick,
    };
    (mailbox, Inbox { rx, queued, kicked })
}

/// Where messages for one connection are put.
#[derive(Debug)]
pub(crate) struct Mailbox {
    tx: mpsc::UnboundedSender<Arc<[u8]>>,
    /// Bytes sent and not yet written to the socket. The channel itself is
    /// unbounded: the sender checks this count before each send.
    queued: Arc<AtomicUsize>,
    kick: watch::Sender<bool>,
}

impl Mailbox {
    /// Bytes waiting to be written to the connection.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub(crate) fn send(&self, bytes: Arc<[u8]>) {
        self.queued.fetch_add(bytes.len(), Ordering::SeqCst);
        let _ = self.tx.send(bytes);
    }

    /// Tells the connection it is dropped (too slow).
    pub(crate) fn kick(&self) {
        let _ = self.kick.send(true);
    }
}

/// A connection's incoming messages, read by its connection task.
#[derive(Debug)]
pub(crate) struct Inbox {
    rx: mpsc::UnboundedReceiver<Arc<[u8]>>,
    queued: Arc<AtomicUsize>,
    /// Turns true when the sender dropped this connection as too slow.
    pub(crate) kicked: watch::Receiver<bool>,
}

impl Inbox {
    pub(crate) async fn recv(&mut self) -> Option<Arc<[u8]>> {
        self.rx.recv().await
    }

    /// The next message if one is waiting.
    pub(crate) fn try_recv(&mut self) -> Option<Arc<[u8]>> {
        self.rx.try_recv().ok()
    }

    /// `first` and the messages queued behind it, up to about `max` bytes
    /// (one message more at most), as one write: a client that fell behind
    /// (2,000 joins in a row) catches up in a few writes, not one per line.
    pub(crate) fn batch(&mut self, first: Arc<[u8]>, max: usize) -> Vec<u8> {
        let mut bytes = first.to_vec();
        while bytes.len() < max {
            match self.try_recv() {
                Some(m) => bytes.extend_from_slice(&m),
                None => break,
            }
        }
        bytes
    }

    /// A message of `len` bytes has been written to the socket.
    pub(crate) fn sent(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::SeqCst);
    }

    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_counted_until_written() {
        let (mailbox, mut inbox) = inbox();
        mailbox.send(Arc::from(&b"abc"[..]));
        mailbox.send(Arc::from(&b"de"[..]));
        assert_eq!(mailbox.queued(), 5);
        let first = inbox.try_recv().unwrap();
        let batch = inbox.batch(first, 100);
        assert_eq!(batch, b"abcde");
        inbox.sent(batch.len());
        assert_eq!(mailbox.queued(), 0);
        mailbox.kick();
        assert!(*inbox.kicked.borrow());
    }
}
