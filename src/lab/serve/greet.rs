//! `greet`: seed 004's second example. The server greets on connect; for
//! each read it writes the text upper-cased, then `QUIT` as a second write,
//! so the lesson's client may see `QUIT` alone, or not (the two writes are
//! there, their boundary is not).

use super::protocol::{Out, Protocol, READ_CHUNK};

/// What the seed 004 greeting server writes when a client connects.
pub const GREETING: &str = "Hello from the server!\n";

/// What the seed 004 greeting server writes after each upper-cased reply.
pub const QUIT: &str = "QUIT";

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Greet;

impl Protocol for Greet {
    fn open(&mut self, out: &mut Out) {
        out.write(GREETING);
    }

    fn data(&mut self, chunk: &[u8], out: &mut Out) {
        // buf.toString().toUpperCase(): invalid UTF-8 becomes U+FFFD.
        out.write(String::from_utf8_lossy(chunk).to_uppercase());
        out.write(QUIT);
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
    async fn greet_greets_then_answers_in_two_writes() {
        let mut out = Out::default();
        Greet.open(&mut out);
        assert_eq!(out.writes, [GREETING.as_bytes().to_vec()]);
        let out = answer(&mut Greet, b"Hello from the client!\n").await;
        assert_eq!(
            out.writes,
            [b"HELLO FROM THE CLIENT!\n".to_vec(), b"QUIT".to_vec()]
        );
    }
}
