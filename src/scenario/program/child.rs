//! Running the user's program: as the invoking user when tcplab runs
//! through sudo (so the files it writes keep their owner), its output read
//! line by line with the time each line came, stopped after `--timeout`.

use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use std::io::{BufRead, BufReader};

use tokio::process::{Child, Command};

use crate::render::ProgramExit;
use crate::values::terminal_safe;
use crate::{Error, Result};

/// A line as read: when, which stream, the text (made safe).
pub type Line = (SystemTime, &'static str, String);

/// The running program and the lines read so far.
pub struct Running {
    child: Child,
    pub pid: u32,
    pub lines: Arc<Mutex<Vec<Line>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// How long a stopped program gets between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(1);

/// Starts `command` with its output piped to tcplab.
pub fn start(command: &[OsString]) -> Result<Running> {
    let (prog, args) = command
        .split_first()
        .ok_or_else(|| Error::Usage("no program after --".into()))?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some((uid, gid)) = invoking_user() {
        cmd.uid(uid).gid(gid);
    }
    // A tcplab that is killed takes the program with it, as --timeout would
    // (set after the uid changes, which would clear it).
    // SAFETY: prctl is async-signal-safe; nothing else runs before exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io(format!("cannot run `{}`", prog.to_string_lossy()), e))?;
    let pid = child.id().unwrap_or(0);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    let pipes = [
        child.stdout.take().and_then(|o| o.into_owned_fd().ok()),
        child.stderr.take().and_then(|e| e.into_owned_fd().ok()),
    ];
    for (fd, name) in pipes.into_iter().zip(["stdout", "stderr"]) {
        if let Some(fd) = fd {
            let into = Arc::clone(&lines);
            readers.push(std::thread::spawn(move || {
                read_lines(fd.into(), name, into)
            }));
        }
    }
    Ok(Running {
        child,
        pid,
        lines,
        readers,
    })
}

/// The user who ran `sudo tcplab`, when tcplab is root through sudo.
fn invoking_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |name: &str| std::env::var(name).ok()?.parse::<u32>().ok();
    match (id("SUDO_UID"), id("SUDO_GID")) {
        (Some(0), _) | (None, _) | (_, None) => None,
        (Some(uid), Some(gid)) => Some((uid, gid)),
    }
}

/// Reads one pipe on a thread of its own, so each line's time is when it
/// came, not when the runtime (busy with the capture) got round to it.
fn read_lines(pipe: std::fs::File, name: &'static str, into: Arc<Mutex<Vec<Line>>>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let at = SystemTime::now();
                let text = String::from_utf8_lossy(&buf);
                let line = terminal_safe(text.trim_end_matches(['\n', '\r'])).into_owned();
                into.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((at, name, line));
            }
        }
    }
}

impl Running {
    /// Waits for the program to end, stopping it after `timeout`; then for
    /// its output to be read to the end.
    pub async fn finish(mut self, timeout: Duration) -> Result<(ProgramExit, Vec<Line>)> {
        let mut timed_out = false;
        let status = match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(s) => s,
            Err(_) => {
                timed_out = true;
                self.stop().await
            }
        }
        .map_err(|e| Error::io("waiting for the program", e))?;
        // The pipes end when the last process holding them does; output
        // held by a child that outlives the program is cut off.
        let until = std::time::Instant::now() + TERM_GRACE;
        while self.readers.iter().any(|r| !r.is_finished()) && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        use std::os::unix::process::ExitStatusExt;
        let exit = ProgramExit {
            exit_code: status.code(),
            signal: status.signal(),
            timed_out,
        };
        let lines = std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()));
        Ok((exit, lines))
    }

    /// SIGTERM, then SIGKILL if it has not ended within [`TERM_GRACE`].
    async fn stop(&mut self) -> std::io::Result<std::process::ExitStatus> {
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: a signal to our own child, whose pid we hold unreaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        match tokio::time::timeout(TERM_GRACE, self.child.wait()).await {
            Ok(s) => s,
            Err(_) => {
                self.child.start_kill()?;
                self.child.wait().await
            }
        }
    }
}
