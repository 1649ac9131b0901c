//! [`ServeMode`]: the one name of what a server does with the bytes it
//! reads, for `tcplab serve` and for `trace`'s built-in server alike, and
//! [`protocols`], the one place that turns a mode into its [`Protocol`].
//!
//! Adding a mode is a variant here, a line in [`protocols`] and a file
//! implementing [`Protocol`]; the connection loop does not change.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::chat::{ChatConn, ChatHub};
use super::discard::Discard;
use super::echo::Echo;
use super::frames::Frames;
use super::greet::Greet;
use super::json::JsonConn;
use super::kv::KvConn;
use super::limits::Limits;
use super::protocol::{NewProtocol, Protocol};
use super::store::KvStore;
use super::upper::Upper;
use crate::{Error, Result};

/// What a server does. The kv mode's store is not part of its name: the
/// server is given it beside the mode ([`ServeConfig`](super::ServeConfig)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeMode {
    /// Writes back exactly what it reads (`client.pipe(client)`, seed 004).
    Echo,
    /// Replies `Echo: ` + the upper-cased text, one write per read (seed 003).
    Upper,
    /// Writes `Hello from the server!\n` on connect; answers each read with
    /// its text upper-cased, then `QUIT` as a second write (seed 004).
    Greet,
    /// A JSON reply to each JSON message (seed 000).
    Json,
    /// Lines broadcast to the other clients of a channel; /nick, /join, /who.
    Chat,
    /// create/read/update/delete/list, saved atomically to the store's file.
    Kv,
    /// Reads and counts, never replies.
    Discard,
    /// Length-prefixed messages (4-byte big-endian length, then the bytes),
    /// one reply line per whole message (seed 003).
    Frames,
}

impl ServeMode {
    /// The mode's name on the command line and in output.
    pub fn name(&self) -> &'static str {
        match self {
            ServeMode::Echo => "echo",
            ServeMode::Upper => "upper",
            ServeMode::Greet => "greet",
            ServeMode::Json => "json",
            ServeMode::Chat => "chat",
            ServeMode::Kv => "kv",
            ServeMode::Discard => "discard",
            ServeMode::Frames => "frames",
        }
    }

    /// Every mode, in the order help lists them.
    pub const ALL: [ServeMode; 8] = [
        ServeMode::Echo,
        ServeMode::Upper,
        ServeMode::Greet,
        ServeMode::Json,
        ServeMode::Chat,
        ServeMode::Kv,
        ServeMode::Discard,
        ServeMode::Frames,
    ];

    /// One line on what the mode does, for `--help`.
    pub fn about(self) -> &'static str {
        match self {
            ServeMode::Echo => "Writes back exactly what it reads (seed 004, `client.pipe(client)`)",
            ServeMode::Upper => "Replies `Echo: ` + the upper-cased text, one write per read (seed 003)",
            ServeMode::Greet => "Greets, then for each chunk writes it upper-cased and `QUIT` (seed 004)",
            ServeMode::Json => "One JSON object answers each JSON message; bad JSON gets a JSON error (seed 000)",
            ServeMode::Chat => "Lines broadcast to the other clients; /nick, /join, /who (seeds 003, 004)",
            ServeMode::Kv => "A small CRUD store: create, read, update, delete, list; saved atomically",
            ServeMode::Discard => "Reads and counts, never replies",
            ServeMode::Frames => "Length-prefixed messages (4-byte big-endian length, then the bytes): decoded across reads, one reply line per whole message (seed 003)",
        }
    }
}

impl fmt::Display for ServeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ServeMode {
    type Err = String;

    /// A mode by its name (`echo`, `kv`, ...), as the command line gives it.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        ServeMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ServeMode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mode '{s}' (modes: {})", names.join(", "))
            })
    }
}

/// What each mode runs on a connection: the one place that lists them.
/// What a whole server shares (chat's hub, kv's store) is made here, once;
/// the closure makes each connection's protocol from it. `store` is the kv
/// mode's (no other mode reads it).
pub(crate) fn protocols(
    mode: ServeMode,
    store: Option<&KvStore>,
    limits: &Limits,
    escape: bool,
) -> Result<NewProtocol> {
    let max_line = limits.max_line.max(1);
    fn each<P: Protocol + 'static>(f: impl Fn() -> P + Send + Sync + 'static) -> NewProtocol {
        Arc::new(move |_| Box::new(f()))
    }
    Ok(match mode {
        ServeMode::Echo => each(|| Echo),
        ServeMode::Upper => each(|| Upper),
        ServeMode::Greet => each(|| Greet),
        ServeMode::Discard => each(|| Discard),
        ServeMode::Json => each(move || JsonConn::new(max_line)),
        ServeMode::Frames => each(move || Frames::new(max_line)),
        ServeMode::Chat => {
            let hub = Arc::new(ChatHub::new(limits.chat_queue_bytes()).escaping(escape));
            Arc::new(move |id| Box::new(ChatConn::new(hub.clone(), id, max_line)))
        }
        ServeMode::Kv => {
            let Some(store) = store.cloned() else {
                return Err(Error::Usage(
                    "the kv mode needs its store file (tcplab serve kv --data FILE)".into(),
                ));
            };
            each(move || KvConn::new(store.clone(), max_line).escaping(escape))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::protocol::answer;
    use super::*;

    #[test]
    fn names_parse_back_to_their_mode() {
        for mode in ServeMode::ALL {
            assert_eq!(mode.name().parse::<ServeMode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.name());
        }
        let err = "shout".parse::<ServeMode>().unwrap_err();
        assert!(err.contains("shout") && err.contains("echo"), "{err}");
    }

    #[tokio::test]
    async fn each_mode_makes_its_protocol() {
        let limits = Limits::default();
        let make = |mode: ServeMode| protocols(mode, None, &limits, false);
        let upper = make(ServeMode::Upper).unwrap();
        let out = answer(&mut *upper(1), b"hi").await;
        assert_eq!(out.writes, [b"Echo: HI".to_vec()]);
        let json = make(ServeMode::Json).unwrap();
        let out = answer(&mut *json(1), b"{\"a\":1}\n").await;
        assert_eq!(
            out.writes,
            [b"{\"type\":\"reply\",\"seq\":1,\"received\":{\"a\":1},\"bytes\":7}\n".to_vec()]
        );
        // Without a store there is no kv to serve.
        assert!(make(ServeMode::Kv).is_err());
    }
}
