//! The chunk-based modes: `echo`, `upper`, `greet` and `discard` answer each
//! read as it comes, with no framing, exactly as the lessons' Node servers
//! answer each `'data'` event. Their only length limit is the read buffer.

use super::conn::Out;
use crate::lab::ServerMode;

/// What the seed 004 greeting server writes when a client connects.
pub const GREETING: &str = "Hello from the server!\n";

/// What the seed 004 greeting server writes after each upper-cased reply.
pub const QUIT: &str = "QUIT";

/// A chunk-based mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunked {
    /// `client.pipe(client)` (seed 004).
    Echo,
    /// `socket.write(`Echo: ${data.toString().toUpperCase()}`)` (seed 003).
    Upper,
    /// Greets; answers each read with the text upper-cased, then `QUIT` as a
    /// second write (seed 004).
    Greet,
    /// Reads and counts.
    Discard,
}

impl Chunked {
    /// Writes when the connection opens.
    pub(crate) fn open(self, out: &mut Out) {
        if self == Chunked::Greet {
            out.write(GREETING);
        }
    }

    /// The writes answering one read, each a separate `write` as in the
    /// lesson (so seed 004's client can see `QUIT` alone, or not).
    pub(crate) fn data(self, chunk: &[u8], out: &mut Out) {
        let reply = |mode: ServerMode| mode.reply(chunk);
        match self {
            Chunked::Echo => out.extend(reply(ServerMode::Echo)),
            Chunked::Upper => out.extend(reply(ServerMode::Upper)),
            Chunked::Discard => out.extend(reply(ServerMode::Discard)),
            Chunked::Greet => {
                // buf.toString().toUpperCase(): invalid UTF-8 becomes U+FFFD.
                out.write(String::from_utf8_lossy(chunk).to_uppercase());
                out.write(QUIT);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(mode: Chunked, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Out::default();
        mode.data(chunk, &mut out);
        out.writes
    }

    #[test]
    fn each_mode_answers_a_read_as_its_lesson_does() {
        assert_eq!(
            writes(Chunked::Echo, &[0, 12, 34, 255]),
            [vec![0, 12, 34, 255]]
        );
        assert_eq!(writes(Chunked::Upper, b"Hi\n"), [b"Echo: HI\n".to_vec()]);
        assert_eq!(
            writes(Chunked::Greet, b"Hello from the client!\n"),
            [b"HELLO FROM THE CLIENT!\n".to_vec(), b"QUIT".to_vec()]
        );
        assert!(writes(Chunked::Discard, b"x").is_empty());
        let mut out = Out::default();
        Chunked::Greet.open(&mut out);
        assert_eq!(out.writes, [GREETING.as_bytes().to_vec()]);
    }
}
