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

/// Splits a byte stream into lines of at most `max` bytes, one line at a
/// time: a read full of short lines is kept as its bytes, not as thousands
/// of small lines waiting for their replies.
#[derive(Debug)]
pub(crate) struct Lines {
    /// The unfinished line, at most `max` bytes.
    buf: Vec<u8>,
    /// Bytes read and not framed yet: one read's worth, since a connection
    /// answers every line of a read before it reads again.
    input: Vec<u8>,
    /// How much of `input` has been framed.
    pos: usize,
    max: usize,
    /// Dropping the rest of a too long line, up to its newline.
    discarding: bool,
    /// The peer ended the stream: an unfinished last line is still a line.
    ended: bool,
}

/// `input` keeps its allocation between reads up to this size; a larger
/// one is given back, so idle connections stay small.
const KEEP_INPUT: usize = 4096;

impl Lines {
    pub(crate) fn new(max: usize) -> Self {
        Lines {
            buf: Vec::new(),
            input: Vec::new(),
            pos: 0,
            max: max.max(1),
            discarding: false,
            ended: false,
        }
    }

    /// Takes a read's bytes; [`next`](Self::next) frames them.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.input.drain(..self.pos);
        self.pos = 0;
        self.input.extend_from_slice(chunk);
    }

    /// True if part of a line is kept (or being dropped) after the bytes
    /// pushed so far were framed.
    pub(crate) fn partial(&self) -> bool {
        !self.buf.is_empty() || self.discarding || self.pos < self.input.len()
    }

    /// The peer will send nothing more: once the bytes pushed are framed,
    /// [`next`](Self::next) gives the unfinished last line, if any.
    pub(crate) fn end(&mut self) {
        self.ended = true;
    }

    /// The next frame completed by the bytes pushed so far, if any.
    pub(crate) fn next(&mut self) -> Option<Frame> {
        while self.pos < self.input.len() {
            let rest = &self.input[self.pos..];
            let (len, newline) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (rest.len(), false),
            };
            let segment = &rest[..len];
            self.pos += len + usize::from(newline);
            if self.discarding {
                self.discarding = !newline;
                continue;
            }
            // The limit counts the line's bytes, not its CR LF (a CR at the
            // end of a read may be the first half of one).
            let line_len = self.buf.len() + segment.len();
            let cr = usize::from(segment.last() == Some(&b'\r'));
            if line_len - cr > self.max {
                self.buf.clear();
                self.discarding = !newline;
                return Some(Frame::TooLong);
            }
            self.buf.extend_from_slice(segment);
            if newline {
                return Some(Frame::Line(self.take()));
            }
        }
        self.input.clear();
        self.pos = 0;
        if self.input.capacity() > KEEP_INPUT {
            self.input = Vec::new();
        }
        if self.ended {
            return self.finish();
        }
        None
    }

    /// The unfinished last line at the end of the stream, once.
    fn finish(&mut self) -> Option<Frame> {
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

    impl Lines {
        /// Every frame completed by `chunk`, in order.
        fn feed(&mut self, chunk: &[u8]) -> Vec<Frame> {
            self.push(chunk);
            std::iter::from_fn(|| self.next()).collect()
        }

        fn finished(&mut self) -> Option<Frame> {
            self.end();
            self.next()
        }
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
        assert_eq!(l.finished(), Some(line("tail")));
        assert_eq!(l.finished(), None);
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
        assert_eq!(l.finished(), None);
    }

    #[test]
    fn memory_stays_within_the_limit() {
        let mut l = Lines::new(8);
        for _ in 0..1000 {
            l.feed(&[b'x'; 3]);
            assert!(l.buf.len() <= 8 + 1);
        }
    }

    #[test]
    fn a_read_of_many_lines_is_framed_one_line_at_a_time() {
        let mut l = Lines::new(8);
        l.push(&b"a\nbb\n".repeat(1000));
        assert_eq!(l.next(), Some(line("a")));
        assert_eq!(l.next(), Some(line("bb")));
        // The rest stays as bytes, not as 1,998 lines; the next read goes
        // behind them.
        assert_eq!(l.input.len() - l.pos, 5 * 1000 - 5);
        l.push(b"tail");
        assert_eq!(std::iter::from_fn(|| l.next()).count(), 1998);
        assert!(l.input.capacity() <= KEEP_INPUT);
        l.end();
        assert_eq!(l.next(), Some(line("tail")));
        assert_eq!(l.next(), None);
    }
}
