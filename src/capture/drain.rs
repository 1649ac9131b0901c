//! The thread that drains libpcap's ring: it does nothing but copy frames
//! out as fast as the kernel hands them over, in batches, into a bounded
//! queue; decoding, analysis, files and printing happen behind it, on the
//! caller's side. A slow consumer fills the queue before the ring: only
//! when the queue is full (its cap in bytes, [`QUEUE_BYTES`]) does the
//! thread wait, and the kernel drop (and count) what it cannot hold.
//!
//! The handle is non-blocking: the thread reads until libpcap has nothing
//! ready, sends what it read, then sleeps in `poll(2)` on the capture's
//! descriptor and on a wake-up socket that [`Drain::stop`] writes to.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use pcap::{Active, Capture};
use tokio::sync::mpsc;

use crate::values::{CaptureStats, Frame, LinkType, Timestamp, TsPrecision};
use crate::{Error, Result};

/// What the queue holds at most, in frame bytes: past it the thread waits
/// and the ring absorbs the burst (and drops, counted, when full too).
pub const QUEUE_BYTES: usize = 256 << 20;

/// A batch is sent once it holds this many bytes (or frames, below).
const BATCH_BYTES: usize = 4 << 20;
const BATCH_FRAMES: usize = 1024;

/// The bytes of frames queued, which the thread waits on when over
/// [`QUEUE_BYTES`] (the count of batches says nothing: a batch may hold
/// one ACK or 4 MiB).
#[derive(Debug, Default)]
struct Budget {
    queued: Mutex<usize>,
    room: Condvar,
}

impl Budget {
    /// Waits until `bytes` more fit (or nothing is queued), then counts them.
    /// False if the consumer went away meanwhile.
    fn take(&self, bytes: usize, consumer_gone: impl Fn() -> bool) -> bool {
        let mut queued = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        while *queued > 0 && *queued + bytes > QUEUE_BYTES {
            if consumer_gone() {
                return false;
            }
            let wait = self
                .room
                .wait_timeout(queued, std::time::Duration::from_millis(50));
            queued = wait.unwrap_or_else(|p| p.into_inner()).0;
        }
        *queued += bytes;
        true
    }

    fn give_back(&self, bytes: usize) {
        let mut queued = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        *queued = queued.saturating_sub(bytes);
        self.room.notify_one();
    }
}

/// How long the thread sleeps in `poll` when nothing arrives: the kernel
/// hands a part-filled block over after the capture's timeout anyway.
const IDLE_POLL_MS: i32 = 100;

/// Frames read in one go (and their bytes), or why reading stopped.
pub(crate) enum Batch {
    Frames(Vec<Frame>, usize),
    Failed(Error),
}

/// The thread's view of the capture: the handle, and how long the kernel
/// may hold a part-filled block (so a stop waits that long for the last one).
pub(crate) struct Source {
    pub(crate) cap: Capture<Active>,
    pub(crate) link: LinkType,
    pub(crate) interface: String,
    pub(crate) block_timeout_ms: i32,
}

/// How far the consumer is behind the thread, and what the kernel dropped,
/// readable from anywhere (a frame handler that cannot borrow the capture
/// folds rows and says where drops happened).
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    read: AtomicU64,
    handed: AtomicU64,
    /// The kernel's counts (`ps_drop`, `ps_ifdrop`), as of the thread's last batch.
    dropped: AtomicU64,
    if_dropped: AtomicU64,
}

impl Gauge {
    /// Frames the kernel dropped so far (its buffer was full).
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed) + self.0.if_dropped.load(Ordering::Relaxed)
    }

    /// Frames read from the kernel but not handed to the consumer yet.
    pub fn frames(&self) -> u64 {
        let handed = self.0.handed.load(Ordering::Relaxed);
        self.0.read.load(Ordering::Relaxed).saturating_sub(handed)
    }
}

/// The running thread, seen from the consumer.
pub(crate) struct Drain {
    batches: mpsc::UnboundedReceiver<Batch>,
    budget: Arc<Budget>,
    /// The batch being handed out, front first.
    current: std::collections::VecDeque<Frame>,
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
    failed: Option<Error>,
    gauge: Gauge,
}

impl Drain {
    /// Starts the thread on `source` (activated, filtered, non-blocking).
    pub(crate) fn start(source: Source) -> Result<Self> {
        let (wake, woken) =
            UnixStream::pair().map_err(|e| Error::io("capture wake-up socket", e))?;
        woken
            .set_nonblocking(true)
            .map_err(|e| Error::io("capture wake-up socket", e))?;
        let (tx, batches) = mpsc::unbounded_channel();
        let budget = Arc::new(Budget::default());
        let thread_budget = budget.clone();
        let gauge = Gauge::default();
        let thread_gauge = gauge.clone();
        let thread = std::thread::Builder::new()
            .name("tcplab-capture".into())
            .spawn(move || {
                let mut r = Reader {
                    source,
                    tx,
                    woken,
                    gauge: thread_gauge,
                    budget: thread_budget,
                };
                r.run();
            })
            .map_err(|e| Error::io("starting the capture thread", e))?;
        Ok(Drain {
            batches,
            budget,
            current: Default::default(),
            wake,
            thread: Some(thread),
            failed: None,
            gauge,
        })
    }

    /// The next frame, in arrival order; `None` once the thread stopped
    /// and everything it read was handed out.
    pub(crate) async fn next(&mut self) -> Option<Result<Frame>> {
        loop {
            if let Some(f) = self.current.pop_front() {
                self.gauge.0.handed.fetch_add(1, Ordering::Relaxed);
                return Some(Ok(f));
            }
            if let Some(e) = self.failed.take() {
                return Some(Err(e));
            }
            match self.batches.recv().await? {
                Batch::Frames(frames, bytes) => {
                    self.budget.give_back(bytes);
                    self.current = frames.into();
                }
                Batch::Failed(e) => self.failed = Some(e),
            }
        }
    }

    /// What the consumer is behind by, and the kernel's drops.
    pub(crate) fn gauge(&self) -> Gauge {
        self.gauge.clone()
    }

    /// The kernel's counts, as of the thread's last batch.
    pub(crate) fn stats(&self) -> CaptureStats {
        let c = &self.gauge.0;
        CaptureStats {
            dropped: c.dropped.load(Ordering::Relaxed) as u32,
            if_dropped: c.if_dropped.load(Ordering::Relaxed) as u32,
        }
    }

    /// Tells the thread to stop once it has read what the ring holds now.
    /// Frames it read stay available to [`Drain::next`].
    pub(crate) fn stop(&mut self) {
        // A full socket means a wake-up is already pending.
        let _ = self.wake.write(&[1]);
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        self.stop();
        // The thread may be waiting for room in the queue: close it first.
        self.batches.close();
        while self.batches.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread's side.
struct Reader {
    source: Source,
    tx: mpsc::UnboundedSender<Batch>,
    budget: Arc<Budget>,
    woken: UnixStream,
    gauge: Gauge,
}

impl Reader {
    fn run(&mut self) {
        raise_priority();
        loop {
            let stopping = self.wait();
            if stopping {
                // The last block may still be the kernel's: it hands it over
                // after the block timeout. Then what the ring holds is read,
                // so every frame the kernel kept reaches the consumer.
                let ms = 2 * self.source.block_timeout_ms.max(1) as u64;
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            match self.read_ready() {
                Ok(true) if !stopping => {}
                Ok(_) => return,
                Err(e) => {
                    let _ = self.tx.send(Batch::Failed(e));
                    return;
                }
            }
        }
    }

    /// Sleeps until the capture has frames, or a stop; true for a stop.
    fn wait(&mut self) -> bool {
        let mut fds = [
            poll_fd(self.source.cap.as_raw_fd()),
            poll_fd(self.woken.as_raw_fd()),
        ];
        // SAFETY: two valid pollfd entries, their count, a timeout.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, IDLE_POLL_MS) };
        n > 0 && fds[1].revents != 0
    }

    /// Reads every frame libpcap has ready, in batches. False once the
    /// queue's receiver is gone (nobody wants more).
    fn read_ready(&mut self) -> Result<bool> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        loop {
            match self.source.cap.next_packet() {
                Ok(p) => {
                    bytes += p.data.len();
                    batch.push(frame_of(self.source.link, p));
                    if batch.len() >= BATCH_FRAMES || bytes >= BATCH_BYTES {
                        if !self.send(std::mem::take(&mut batch), bytes) {
                            return Ok(false);
                        }
                        bytes = 0;
                    }
                }
                Err(pcap::Error::TimeoutExpired) => break,
                Err(pcap::Error::NoMorePackets) => {
                    self.send(batch, bytes);
                    return Ok(false);
                }
                Err(e) => return Err(super::pcap_error::capture_error(&self.source.interface, e)),
            }
        }
        // (send refreshes the kernel's counts, for an empty batch too.)
        Ok(self.send(batch, bytes))
    }

    /// Queues a batch of `bytes`, once the queue has room for it. False if
    /// the consumer went away.
    fn send(&mut self, batch: Vec<Frame>, bytes: usize) -> bool {
        self.refresh_stats();
        let n = batch.len() as u64;
        if n == 0 {
            return true;
        }
        if !self.budget.take(bytes, || self.tx.is_closed()) {
            return false;
        }
        self.gauge.0.read.fetch_add(n, Ordering::Relaxed);
        self.tx.send(Batch::Frames(batch, bytes)).is_ok()
    }

    fn refresh_stats(&mut self) {
        if let Ok(s) = self.source.cap.stats() {
            let c = &self.gauge.0;
            c.dropped.store(u64::from(s.dropped), Ordering::Relaxed);
            c.if_dropped
                .store(u64::from(s.if_dropped), Ordering::Relaxed);
        }
    }
}

/// Asks the scheduler to run this thread before the rest of the process
/// (and the programs being captured): on two cores, a consumer printing
/// rows and the transfer itself otherwise starve the ring's reader, and
/// the kernel drops. Needs CAP_SYS_NICE (root has it); without it the
/// thread keeps the default priority.
fn raise_priority() {
    // SAFETY: gettid has no arguments; setpriority only reads its three.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, -10);
    }
}

fn poll_fd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn frame_of(link: LinkType, p: pcap::Packet<'_>) -> Frame {
    let h = p.header;
    Frame {
        // With Precision::Nano libpcap stores nanoseconds in tv_usec.
        ts: Timestamp {
            sec: timeval_secs(h.ts.tv_sec),
            nsec: h.ts.tv_usec as u32,
        },
        link,
        precision: TsPrecision::Nano,
        orig_len: h.len,
        data: p.data.to_vec(),
    }
}

/// `tv_sec` is `time_t`: 64 bits here, 32 on some targets.
#[allow(clippy::unnecessary_cast)]
fn timeval_secs(tv_sec: TimeT) -> i64 {
    tv_sec as i64
}

type TimeT = std::os::raw::c_long;
