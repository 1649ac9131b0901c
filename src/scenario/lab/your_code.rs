//! The your-code lab: a class traces its own program. tcplab runs a Node
//! sender of the seed's kind (seed 002's Buffer [12, 34], which ends once
//! its echo is back) against its own echo server, exactly as a student
//! runs theirs: `tcplab trace --server echo --port N -- node sender.js`.

use std::time::Duration;

use super::facts::count;
use super::{Outcome, Part};
use crate::lab::ServeMode;
use crate::render::ProgramReport;
use crate::scenario::program::{trace_program, ProgramPlan};
use crate::{Error, Result};

/// The sender, carried in the binary and written to a temporary file.
const SENDER: &str = include_str!("../../../tests/data/node/your-sender.js");

pub(super) async fn your_code() -> Result<Outcome> {
    let dir = std::env::temp_dir().join(format!("tcplab-your-code-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("the lab's folder", e))?;
    let file = dir.join("sender.js");
    std::fs::write(&file, SENDER).map_err(|e| Error::io("the lab's sender.js", e))?;
    let port = free_port()?;
    let plan = ProgramPlan {
        command: vec!["node".into(), file.clone().into(), port.to_string().into()],
        timeout: Duration::from_secs(10),
        server: Some((port, ServeMode::Echo)),
        client: None,
        buffer_size: None,
    };
    let traced = trace_program(plan).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (report, capture) = traced.map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Error::Trace(
            "the your-code lab runs Node: install it (Debian: apt install nodejs)".into(),
        ),
        e => e,
    })?;
    drop(capture);
    Ok(outcome(report))
}

/// A port nobody listens on now, for tcplab's echo server.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("a free port", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("a free port", e))
}

fn outcome(r: ProgramReport) -> Outcome {
    let mut out = Outcome::default();
    out.check(
        "the program exited with code 0",
        r.program.exit.exit_code == Some(0),
    );
    out.check("it made one connection", r.connections.len() == 1);
    let Some(c) = r.connections.into_iter().next() else {
        return out;
    };
    let sent: Vec<u8> = c
        .packets
        .iter()
        .filter(|p| p.direction() == Some(crate::flow::Direction::ClientToServer))
        .flat_map(|p| p.payload().to_vec())
        .collect();
    out.check("its two bytes crossed as 0c 22", sent == [12, 34]);
    let kernel = c.kernel.as_ref().and_then(|k| k.client.as_ref());
    out.check(
        "its kernel says it sent 2 bytes",
        kernel.is_some_and(|k| k.bytes_sent == Some(2)),
    );
    out.happened.push(format!(
        "the program printed {}, shown among the segments at the time tcplab read them",
        count(c.lines.len(), "line")
    ));
    out.happened.push(
        "trace your own: sudo tcplab trace --server echo --port 3099 -- node sender.js \
         (or -- node experiment.mjs for a program with its own server)"
            .into(),
    );
    out.parts
        .push(Part::trace("node sender.js against tcplab's echo", c));
    out
}
