//! Newline framing with a length limit, for the line modes (`chat`, `kv`).
//!
//! TCP delivers a byte stream, not messages (seed 003): a read may hold half
//! a line or several. [`Lines`] keeps the unfinished line between reads and
//! never more than `max` bytes of it, so memory per connection is bounded
//! whatever the peer sends. A longer line is reported once as
//! [`Frame::TooLong`] and its bytes are dropped up to the next newline.

/// One framed unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A line without its `\n` (and without a `\r` before it: telnet sends
    /// CRLF).
    Line(Vec<u8>),
    /// A line passed the limit; its bytes up to the next newline are dropped.
    TooLong,
}

/// Splits a byte stream into lines of at most `max` bytes.
#[derive(Debug)]
pub(crate) struct Lines {
    buf: Vec<u8>,
    max: usize,
    /// Dropping the rest of a too long line, up to its newline.
    discarding: bool,
}

impl Lines {
    pub(crate) fn new(max: usize) -> Self {
        Lines {
            buf: Vec::new(),
            max: max.max(1),
            discarding: false,
        }
    }

    /// The frames completed by `chunk`, in order.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            let (segment, newline) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            rest = if newline {
                &rest[segment.len() + 1..]
            } else {
                &[]
            };
            if self.discarding {
                self.discarding = !newline;
                continue;
            }
            // The limit counts the line's bytes, not its CR LF (a CR at the
            // end of a read may be the first half of one).
            let len = self.buf.len() + segment.len();
            let cr = usize::from(segment.last() == Some(&b'\r'));
            if len - cr > self.max {
                self.buf.clear();
                self.discarding = !newline;
                frames.push(Frame::TooLong);
                continue;
            }
            self.buf.extend_from_slice(segment);
            if newline {
                frames.push(Frame::Line(self.take()));
            }
        }
        frames
    }

    /// The unfinished last line when the peer ends the stream, if any.
    pub(crate) fn finish(&mut self) -> Option<Frame> {
        if self.discarding || self.buf.is_empty() {
            self.discarding = false;
            return None;
        }
        Some(Frame::Line(self.take()))
    }

    fn take(&mut self) -> Vec<u8> {
        let mut line = std::mem::take(&mut self.buf);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Frame {
        Frame::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn lines_span_reads_and_reads_hold_several_lines() {
        let mut l = Lines::new(100);
        assert_eq!(l.feed(b"hel"), vec![]);
        assert_eq!(l.feed(b"lo\nwor"), vec![line("hello")]);
        assert_eq!(
            l.feed(b"ld\r\n\nx\n"),
            vec![line("world"), line(""), line("x")]
        );
        assert_eq!(l.feed(b"tail"), vec![]);
        assert_eq!(l.finish(), Some(line("tail")));
        assert_eq!(l.finish(), None);
    }

    #[test]
    fn a_too_long_line_is_reported_once_and_dropped_to_its_newline() {
        let mut l = Lines::new(4);
        assert_eq!(l.feed(b"abcd\n"), vec![line("abcd")]);
        assert_eq!(l.feed(b"abcd\r\n"), vec![line("abcd")]);
        assert_eq!(l.feed(b"abc"), vec![]);
        assert_eq!(l.feed(b"de"), vec![Frame::TooLong]);
        assert_eq!(l.feed(b"more and more"), vec![]);
        assert_eq!(l.feed(b"still\nok\n"), vec![line("ok")]);
        assert_eq!(l.feed(b"toolong\nok\n"), vec![Frame::TooLong, line("ok")]);
        assert_eq!(l.feed(b"abcdefgh"), vec![Frame::TooLong]);
        assert_eq!(l.finish(), None);
    }

    #[test]
    fn memory_stays_within_the_limit() {
        let mut l = Lines::new(8);
        for _ in 0..1000 {
            l.feed(&[b'x'; 3]);
            assert!(l.buf.len() <= 8 + 1);
        }
    }
}
