//! `upper`: seed 003's server,
//! `socket.write(`Echo: ${data.toString().toUpperCase()}`)` for each
//! `'data'` event. Two quick writes read as one get one answer: TCP is a
//! byte stream, not a message stream.

use super::protocol::{Out, Protocol, READ_CHUNK};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Upper;

impl Protocol for Upper {
    fn data(&mut self, chunk: &[u8], out: &mut Out) {
        let mut reply = b"Echo: ".to_vec();
        // Node's toUpperCase on UTF-8 text; invalid UTF-8 is replaced, as
        // data.toString() does.
        reply.extend_from_slice(String::from_utf8_lossy(chunk).to_uppercase().as_bytes());
        out.write(reply);
    }

    /// No framing: a read is as long as a line may be.
    fn read_size(&self, max_line: usize) -> usize {
        max_line.clamp(1, READ_CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::super::protocol::answer;
    use super::*;

    #[tokio::test]
    async fn upper_prefixes_and_uppercases_each_read() {
        let out = answer(&mut Upper, b"Hello, TCP!\n").await;
        assert_eq!(out.writes, [b"Echo: HELLO, TCP!\n".to_vec()]);
    }
}
