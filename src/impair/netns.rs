//! A thread in a network namespace of its own. Namespaces belong to tasks,
//! not processes: a thread that calls `unshare(CLONE_NEWNET)` moves only
//! itself, and every socket, packet socket and child process it makes
//! belongs to the new namespace, wherever that socket is used later.
//!
//! The namespace has no name (nothing in `/run/netns`): it lives while this
//! thread or a socket made in it lives, and the kernel removes it, with its
//! interfaces, when the last goes, even if tcplab is killed.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

/// The thread, waiting for work to run inside its namespace.
pub struct NsThread {
    name: &'static str,
    tid: libc::pid_t,
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl NsThread {
    /// Starts a thread and moves it into a new network namespace. Fails
    /// with the permission error when the process may not (no CAP_SYS_ADMIN).
    pub fn spawn(name: &'static str) -> Result<Self> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name(format!("netns-{name}"))
            .spawn(move || {
                // SAFETY: plain system calls on this thread only.
                let entered = unsafe {
                    if libc::unshare(libc::CLONE_NEWNET) == 0 {
                        Ok(libc::gettid())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                };
                let ok = entered.is_ok();
                let _ = ready_tx.send(entered);
                if ok {
                    for job in jobs_rx {
                        job();
                    }
                }
            })
            .map_err(|e| Error::io("starting a namespace thread", e))?;
        let tid = match ready_rx.recv() {
            Ok(Ok(tid)) => tid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(no_namespace(e));
            }
            Err(_) => return Err(Error::Trace("the namespace thread died".into())),
        };
        Ok(Self {
            name,
            tid,
            jobs: Some(jobs_tx),
            thread: Some(thread),
        })
    }

    /// The thread's ID, by which `ip link set ... netns` finds the namespace.
    pub fn tid(&self) -> libc::pid_t {
        self.tid
    }

    /// Runs `f` on the thread, inside the namespace, and returns its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        let gone = || Error::Trace(format!("the {} namespace's thread is gone", self.name));
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The error for a process that may not make namespaces: exit 77 with the fix.
fn no_namespace(e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(libc::EPERM) {
        Error::NoImpairPermission {
            detail: e.to_string(),
        }
    } else {
        Error::io("unshare(CLONE_NEWNET)", e)
    }
}
