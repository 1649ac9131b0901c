//! The kernel's own count of how it recovered: the TCP counters of
//! `/proc/thread-self/net/netstat` and `snmp`, which are per network
//! namespace, so in the impaired path each side's kernel is counted alone.
//! They confirm what the capture suggests (a fast retransmit, a timeout, a
//! tail-loss probe) from the one party that knows.

use std::collections::BTreeMap;

/// The counters tcplab reads, in the kernel's names.
pub const NAMES: &[&str] = &[
    "RetransSegs",
    "TCPFastRetrans",
    "TCPTimeouts",
    "TCPLossProbes",
    "TCPLossProbeRecovery",
    "TCPSackRecovery",
    "TCPSACKReorder",
    "TCPDSACKRecv",
    "TCPSpuriousRTOs",
    "TCPFromZeroWindowAdv",
    "TCPToZeroWindowAdv",
    "TCPWantZeroWindowAdv",
];

/// One kernel's counters, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub BTreeMap<String, u64>);

impl Counters {
    /// Reads the calling thread's namespace's counters.
    pub fn read() -> Counters {
        let mut all = BTreeMap::new();
        for file in ["netstat", "snmp"] {
            if let Ok(text) = std::fs::read_to_string(format!("/proc/thread-self/net/{file}")) {
                parse_into(&text, &mut all);
            }
        }
        all.retain(|k, _| NAMES.contains(&k.as_str()));
        Counters(all)
    }

    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

/// The files hold pairs of lines, `Prefix: name name ...` then
/// `Prefix: value value ...`.
fn parse_into(text: &str, out: &mut BTreeMap<String, u64>) {
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        let [names, values] = pair else { continue };
        let names = names.split_whitespace().skip(1);
        let values = values.split_whitespace().skip(1);
        for (n, v) in names.zip(values) {
            if let Ok(v) = v.parse() {
                out.insert(n.to_string(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_of_lines() {
        let text = "TcpExt: TCPTimeouts TCPLossProbes\nTcpExt: 2 5\n\
                    Tcp: RtoAlgorithm RetransSegs\nTcp: 1 9\n";
        let mut m = BTreeMap::new();
        parse_into(text, &mut m);
        assert_eq!(m["TCPTimeouts"], 2);
        assert_eq!(m["TCPLossProbes"], 5);
        assert_eq!(m["RetransSegs"], 9);
    }
}
