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
    /// One JSON reply per JSON line (seed 000); bad JSON gets a JSON error.
    Json,
    /// Length-prefixed messages (4-byte big-endian length, then the bytes):
    /// decoded across reads, one reply line per whole message (seed 003).
    Frames,
}

/// A server's state across reads: bytes of an unfinished line or message.
#[derive(Debug, Default, Clone)]
pub struct Pending {
    buf: Vec<u8>,
    /// Whole messages or lines seen so far.
    pub messages: u32,
}

/// Length of the frame header in `Frames` mode.
pub const FRAME_HEADER: usize = 4;

/// Encodes one length-prefixed message as `Frames` mode reads it.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = (message.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

impl ServerMode {
    /// The writes answering one read: one per read for echo and upper, one
    /// per complete line (json) or message (frames); `pending` keeps what
    /// is not complete yet.
    pub fn replies(self, pending: &mut Pending, data: &[u8]) -> Vec<Vec<u8>> {
        match self {
            ServerMode::Json => {
                pending.buf.extend_from_slice(data);
                let mut out = Vec::new();
                while let Some(end) = pending.buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.buf.drain(..=end).collect();
                    pending.messages += 1;
                    let reply = match serde_json::from_slice::<serde_json::Value>(&line) {
                        Ok(v) => {
                            serde_json::json!({"type": "reply", "seq": pending.messages, "received": v})
                        }
                        Err(e) => serde_json::json!({"type": "error", "error": e.to_string()}),
                    };
                    let mut bytes = reply.to_string().into_bytes();
                    bytes.push(b'\n');
                    out.push(bytes);
                }
                out
            }
            ServerMode::Frames => {
                pending.buf.extend_from_slice(data);
                let mut out = Vec::new();
                while pending.buf.len() >= FRAME_HEADER {
                    let len = u32::from_be_bytes([
                        pending.buf[0],
                        pending.buf[1],
                        pending.buf[2],
                        pending.buf[3],
                    ]) as usize;
                    if pending.buf.len() < FRAME_HEADER + len {
                        break;
                    }
                    let msg: Vec<u8> = pending
                        .buf
                        .drain(..FRAME_HEADER + len)
                        .skip(FRAME_HEADER)
                        .collect();
                    pending.messages += 1;
                    out.push(
                        format!(
                            "message {}: {} bytes: {}\n",
                            pending.messages,
                            len,
                            String::from_utf8_lossy(&msg)
                        )
                        .into_bytes(),
                    );
                }
                out
            }
            other => other.reply(data).into_iter().collect(),
        }
    }

    /// The reply to one read, or `None` for no write (chunk modes).
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
            // Line and frame modes answer through `replies`.
            ServerMode::Json | ServerMode::Frames => None,
        }
    }

    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            ServerMode::Echo => "echo",
            ServerMode::Upper => "upper",
            ServerMode::Discard => "discard",
            ServerMode::Json => "json",
            ServerMode::Frames => "frames",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_decoded_across_reads() {
        let mut p = Pending::default();
        let mut bytes = frame(b"hello");
        bytes.extend(frame(b"TCP"));
        let (a, b) = bytes.split_at(7);
        assert!(ServerMode::Frames.replies(&mut p, a).is_empty());
        let out = ServerMode::Frames.replies(&mut p, b);
        assert_eq!(
            out,
            [
                b"message 1: 5 bytes: hello\n".to_vec(),
                b"message 2: 3 bytes: TCP\n".to_vec()
            ]
        );
    }

    #[test]
    fn json_lines_get_json_replies() {
        let mut p = Pending::default();
        let out = ServerMode::Json.replies(&mut p, b"{\"a\":1}\nnot json\n");
        assert_eq!(out.len(), 2);
        assert!(String::from_utf8_lossy(&out[0]).contains("\"received\":{\"a\":1}"));
        assert!(String::from_utf8_lossy(&out[1]).contains("\"type\":\"error\""));
    }

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
