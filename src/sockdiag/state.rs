//! The kernel's TCP states (`include/net/tcp_states.h`), named as RFC 9293
//! §3.3.2 names them, so the kernel's view reads in the words of the wire's.

use serde::{Serialize, Serializer};

/// A socket's state as the kernel keeps it.
///
/// Linux adds two states the RFC has no word for: [`TcpState::NewSynRecv`],
/// the request socket that stands for a passive connection between the SYN
/// and the handshake's last ACK (the RFC's SYN-RECEIVED; the full socket's
/// [`TcpState::SynRecv`] is seen only with Fast Open), and
/// [`TcpState::Close`], which the RFC calls CLOSED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    /// A number this kernel added after tcplab was written.
    Unknown(u8),
}

impl TcpState {
    /// The state of the kernel's number (`TCP_ESTABLISHED` = 1 ...).
    pub fn from_kernel(n: u8) -> TcpState {
        use TcpState::*;
        match n {
            1 => Established,
            2 => SynSent,
            3 => SynRecv,
            4 => FinWait1,
            5 => FinWait2,
            6 => TimeWait,
            7 => Close,
            8 => CloseWait,
            9 => LastAck,
            10 => Listen,
            11 => Closing,
            12 => NewSynRecv,
            n => Unknown(n),
        }
    }

    /// The RFC 9293 name (`ESTABLISHED`, `FIN_WAIT_1`...), which is also
    /// how the state serializes. Both kinds of half-open passive socket are
    /// `SYN_RECEIVED`; a number unknown to tcplab is `UNKNOWN`.
    pub fn name(self) -> &'static str {
        use TcpState::*;
        match self {
            Established => "ESTABLISHED",
            SynSent => "SYN_SENT",
            SynRecv | NewSynRecv => "SYN_RECEIVED",
            FinWait1 => "FIN_WAIT_1",
            FinWait2 => "FIN_WAIT_2",
            TimeWait => "TIME_WAIT",
            Close => "CLOSED",
            CloseWait => "CLOSE_WAIT",
            LastAck => "LAST_ACK",
            Listen => "LISTEN",
            Closing => "CLOSING",
            Unknown(_) => "UNKNOWN",
        }
    }

    /// The name `ss` prints (iproute2's `sstate_name`), to compare with it.
    pub fn ss_name(self) -> &'static str {
        use TcpState::*;
        match self {
            Established => "ESTAB",
            SynSent => "SYN-SENT",
            SynRecv | NewSynRecv => "SYN-RECV",
            FinWait1 => "FIN-WAIT-1",
            FinWait2 => "FIN-WAIT-2",
            TimeWait => "TIME-WAIT",
            Close => "UNCONN",
            CloseWait => "CLOSE-WAIT",
            LastAck => "LAST-ACK",
            Listen => "LISTEN",
            Closing => "CLOSING",
            Unknown(_) => "UNKNOWN",
        }
    }
}

impl Serialize for TcpState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for TcpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_number_has_its_name() {
        let names: Vec<&str> = (1..=12).map(|n| TcpState::from_kernel(n).name()).collect();
        assert_eq!(
            names,
            [
                "ESTABLISHED",
                "SYN_SENT",
                "SYN_RECEIVED",
                "FIN_WAIT_1",
                "FIN_WAIT_2",
                "TIME_WAIT",
                "CLOSED",
                "CLOSE_WAIT",
                "LAST_ACK",
                "LISTEN",
                "CLOSING",
                "SYN_RECEIVED"
            ]
        );
        assert_eq!(TcpState::from_kernel(0), TcpState::Unknown(0));
        assert_eq!(TcpState::from_kernel(13).name(), "UNKNOWN");
    }

    #[test]
    fn serializes_as_its_name() {
        let json = serde_json::to_string(&TcpState::FinWait2).unwrap();
        assert_eq!(json, "\"FIN_WAIT_2\"");
    }
}
