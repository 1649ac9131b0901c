//! Which frames on lo were the program's, and its report: a frame is the
//! program's when its two ends are those of a socket its process tree held
//! (either way round); the rest are counted, not shown. The program's
//! frames go through a fresh pipeline, so its connections are streams 0,
//! 1... and its frames are numbered from 1.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use super::child::Line;
use crate::flow::{Packet, Pipeline};
use crate::render::{
    Connection, OutputLine, ProgramInfo, ProgramReport, Sockets, TraceReport, Wire,
};
use crate::scenario::kernel;
use crate::scenario::session::Captured;
use crate::sockdiag::{unmapped, Change, Samples};
use crate::values::{RawFrame, Timestamp};

/// Both ends of a frame: (source, destination).
fn ends(p: &Packet) -> Option<(SocketAddr, SocketAddr)> {
    let (ip, tcp) = (p.ip.as_ref()?, p.tcp.as_ref()?);
    Some((
        SocketAddr::new(ip.src, tcp.src_port),
        SocketAddr::new(ip.dst, tcp.dst_port),
    ))
}

/// tcplab's own sockets in the program's connections: never shown as the
/// program's in the kernel's view.
#[derive(Debug, Default)]
pub struct Own {
    pub server_port: Option<u16>,
    pub client: Option<SocketAddr>,
}

impl Own {
    fn holds(&self, local: SocketAddr) -> bool {
        self.server_port == Some(local.port()) || self.client == Some(local)
    }
}

/// The report of the program's run from what was captured and sampled.
pub fn report(
    captured: Captured,
    samples: &Samples,
    changes: &[Change],
    mut program: ProgramInfo,
    lines: Vec<Line>,
    own: &Own,
) -> ProgramReport {
    // The sockets a sample found, and those a task of the tree changed the
    // state of (closed, mostly) between two samples.
    let by_task = changes
        .iter()
        .filter(|c| samples.pids.contains(&c.pid))
        .map(|c| c.id);
    let ids: BTreeSet<(SocketAddr, SocketAddr)> = samples
        .sockets
        .iter()
        .map(|h| h.id)
        .chain(by_task)
        .map(|id| (unmapped(id.local), unmapped(id.remote)))
        .collect();
    // A connection to a port the program listened on is its server's,
    // even if no sample caught the accepted socket itself; one to the
    // server tcplab ran for it is its client's.
    let mut listened: BTreeSet<u16> = samples.listening_ports().into_iter().collect();
    listened.extend(own.server_port);
    let is_mine = |p: &Packet| {
        ends(p).is_some_and(|(a, b)| {
            ids.contains(&(a, b))
                || ids.contains(&(b, a))
                || listened.contains(&a.port())
                || listened.contains(&b.port())
        })
    };
    let others: BTreeSet<u32> = captured
        .packets
        .iter()
        .filter(|p| !is_mine(p))
        .filter_map(Packet::stream)
        .collect();
    let mut pipeline = Pipeline::new();
    let packets: Vec<Packet> = captured
        .packets
        .iter()
        .filter(|p| is_mine(p))
        .map(|p| {
            pipeline.push(&RawFrame {
                ts: p.ts,
                orig_len: p.frame_len,
                data: &p.data,
                link: p.link,
                precision: p.precision,
            })
        })
        .collect();
    let t0 = packets.first().map(|p| p.ts);
    let who = program.name.clone();
    let since = |ts: Timestamp| t0.map_or(0.0, |t0| ts.secs_since(t0) * 1e3);
    program.output = lines
        .into_iter()
        .map(|(at, stream, line)| {
            let ts = Timestamp::from(at);
            OutputLine {
                t_ms: since(ts),
                ts,
                stream,
                line,
                who: who.clone(),
            }
        })
        .collect();
    let mut connections = connections(&packets, &captured, samples, own, &since);
    place_lines(&mut connections, &program.output);
    ProgramReport {
        program,
        connections,
        packets,
        capture: captured.info,
        others: others.len(),
    }
}

/// One report per stream, in stream order.
fn connections(
    packets: &[Packet],
    captured: &Captured,
    samples: &Samples,
    own: &Own,
    since: &dyn Fn(Timestamp) -> f64,
) -> Vec<TraceReport> {
    let mut streams: BTreeMap<u32, Vec<Packet>> = BTreeMap::new();
    for p in packets {
        if let Some(s) = p.stream() {
            streams.entry(s).or_default().push(p.clone());
        }
    }
    streams
        .into_values()
        .filter_map(|ps| {
            let (client, server) = client_and_server(&ps)?;
            let ends = (client, server);
            let left = kernel::left_at_end(ends);
            let kernel = kernel::view(samples, ends, &left, &|a| own.holds(a), since);
            Some(TraceReport {
                connection: Connection {
                    client: client.into(),
                    server: server.into(),
                    client_seen_by_server: None,
                },
                wire: Wire::of(&ps),
                packets: ps,
                sockets: Sockets::default(),
                capture: captured.info.clone(),
                server_mode: "",
                warning: captured.warning.clone(),
                path: None,
                kernel: Some(kernel),
                lines: Vec::new(),
            })
        })
        .collect()
}

/// The SYN's sender is the client (the first frame's, if no SYN was seen).
pub fn client_and_server(ps: &[Packet]) -> Option<(SocketAddr, SocketAddr)> {
    let syn = ps.iter().find(|p| {
        p.flags().is_some_and(|f| {
            f.contains(crate::decode::Flags::SYN) && !f.contains(crate::decode::Flags::ACK)
        })
    });
    ends(syn.or(ps.first())?)
}

/// Each output line goes to the connection that had begun last when it
/// was printed (the first one for lines before any).
fn place_lines(connections: &mut [TraceReport], output: &[OutputLine]) {
    let starts: Vec<Timestamp> = connections
        .iter()
        .map(|c| c.packets.first().map(|p| p.ts).unwrap_or_default())
        .collect();
    for line in output {
        let i = starts.iter().rposition(|s| *s <= line.ts).unwrap_or(0);
        if let Some(c) = connections.get_mut(i) {
            c.lines.push(line.clone());
        }
    }
}
