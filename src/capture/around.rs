//! The one live-capture loop: frames as they arrive while some work (an
//! exchange, a lab, a wait for Ctrl-C) runs, until the caller's frame
//! handler says what it saw has settled and the work is done.
//!
//! The capture is already open when the loop starts, so nothing the work
//! sends is missed. The loop knows nothing of TCP: the handler decides
//! when the traffic has settled (for `trace` and `lab`: every stream's
//! teardown acknowledged, or a reset), and the grace time after the work
//! ends is only the fallback.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::LiveCapture;
use crate::values::{Deadline, Frame};
use crate::Result;

/// What the frame handler says after each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// More traffic is expected (a stream is still open).
    Open,
    /// Everything seen so far is finished: stop once the work is done.
    Settled,
    /// Stop now (a frame count reached, the output closed).
    Stop,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The work was done and the traffic settled.
    Settled,
    /// The handler said stop.
    Stopped,
    /// The grace time after the work ran out before the traffic settled.
    Grace,
    /// libpcap ended the capture.
    Closed,
}

/// Captures while `work` runs: each frame goes to `on_frame` in arrival
/// order. Returns why the capture ended and the work's result if it
/// finished; the caller still holds the work, to await it (a trace's
/// exchange) or drop it (a wait for Ctrl-C) when the capture ended first.
pub async fn capture_around<T, W: Future<Output = Result<T>>>(
    cap: &mut LiveCapture,
    mut work: Pin<&mut W>,
    grace: Duration,
    mut on_frame: impl FnMut(Frame) -> Result<Verdict>,
) -> Result<(Option<T>, Ended)> {
    let mut result = None;
    let mut settled = false;
    let mut grace_ends = Deadline::NEVER;
    let ended = loop {
        tokio::select! {
            frame = cap.next_frame() => {
                let Some(frame) = frame else { break Ended::Closed };
                match on_frame(frame?)? {
                    Verdict::Stop => break Ended::Stopped,
                    verdict => settled = verdict == Verdict::Settled,
                }
                if settled && result.is_some() {
                    break Ended::Settled;
                }
            }
            done = work.as_mut(), if result.is_none() => {
                result = Some(done?);
                if settled {
                    break Ended::Settled;
                }
                grace_ends = Deadline::after(grace);
            }
            () = grace_ends.reached(), if grace_ends.is_set() => break Ended::Grace,
        }
    };
    Ok((result, ended))
}
