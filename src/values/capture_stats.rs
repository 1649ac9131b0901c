//! What the kernel says it dropped during a live capture.

/// Packet counts from libpcap at the end of a capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStats {
    /// Packets dropped because the buffer was full.
    pub dropped: u32,
    /// Packets dropped by the interface or driver.
    pub if_dropped: u32,
}
