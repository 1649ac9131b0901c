//! `serve chat`: the group chat of seeds 003 and 004's challenges, with
//! channels. Every line goes to the OTHER clients in the sender's channel as
//! `nick: text`. Commands: `/nick NAME`, `/join CHANNEL` (default channel
//! `general`), `/who`, `/quit`. Newcomers are `guest1`, `guest2`, ...; joins,
//! leaves and nick changes are announced to the channel as `* ...` lines.
//!
//! Each client has an outgoing queue; a client whose queue holds more than
//! [`Limits::chat_queue_bytes`](super::Limits::chat_queue_bytes) (it is not
//! reading) is dropped, so one slow reader cannot make the server grow
//! without bound or hold up the others.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::events::ConnId;
use super::inbox::{inbox, Inbox, Mailbox};
use super::lines::{Frame, Lines};
use super::protocol::{done, Out, Protocol, Step};
use crate::values::terminal_safe;

/// The channel everyone starts in.
pub const DEFAULT_CHANNEL: &str = "general";

const COMMANDS: &str = "/nick NAME, /join CHANNEL, /who, /quit";
const MAX_NAME: usize = 32;

/// Every chat client, by connection.
#[derive(Debug)]
pub(crate) struct ChatHub {
    rooms: Mutex<Rooms>,
    queue_limit: usize,
    /// Spell out control bytes in messages relayed (`--safe`).
    escape: bool,
}

#[derive(Debug, Default)]
struct Rooms {
    members: BTreeMap<ConnId, Member>,
    guests: u64,
    /// `* NICK left #CHANNEL` lines not announced yet, by channel (see
    /// [`ChatConn::leave`]).
    departures: BTreeMap<String, String>,
}

/// Connection numbers start at 1: a broadcast to everyone excepts this one.
const NOBODY: ConnId = 0;

#[derive(Debug)]
struct Member {
    nick: String,
    channel: String,
    mailbox: Mailbox,
}

impl ChatHub {
    pub(crate) fn new(queue_limit: usize) -> Self {
        ChatHub {
            rooms: Mutex::new(Rooms::default()),
            queue_limit,
            escape: false,
        }
    }

    /// Messages relayed with control bytes spelled out, or as sent (the
    /// default: one client's bytes reach the others' terminals byte for
    /// byte, escape sequences and all). Nicks and channel names need
    /// neither: they are letters, digits, '-', '_' and '.'.
    pub(crate) fn escaping(self, escape: bool) -> Self {
        ChatHub { escape, ..self }
    }

    fn rooms(&self) -> MutexGuard<'_, Rooms> {
        // A panic elsewhere leaves the rooms consistent: every change is one
        // insert or remove.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `text` to everyone in `channel` but `except`, after the
    /// channel's departures not announced yet (so the order is kept).
    fn broadcast(&self, rooms: &mut Rooms, channel: &str, except: ConnId, text: &str) {
        self.announce_departures(rooms, channel);
        self.send_all(rooms, channel, except, text);
    }

    fn announce_departures(&self, rooms: &mut Rooms, channel: &str) {
        if let Some(lines) = rooms.departures.remove(channel) {
            self.send_all(rooms, channel, NOBODY, &lines);
        }
    }

    /// Announces every departure not announced yet, in every channel.
    fn announce_all_departures(&self) {
        let mut rooms = self.rooms();
        let channels: Vec<String> = rooms.departures.keys().cloned().collect();
        for channel in channels {
            self.announce_departures(&mut rooms, &channel);
        }
    }

    /// Sends `text` to everyone in `channel` but `except`; drops (and
    /// announces the leaving of) any that are too far behind.
    fn send_all(&self, rooms: &mut Rooms, channel: &str, except: ConnId, text: &str) {
        let mut pending = vec![(channel.to_string(), except, text.to_string())];
        while let Some((channel, except, text)) = pending.pop() {
            let bytes: Arc<[u8]> = Arc::from(text.as_bytes());
            let mut slow = Vec::new();
            for (&id, m) in rooms.members.iter() {
                if id == except || m.channel != channel {
                    continue;
                }
                if m.mailbox.queued() + bytes.len() > self.queue_limit {
                    slow.push(id);
                    continue;
                }
                m.mailbox.send(bytes.clone());
            }
            for id in slow {
                if let Some(m) = rooms.members.remove(&id) {
                    m.mailbox.kick();
                    pending.push((
                        m.channel.clone(),
                        id,
                        format!("* {} left #{} (too slow)\n", m.nick, m.channel),
                    ));
                }
            }
        }
    }
}

/// One client's side of the chat.
#[derive(Debug)]
pub(crate) struct ChatConn {
    hub: Arc<ChatHub>,
    id: ConnId,
    lines: Lines,
    max_line: usize,
    /// Given to the connection loop by [`Protocol::inbox`].
    inbox: Option<Inbox>,
}

impl ChatConn {
    /// The chat protocol of connection `id`: a guest in the default channel.
    pub(crate) fn new(hub: Arc<ChatHub>, id: ConnId, max_line: usize) -> ChatConn {
        let (mut conn, inbox) = ChatConn::join(hub, id, max_line);
        conn.inbox = Some(inbox);
        conn
    }

    /// Registers connection `id` as the next guest, in the default channel.
    pub(crate) fn join(hub: Arc<ChatHub>, id: ConnId, max_line: usize) -> (ChatConn, Inbox) {
        let (mailbox, inbox) = inbox();
        {
            let mut rooms = hub.rooms();
            let nick = loop {
                rooms.guests += 1;
                let nick = format!("guest{}", rooms.guests);
                if !nick_taken(&rooms, &nick) {
                    break nick;
                }
            };
            rooms.members.insert(
                id,
                Member {
                    nick,
                    channel: DEFAULT_CHANNEL.to_string(),
                    mailbox,
                },
            );
        }
        let conn = ChatConn {
            hub,
            id,
            lines: Lines::new(max_line),
            max_line,
            inbox: None,
        };
        (conn, inbox)
    }

    /// Handles the next line; false when there is none.
    pub(crate) fn next_line(&mut self, out: &mut Out) -> bool {
        match self.lines.next() {
            Some(frame) => {
                self.frame(frame, out);
                true
            }
            None => false,
        }
    }

    fn frame(&mut self, frame: Frame, out: &mut Out) {
        match frame {
            Frame::TooLong => {
                out.too_long = Some(self.max_line);
                out.write(format!(
                    "ERR line longer than {} bytes; discarded\n",
                    self.max_line
                ));
            }
            Frame::Line(bytes) => self.line(&String::from_utf8_lossy(&bytes), out),
        }
    }

    /// One line from the client: a command or a message for the others.
    fn line(&mut self, line: &str, out: &mut Out) {
        if line.trim().is_empty() {
            return;
        }
        let mut rooms = self.hub.rooms();
        let Some(me) = rooms.members.get(&self.id) else {
            return;
        };
        let me = Me {
            id: self.id,
            nick: me.nick.clone(),
            channel: me.channel.clone(),
        };
        let trimmed = line.trim();
        if !trimmed.starts_with('/') {
            let others = count_in(&rooms, &me.channel) - 1;
            out.note(format!(
                "{}: message to {others} in #{}",
                me.nick, me.channel
            ));
            let text = if self.hub.escape {
                format!("{}: {}\n", me.nick, terminal_safe(line))
            } else {
                format!("{}: {line}\n", me.nick)
            };
            self.hub.broadcast(&mut rooms, &me.channel, me.id, &text);
            return;
        }
        let (command, arg) = match trimmed.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (trimmed, ""),
        };
        match command {
            "/nick" => self.nick(&mut rooms, &me, arg, out),
            "/join" => self.join_channel(&mut rooms, &me, arg.trim_start_matches('#'), out),
            "/who" => who(&rooms, &me.channel, out),
            "/quit" => {
                out.write("* bye\n");
                out.close = true;
            }
            "/help" => out.write(format!("* commands: {COMMANDS}\n")),
            _ => out.write(format!(
                "ERR unknown command {command}; commands: {COMMANDS}\n"
            )),
        }
    }

    /// `/nick NAME`: a new name, unique case-insensitively.
    fn nick(&self, rooms: &mut Rooms, me: &Me, to: &str, out: &mut Out) {
        if let Err(e) = check_name(to, "nick") {
            return out.write(format!("ERR {e}\n"));
        }
        if to == me.nick {
            return out.write(format!("* you are {} already\n", me.nick));
        }
        if nick_taken(rooms, to) {
            return out.write(format!("ERR nick {to} is taken\n"));
        }
        if let Some(m) = rooms.members.get_mut(&me.id) {
            m.nick = to.to_string();
        }
        out.write(format!("* you are now {to}\n"));
        out.note(format!("{} is now {to}", me.nick));
        let text = format!("* {} is now {to}\n", me.nick);
        self.hub.broadcast(rooms, &me.channel, me.id, &text);
    }

    /// `/join CHANNEL`: leave one channel (telling it) for another.
    fn join_channel(&self, rooms: &mut Rooms, me: &Me, to: &str, out: &mut Out) {
        let (nick, channel) = (&me.nick, &me.channel);
        if let Err(e) = check_name(to, "channel") {
            return out.write(format!("ERR {e}\n"));
        }
        if to == channel {
            return out.write(format!("* you are in #{channel} already\n"));
        }
        let text = format!("* {nick} left #{channel}\n");
        self.hub.broadcast(rooms, channel, me.id, &text);
        if let Some(m) = rooms.members.get_mut(&me.id) {
            m.channel = to.to_string();
        }
        let here = count_in(rooms, to);
        out.write(format!(
            "* you left #{channel} and joined #{to} ({here} here)\n"
        ));
        out.note(format!("{nick} left #{channel}, joined #{to}"));
        self.hub
            .broadcast(rooms, to, me.id, &format!("* {nick} joined #{to}\n"));
    }

    /// The client is gone: tell its channel (unless the hub dropped it
    /// already, and said so).
    ///
    /// The news waits for the connection tasks already woken to run: when
    /// 2,000 clients drop at once (a loop killed with Ctrl-C), their leaves
    /// go out as one message per member that stays, not as 2,000 x 2,000
    /// messages, most of them to clients that are leaving too, while new
    /// clients wait their turn.
    pub(crate) fn leave(&mut self) {
        let mut rooms = self.hub.rooms();
        let Some(me) = rooms.members.remove(&self.id) else {
            return;
        };
        // The first departure of a burst schedules the announcement.
        let schedule = rooms.departures.is_empty();
        rooms
            .departures
            .entry(me.channel.clone())
            .or_default()
            .push_str(&format!("* {} left #{}\n", me.nick, me.channel));
        drop(rooms);
        if schedule {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let hub = self.hub.clone();
                    runtime.spawn(async move { hub.announce_all_departures() });
                }
                Err(_) => self.hub.announce_all_departures(),
            }
        }
    }
}

/// Who is speaking: the sender as the rooms knew it when its line arrived.
struct Me {
    id: ConnId,
    nick: String,
    channel: String,
}

impl Protocol for ChatConn {
    fn holds_partial(&self) -> bool {
        self.lines.partial()
    }

    /// Welcomes the newcomer and tells its channel.
    fn open(&mut self, out: &mut Out) {
        let mut rooms = self.hub.rooms();
        let Some(me) = rooms.members.get(&self.id) else {
            return;
        };
        let (nick, channel) = (me.nick.clone(), me.channel.clone());
        let here = count_in(&rooms, &channel);
        out.write(format!(
            "* welcome, {nick}: you are in #{channel} ({here} here); commands: {COMMANDS}\n"
        ));
        out.note(format!("{nick} joined #{channel}"));
        let text = format!("* {nick} joined #{channel}\n");
        self.hub.broadcast(&mut rooms, &channel, self.id, &text);
    }

    /// Keeps a read's bytes; [`step`](Protocol::step) handles its lines.
    fn data(&mut self, chunk: &[u8], _out: &mut Out) {
        self.lines.push(chunk);
    }

    fn step<'a>(&'a mut self, out: &'a mut Out) -> Step<'a> {
        done(self.next_line(out))
    }

    fn end(&mut self) {
        self.lines.end();
    }

    fn close(&mut self) {
        self.leave();
    }

    fn inbox(&mut self) -> Option<Inbox> {
        self.inbox.take()
    }

    fn shutdown_notice(&self) -> Option<&'static [u8]> {
        Some(b"* server shutting down\n")
    }
}

/// `/who`: the nicks in `channel`, sorted.
fn who(rooms: &Rooms, channel: &str, out: &mut Out) {
    let mut nicks: Vec<&str> = rooms
        .members
        .values()
        .filter(|m| m.channel == channel)
        .map(|m| m.nick.as_str())
        .collect();
    nicks.sort_unstable();
    out.write(format!(
        "* in #{channel} ({}): {}\n",
        nicks.len(),
        nicks.join(", ")
    ));
}

fn nick_taken(rooms: &Rooms, nick: &str) -> bool {
    rooms
        .members
        .values()
        .any(|m| m.nick.eq_ignore_ascii_case(nick))
}

fn count_in(rooms: &Rooms, channel: &str) -> usize {
    rooms
        .members
        .values()
        .filter(|m| m.channel == channel)
        .count()
}

/// Nicks and channels: 1 to 32 letters, digits, `-`, `_` or `.`.
fn check_name(name: &str, what: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a {what} is 1 to {MAX_NAME} letters, digits, '-', '_' or '.' (usage: /{} NAME)",
            if what == "nick" { "nick" } else { "join" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(out: &Out) -> String {
        out.writes
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    fn said(conn: &mut ChatConn, line: &str) -> String {
        let mut out = Out::default();
        conn.data(format!("{line}\n").as_bytes(), &mut out);
        while conn.next_line(&mut out) {}
        text(&out)
    }

    fn drain(inbox: &mut Inbox) -> String {
        let mut s = String::new();
        while let Some(m) = inbox.try_recv() {
            inbox.sent(m.len());
            s.push_str(&String::from_utf8_lossy(&m));
        }
        s
    }

    #[test]
    fn lines_go_to_the_others_in_the_channel_only() {
        let hub = Arc::new(ChatHub::new(1 << 20));
        let (mut a, mut ia) = ChatConn::join(hub.clone(), 1, 100);
        let (mut b, mut ib) = ChatConn::join(hub.clone(), 2, 100);
        let (mut c, mut ic) = ChatConn::join(hub.clone(), 3, 100);
        let mut out = Out::default();
        a.open(&mut out);
        assert!(text(&out).starts_with("* welcome, guest1: you are in #general (3 here)"));
        assert_eq!(drain(&mut ib), "* guest1 joined #general\n");
        drain(&mut ic);
        assert_eq!(said(&mut a, "/nick alice"), "* you are now alice\n");
        assert_eq!(drain(&mut ib), "* guest1 is now alice\n");
        assert_eq!(drain(&mut ic), "* guest1 is now alice\n");
        assert_eq!(said(&mut b, "/nick ALICE"), "ERR nick ALICE is taken\n");
        assert_eq!(
            said(&mut c, "/join #rust"),
            "* you left #general and joined #rust (1 here)\n"
        );
        assert_eq!(said(&mut a, "hello"), "");
        assert_eq!(drain(&mut ib), "* guest3 left #general\nalice: hello\n");
        assert_eq!(drain(&mut ic), "");
        assert_eq!(drain(&mut ia), "* guest3 left #general\n");
        assert_eq!(said(&mut b, "/who"), "* in #general (2): alice, guest2\n");
        assert!(said(&mut b, "/dance").starts_with("ERR unknown command /dance"));
        b.leave();
        assert_eq!(drain(&mut ia), "* guest2 left #general\n");
        let mut out = Out::default();
        c.data(b"/quit\nnot sent\n", &mut out);
        assert!(c.next_line(&mut out));
        assert!(out.close);
        assert_eq!(text(&out), "* bye\n");
    }

    #[tokio::test]
    async fn leaves_in_a_burst_are_announced_together_and_in_order() {
        let hub = Arc::new(ChatHub::new(1 << 20));
        let (mut a, _) = ChatConn::join(hub.clone(), 1, 100);
        let (mut b, _) = ChatConn::join(hub.clone(), 2, 100);
        let (mut c, mut ic) = ChatConn::join(hub.clone(), 3, 100);
        a.leave();
        b.leave();
        assert!(ic.try_recv().is_none(), "announced before the burst ended");
        tokio::task::yield_now().await;
        let m = ic.try_recv().unwrap();
        assert_eq!(&m[..], b"* guest1 left #general\n* guest2 left #general\n");
        // A departure not announced yet goes out before the next line.
        let (_e, mut ie) = ChatConn::join(hub.clone(), 4, 100);
        let (mut d, _) = ChatConn::join(hub.clone(), 5, 100);
        d.leave();
        said(&mut c, "hello");
        assert_eq!(drain(&mut ie), "* guest5 left #general\nguest3: hello\n");
        assert_eq!(drain(&mut ic), "* guest5 left #general\n");
        tokio::task::yield_now().await;
        assert!(ic.try_recv().is_none(), "announced twice");
        assert!(ie.try_recv().is_none(), "announced twice");
    }

    #[test]
    fn a_client_that_does_not_read_is_dropped() {
        let hub = Arc::new(ChatHub::new(100));
        let (mut a, _ia) = ChatConn::join(hub.clone(), 1, 1000);
        let (_b, ib) = ChatConn::join(hub.clone(), 2, 1000);
        for _ in 0..10 {
            said(&mut a, "0123456789012345678901234567890123456789");
        }
        assert!(*ib.kicked.borrow());
        assert_eq!(count_in(&hub.rooms(), DEFAULT_CHANNEL), 1);
    }
}
