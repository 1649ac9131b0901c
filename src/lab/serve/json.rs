//! `serve json` (and `trace --server json`): JSON messages in, one JSON
//! object per message out (seed 000).
//!
//! Messages are found by parsing, not by newlines alone: one per line
//! (newline-delimited JSON, what `nc` sends), but also back to back without
//! a newline, as a Node client writing `JSON.stringify(message)` sends them.
//! Each is answered with `{"type":"reply","seq":N,"received":<message>,
//! "bytes":<its length>}` and a newline (`received` is the message as
//! parsed, on one line, its object keys sorted). Invalid JSON gets
//! `{"type":"error",...}` and the bad bytes are dropped up to the next
//! newline; the connection stays up. A message longer than `--max-line` is
//! dropped the same way, so memory per connection stays bounded.

use serde_json::Value;

use super::protocol::{done, Out, Protocol, Step};

/// One connection's unfinished input and message count.
#[derive(Debug)]
pub(crate) struct JsonConn {
    buf: Vec<u8>,
    /// Where the unanswered input starts in `buf` (answered messages are
    /// cut off once per read, not once per message).
    start: usize,
    max: usize,
    /// Dropping the rest of a too long message, up to its newline.
    discarding: bool,
    /// The peer ended: a last message without a newline still counts.
    eof: bool,
    seq: u64,
}

impl JsonConn {
    pub(crate) fn new(max: usize) -> Self {
        JsonConn {
            buf: Vec::new(),
            start: 0,
            max: max.max(1),
            discarding: false,
            eof: false,
            seq: 0,
        }
    }

    /// Keeps a read's bytes; [`next_message`](Self::next_message) answers them.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.buf.drain(..self.start);
        self.start = 0;
        let mut chunk = chunk;
        if self.discarding {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    chunk = &chunk[i + 1..];
                    self.discarding = false;
                }
                None => return,
            }
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Answers the next message (or bad input); false when there is none
    /// yet, and nothing was written.
    pub(crate) fn next_message(&mut self, out: &mut Out) -> bool {
        let rest = &self.buf[self.start..];
        let skip = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        self.start += skip;
        let rest = &self.buf[self.start..];
        if rest.is_empty() {
            return false;
        }
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let parsed = values.next();
        let end = values.byte_offset();
        match parsed {
            Some(Ok(value)) => {
                // A number at the very end may still be growing ("12" of "123").
                if value.is_number() && end == rest.len() && !self.eof {
                    return self.check_length(out);
                }
                self.reply(value, end, out);
                self.start += end;
                true
            }
            Some(Err(e)) if e.is_eof() && !self.eof => self.check_length(out),
            Some(Err(e)) => {
                let what = if e.is_eof() {
                    format!("incomplete JSON at the end of the stream: {e}")
                } else {
                    format!("invalid JSON: {e}")
                };
                // Drop the bad message up to its newline, even if that
                // comes in a later read: one error per bad line, not one
                // per read of it.
                match rest.iter().position(|&b| b == b'\n') {
                    Some(i) => self.start += i + 1,
                    None => {
                        self.start = self.buf.len();
                        self.discarding = !self.eof;
                    }
                }
                self.error(&what, out);
                true
            }
            None => false,
        }
    }

    /// An unfinished message may not grow past the limit: true if it did
    /// (and was answered with an error).
    fn check_length(&mut self, out: &mut Out) -> bool {
        if self.buf.len() - self.start <= self.max {
            return false;
        }
        let message = format!("message longer than {} bytes; discarded", self.max);
        self.error(&message, out);
        out.too_long = Some(self.max);
        // The rest of it, up to its newline, goes too.
        self.discarding = true;
        self.buf.clear();
        self.start = 0;
        true
    }

    fn reply(&mut self, value: Value, bytes: usize, out: &mut Out) {
        if bytes > self.max {
            let message = format!("message longer than {} bytes; discarded", self.max);
            self.error(&message, out);
            out.too_long = Some(self.max);
            return;
        }
        self.seq += 1;
        out.note(format!("message {} ({bytes} bytes) answered", self.seq));
        // Written by hand so "type" comes first (serde_json sorts the keys
        // of a map); `value` prints as compact JSON, on one line.
        out.write(format!(
            "{{\"type\":\"reply\",\"seq\":{},\"received\":{value},\"bytes\":{bytes}}}\n",
            self.seq
        ));
    }

    fn error(&mut self, message: &str, out: &mut Out) {
        out.note(format!("error reply: {message}"));
        let message = Value::String(message.to_string());
        out.write(format!("{{\"type\":\"error\",\"error\":{message}}}\n"));
    }
}

impl Protocol for JsonConn {
    fn holds_partial(&self) -> bool {
        self.discarding
            || self.buf[self.start.min(self.buf.len())..]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
    }

    fn data(&mut self, chunk: &[u8], _out: &mut Out) {
        self.push(chunk);
    }

    fn step<'a>(&'a mut self, out: &'a mut Out) -> Step<'a> {
        done(self.next_message(out))
    }

    fn end(&mut self) {
        self.eof = true;
        if self.discarding {
            self.discarding = false;
            self.buf.clear();
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(conn: &mut JsonConn, out: &mut Out) {
        while conn.next_message(out) {}
    }

    fn replies(conn: &mut JsonConn, chunk: &[u8]) -> Vec<Value> {
        let mut out = Out::default();
        conn.push(chunk);
        answer(conn, &mut out);
        out.writes
            .iter()
            .map(|w| {
                assert_eq!(w.last(), Some(&b'\n'));
                serde_json::from_slice(w).unwrap()
            })
            .collect()
    }

    fn out_text(conn: &mut JsonConn, chunk: &[u8]) -> String {
        let mut out = Out::default();
        conn.push(chunk);
        answer(conn, &mut out);
        String::from_utf8(out.writes.concat()).unwrap()
    }

    #[test]
    fn lines_and_back_to_back_messages_are_answered_in_order() {
        let mut c = JsonConn::new(1000);
        let r = replies(&mut c, b"{\"message\":\"Hello\"}\n[1,2]{\"a\"");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["type"], "reply");
        assert_eq!(r[0]["seq"], 1);
        assert_eq!(r[0]["received"]["message"], "Hello");
        assert_eq!(r[0]["bytes"], 19);
        assert!(out_text(&mut JsonConn::new(100), b"{\"b\":1,\"a\":\"\\n\"}\n")
            .starts_with("{\"type\":\"reply\",\"seq\":1,\"received\":{\"a\":\"\\n\",\"b\":1},\"bytes\":16}\n"));
        assert_eq!(r[1]["received"], json!([1, 2]));
        let r = replies(&mut c, b":1}");
        assert_eq!(r[0]["received"], json!({"a": 1}));
        assert_eq!(r[0]["seq"], 3);
    }

    #[test]
    fn invalid_json_gets_an_error_reply_and_the_connection_goes_on() {
        let mut c = JsonConn::new(1000);
        let r = replies(&mut c, b"hello\n{\"ok\":true}\n");
        assert_eq!(r[0]["type"], "error");
        assert!(r[0]["error"].as_str().unwrap().starts_with("invalid JSON"));
        assert_eq!(r[1]["received"]["ok"], true);
        assert_eq!(r[1]["seq"], 1);
    }

    #[test]
    fn invalid_json_is_dropped_to_its_newline_across_reads() {
        let mut c = JsonConn::new(1000);
        let r = replies(&mut c, b"not json");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["type"], "error");
        assert!(replies(&mut c, b" at all").is_empty());
        assert!(replies(&mut c, &[b'x'; 5000]).is_empty());
        let r = replies(&mut c, b"still not\n{\"ok\":1}\n");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["received"]["ok"], 1);
    }

    #[test]
    fn numbers_wait_for_a_delimiter_or_the_end() {
        let mut c = JsonConn::new(1000);
        assert!(replies(&mut c, b"12").is_empty());
        assert_eq!(replies(&mut c, b"3\n")[0]["received"], 123);
        assert!(replies(&mut c, b"7").is_empty());
        let mut out = Out::default();
        c.end();
        answer(&mut c, &mut out);
        assert_eq!(out.writes.len(), 1);
    }

    #[test]
    fn too_long_messages_are_dropped_to_their_newline() {
        let mut c = JsonConn::new(10);
        let r = replies(&mut c, b"{\"long\":\"aaaaaaaa");
        assert_eq!(r[0]["type"], "error");
        assert!(r[0]["error"].as_str().unwrap().contains("longer than 10"));
        assert!(replies(&mut c, b"aaaaaaaaaa").is_empty());
        let r = replies(&mut c, b"aa\"}\n{\"a\":1}\n");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["received"]["a"], 1);
        // Complete but too long in one read: refused too.
        let r = replies(&mut c, b"\"0123456789abc\"\n");
        assert_eq!(r[0]["type"], "error");
        assert!(c.buf.len() - c.start <= 10);
    }

    #[test]
    fn an_unfinished_message_at_the_end_is_reported() {
        let mut c = JsonConn::new(100);
        assert!(replies(&mut c, b"{\"a\":").is_empty());
        let mut out = Out::default();
        c.end();
        answer(&mut c, &mut out);
        let v: Value = serde_json::from_slice(&out.writes[0]).unwrap();
        assert!(v["error"].as_str().unwrap().starts_with("incomplete JSON"));
    }
}
