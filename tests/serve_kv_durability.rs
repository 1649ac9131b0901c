//! `serve kv` loses no acknowledged write, whenever it is killed.
//!
//! Again and again: start the server on the same data file, check the file
//! (it parses, and holds every write that got `OK`), then create, update
//! and delete keys while another thread sends SIGKILL at a random moment
//! (fixed seed, so a failure can be replayed). The one command in flight at
//! the kill may or may not have been applied; anything else is a bug.

mod serve_common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serve_common::{arg, temp_dir, Server};

const SEED: u64 = 0x7c91_5eed_0000_0004;
const ITERATIONS: usize = 100;
/// Iterations stop early past this (a slow disk), after at least 20.
const BUDGET: Duration = Duration::from_secs(25);

type Store = BTreeMap<String, String>;

/// xorshift64*: small, seeded, good enough to pick moments and keys.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A change sent to the server.
#[derive(Debug, Clone)]
enum Op {
    Set(String, String),
    Delete(String),
}

impl Op {
    fn apply(&self, store: &mut Store) {
        match self {
            Op::Set(k, v) => {
                store.insert(k.clone(), v.clone());
            }
            Op::Delete(k) => {
                store.remove(k);
            }
        }
    }
}

fn read_file(path: &std::path::Path) -> Store {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "the data file does not parse ({e}):\n{}",
                String::from_utf8_lossy(&bytes)
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Store::new(),
        Err(e) => panic!("reading the data file: {e}"),
    }
}

#[test]
fn kv_loses_no_acknowledged_write_when_killed_at_any_moment() {
    let dir = temp_dir("kv-durability");
    let data = dir.join("kv.json");
    let mut rng = Rng(SEED);
    // What the file must hold: every acknowledged change...
    let mut acked = Store::new();
    // ...plus, perhaps, the one change in flight when the server died.
    let mut in_flight: Option<Op> = None;
    let (mut oks, mut applied_unacked, mut iterations) = (0usize, 0usize, 0usize);
    let start = Instant::now();
    for iteration in 0..ITERATIONS {
        if start.elapsed() > BUDGET && iteration >= 20 {
            break;
        }
        iterations += 1;

        // The file after the kill: parses, and is the acknowledged state,
        // with or without the change in flight.
        let on_disk = read_file(&data);
        let mut with_it = acked.clone();
        if let Some(op) = &in_flight {
            op.apply(&mut with_it);
        }
        if on_disk == with_it && on_disk != acked {
            applied_unacked += 1;
        } else {
            assert_eq!(
                on_disk, acked,
                "iteration {iteration}: the file lost an acknowledged write \
                 (in flight: {in_flight:?})"
            );
        }
        acked = on_disk;
        in_flight = None;

        let server = Server::start("kv", &["--data", arg(&data)]);
        let loaded = server.wait_log("store: ");
        assert!(
            loaded.contains(&format!("{} key", acked.len())),
            "iteration {iteration}: {loaded}"
        );
        assert!(
            !dir.join(".kv.json.tmp").exists(),
            "a stale temporary file was left"
        );

        let pid = server.child.id().to_string();
        let delay = Duration::from_micros(rng.below(30_000));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .expect("run kill");
        });

        let stream = TcpStream::connect(server.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        for n in 0.. {
            let key = format!("k{}", rng.below(12));
            let op = match (acked.contains_key(&key), rng.below(4)) {
                (true, 0) => Op::Delete(key),
                _ => Op::Set(key, format!("v{iteration}.{n} y{}", "x".repeat(n % 50))),
            };
            let line = match &op {
                Op::Set(k, v) if acked.contains_key(k) => format!("update {k} {v}\n"),
                Op::Set(k, v) => format!("create {k} {v}\n"),
                Op::Delete(k) => format!("delete {k}\n"),
            };
            in_flight = Some(op.clone());
            if writer.write_all(line.as_bytes()).is_err() {
                break;
            }
            let mut reply = String::new();
            match reader.read_line(&mut reply) {
                Ok(_) if reply == "OK\n" => {
                    op.apply(&mut acked);
                    in_flight = None;
                    oks += 1;
                }
                Ok(0) | Err(_) => break,
                Ok(_) => panic!("unexpected reply {reply:?} to {line:?}"),
            }
        }
        killer.join().unwrap();
        drop(server);
    }
    // The last kill is checked too.
    let on_disk = read_file(&data);
    let mut with_it = acked.clone();
    if let Some(op) = &in_flight {
        op.apply(&mut with_it);
    }
    assert!(
        on_disk == acked || on_disk == with_it,
        "the file lost an acknowledged write at the end"
    );
    eprintln!(
        "kv durability: {iterations} kills, {oks} acknowledged writes, {applied_unacked} \
         unacknowledged writes found applied, {:?}",
        start.elapsed()
    );
    assert!(oks > iterations, "too few writes to mean anything: {oks}");
    std::fs::remove_dir_all(&dir).unwrap();
}
