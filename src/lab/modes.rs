//! What a lesson server does with the bytes it reads.

/// The traced server's behaviour (seeds 002-004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServerMode {
    /// Writes back exactly what it reads (`client.pipe(client)`, seed 004).
    Echo,
    /// Replies `Echo: ` + the upper-cased text, one write per read (seed 003).
    Upper,
    /// Reads and counts, never replies.
    Discard,
}

impl ServerMode {
    /// The reply to one read, or `None` for no write.
    pub fn reply(self, data: &[u8]) -> Option<Vec<u8>> {
        match self {
            ServerMode::Echo => Some(data.to_vec()),
            ServerMode::Upper => {
                let mut out = b"Echo: ".to_vec();
                // Node's toUpperCase on UTF-8 text; invalid UTF-8 is replaced, as
                // data.toString() does.
                out.extend_from_slice(String::from_utf8_lossy(data).to_uppercase().as_bytes());
                Some(out)
            }
            ServerMode::Discard => None,
        }
    }

    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            ServerMode::Echo => "echo",
            ServerMode::Upper => "upper",
            ServerMode::Discard => "discard",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_prefixes_and_uppercases() {
        assert_eq!(
            ServerMode::Upper.reply(b"Hello, TCP!\n").unwrap(),
            b"Echo: HELLO, TCP!\n"
        );
        assert_eq!(ServerMode::Echo.reply(&[12, 34]).unwrap(), [12, 34]);
        assert_eq!(ServerMode::Discard.reply(b"x"), None);
    }
}
