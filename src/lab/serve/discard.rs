//! `discard`: reads and counts, never answers; the `close` event says how
//! many bytes came. Useful to watch a sender's segments and window without
//! replies in the way.

use super::protocol::{Out, Protocol, READ_CHUNK};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Discard;

impl Protocol for Discard {
    fn data(&mut self, _chunk: &[u8], _out: &mut Out) {}

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
    async fn discard_never_answers() {
        assert!(answer(&mut Discard, b"x").await.writes.is_empty());
    }
}
