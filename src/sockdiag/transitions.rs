//! Which process closed or opened which connection, from the kernel's
//! `sock:inet_sock_set_state` tracepoint: the sockets a program's tree
//! uses for less than one sample (a client that connects, writes and
//! closes within 2 ms) are named by the task that changed their state.
//!
//! Only changes made in a task's own context count (a `close()`,
//! `shutdown()`, `connect()`...): one made in a softirq names whatever task
//! the CPU was running. A connection's own `connect()` is no use here (the
//! SYN_SENT change comes before the port is chosen), but its close is.
//!
//! The tracepoint is read through a tracefs instance of its own
//! (`instances/tcplab-PID`), in a child process with a private mount
//! namespace, so a machine without tracefs mounted gets none mounted for
//! all: `unshare --mount` runs [`SCRIPT`]. Root only; without it, or
//! without tracefs, there is no [`Transitions`] and the sampler alone says
//! which sockets are the program's. An instance left by a tcplab that was
//! killed is removed by the next run.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::SocketId;

/// Mounts tracefs if it is not (privately), removes instances whose tcplab
/// is gone, makes this run's, enables the TCP state changes, says `ready`
/// once its reader runs, and passes the events on; on SIGTERM (sent by
/// [`Transitions::stop`], or by the kernel when tcplab dies) it stops the
/// reader, disables and removes the instance.
const SCRIPT: &str = r#"
T=/sys/kernel/tracing
[ -e "$T/instances" ] || mount -t tracefs nodev "$T" 2>/dev/null || exit 1
E=events/sock/inet_sock_set_state
[ -e "$T/$E" ] || exit 1
for d in "$T"/instances/tcplab-*; do
  [ -d "$d" ] || continue
  [ -d "/proc/${d##*-}" ] && continue
  echo 0 > "$d/$E/enable"; rmdir "$d"
done
I="$T/instances/tcplab-$1"
mkdir "$I" || exit 1
P=
end() { [ -n "$P" ] && kill $P 2>/dev/null; wait; echo 0 > "$I/$E/enable"; rmdir "$I"; exit 0; }
trap end TERM INT
echo 1 > "$I/options/record-tgid" 2>/dev/null
echo 'protocol == 6' > "$I/$E/filter" || end
echo 1 > "$I/$E/enable" || end
cat "$I/trace_pipe" &
P=$!
echo ready
wait
end
"#;

/// The tracepoint's reader, from [`Transitions::start`] to
/// [`Transitions::stop`].
pub struct Transitions {
    child: Child,
    reader: Option<JoinHandle<Vec<Change>>>,
}

/// One state change made in a task's own context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The process whose thread made it (its thread group id, recorded
    /// with tracefs's `record-tgid`; the thread's own id where the kernel
    /// has not that option).
    pub pid: u32,
    /// The socket's own end first.
    pub id: SocketId,
}

impl Transitions {
    /// Starts reading state changes; `None` if tracefs or the tracepoint
    /// cannot be had (not root, no tracefs, no `unshare`), or not within
    /// two seconds.
    pub fn start() -> Option<Transitions> {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            SCRIPT,
            "sh",
        ])
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; nothing else runs in the child
        // before exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd.spawn().ok()?;
        let stdout = child.stdout.take()?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let reader = std::thread::Builder::new()
            .name("transitions".into())
            .spawn(move || read(BufReader::new(stdout), ready_tx))
            .ok()?;
        let t = Transitions {
            child,
            reader: Some(reader),
        };
        match ready_rx.recv_timeout(Duration::from_secs(2)) {
            Ok(()) => Some(t),
            Err(_) => {
                t.stop();
                None
            }
        }
    }

    /// Stops reading (the instance is removed) and returns every change.
    pub fn stop(mut self) -> Vec<Change> {
        self.end();
        let reader = self.reader.take();
        reader.and_then(|r| r.join().ok()).unwrap_or_default()
    }

    fn end(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: a plain signal to our own child, not yet reaped.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let _ = self.child.wait();
        }
    }
}

/// Not stopped (the program could not be started): the instance goes too.
impl Drop for Transitions {
    fn drop(&mut self) {
        self.end();
    }
}

fn read(mut out: impl BufRead, ready: mpsc::Sender<()>) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut bytes = Vec::new();
    // Bytes, not a String: a task's name need not be UTF-8, and a reader
    // that stopped at one would leave the script's pipe to break.
    while matches!(out.read_until(b'\n', &mut bytes), Ok(n) if n > 0) {
        let line = String::from_utf8_lossy(&bytes);
        if line.trim_end() == "ready" {
            let _ = ready.send(());
        } else if let Some(c) = parse(&line) {
            changes.push(c);
        }
        bytes.clear();
    }
    changes
}

/// One line of `trace_pipe`, the thread group in brackets when recorded:
/// `node-11417 (  11417) [001] ..... 4351.882203: inet_sock_set_state: family=AF_INET
/// protocol=IPPROTO_TCP sport=50408 dport=3555 saddr=127.0.0.1
/// daddr=127.0.0.1 ... oldstate=TCP_ESTABLISHED newstate=TCP_FIN_WAIT1`;
/// `None` for a change made in an interrupt (flags `..s2.`) or on a socket
/// without both ports yet.
pub fn parse(line: &str) -> Option<Change> {
    let (head, body) = line.split_once(": inet_sock_set_state: ")?;
    // The name may hold " [" or dashes: the CPU's bracket is the last.
    let (task, rest) = head.rsplit_once(" [")?;
    let task = task.trim();
    let tgid = task
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('('))
        .map(|(name, tgid)| (name.trim_end(), tgid.trim().parse::<u32>().ok()));
    let (task, tgid) = tgid.unwrap_or((task, None));
    let tid: u32 = task.rsplit_once('-')?.1.parse().ok()?;
    let flags = rest.split_once(']')?.1.split_whitespace().next()?;
    if flags.len() < 3 || flags.as_bytes()[2] != b'.' {
        return None;
    }
    let field = |key: &str| {
        body.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    };
    let v6 = field("family")? == "AF_INET6";
    let (src, dst) = if v6 {
        ("saddrv6", "daddrv6")
    } else {
        ("saddr", "daddr")
    };
    let addr = |key: &str| field(key)?.parse::<IpAddr>().ok();
    let port = |key: &str| field(key)?.parse::<u16>().ok().filter(|&p| p != 0);
    Some(Change {
        pid: tgid.unwrap_or(tid),
        id: SocketId {
            local: SocketAddr::new(addr(src)?, port("sport")?),
            remote: SocketAddr::new(addr(dst)?, port("dport")?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOSE: &str = "            node-11417   [001] .....  4351.882203: inet_sock_set_state: \
        family=AF_INET protocol=IPPROTO_TCP sport=50408 dport=3555 saddr=127.0.0.1 \
        daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 \
        oldstate=TCP_ESTABLISHED newstate=TCP_FIN_WAIT1\n";

    #[test]
    fn a_close_in_the_tasks_context_names_its_thread_and_ends() {
        let c = parse(CLOSE).unwrap();
        assert_eq!(c.pid, 11417);
        assert_eq!(c.id.local, "127.0.0.1:50408".parse().unwrap());
        assert_eq!(c.id.remote, "127.0.0.1:3555".parse().unwrap());
    }

    #[test]
    fn softirq_changes_and_portless_sockets_name_nobody() {
        assert!(parse(&CLOSE.replace(".....", "..s2.")).is_none());
        assert!(parse(&CLOSE.replace("sport=50408", "sport=0")).is_none());
        let dashed = CLOSE.replace("node-11417", "my-prog-42");
        assert_eq!(parse(&dashed).unwrap().pid, 42);
        // A worker thread of process 1252, its group recorded; a name with
        // " [" in it; a group the kernel did not know.
        let worker = CLOSE.replace("node-11417  ", "worker-thr-1293    (   1252)");
        assert_eq!(parse(&worker).unwrap().pid, 1252);
        let odd = CLOSE.replace("node-11417", "my [x]-y z-22803");
        assert_eq!(parse(&odd).unwrap().pid, 22803);
        let unknown = CLOSE.replace("node-11417  ", "node-11417 (-------)");
        assert_eq!(parse(&unknown).unwrap().pid, 11417);
        let v6 = CLOSE
            .replace("AF_INET ", "AF_INET6 ")
            .replace("saddrv6=::ffff:127.0.0.1", "saddrv6=::1")
            .replace("daddrv6=::ffff:127.0.0.1", "daddrv6=::1");
        assert_eq!(parse(&v6).unwrap().id.local, "[::1]:50408".parse().unwrap());
    }
}
