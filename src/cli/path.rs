//! `trace`'s impaired-path flags: loss, chosen drops, delay, reordering, and
//! which end the capture watches. Any of them runs the exchange through
//! network namespaces joined by tcplab's forwarder (root only).

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::values::Impairment;

/// The flags as clap reads them.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Impaired path (root: namespaces and a forwarder of tcplab's)")]
pub struct PathArgs {
    /// Lose this percentage of segments at random, both ways (SYNs never).
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub loss: Option<f64>,

    /// Seed of --loss and --reorder: the same seed makes the same decisions.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Drop the Nth (and Mth...) data segment client → server, once each
    /// (counted from 1; retransmissions are not counted).
    #[arg(long, value_name = "N[,M...]", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..))]
    pub drop: Vec<u32>,

    /// --drop counts the server's data segments (server → client) instead.
    #[arg(long, requires = "drop")]
    pub drop_reply: bool,

    /// Delay every frame by MS milliseconds each way (the RTT becomes about 2 × MS).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub delay: Option<u64>,

    /// Hold back this percentage of segments and send each after the next one.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub reorder: Option<f64>,

    /// Which end the capture watches: the client's (the sender's view: a
    /// dropped segment and its resend both show) or the server's (a drop
    /// is a gap).
    #[arg(long, value_enum, value_name = "END")]
    pub capture_at: Option<CaptureEnd>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureEnd {
    Client,
    Server,
}

/// The validated path: fractions, not percentages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TracePath {
    pub impairment: Impairment,
    pub capture_at_server: bool,
}

impl PathArgs {
    /// None when no path flag was given: the plain loopback trace.
    pub fn path(&self) -> Option<TracePath> {
        let any = self.loss.is_some()
            || !self.drop.is_empty()
            || self.delay.is_some()
            || self.reorder.is_some()
            || self.capture_at.is_some();
        any.then(|| TracePath {
            impairment: Impairment {
                loss: self.loss.unwrap_or(0.0) / 100.0,
                seed: self.seed,
                drop: self.drop.clone(),
                drop_reply: self.drop_reply,
                delay: Duration::from_millis(self.delay.unwrap_or(0)),
                reorder: self.reorder.unwrap_or(0.0) / 100.0,
            },
            capture_at_server: self.capture_at == Some(CaptureEnd::Server),
        })
    }
}

fn percent(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a percentage from 0 to 100")),
    }
}
