//! What one sample of `tcplab::sockdiag` costs here, part by part, and a
//! Sampler's own figures over a second: the numbers in the doc comments
//! of `sockdiag::sampler` and in docs/kernel-view.md.
//!
//!     cargo run --release --example sockdiag_cost

use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use tcplab::sockdiag::{socket_inodes_of_tree, Diag, Family, Sampler, SocketId, States};

/// The fastest of 200 runs: the cost without the machine's noise.
fn best(mut f: impl FnMut()) -> Duration {
    (0..200)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() -> tcplab::Result<()> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // A tree of two processes, a shell and a Python client holding a
    // connection to us.
    let code = format!(
        "import socket,time; s=socket.create_connection(('127.0.0.1',{port})); time.sleep(2)"
    );
    let mut sh = Command::new("sh")
        .args(["-c", &format!("python3 -c \"{code}\"; true")])
        .spawn()
        .expect("sh and python3");
    let (_s, peer) = l.accept().unwrap();
    let id = SocketId {
        local: peer,
        remote: l.local_addr().unwrap(),
    };
    let measured = measure(sh.id(), id);
    let _ = sh.wait();
    drop(TcpStream::connect(l.local_addr().unwrap()));
    measured
}

/// Each part of a sample, then a Sampler on `pid`'s tree for a second.
fn measure(pid: u32, id: SocketId) -> tcplab::Result<()> {
    let mut d = Diag::open()?;
    let mut out = Vec::new();
    let mut dump = |f, s| {
        best(|| {
            out.clear();
            d.dump(f, s, &mut out).unwrap();
        })
    };
    println!(
        "dump IPv4, every state:  {:?}",
        dump(Family::Inet, States::ALL)
    );
    println!(
        "dump IPv6, connections:  {:?}",
        dump(Family::Inet6, States::CONNECTIONS)
    );
    println!(
        "dump IPv4, listeners:    {:?}",
        dump(Family::Inet, States::LISTEN)
    );
    println!(
        "lookup by 4-tuple:       {:?}",
        best(|| {
            let _ = d.lookup(id).unwrap();
        })
    );
    println!(
        "the tree's descriptors:  {:?}",
        best(|| drop(socket_inodes_of_tree(pid)))
    );
    let sampler = Sampler::start(pid, Duration::from_millis(2))?;
    std::thread::sleep(Duration::from_secs(1));
    let c = sampler.stop().cost;
    println!(
        "Sampler every 2 ms for 1 s: {} samples, mean {:?}, slowest {:?} (the first, which dumps all)",
        c.samples,
        c.busy / c.samples.max(1) as u32,
        c.slowest
    );
    Ok(())
}
