//! Where and why a frame stopped decoding.

use std::fmt;

/// The protocol layers tcplab names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Link,
    Ip,
    /// A tunnel's own header (UDP, GRE, VXLAN, Geneve) before the inner packet.
    Tunnel,
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link layer",
            Layer::Ip => "IP header",
            Layer::Tunnel => "tunnel header",
            Layer::Tcp => "TCP header",
        })
    }
}

/// A frame that could not be decoded past `layer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub layer: Layer,
    /// Byte offset in the frame where that layer starts.
    pub offset: usize,
    /// The broken rule, e.g. "needs 20 bytes, 12 available".
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}: {}", self.layer, self.offset, self.reason)
    }
}

impl std::error::Error for DecodeError {}
