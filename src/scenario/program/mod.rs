//! `trace -- CMD`: the user's own program traced. The loopback capture
//! (all TCP) opens first, then the program starts; the kernel's sockets of
//! its process tree are sampled through sock_diag from start to exit
//! ([`crate::sockdiag::Sampler`]), which says which connections on lo are
//! the program's. Once it has exited and its connections have closed
//! (bounded by the capture's grace time), its frames go through a fresh
//! pipeline, numbered from 1, one report per connection.

mod child;
mod peers;
mod select;

use std::ffi::OsString;
use std::time::{Duration, Instant};

use super::session::capture_during;
use crate::capture::{loopback_interface, LiveCapture, LiveConfig, BLOCK_TIMEOUT_MS};
use crate::lab::ServeMode;
use crate::render::{ProgramInfo, ProgramReport};
use crate::sockdiag::{Sampler, Transitions};
use crate::Result;

pub use peers::ClientPlan;
pub use select::client_and_server;

/// How often the program's sockets are sampled: a connection that opens
/// and closes between two samples is missed (see docs/kernel-view.md).
pub const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// How long the capture goes on reading after the program has exited.
const LINGER: Duration = Duration::from_millis(5 * BLOCK_TIMEOUT_MS as u64);

/// What to run, and tcplab's part in it.
#[derive(Debug)]
pub struct ProgramPlan {
    pub command: Vec<OsString>,
    pub timeout: Duration,
    /// tcplab's lesson server on 127.0.0.1:port, for a client-only program.
    pub server: Option<(u16, ServeMode)>,
    /// tcplab's client, for a server-only program.
    pub client: Option<ClientPlan>,
    pub buffer_size: Option<usize>,
}

/// Runs and traces the program; returns the report and the open capture
/// (closing it waits for the kernel: the caller prints first).
pub async fn trace_program(plan: ProgramPlan) -> Result<(ProgramReport, LiveCapture)> {
    let mut config = LiveConfig::new(loopback_interface(), "tcp");
    if let Some(bytes) = plan.buffer_size {
        config.buffer_size = bytes;
    }
    let mut cap = LiveCapture::open(config)?;
    let server = match plan.server {
        Some((port, mode)) => Some(peers::OwnServer::start(port, mode).await?),
        None => None,
    };
    // Ready before the program starts, so its first close is seen.
    let transitions = Transitions::start();
    let running = child::start(&plan.command)?;
    let sampler = Sampler::start(running.pid, SAMPLE_EVERY)?;
    let deadline = Instant::now() + plan.timeout;
    let work = async {
        let client = async {
            match &plan.client {
                Some(c) => peers::run_client(c, || sampler.listening(), deadline)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (finished, client) = tokio::join!(running.finish(plan.timeout), client);
        if let Some(s) = server {
            s.stop().await?;
        }
        let finished = finished?;
        // Streams seen so far may all be closed while the last frames are
        // still in the capture's ring (handed over every BLOCK_TIMEOUT_MS):
        // the work lingers so the capture reads them before it settles.
        tokio::time::sleep(LINGER).await;
        Ok((finished, client?))
    };
    let (captured, ((exit, lines), client)) = capture_during(&mut cap, work).await?;
    let own = select::Own {
        server_port: plan.server.map(|(port, _)| port),
        client,
    };
    let samples = sampler.stop();
    let changes = transitions.map(Transitions::stop).unwrap_or_default();
    let program = ProgramInfo {
        command: plan
            .command
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        name: name(&plan.command),
        exit,
        output: Vec::new(),
    };
    let report = select::report(captured, &samples, &changes, program, lines, &own);
    Ok((report, cap))
}

/// The program's name for the prefix of its lines: `node` for
/// `/usr/bin/node sender.js`, `my server` for `"./my server"`.
fn name(command: &[OsString]) -> String {
    let first = command.first().map(std::path::Path::new);
    let name = first.and_then(|p| p.file_name()).unwrap_or_default();
    crate::values::terminal_safe(&name.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_is_the_first_words_file_name_spaces_and_all() {
        let words = |w: &[&str]| w.iter().map(Into::into).collect::<Vec<_>>();
        assert_eq!(super::name(&words(&["/usr/bin/node", "a b.js"])), "node");
        assert_eq!(super::name(&words(&["./my server", "x"])), "my server");
        assert_eq!(super::name(&words(&["a\x1bb"])), "a\\x1bb");
    }
}
