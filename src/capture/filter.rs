//! BPF filters in libpcap's syntax, applied to frames read from files.
//! A program is compiled per link type, when a frame of that type first
//! comes (pcapng files can mix them).

use std::collections::HashMap;

use pcap::{BpfProgram, Capture, Linktype};

use crate::values::LinkType;
use crate::{Error, Result};

/// A compiled filter expression.
pub struct FrameFilter {
    expr: String,
    programs: HashMap<LinkType, BpfProgram>,
}

impl FrameFilter {
    /// Checks the expression once (on Ethernet) so a typo is a usage error
    /// before any output.
    pub fn new(expr: &str) -> Result<Self> {
        let mut f = FrameFilter {
            expr: expr.to_string(),
            programs: HashMap::new(),
        };
        f.program(LinkType::Ethernet)?;
        Ok(f)
    }

    fn program(&mut self, link: LinkType) -> Result<&BpfProgram> {
        if !self.programs.contains_key(&link) {
            // libpcap wants DLT_ values: raw IP is DLT_RAW (12 on Linux).
            let dlt = match link {
                LinkType::Raw => 12,
                other => other.dlt(),
            };
            let usage = |e: pcap::Error| Error::Usage(format!("--filter '{}': {e}", self.expr));
            let dead = Capture::dead(Linktype(dlt as i32)).map_err(usage)?;
            let program = dead.compile(&self.expr, true).map_err(usage)?;
            self.programs.insert(link, program);
        }
        Ok(&self.programs[&link])
    }

    /// True if the frame's bytes match. A link type the expression cannot
    /// apply to (e.g. `ether host` on raw IP) matches nothing.
    pub fn matches(&mut self, link: LinkType, data: &[u8]) -> bool {
        match self.program(link) {
            Ok(p) => p.filter(data),
            Err(_) => false,
        }
    }
}
