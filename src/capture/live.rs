//! Live capture with libpcap: frames as the kernel hands them over, read
//! by a thread of their own ([`super::drain`]) so that nothing the caller
//! does (decoding, printing, a traced exchange on the same runtime) holds
//! the ring up. `open()` returns only after `pcap_activate` and the filter
//! are in place, so every packet sent after it returns is captured.
//!
//! The ring is libpcap's TPACKET_V3 (not immediate mode): frames are packed
//! by their real size into blocks, where immediate mode's TPACKET_V2 cuts
//! the buffer into fixed slots of a snaplen each, so 8 MiB held about 32 of
//! loopback's 64 KB segments. A block is handed over when full or after
//! [`BLOCK_TIMEOUT_MS`], which bounds how late a quiet frame arrives.

use pcap::{Capture, Precision};

use super::drain::{Drain, Gauge, Source};
use crate::values::{CaptureStats, Frame, LinkType};
use crate::{Error, Result};

/// The kernel buffer when none is asked for (`-B`): room for 1,000 of
/// loopback's 64 KB segments, about 0.1 s of a full-speed transfer (256 MiB
/// took 0.4-0.6 s on the 2-core machine).
pub const DEFAULT_BUFFER: usize = 64 << 20;

/// How long the kernel keeps a part-filled block before handing it over.
pub const BLOCK_TIMEOUT_MS: i32 = 10;

/// What to open.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub interface: String,
    /// A BPF program in libpcap's syntax, e.g. `tcp port 47001`.
    pub filter: String,
    pub snaplen: i32,
    /// Kernel buffer size in bytes (`-B`, given in KiB as tcpdump takes it).
    pub buffer_size: usize,
}

impl LiveConfig {
    /// Whole frames, whatever the interface sends: the interface's MTU
    /// plus its link header, and at least 64 KiB (a receive offload hands
    /// frames up to 64 KiB to the capture on any interface).
    pub fn new(interface: impl Into<String>, filter: impl Into<String>) -> Self {
        let interface = interface.into();
        Self {
            snaplen: default_snaplen(&interface),
            interface,
            filter: filter.into(),
            buffer_size: DEFAULT_BUFFER,
        }
    }
}

/// The snaplen that keeps every frame of `interface` whole.
fn default_snaplen(interface: &str) -> i32 {
    /// Ethernet's header (lo's link type too), the longest link header seen.
    const LINK_HEADER: i32 = 14;
    let mtu = std::fs::read_to_string(format!("/sys/class/net/{interface}/mtu"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .unwrap_or(65_536);
    mtu.clamp(65_536, 262_144 - LINK_HEADER) + LINK_HEADER
}

/// The loopback interface's name (`lo` on Linux).
pub fn loopback_interface() -> String {
    pcap::Device::list()
        .ok()
        .and_then(|devices| devices.into_iter().find(|d| d.flags.is_loopback()))
        .map(|d| d.name)
        .unwrap_or_else(|| "lo".to_string())
}

/// An open live capture, read by its own thread.
pub struct LiveCapture {
    drain: Drain,
    link: LinkType,
    config: LiveConfig,
}

impl LiveCapture {
    /// Opens the interface with the filter set, and starts reading it.
    pub fn open(config: LiveConfig) -> Result<Self> {
        let fail = |e: pcap::Error| super::pcap_error::capture_error(&config.interface, e);
        let buffer = i32::try_from(config.buffer_size).unwrap_or(i32::MAX);
        let mut cap = Capture::from_device(config.interface.as_str())
            .map_err(fail)?
            .immediate_mode(false)
            .timeout(BLOCK_TIMEOUT_MS)
            .snaplen(config.snaplen)
            .buffer_size(buffer)
            .precision(Precision::Nano)
            .open()
            .map_err(fail)?;
        // A filter libpcap cannot compile is a usage error, as in replay.
        cap.filter(&config.filter, true)
            .map_err(|e| Error::Usage(format!("--filter '{}': {e}", config.filter)))?;
        // A link type tcplab does not decode still yields frames, noted as such.
        let link = LinkType::of_dlt(cap.get_datalink().0 as u32);
        let cap = cap.setnonblock().map_err(fail)?;
        let drain = Drain::start(Source {
            cap,
            link,
            interface: config.interface.clone(),
            block_timeout_ms: BLOCK_TIMEOUT_MS,
        })?;
        Ok(Self {
            drain,
            link,
            config,
        })
    }

    /// The interface's link type.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// The next frame; `None` once the capture stopped and every frame it
    /// read was handed out.
    pub async fn next_frame(&mut self) -> Option<Result<Frame>> {
        self.drain.next().await
    }

    /// How far the caller is behind the kernel, and what the kernel
    /// dropped, as a handle that can be read while the capture is borrowed
    /// (by [`super::capture_around`]).
    pub fn gauge(&self) -> Gauge {
        self.drain.gauge()
    }

    /// Stops reading once what the kernel holds now is read; the frames
    /// read stay available to [`LiveCapture::next_frame`].
    pub fn stop(&mut self) {
        self.drain.stop();
    }

    /// Drop counts so far. `received` is not reported: on loopback libpcap
    /// counts each packet twice (once per direction of the pseudo-device).
    pub fn stats(&mut self) -> Result<CaptureStats> {
        Ok(self.drain.stats())
    }
}
