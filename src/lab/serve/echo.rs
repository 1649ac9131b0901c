//! `echo`: writes back exactly what it reads, binary included, one write
//! per read (`client.pipe(client)`, seed 004).

use super::protocol::{Out, Protocol, READ_CHUNK};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Echo;

impl Protocol for Echo {
    fn data(&mut self, chunk: &[u8], out: &mut Out) {
        out.write(chunk);
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
    async fn echo_writes_back_each_read_as_it_came() {
        let out = answer(&mut Echo, &[0, 12, 34, 255]).await;
        assert_eq!(out.writes, [vec![0, 12, 34, 255]]);
        assert_eq!(Echo.read_size(10), 10);
        assert_eq!(Echo.read_size(1 << 30), READ_CHUNK);
    }
}
