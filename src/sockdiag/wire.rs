//! The bytes of sock_diag: the `inet_diag_req_v2` request and the
//! `inet_diag_msg` answers (`linux/inet_diag.h`), read by byte offset.
//!
//! Netlink headers are in the host's byte order, ports and addresses in the
//! network's. Every read is checked against the length the message
//! declares, so a short or damaged answer is skipped or an error, never
//! read past.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::state::TcpState;
use super::tcp_info::TcpInfo;
use super::{SockInfo, SocketId};
use crate::{Error, Result};

/// Byte ranges of the netlink and inet_diag structures.
pub mod field {
    use std::ops::Range;

    /// `struct nlmsghdr`.
    pub const NL_LEN: Range<usize> = 0..4;
    pub const NL_TYPE: Range<usize> = 4..6;
    pub const NL_FLAGS: Range<usize> = 6..8;
    pub const NL_SEQ: Range<usize> = 8..12;
    pub const NL_HDR_LEN: usize = 16;

    /// `struct inet_diag_req_v2`, after the netlink header.
    pub const REQ_FAMILY: usize = 0;
    pub const REQ_PROTOCOL: usize = 1;
    pub const REQ_EXT: usize = 2;
    pub const REQ_STATES: Range<usize> = 4..8;
    /// Its `struct inet_diag_sockid` (as the message's below, moved by 4).
    pub const REQ_ID: usize = 8;
    pub const REQ_LEN: usize = 56;

    /// `struct inet_diag_sockid`, from its start.
    pub const ID_SPORT: Range<usize> = 0..2;
    pub const ID_DPORT: Range<usize> = 2..4;
    pub const ID_SRC: Range<usize> = 4..20;
    pub const ID_DST: Range<usize> = 20..36;
    pub const ID_COOKIE: Range<usize> = 40..48;

    /// `struct inet_diag_msg`, after the netlink header.
    pub const MSG_FAMILY: usize = 0;
    pub const MSG_STATE: usize = 1;
    pub const MSG_ID: usize = 4;
    pub const MSG_RQUEUE: Range<usize> = 56..60;
    pub const MSG_WQUEUE: Range<usize> = 60..64;
    pub const MSG_UID: Range<usize> = 64..68;
    pub const MSG_INODE: Range<usize> = 68..72;
    /// Where the attributes (`struct rtattr`, 4-byte aligned) begin.
    pub const MSG_LEN: usize = 72;

    /// `struct rtattr`: length (header included) and type.
    pub const RTA_LEN: Range<usize> = 0..2;
    pub const RTA_TYPE: Range<usize> = 2..4;
    pub const RTA_HDR_LEN: usize = 4;
}

/// `SOCK_DIAG_BY_FAMILY` (`linux/sock_diag.h`), which libc does not name.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// The `INET_DIAG_INFO` attribute: the socket's `struct tcp_info`.
const INET_DIAG_INFO: u16 = 2;
/// `INET_DIAG_NOCOOKIE`: a lookup that does not ask for one socket object.
const NO_COOKIE: [u8; 8] = [0xFF; 8];

/// The address family a request asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    /// The family of the socket that has these addresses: an IPv6 socket's
    /// IPv4-mapped addresses are still IPv6.
    pub fn of(a: SocketAddr) -> Family {
        match a {
            SocketAddr::V4(_) => Family::Inet,
            SocketAddr::V6(_) => Family::Inet6,
        }
    }

    /// 0 for IPv4, 1 for IPv6: an index of per-family arrays.
    pub fn index(self) -> usize {
        match self {
            Family::Inet => 0,
            Family::Inet6 => 1,
        }
    }

    fn number(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }
}

/// The states a dump asks for, bit n for the kernel's state n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct States(pub u32);

impl States {
    /// States 1 to 12, ESTABLISHED to NEW_SYN_RECV, as `ss -a` asks. Not
    /// Linux 6.8's BOUND_INACTIVE (13): it walks the bind table as well,
    /// a quarter more time for sockets that are neither connected nor
    /// listening.
    pub const ALL: States = States(0x1FFE);
    /// Listeners only: the kernel then skips its table of connections,
    /// which costs 150 times less here.
    pub const LISTEN: States = States(1 << 10);
    /// Every state but LISTEN.
    pub const CONNECTIONS: States = States(0x1FFE & !(1 << 10));
}

/// A request of `family`'s TCP sockets with their TCP_INFO: a dump of
/// `states`, or (with `id`) the one socket with those ends.
pub fn request(
    family: Family,
    states: States,
    id: Option<SocketId>,
    seq: u32,
) -> [u8; field::NL_HDR_LEN + field::REQ_LEN] {
    use field::*;
    let mut b = [0u8; NL_HDR_LEN + REQ_LEN];
    b[NL_LEN].copy_from_slice(&((NL_HDR_LEN + REQ_LEN) as u32).to_ne_bytes());
    b[NL_TYPE].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let dump = if id.is_none() { libc::NLM_F_DUMP } else { 0 };
    b[NL_FLAGS].copy_from_slice(&((libc::NLM_F_REQUEST | dump) as u16).to_ne_bytes());
    b[NL_SEQ].copy_from_slice(&seq.to_ne_bytes());
    let r = &mut b[NL_HDR_LEN..];
    r[REQ_FAMILY] = family.number();
    r[REQ_PROTOCOL] = libc::IPPROTO_TCP as u8;
    // The extension bits are numbered from 1: bit (n - 1) asks for attribute n.
    r[REQ_EXT] = 1 << (INET_DIAG_INFO - 1);
    r[REQ_STATES].copy_from_slice(&states.0.to_ne_bytes());
    if let Some(id) = id {
        let s = &mut r[REQ_ID..];
        s[ID_SPORT].copy_from_slice(&id.local.port().to_be_bytes());
        s[ID_DPORT].copy_from_slice(&id.remote.port().to_be_bytes());
        put_ip(&mut s[ID_SRC], id.local.ip());
        put_ip(&mut s[ID_DST], id.remote.ip());
        s[ID_COOKIE].copy_from_slice(&NO_COOKIE);
    }
    b
}

/// An address as `inet_diag_sockid` holds it: IPv4 in the first 4 bytes.
fn put_ip(to: &mut [u8], ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => to[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => to.copy_from_slice(&v6.octets()),
    }
}

/// How a datagram of answers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// More datagrams follow (a dump not yet done).
    More,
    /// `NLMSG_DONE`, or a lookup's one answer.
    Done,
    /// `NLMSG_ERROR` with this errno (positive; `ENOENT`: no such socket).
    Errno(i32),
}

/// Reads one datagram of netlink messages into `out`. A dump ends with
/// `NLMSG_DONE`; a lookup (`dump` false) with its one answer. Messages of
/// another sequence number are not ours and are passed over.
pub fn read_batch(mut b: &[u8], seq: u32, dump: bool, out: &mut Vec<SockInfo>) -> Result<End> {
    use field::*;
    while b.len() >= NL_HDR_LEN {
        let len = u32::from_ne_bytes(b[NL_LEN].try_into().unwrap_or_default()) as usize;
        if len < NL_HDR_LEN || len > b.len() {
            return Err(Error::io(
                format!(
                    "sock_diag: a message declares {len} bytes, {} remain",
                    b.len()
                ),
                std::io::Error::from(std::io::ErrorKind::InvalidData),
            ));
        }
        let kind = u16::from_ne_bytes([b[NL_TYPE.start], b[NL_TYPE.start + 1]]);
        let this_seq = u32::from_ne_bytes(b[NL_SEQ].try_into().unwrap_or_default());
        let body = &b[NL_HDR_LEN..len];
        if this_seq == seq {
            match i32::from(kind) {
                libc::NLMSG_DONE => return Ok(End::Done),
                libc::NLMSG_ERROR => match errno(body) {
                    0 => {} // an acknowledgement
                    e => return Ok(End::Errno(e)),
                },
                _ if kind == SOCK_DIAG_BY_FAMILY => {
                    out.extend(sock_info(body));
                    if !dump {
                        return Ok(End::Done);
                    }
                }
                _ => {}
            }
        }
        b = &b[align4(len).min(b.len())..];
    }
    Ok(End::More)
}

/// An `NLMSG_ERROR` carries a negative errno (0 is an acknowledgement).
fn errno(body: &[u8]) -> i32 {
    body.get(..4)
        .map_or(0, |e| -i32::from_ne_bytes([e[0], e[1], e[2], e[3]]))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One `inet_diag_msg` and its attributes; `None` if too short or of an
/// unknown family.
fn sock_info(m: &[u8]) -> Option<SockInfo> {
    use field::*;
    if m.len() < MSG_LEN {
        return None;
    }
    let at = |r: std::ops::Range<usize>| u32::from_ne_bytes(m[r].try_into().unwrap_or_default());
    let id = &m[MSG_ID..];
    let local = addr(m[MSG_FAMILY], &id[ID_SRC], &id[ID_SPORT])?;
    let remote = addr(m[MSG_FAMILY], &id[ID_DST], &id[ID_DPORT])?;
    Some(SockInfo {
        inode: u64::from(at(MSG_INODE)),
        uid: at(MSG_UID),
        id: SocketId { local, remote },
        state: TcpState::from_kernel(m[MSG_STATE]),
        recv_q: at(MSG_RQUEUE),
        send_q: at(MSG_WQUEUE),
        info: attribute(&m[MSG_LEN..], INET_DIAG_INFO).and_then(TcpInfo::parse),
    })
}

/// An address of the message's family with its port (network byte order).
fn addr(family: u8, ip: &[u8], port: &[u8]) -> Option<SocketAddr> {
    let port = u16::from_be_bytes([port[0], port[1]]);
    let ip: IpAddr = match i32::from(family) {
        libc::AF_INET => Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).into(),
        libc::AF_INET6 => Ipv6Addr::from(<[u8; 16]>::try_from(ip).ok()?).into(),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The payload of the first attribute of type `kind`.
fn attribute(mut a: &[u8], kind: u16) -> Option<&[u8]> {
    use field::*;
    while a.len() >= RTA_HDR_LEN {
        let len = usize::from(u16::from_ne_bytes([a[RTA_LEN.start], a[RTA_LEN.start + 1]]));
        let this = u16::from_ne_bytes([a[RTA_TYPE.start], a[RTA_TYPE.start + 1]]);
        if len < RTA_HDR_LEN || len > a.len() {
            return None;
        }
        if this == kind {
            return Some(&a[RTA_HDR_LEN..len]);
        }
        a = &a[align4(len).min(a.len())..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::field::*;
    use super::*;

    /// A message as the kernel sends it: header, inet_diag_msg, attributes.
    fn message(seq: u32, family: u8, state: u8, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = vec![0u8; MSG_LEN];
        body[MSG_FAMILY] = family;
        body[MSG_STATE] = state;
        let id = &mut body[MSG_ID..];
        id[ID_SPORT].copy_from_slice(&8080u16.to_be_bytes());
        id[ID_DPORT].copy_from_slice(&40000u16.to_be_bytes());
        id[ID_SRC.start..ID_SRC.start + 4].copy_from_slice(&[127, 0, 0, 1]);
        id[ID_DST.start..ID_DST.start + 4].copy_from_slice(&[127, 0, 0, 2]);
        body[MSG_UID].copy_from_slice(&1000u32.to_ne_bytes());
        body[MSG_INODE].copy_from_slice(&4242u32.to_ne_bytes());
        body[MSG_RQUEUE].copy_from_slice(&5u32.to_ne_bytes());
        for (kind, data) in attrs {
            let len = (RTA_HDR_LEN + data.len()) as u16;
            body.extend_from_slice(&len.to_ne_bytes());
            body.extend_from_slice(&kind.to_ne_bytes());
            body.extend_from_slice(data);
            body.resize(align4(body.len()), 0);
        }
        framed(SOCK_DIAG_BY_FAMILY, seq, &body)
    }

    fn framed(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; NL_HDR_LEN];
        m[NL_LEN].copy_from_slice(&((NL_HDR_LEN + body.len()) as u32).to_ne_bytes());
        m[NL_TYPE].copy_from_slice(&kind.to_ne_bytes());
        m[NL_SEQ].copy_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(body);
        m
    }

    fn v4(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_dump_request_asks_for_every_tcp_socket_with_its_info() {
        let r = request(Family::Inet6, States::ALL, None, 7);
        assert_eq!(r.len(), 72);
        assert_eq!(u32::from_ne_bytes(r[NL_LEN].try_into().unwrap()), 72);
        let flags = u16::from_ne_bytes(r[NL_FLAGS].try_into().unwrap());
        assert_eq!(flags, 0x301, "NLM_F_REQUEST | NLM_F_DUMP");
        let q = &r[NL_HDR_LEN..];
        assert_eq!((q[REQ_FAMILY], q[REQ_PROTOCOL], q[REQ_EXT]), (10, 6, 0b10));
        assert_eq!(
            u32::from_ne_bytes(q[REQ_STATES].try_into().unwrap()),
            0x1FFE
        );
        assert!(q[REQ_ID..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_lookup_names_both_ends_in_network_order() {
        let id = SocketId {
            local: v4("127.0.0.1:8080"),
            remote: v4("10.1.2.3:40000"),
        };
        let r = request(Family::Inet, States::ALL, Some(id), 1);
        assert_eq!(u16::from_ne_bytes(r[NL_FLAGS].try_into().unwrap()), 1);
        let s = &r[NL_HDR_LEN + REQ_ID..];
        assert_eq!(&s[ID_SPORT], &[0x1F, 0x90]);
        assert_eq!(&s[ID_DPORT], &[0x9C, 0x40]);
        assert_eq!(
            &s[ID_SRC],
            &[127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&s[ID_DST][..4], &[10, 1, 2, 3]);
        assert_eq!(&s[ID_COOKIE], &[0xFF; 8]);
    }

    #[test]
    fn reads_a_dump_until_done() {
        let mut info = vec![0u8; 232];
        info[0] = 1;
        let mut b = message(3, libc::AF_INET as u8, 1, &[(1, vec![9; 3]), (2, info)]);
        b.extend(message(2, libc::AF_INET as u8, 10, &[])); // another request's
        b.extend(message(3, libc::AF_INET as u8, 6, &[]));
        let mut out = Vec::new();
        assert_eq!(read_batch(&b, 3, true, &mut out).unwrap(), End::More);
        assert_eq!(out.len(), 2);
        let s = &out[0];
        assert_eq!(s.id.local, v4("127.0.0.1:8080"));
        assert_eq!(s.id.remote, v4("127.0.0.2:40000"));
        assert_eq!((s.inode, s.uid, s.recv_q), (4242, 1000, 5));
        assert_eq!(s.info.unwrap().state, TcpState::Established);
        assert_eq!((out[1].state, out[1].info), (TcpState::TimeWait, None));
        let done = framed(libc::NLMSG_DONE as u16, 3, &[0; 4]);
        assert_eq!(read_batch(&done, 3, true, &mut out).unwrap(), End::Done);
    }

    #[test]
    fn a_lookup_ends_with_its_answer_or_an_errno() {
        let mut out = Vec::new();
        let one = message(4, libc::AF_INET as u8, 1, &[]);
        assert_eq!(read_batch(&one, 4, false, &mut out).unwrap(), End::Done);
        assert_eq!(out.len(), 1);
        let none = framed(libc::NLMSG_ERROR as u16, 4, &(-libc::ENOENT).to_ne_bytes());
        let end = read_batch(&none, 4, false, &mut out).unwrap();
        assert_eq!(end, End::Errno(libc::ENOENT));
    }

    #[test]
    fn damaged_answers_are_errors_or_skipped() {
        let mut out = Vec::new();
        let mut b = message(1, libc::AF_INET as u8, 1, &[]);
        b.truncate(b.len() - 1);
        assert!(read_batch(&b, 1, true, &mut out).is_err());
        // A message too short for inet_diag_msg, a family we do not know.
        let short = framed(SOCK_DIAG_BY_FAMILY, 1, &[0; MSG_LEN - 4]);
        let unknown = message(1, 99, 1, &[]);
        let both = [short, unknown].concat();
        assert_eq!(read_batch(&both, 1, true, &mut out).unwrap(), End::More);
        assert!(out.is_empty());
        // An attribute that claims more than its message holds is ignored.
        let mut m = message(1, libc::AF_INET as u8, 1, &[(2, vec![0; 8])]);
        let rta = NL_HDR_LEN + MSG_LEN;
        m[rta..rta + 2].copy_from_slice(&200u16.to_ne_bytes());
        read_batch(&m, 1, true, &mut out).unwrap();
        assert_eq!(out[0].info, None);
    }

    #[test]
    fn ipv6_addresses_are_read_whole() {
        let ip = "::ffff:127.0.0.1".parse::<Ipv6Addr>().unwrap().octets();
        let a = addr(libc::AF_INET6 as u8, &ip, &443u16.to_be_bytes()).unwrap();
        assert_eq!(a, "[::ffff:127.0.0.1]:443".parse().unwrap());
    }
}
