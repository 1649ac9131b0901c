//! `frames`: length-prefixed messages (a 4-byte big-endian length, then
//! the bytes), decoded across reads, one reply line per whole message
//! (seed 003's answer to "TCP has no message boundaries": make your own).
//!
//! A message is kept until it is whole, so its length is bounded by
//! `--max-line`: a longer one is answered with an error line and its bytes
//! are skipped as they arrive, never kept, and the messages after it are
//! read as before.

use super::protocol::{done, Out, Protocol, Step};

/// Length of the frame header.
pub const FRAME_HEADER: usize = 4;

/// Encodes one length-prefixed message as `frames` reads it.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = (message.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

#[derive(Debug)]
pub(crate) struct Frames {
    /// Bytes of the unfinished frame(s): at most one header and `max`
    /// bytes, plus the read that has not been framed yet.
    buf: Vec<u8>,
    /// Bytes of a too long message still to drop.
    skipping: usize,
    max: usize,
    /// Whole messages seen so far.
    messages: u64,
}

impl Frames {
    pub(crate) fn new(max: usize) -> Self {
        Frames {
            buf: Vec::new(),
            skipping: 0,
            max: max.max(1),
            messages: 0,
        }
    }

    /// Answers the next whole message; false when none is whole yet.
    fn next_message(&mut self, out: &mut Out) -> bool {
        let Some(header) = self.buf.first_chunk::<FRAME_HEADER>() else {
            return false;
        };
        let len = u32::from_be_bytes(*header) as usize;
        if len > self.max {
            self.messages += 1;
            out.write(format!(
                "message {}: {len} bytes: longer than {} bytes; discarded\n",
                self.messages, self.max
            ));
            out.too_long = Some(self.max);
            let here = (self.buf.len() - FRAME_HEADER).min(len);
            self.buf.drain(..FRAME_HEADER + here);
            self.skipping = len - here;
            return true;
        }
        if self.buf.len() < FRAME_HEADER + len {
            return false;
        }
        self.messages += 1;
        let message = &self.buf[FRAME_HEADER..FRAME_HEADER + len];
        out.write(format!(
            "message {}: {len} bytes: {}\n",
            self.messages,
            String::from_utf8_lossy(message)
        ));
        self.buf.drain(..FRAME_HEADER + len);
        true
    }
}

impl Protocol for Frames {
    fn holds_partial(&self) -> bool {
        !self.buf.is_empty() || self.skipping > 0
    }

    fn data(&mut self, chunk: &[u8], _out: &mut Out) {
        let skip = self.skipping.min(chunk.len());
        self.skipping -= skip;
        self.buf.extend_from_slice(&chunk[skip..]);
    }

    fn step<'a>(&'a mut self, out: &'a mut Out) -> Step<'a> {
        done(self.next_message(out))
    }
}

#[cfg(test)]
mod tests {
    use super::super::protocol::answer;
    use super::*;

    #[tokio::test]
    async fn frames_are_decoded_across_reads() {
        let mut f = Frames::new(100);
        let mut bytes = frame(b"hello");
        bytes.extend(frame(b"TCP"));
        let (a, b) = bytes.split_at(7);
        assert!(answer(&mut f, a).await.writes.is_empty());
        assert_eq!(
            answer(&mut f, b).await.writes,
            [
                b"message 1: 5 bytes: hello\n".to_vec(),
                b"message 2: 3 bytes: TCP\n".to_vec()
            ]
        );
    }

    #[tokio::test]
    async fn a_too_long_frame_is_skipped_not_kept() {
        let mut f = Frames::new(4);
        let mut bytes = frame(b"far too long");
        bytes.extend(frame(b"ok"));
        let (a, b) = bytes.split_at(8);
        let out = answer(&mut f, a).await;
        assert_eq!(
            out.writes,
            [b"message 1: 12 bytes: longer than 4 bytes; discarded\n".to_vec()]
        );
        assert_eq!(out.too_long, Some(4));
        assert!(f.buf.is_empty());
        assert_eq!(
            answer(&mut f, b).await.writes,
            [b"message 2: 2 bytes: ok\n".to_vec()]
        );
        // A header claiming 4 GiB costs nothing either.
        let out = answer(&mut f, &[0xff, 0xff, 0xff, 0xff, b'x']).await;
        assert_eq!(out.writes.len(), 1);
        assert!(f.buf.is_empty());
    }
}
