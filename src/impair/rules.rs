//! What happens to each frame on the impaired path: passed, dropped (on
//! purpose, `--drop N`, or at random, `--loss`), or held back to be sent
//! after the next one (`--reorder`). Pure: the forwarder asks, once per
//! frame in arrival order, so a seed gives the same decisions for the
//! same sequence of frames.

pub use crate::values::Impairment;

/// Which way a frame travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    ToServer,
    ToClient,
}

impl Way {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `--drop N`: the Nth data segment of its direction.
    Chosen(u32),
    /// `--loss`: the random draw.
    Random,
}

/// The decision for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Pass,
    Drop(Why),
    /// Keep it back and send it right after the next frame of its way.
    Hold,
}

/// The TCP facts a decision needs, read from an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub seq: u32,
    pub payload: u32,
    pub flags: u8,
}

const SYN: u8 = 0x02;

impl Meta {
    /// Reads an Ethernet frame holding IPv4 or IPv6 (no extension header)
    /// and TCP; None for anything else.
    pub fn of_frame(frame: &[u8]) -> Option<Meta> {
        let ip = frame.get(14..)?;
        let (tcp, ip_payload) = match u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]) {
            0x0800 if *ip.get(9)? == 6 => {
                let ihl = usize::from(ip[0] & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                (ip.get(ihl..)?, total.checked_sub(ihl)?)
            }
            0x86dd if *ip.get(6)? == 6 => {
                let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                (ip.get(40..)?, len)
            }
            _ => return None,
        };
        let offset = usize::from(tcp.get(12)? >> 4) * 4;
        Some(Meta {
            seq: u32::from_be_bytes(tcp.get(4..8)?.try_into().ok()?),
            payload: u32::try_from(ip_payload.checked_sub(offset)?).ok()?,
            flags: *tcp.get(13)?,
        })
    }
}

/// A small, seedable generator (SplitMix64): the decisions must repeat for
/// a seed, and no distribution beyond uniform is needed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One direction's decisions: its generator and its count of data segments.
#[derive(Debug, Clone)]
pub struct Judge {
    way: Way,
    rng: Rng,
    /// Data segments carrying new bytes so far (retransmissions not counted).
    data_segments: u32,
    /// The end of the highest byte seen, to tell new data from a resend.
    highest_end: Option<u32>,
}

impl Judge {
    pub fn new(way: Way, seed: u64) -> Self {
        // A generator per direction, so the number of ACKs one way does not
        // shift which segments are hit the other way.
        Judge {
            way,
            rng: Rng::new(seed.wrapping_mul(2).wrapping_add(way.index() as u64)),
            data_segments: 0,
            highest_end: None,
        }
    }

    /// Decides one frame's fate. A SYN always passes: a lost SYN costs a
    /// whole second of initial timeout and shows nothing the data does not.
    pub fn judge(&mut self, imp: &Impairment, meta: Option<Meta>) -> Fate {
        let Some(m) = meta else { return Fate::Pass };
        let new_data = m.payload > 0 && self.is_new(m);
        if new_data {
            self.data_segments += 1;
        }
        let (loss_draw, reorder_draw) = (self.rng.next_f64(), self.rng.next_f64());
        if m.flags & SYN != 0 {
            return Fate::Pass;
        }
        let drop_way = if imp.drop_reply {
            Way::ToClient
        } else {
            Way::ToServer
        };
        if new_data && self.way == drop_way && imp.drop.contains(&self.data_segments) {
            return Fate::Drop(Why::Chosen(self.data_segments));
        }
        if loss_draw < imp.loss {
            return Fate::Drop(Why::Random);
        }
        if reorder_draw < imp.reorder {
            return Fate::Hold;
        }
        Fate::Pass
    }

    fn is_new(&mut self, m: Meta) -> bool {
        let end = m.seq.wrapping_add(m.payload);
        let newer = match self.highest_end {
            None => true,
            Some(h) => (end.wrapping_sub(h) as i32) > 0,
        };
        if newer {
            self.highest_end = Some(end);
        }
        newer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(seq: u32, len: u32) -> Option<Meta> {
        Some(Meta {
            seq,
            payload: len,
            flags: 0x18,
        })
    }

    #[test]
    fn drop_counts_new_data_only() {
        let imp = Impairment {
            drop: vec![3],
            ..Default::default()
        };
        let mut j = Judge::new(Way::ToServer, 1);
        assert_eq!(j.judge(&imp, data(1, 100)), Fate::Pass);
        assert_eq!(j.judge(&imp, data(101, 100)), Fate::Pass);
        // An ACK and a resend of segment 2 are not data segment 3.
        assert_eq!(j.judge(&imp, data(201, 0)), Fate::Pass);
        assert_eq!(j.judge(&imp, data(101, 100)), Fate::Pass);
        assert_eq!(j.judge(&imp, data(201, 100)), Fate::Drop(Why::Chosen(3)));
        // Its retransmission passes: dropped once.
        assert_eq!(j.judge(&imp, data(201, 100)), Fate::Pass);
        assert_eq!(j.judge(&imp, data(301, 100)), Fate::Pass);
    }

    #[test]
    fn drop_reply_counts_the_other_way() {
        let imp = Impairment {
            drop: vec![1],
            drop_reply: true,
            ..Default::default()
        };
        let mut to_server = Judge::new(Way::ToServer, 1);
        let mut to_client = Judge::new(Way::ToClient, 1);
        assert_eq!(to_server.judge(&imp, data(1, 5)), Fate::Pass);
        assert_eq!(
            to_client.judge(&imp, data(1, 5)),
            Fate::Drop(Why::Chosen(1))
        );
    }

    #[test]
    fn a_seed_repeats_and_syns_pass() {
        let imp = Impairment {
            loss: 0.5,
            seed: 7,
            ..Default::default()
        };
        let run = || {
            let mut j = Judge::new(Way::ToServer, imp.seed);
            (0..200u32)
                .map(|i| j.judge(&imp, data(i * 10, 10)))
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let lost = a.iter().filter(|f| matches!(f, Fate::Drop(_))).count();
        assert!((70..130).contains(&lost), "{lost} of 200 at 50%");
        let mut j = Judge::new(Way::ToServer, 7);
        let syn = Some(Meta {
            seq: 0,
            payload: 0,
            flags: SYN,
        });
        let all = Impairment {
            loss: 1.0,
            ..Default::default()
        };
        assert_eq!(j.judge(&all, syn), Fate::Pass);
    }

    #[test]
    fn reads_ipv4_and_ipv6_frames() {
        let mut f = vec![0u8; 14 + 20 + 20 + 3];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&43u16.to_be_bytes());
        f[23] = 6;
        f[34 + 4..34 + 8].copy_from_slice(&77u32.to_be_bytes());
        f[34 + 12] = 0x50;
        f[34 + 13] = 0x18;
        assert_eq!(
            Meta::of_frame(&f),
            Some(Meta {
                seq: 77,
                payload: 3,
                flags: 0x18
            })
        );
        let mut g = vec![0u8; 14 + 40 + 20];
        g[12] = 0x86;
        g[13] = 0xdd;
        g[14 + 4..14 + 6].copy_from_slice(&20u16.to_be_bytes());
        g[14 + 6] = 6;
        g[54 + 12] = 0x50;
        g[54 + 13] = 0x10;
        assert_eq!(
            Meta::of_frame(&g),
            Some(Meta {
                seq: 0,
                payload: 0,
                flags: 0x10
            })
        );
        assert_eq!(Meta::of_frame(&f[..20]), None);
    }
}
