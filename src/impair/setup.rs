//! The path's interfaces, made with iproute2's `ip` and `ethtool`, run from
//! inside each namespace's thread (a child process starts in its parent
//! thread's namespace):
//!
//! ```text
//!   client ns            middle ns (the forwarder)          server ns
//!   c0 10.0.0.1 ─veth─ mc ═══ AF_PACKET copy loop ═══ ms ─veth─ s0 10.0.0.2
//! ```
//!
//! The forwarder is a bridge, not a router: each end's permanent neighbour
//! entry names the other end's MAC, so frames cross unchanged (the capture
//! on either end sees the very bytes the forwarder handled) and no end asks
//! for the other's address (no ARP, no IPv6 neighbour solicitation of the
//! peer). A link coming up still makes its kernel send a few IPv6 frames of
//! its own, multicast listener reports and the duplicate-address check of
//! its link-local address, which the forwarder passes and counts apart
//! (`Log::not_tcp`). Offloads are off on the ends, so
//! each segment is one real Ethernet frame of at most 1514 bytes with its
//! real checksum (a veth frame with transmit offload carries a partial
//! checksum, which the far end would reject once copied as plain bytes).

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use super::netns::NsThread;
use crate::{Error, Result};

/// One end's interface name, MAC and address.
#[derive(Debug, Clone, Copy)]
pub struct End {
    pub ifname: &'static str,
    pub mac: [u8; 6],
    pub addr: IpAddr,
}

/// The fixed, locally administered MACs: the same in every run.
pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// The middle's interfaces, facing the client and the server.
pub const MIDDLE_CLIENT: &str = "mc";
pub const MIDDLE_SERVER: &str = "ms";

pub fn mac_text(mac: &[u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// Makes both veth pairs in the middle namespace and moves each outer end
/// into its side's namespace.
pub fn make_links(middle: &NsThread, client: &NsThread, server: &NsThread) -> Result<()> {
    let (c, s) = (client.tid(), server.tid());
    let script = format!(
        "link add c0 address {cm} mtu 1500 type veth peer name {mc} mtu 1500\n\
         link add s0 address {sm} mtu 1500 type veth peer name {ms} mtu 1500\n\
         link set c0 netns {c}\n\
         link set s0 netns {s}\n\
         link set {mc} up\n\
         link set {ms} up\n",
        cm = mac_text(&CLIENT_MAC),
        sm = mac_text(&SERVER_MAC),
        mc = MIDDLE_CLIENT,
        ms = MIDDLE_SERVER,
    );
    middle.run(move || ip_batch(&script))??;
    Ok(())
}

/// Gives `end` its address, brings it up with offloads off, and points it
/// at `peer` with a permanent neighbour entry.
pub fn configure_end(ns: &NsThread, end: End, peer: End) -> Result<()> {
    let (prefix, dad) = match end.addr {
        IpAddr::V4(_) => (24, ""),
        // No duplicate address detection: the address is usable at once.
        IpAddr::V6(_) => (64, " nodad"),
    };
    let script = format!(
        "link set lo up\n\
         addr add {addr}/{prefix} dev {dev}{dad}\n\
         link set {dev} up\n\
         neigh replace {peer_addr} lladdr {peer_mac} dev {dev} nud permanent\n",
        addr = end.addr,
        dev = end.ifname,
        peer_addr = peer.addr,
        peer_mac = mac_text(&peer.mac),
    );
    let dev = end.ifname;
    ns.run(move || {
        ip_batch(&script)?;
        offloads_off(dev)
    })??;
    Ok(())
}

/// Runs `ip -batch -` with `script` on stdin.
fn ip_batch(script: &str) -> Result<()> {
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| missing_tool("ip", "iproute2", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| Error::io("writing to ip -batch", e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("waiting for ip", e))?;
    checked("ip -batch", &out)
}

fn offloads_off(dev: &str) -> Result<()> {
    let out = Command::new("ethtool")
        .args([
            "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| missing_tool("ethtool", "ethtool", e))?;
    checked("ethtool -K", &out)
}

fn checked(what: &str, out: &std::process::Output) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(Error::Trace(format!(
        "setting up the impaired path: {what} failed: {}",
        err.trim()
    )))
}

fn missing_tool(tool: &str, package: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Trace(format!(
            "the impaired path needs `{tool}` (Debian: sudo apt install {package})"
        ))
    } else {
        Error::io(format!("running {tool}"), e)
    }
}
