//! The kernel's view of one connection's sockets, from what a
//! [`Sampler`](crate::sockdiag::Sampler) saw: each side's sampled history,
//! ended by its final TCP_INFO when the socket was freed during the run,
//! put in time order and told in words. `trace -- CMD` uses it for the
//! program's sockets, `trace` for its own.

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use crate::render::{KernelChange, KernelSide, KernelView};
use crate::sockdiag::{Diag, Samples, SockInfo, SocketId, TcpInfo, TcpState};
use crate::values::Timestamp;

/// Both sides of the connection from `client` to `server`; `skip` says
/// which local ends are not to be shown (tcplab's own, beside a program);
/// `left` is what the kernel still held of them once sampling stopped
/// ([`left_at_end`]).
pub fn view(
    samples: &Samples,
    (client, server): (SocketAddr, SocketAddr),
    left: &[(SystemTime, SockInfo)],
    skip: &dyn Fn(SocketAddr) -> bool,
    since: &dyn Fn(Timestamp) -> f64,
) -> KernelView {
    let side = |local: SocketAddr, remote: SocketAddr| {
        let left = left
            .iter()
            .find(|(_, s)| s.id.local == local || s.id.local == mapped(local))
            .map(|(at, s)| (*at, s.info.unwrap_or(TcpInfo::stale(s.state, None))));
        (!skip(local))
            .then(|| side_of(samples, local, remote, left, since))
            .flatten()
    };
    KernelView {
        client: side(client, server),
        server: side(server, client),
        own: [skip(client), skip(server)],
    }
}

/// The sockets of these ends the kernel still holds (a TIME_WAIT one, a
/// closing orphan), looked up once after sampling stopped: a socket freed
/// between two samples leaves its TIME_WAIT behind. Nothing if sock_diag
/// fails.
pub fn left_at_end((client, server): (SocketAddr, SocketAddr)) -> Vec<(SystemTime, SockInfo)> {
    let Ok(mut diag) = Diag::open() else {
        return Vec::new();
    };
    let now = SystemTime::now();
    let ends = [(client, server), (server, client)];
    ends.into_iter()
        .flat_map(|(l, r)| [(l, r), (mapped(l), mapped(r))])
        .filter_map(|(local, remote)| diag.lookup(SocketId { local, remote }).ok().flatten())
        .map(|s| (now, s))
        .collect()
}

/// An IPv4 end as an IPv6 socket reports it (`[::ffff:127.0.0.1]`).
fn mapped(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(v4.to_ipv6_mapped().into(), a.port()),
        IpAddr::V6(_) => a,
    }
}

/// The socket at `local` talking to `remote`: its history and final word.
fn side_of(
    samples: &Samples,
    local: SocketAddr,
    remote: SocketAddr,
    left: Option<(SystemTime, TcpInfo)>,
    since: &dyn Fn(Timestamp) -> f64,
) -> Option<KernelSide> {
    let history = samples
        .by_id(local, remote)
        .or_else(|| samples.by_id(mapped(local), mapped(remote)));
    let last_word = samples
        .destroyed(local, remote)
        .or_else(|| samples.destroyed(mapped(local), mapped(remote)))
        .and_then(|(at, s)| Some((*at, s.info?)));
    let mut changes: Vec<(SystemTime, TcpInfo)> =
        history.map(|h| h.changes.clone()).unwrap_or_default();
    // The sampler may have recorded the final word already (a followed
    // socket's); else it goes in its place in time.
    if let Some(word) = last_word.filter(|w| !changes.iter().any(|c| c.1 == w.1)) {
        let at = changes.partition_point(|c| c.0 <= word.0);
        changes.insert(at, word);
    }
    // What was left at the end, unless the last sample saw it already.
    if let Some(left) = left.filter(|l| changes.last().map(|c| c.1.state) != Some(l.1.state)) {
        changes.push(left);
    }
    // A reset's last word has cleared counters: it says when, not how much.
    let reset = last_word
        .is_none()
        .then(|| {
            samples
                .reset_word(local, remote)
                .or_else(|| samples.reset_word(mapped(local), mapped(remote)))
        })
        .flatten();
    if changes.is_empty() && reset.is_none() {
        return None;
    }
    let mut s = side(&ordered(changes), since);
    if let Some((at, _)) = reset {
        s.reset = true;
        s.state = TcpState::Close.name().to_string();
        s.changes.push(KernelChange {
            t_ms: since(Timestamp::from(*at)),
            what: "CLOSED by the reset it sent: the kernel cleared its counters and its ends"
                .into(),
        });
    }
    Some(s)
}

/// Freed is the last thing that happens to a socket's counters: within one
/// sample, a final word goes after the TIME_WAIT the same sample found
/// (the TIME_WAIT socket took over when the FIN came; the full socket was
/// freed when its descriptor closed). A stale state seen once says nothing
/// new when seen again, even after the final word (the TIME_WAIT looked up
/// at the end).
fn ordered(mut changes: Vec<(SystemTime, TcpInfo)>) -> Vec<(SystemTime, TcpInfo)> {
    changes.sort_by_key(|(at, info)| (*at, is_final(info)));
    let mut stale_seen = Vec::new();
    changes.retain(|(_, i)| {
        if !i.stale {
            return true;
        }
        let new = !stale_seen.contains(&i.state);
        stale_seen.push(i.state);
        new
    });
    changes
}

/// A freed socket's last TCP_INFO: no dump shows a CLOSED socket with one,
/// only the destroy broadcast does.
fn is_final(i: &TcpInfo) -> bool {
    i.state == TcpState::Close && !i.stale
}

/// One socket's kernel view: its counters at the last full sample (a stale
/// one keeps older counters), its last state, and each change in words.
fn side(history: &[(SystemTime, TcpInfo)], since: &dyn Fn(Timestamp) -> f64) -> KernelSide {
    let changes = history
        .iter()
        .map(|(at, info)| KernelChange {
            t_ms: since(Timestamp::from(*at)),
            what: in_words(info),
        })
        .collect();
    let full = history
        .iter()
        .rev()
        .find(|(_, i)| !i.stale)
        .map(|(_, i)| *i);
    // An active closer's socket ends in TIME_WAIT, though its full socket
    // was freed after.
    let state = if history.iter().any(|(_, i)| i.state == TcpState::TimeWait) {
        TcpState::TimeWait
    } else {
        history.last().map_or(TcpState::Close, |(_, i)| i.state)
    };
    let Some(i) = full else {
        return KernelSide {
            state: state.name().to_string(),
            changes,
            ..KernelSide::default()
        };
    };
    KernelSide {
        state: state.name().to_string(),
        bytes_sent: i.bytes_sent,
        bytes_retrans: i.bytes_retrans,
        bytes_acked: i.bytes_acked,
        bytes_received: i.bytes_received,
        segs_out: i.segs_out,
        segs_in: i.segs_in,
        total_retrans: i.total_retrans,
        rtt_us: i.rtt_us,
        rttvar_us: i.rttvar_us,
        snd_cwnd: i.snd_cwnd,
        reset: false,
        changes,
    }
}

/// `ESTABLISHED · 33 bytes sent, 34 acknowledged, 39 received · ...`; a
/// sample without TCP_INFO says only its state, since the kernel stopped
/// counting.
pub fn in_words(i: &TcpInfo) -> String {
    if i.stale {
        return format!(
            "{} · no TCP_INFO from here: the kernel keeps only this socket's ends",
            i.state.name()
        );
    }
    let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    let state = if is_final(i) {
        "CLOSED, freed · final counts"
    } else {
        i.state.name()
    };
    format!(
        "{state}: {} bytes sent, {} acknowledged, {} received · {} segments out, {} in · {} \
         resent · rtt {:.3} ms ± {:.3} · cwnd {}",
        n(i.bytes_sent),
        n(i.bytes_acked),
        n(i.bytes_received),
        n(i.segs_out.map(u64::from)),
        n(i.segs_in.map(u64::from)),
        i.total_retrans,
        f64::from(i.rtt_us) / 1e3,
        f64::from(i.rttvar_us) / 1e3,
        i.snd_cwnd
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn info(state: TcpState, acked: u64, stale: bool) -> TcpInfo {
        let mut i = TcpInfo::stale(state, None);
        i.stale = stale;
        i.bytes_acked = Some(acked);
        i
    }

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn the_final_word_goes_after_the_time_wait_and_repeats_fold() {
        use TcpState::*;
        let changes = vec![
            (at(2), info(Established, 34, false)),
            (at(5), info(TimeWait, 34, true)),
            (at(7), info(Close, 35, false)),
            (at(7), info(TimeWait, 35, true)),
        ];
        let mut changes = changes;
        changes.push((at(9), info(TimeWait, 35, true)));
        let got: Vec<(SystemTime, TcpState)> = ordered(changes)
            .iter()
            .map(|(t, i)| (*t, i.state))
            .collect();
        assert_eq!(
            got,
            [(at(2), Established), (at(5), TimeWait), (at(7), Close)]
        );
        let s = side(&ordered(vec![(at(7), info(Close, 35, false))]), &|_| 0.0);
        assert_eq!((s.state.as_str(), s.bytes_acked), ("CLOSED", Some(35)));
        let tw = vec![
            (at(5), info(TimeWait, 34, true)),
            (at(7), info(Close, 35, false)),
        ];
        let s = side(&tw, &|_| 0.0);
        assert_eq!((s.state.as_str(), s.bytes_acked), ("TIME_WAIT", Some(35)));
        assert!(s.changes[1]
            .what
            .starts_with("CLOSED, freed · final counts: "));
        assert!(s.changes[0].what.contains("no TCP_INFO"));
    }
}
