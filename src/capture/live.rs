//! Live capture with libpcap, read as a tokio stream.
//!
//! A blocking `next_packet()` never times out on Linux (see LIBPCAP-NOTES), so
//! the handle is put in non-blocking mode and polled through tokio's reactor:
//! the caller can always stop waiting. `open()` returns only after
//! `pcap_activate` and the filter are in place, so every packet sent after it
//! returns is captured.

use futures_util::StreamExt;
use pcap::{Active, Capture, Packet, PacketCodec, PacketStream, Precision};

use crate::values::{CaptureStats, Frame, LinkType, Timestamp, TsPrecision};
use crate::{Error, Result};

/// What to open.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub interface: String,
    /// A BPF program in libpcap's syntax, e.g. `tcp port 47001`.
    pub filter: String,
    pub snaplen: i32,
    /// Kernel buffer size in bytes; immediate mode drops bursts with the default.
    pub buffer_size: i32,
}

impl LiveConfig {
    /// Defaults for a loopback trace: whole frames (libpcap's default snaplen;
    /// loopback frames reach 65,550 bytes with its 65,536 MTU), 8 MiB buffer.
    pub fn new(interface: impl Into<String>, filter: impl Into<String>) -> Self {
        Self {
            interface: interface.into(),
            filter: filter.into(),
            snaplen: 262_144,
            buffer_size: 8 << 20,
        }
    }
}

/// The loopback interface's name (`lo` on Linux).
pub fn loopback_interface() -> String {
    pcap::Device::list()
        .ok()
        .and_then(|devices| devices.into_iter().find(|d| d.flags.is_loopback()))
        .map(|d| d.name)
        .unwrap_or_else(|| "lo".to_string())
}

struct ToFrame(LinkType);

impl PacketCodec for ToFrame {
    type Item = Frame;
    fn decode(&mut self, packet: Packet<'_>) -> Frame {
        let h = packet.header;
        Frame {
            // With Precision::Nano libpcap stores nanoseconds in tv_usec.
            ts: Timestamp {
                sec: timeval_secs(h.ts.tv_sec),
                nsec: h.ts.tv_usec as u32,
            },
            link: self.0,
            precision: TsPrecision::Nano,
            orig_len: h.len,
            data: packet.data.to_vec(),
        }
    }
}

/// An open live capture.
pub struct LiveCapture {
    stream: PacketStream<Active, ToFrame>,
    link: LinkType,
    config: LiveConfig,
}

impl LiveCapture {
    /// Opens the interface with the filter set. Must be called inside a tokio
    /// runtime (the handle registers with its reactor).
    pub fn open(config: LiveConfig) -> Result<Self> {
        let fail = |e: pcap::Error| capture_error(&config.interface, e);
        let mut cap = Capture::from_device(config.interface.as_str())
            .map_err(fail)?
            .immediate_mode(true)
            .snaplen(config.snaplen)
            .buffer_size(config.buffer_size)
            .precision(Precision::Nano)
            .open()
            .map_err(fail)?;
        // A filter libpcap cannot compile is a usage error, as in replay.
        cap.filter(&config.filter, true)
            .map_err(|e| Error::Usage(format!("--filter '{}': {e}", config.filter)))?;
        // A link type tcplab does not decode still yields frames, noted as such.
        let link = LinkType::of_dlt(cap.get_datalink().0 as u32);
        let stream = cap
            .setnonblock()
            .map_err(fail)?
            .stream(ToFrame(link))
            .map_err(fail)?;
        Ok(Self {
            stream,
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

    /// The next frame; `None` only if libpcap ends the stream.
    pub async fn next_frame(&mut self) -> Option<Result<Frame>> {
        let item = self.stream.next().await?;
        Some(item.map_err(|e| capture_error(&self.config.interface, e)))
    }

    /// Drop counts so far. `received` is not reported: on loopback libpcap
    /// counts each packet twice (once per direction of the pseudo-device).
    pub fn stats(&mut self) -> Result<CaptureStats> {
        let s = self
            .stream
            .capture_mut()
            .stats()
            .map_err(|e| capture_error(&self.config.interface, e))?;
        Ok(CaptureStats {
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

/// Turns a libpcap error into ours; a permission failure names the fix.
fn capture_error(interface: &str, e: pcap::Error) -> Error {
    let detail = e.to_string();
    let lower = detail.to_ascii_lowercase();
    if lower.contains("operation not permitted")
        || lower.contains("permission denied")
        || lower.contains("you don't have permission")
    {
        let binary = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "tcplab".to_string());
        Error::NoCapturePermission {
            interface: interface.to_string(),
            detail,
            binary,
        }
    } else {
        Error::Capture {
            interface: interface.to_string(),
            detail,
        }
    }
}

/// `tv_sec` is `time_t`: 64 bits here, 32 on some targets.
#[allow(clippy::unnecessary_cast)]
fn timeval_secs(tv_sec: TimeT) -> i64 {
    tv_sec as i64
}

type TimeT = std::os::raw::c_long;
