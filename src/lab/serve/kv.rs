//! `serve kv`: the mini CRUD database of seed 004's last challenge, with a
//! chat-command interface. One command per line, one reply per command:
//!
//! | command | reply |
//! | --- | --- |
//! | `create KEY VALUE` | `OK`, or `ERR KEY exists (use update)` |
//! | `read KEY` | `OK VALUE`, or `ERR no such key: KEY` |
//! | `update KEY VALUE` | `OK`, or `ERR no such key: KEY (use create)` |
//! | `delete KEY` | `OK`, or `ERR no such key: KEY` |
//! | `list` | one `  KEY = VALUE` line per entry, then `OK N keys` |
//! | `help` | the commands |
//!
//! Commands are case-insensitive; a key is one word (no spaces); a value is
//! the rest of the line. `OK` to a change means it is on disk (see
//! [`store`](super::store)).

use std::borrow::Cow;
use std::ops::Bound;
use std::sync::Arc;

use super::lines::{Frame, Lines};
use super::protocol::{Body, Out, Protocol, Step};
use super::store::{Entries, KvStore, Refused, MAX_KEY};
use crate::values::terminal_safe;

const USAGE: &str = "create KEY VALUE, read KEY, update KEY VALUE, delete KEY, list";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command<'a> {
    Create(&'a str, &'a str),
    Read(&'a str),
    Update(&'a str, &'a str),
    Delete(&'a str),
    List,
    Help,
}

/// Parses one line; `Ok(None)` for a blank line, `Err` with the reply text.
pub(crate) fn parse(line: &str) -> Result<Option<Command<'_>>, String> {
    let line = line.trim_start();
    if line.trim().is_empty() {
        return Ok(None);
    }
    let (word, rest) = split_word(line);
    let (key, value) = split_word(rest);
    let value = value.trim_end();
    let need_key = |usage: &str| -> Result<(), String> {
        if key.is_empty() {
            return Err(format!("usage: {usage}"));
        }
        if key.len() > MAX_KEY {
            return Err(format!("a key is at most {MAX_KEY} bytes"));
        }
        Ok(())
    };
    let command = match word.to_ascii_lowercase().as_str() {
        "create" | "update" => {
            let create = word.eq_ignore_ascii_case("create");
            let usage = if create {
                "create KEY VALUE"
            } else {
                "update KEY VALUE"
            };
            need_key(usage)?;
            if value.is_empty() {
                return Err(format!("usage: {usage}"));
            }
            if create {
                Command::Create(key, value)
            } else {
                Command::Update(key, value)
            }
        }
        "read" | "delete" => {
            let read = word.eq_ignore_ascii_case("read");
            need_key(if read { "read KEY" } else { "delete KEY" })?;
            if !value.is_empty() {
                return Err(format!(
                    "a key is one word; usage: {} KEY",
                    if read { "read" } else { "delete" }
                ));
            }
            if read {
                Command::Read(key)
            } else {
                Command::Delete(key)
            }
        }
        "list" => Command::List,
        "help" => Command::Help,
        _ => return Err(format!("unknown command '{word}'; commands: {USAGE}")),
    };
    Ok(Some(command))
}

/// The first word and the rest after the whitespace that follows it.
fn split_word(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// `list`'s reply, made a piece of about [`LIST_PIECE`] bytes at a time
/// from a snapshot of the store, then `OK N keys`: a thousand clients
/// listing a 1 MiB store and reading slowly share one snapshot and hold a
/// piece each, not a copy of the whole reply each.
struct ListBody {
    entries: Arc<Entries>,
    /// The last key written; the next piece starts after it.
    after: Option<String>,
    done: bool,
    /// Keys and values with control bytes spelled out.
    escape: bool,
}

/// About how many bytes one piece of a `list` reply holds.
const LIST_PIECE: usize = 16 * 1024;

impl Iterator for ListBody {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let mut piece = Vec::with_capacity(LIST_PIECE + 512);
        let rest = match &self.after {
            Some(k) => self
                .entries
                .range::<str, _>((Bound::Excluded(k.as_str()), Bound::Unbounded)),
            None => self.entries.range::<str, _>(..),
        };
        let mut last = None;
        for (k, v) in rest {
            let (ks, vs) = (shown(k, self.escape), shown(v, self.escape));
            piece.extend_from_slice(format!("  {ks} = {vs}\n").as_bytes());
            last = Some(k);
            if piece.len() >= LIST_PIECE {
                break;
            }
        }
        match last {
            Some(k) if piece.len() >= LIST_PIECE => self.after = Some(k.clone()),
            _ => {
                let n = self.entries.len();
                let s = if n == 1 { "" } else { "s" };
                piece.extend_from_slice(format!("OK {n} key{s}\n").as_bytes());
                self.done = true;
            }
        }
        Some(piece)
    }
}

/// How a key or value from a client is shown to a client: as stored, or
/// with control bytes spelled out (`serve kv --safe`).
fn shown(text: &str, escape: bool) -> Cow<'_, str> {
    if escape {
        terminal_safe(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// Runs one command against the store: what to write back, and a line for
/// the log. With `escape`, keys and values in replies are escaped.
pub(crate) async fn execute(
    store: &KvStore,
    command: Command<'_>,
    escape: bool,
    out: &mut Out,
) -> String {
    let change = |what: String, result: Result<(), Refused>| match result {
        Ok(()) => ("OK\n".to_string(), format!("{what} -> OK (saved)")),
        Err(Refused::Rule(r)) => (format!("ERR {r}\n"), format!("{what} -> ERR {r}")),
        Err(Refused::Save(e)) => (
            format!("ERR could not save, nothing changed: {e}\n"),
            format!("{what} -> ERR could not save: {e}"),
        ),
    };
    let (reply, note) = match command {
        Command::Create(k, v) => {
            let r = store
                .write(|e| {
                    if e.contains_key(k) {
                        return Err(format!("{} exists (use update)", shown(k, escape)));
                    }
                    e.insert(k.to_string(), v.to_string());
                    Ok(())
                })
                .await;
            change(format!("create {k}"), r)
        }
        Command::Update(k, v) => {
            let r = store
                .write(|e| match e.get_mut(k) {
                    Some(old) => {
                        *old = v.to_string();
                        Ok(())
                    }
                    None => Err(format!("no such key: {} (use create)", shown(k, escape))),
                })
                .await;
            change(format!("update {k}"), r)
        }
        Command::Delete(k) => {
            let r = store
                .write(|e| match e.remove(k) {
                    Some(_) => Ok(()),
                    None => Err(format!("no such key: {}", shown(k, escape))),
                })
                .await;
            change(format!("delete {k}"), r)
        }
        Command::Read(k) => match store.read(|e| e.get(k).cloned()).await {
            Some(v) => (
                format!("OK {}\n", shown(&v, escape)),
                format!("read {k} -> OK"),
            ),
            None => (
                format!("ERR no such key: {}\n", shown(k, escape)),
                format!("read {k} -> ERR no such key"),
            ),
        },
        Command::List => {
            let entries = store.snapshot().await;
            let n = entries.len();
            let s = if n == 1 { "" } else { "s" };
            out.body = Some(Body(Box::new(ListBody {
                entries,
                after: None,
                done: false,
                escape,
            })));
            (String::new(), format!("list -> {n} key{s}"))
        }
        Command::Help => (format!("OK commands: {USAGE}\n"), "help".to_string()),
    };
    if !reply.is_empty() {
        out.write(reply);
    }
    note
}

/// One connection's unfinished line.
#[derive(Debug)]
pub(crate) struct KvConn {
    store: KvStore,
    lines: Lines,
    max_line: usize,
    /// Escape keys and values in replies (`--safe`).
    escape: bool,
}

impl KvConn {
    pub(crate) fn new(store: KvStore, max_line: usize) -> Self {
        KvConn {
            store,
            lines: Lines::new(max_line),
            max_line,
            escape: false,
        }
    }

    /// Keys and values in replies with control bytes spelled out, or as
    /// stored (the default: what one client stored reaches the next byte
    /// for byte).
    pub(crate) fn escaping(self, escape: bool) -> Self {
        KvConn { escape, ..self }
    }

    async fn frame(&mut self, frame: Frame, out: &mut Out) {
        let line = match frame {
            Frame::TooLong => {
                out.too_long = Some(self.max_line);
                return out.write(format!(
                    "ERR line longer than {} bytes; discarded\n",
                    self.max_line
                ));
            }
            Frame::Line(bytes) => bytes,
        };
        let Ok(line) = std::str::from_utf8(&line) else {
            return out.write("ERR not UTF-8 text\n");
        };
        match parse(line) {
            Ok(None) => {}
            Ok(Some(command)) => {
                let note = execute(&self.store, command, self.escape, out).await;
                out.note(note);
            }
            Err(e) => {
                out.note(format!("ERR {e}"));
                out.write(format!("ERR {e}\n"));
            }
        }
    }
}

impl Protocol for KvConn {
    fn holds_partial(&self) -> bool {
        self.lines.partial()
    }

    /// Keeps a read's bytes; [`step`](Protocol::step) runs its commands.
    fn data(&mut self, chunk: &[u8], _out: &mut Out) {
        self.lines.push(chunk);
    }

    /// Runs the next command; false when there is none. One at a time, so
    /// each reply is written (and each change saved) before the next runs.
    fn step<'a>(&'a mut self, out: &'a mut Out) -> Step<'a> {
        Box::pin(async move {
            match self.lines.next() {
                Some(frame) => {
                    self.frame(frame, out).await;
                    true
                }
                None => false,
            }
        })
    }

    /// The peer ended: an unfinished last line is still a command.
    fn end(&mut self) {
        self.lines.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_values_that_keep_their_spaces() {
        assert_eq!(
            parse("create greeting hello  there ").unwrap(),
            Some(Command::Create("greeting", "hello  there"))
        );
        assert_eq!(
            parse("READ greeting").unwrap(),
            Some(Command::Read("greeting"))
        );
        assert_eq!(
            parse("update k v").unwrap(),
            Some(Command::Update("k", "v"))
        );
        assert_eq!(parse("delete k").unwrap(), Some(Command::Delete("k")));
        assert_eq!(parse(" list ").unwrap(), Some(Command::List));
        assert_eq!(parse("   ").unwrap(), None);
        assert_eq!(parse("create k").unwrap_err(), "usage: create KEY VALUE");
        assert_eq!(parse("read").unwrap_err(), "usage: read KEY");
        assert!(parse("read a b").unwrap_err().contains("one word"));
        assert!(parse("drop k")
            .unwrap_err()
            .starts_with("unknown command 'drop'"));
        assert!(parse(&format!("read {}", "k".repeat(300))).is_err());
    }
}
