//! The beginner's arithmetic, spelled out where it is first needed: why the
//! SYN-ACK acknowledges 1, which bytes `seq 1:6` carries, what `ack 6`
//! says, that a FIN takes a sequence number too, what a reset means. Each
//! lesson is told once per direction, so a long transfer is not a wall of
//! notes; TCP analysis findings (retransmissions, duplicate ACKs...) are
//! told wherever they occur, in the timeline's words.

use super::{Arrow, Ladder};
use crate::decode::Flags;
use crate::flow::Packet;
use crate::flow::{Analysis, Phase};
use crate::render::explain;

/// What has been seen and told so far; arrays are indexed by the sending
/// direction (client → server is 0).
#[derive(Debug, Clone, Default)]
pub(super) struct Notes {
    sent_syn: [bool; 2],
    syn_ack_seen: bool,
    handshake_told: bool,
    sent_data: [bool; 2],
    data_told: [bool; 2],
    ack_told: [bool; 2],
    /// The highest ACK each direction sent.
    last_ack: [Option<u32>; 2],
    /// Where each direction's FIN sits (it takes that one number).
    fin_seq: [Option<u32>; 2],
    /// Indexed by the FIN's sender.
    fin_ack_told: [bool; 2],
    half_close_told: bool,
}

impl Notes {
    /// The notes for `arrow`, made from `p`, updating what was told.
    pub(super) fn observe(&mut self, arrow: &Arrow, p: &Packet) -> Vec<String> {
        let d = arrow.direction.index();
        let o = 1 - d;
        let me = Ladder::sender(arrow.direction);
        let peer = if d == 0 { "server" } else { "client" };
        let f = arrow.flags;
        let mut notes = Vec::new();
        let findings = p.findings();
        let resent = findings.flags.contains(Analysis::RETRANSMISSION)
            || findings.flags.contains(Analysis::FAST_RETRANSMISSION)
            || findings.flags.contains(Analysis::SPURIOUS_RETRANSMISSION);

        if f.contains(Flags::RST) {
            if self.sent_syn[o] && !self.syn_ack_seen {
                notes.push(
                    "reset to a SYN: nothing listens on that port (connection refused)".into(),
                );
            } else if self.fin_seq[d].is_some() {
                // The crash lab's dead server: its kernel sent FIN, then
                // refuses what still comes.
                notes.push(format!(
                    "reset: the {me} had sent its FIN and closed; what still comes is refused"
                ));
            } else {
                notes.push("reset: no FIN, the connection is gone".to_string());
            }
        } else if f.contains(Flags::SYN) {
            self.sent_syn[d] = true;
            if f.contains(Flags::ACK) {
                self.syn_ack_seen = true;
                if arrow.ack == Some(1) {
                    notes.push(format!(
                        "ack 1 = {peer}'s ISN + 1: the SYN uses one sequence number"
                    ));
                }
            } else if let (0, Some(raw)) = (arrow.seq, p.tcp.as_ref().map(|t| t.seq)) {
                notes.push(format!("seq 0 is relative: the real ISN is {raw}"));
            }
        } else if arrow.phase == Some(Phase::Handshake(3)) && !self.handshake_told {
            self.handshake_told = true;
            if arrow.ack == Some(1) {
                notes.push(format!("ack 1 = {peer}'s ISN + 1: handshake complete"));
            }
        }

        if arrow.len > 0 && !f.contains(Flags::RST) {
            if self.fin_seq[o].is_some() && self.fin_seq[d].is_none() && !self.half_close_told {
                self.half_close_told = true;
                notes.push(format!(
                    "half-close: the {peer} sent its FIN, the {me} can still send"
                ));
            }
            if !self.data_told[d] && !resent {
                self.data_told[d] = true;
                let first = arrow.seq;
                let last = first.wrapping_add(arrow.len as u32 - 1);
                let next = last.wrapping_add(1);
                notes.push(if arrow.len == 1 {
                    format!("seq {first}:{next} carries byte {first}")
                } else {
                    format!("seq {first}:{next} carries bytes {first} to {last}")
                });
            }
            self.sent_data[d] = true;
        }

        if f.contains(Flags::FIN) && self.fin_seq[d].is_none() {
            self.fin_seq[d] = Some(arrow.seq.wrapping_add(arrow.len as u32));
            notes.push("the FIN uses one sequence number too".to_string());
        }

        if let (Some(ack), false) = (arrow.ack, f.contains(Flags::SYN) || f.contains(Flags::RST)) {
            let advanced = self.last_ack[d].map_or(true, |last| ack > last);
            match self.fin_seq[o] {
                Some(fin) if ack == fin.wrapping_add(1) && !self.fin_ack_told[o] => {
                    self.fin_ack_told[o] = true;
                    notes.push(format!("ack {ack} = the {peer}'s FIN (seq {fin}) + 1"));
                }
                _ if self.sent_data[o] && !self.ack_told[d] && advanced && ack > 1 => {
                    self.ack_told[d] = true;
                    notes.push(format!("ack {ack}: bytes up to {} received", ack - 1));
                }
                _ => {}
            }
            if advanced {
                self.last_ack[d] = Some(ack);
            }
        }

        notes.extend(explain(
            arrow.seq,
            arrow.len as u32,
            arrow.ack.unwrap_or(0),
            &p.findings(),
        ));
        notes
    }
}
