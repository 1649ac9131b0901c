//! What an impaired path is asked to do (`trace --loss/--drop/--delay/
//! --reorder`): read by the command line, obeyed by `impair`'s forwarder.

use std::time::Duration;

/// The impairment asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Impairment {
    /// Probability (0 to 1) that a segment is lost, either way.
    pub loss: f64,
    pub seed: u64,
    /// The data segments to drop once, counted from 1 (`--drop 3,5`).
    pub drop: Vec<u32>,
    /// `--drop` counts the server's data segments instead of the client's.
    pub drop_reply: bool,
    /// Added to each frame, each way.
    pub delay: Duration,
    /// Probability (0 to 1) that a segment is held and sent after the next.
    pub reorder: f64,
}

impl Impairment {
    /// True when the path would change nothing (but for its own namespaces).
    pub fn is_none(&self) -> bool {
        self.loss == 0.0 && self.drop.is_empty() && self.delay.is_zero() && self.reorder == 0.0
    }
}
