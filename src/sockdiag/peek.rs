//! A socket's ends read straight from the program's descriptor: a copy of
//! it taken with `pidfd_getfd` (Linux 5.6, root), `getsockname` and
//! `getpeername` on the copy, and the copy closed at once. A sample finds a
//! new connection this way in microseconds, where a dump of the kernel's
//! tables takes milliseconds and comes too late for a client that connects,
//! talks and closes within a few of them.
//!
//! The copy is held for a few system calls: a close by the program in that
//! moment takes effect when the copy is closed, microseconds later.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::SocketId;

/// The ends of the connected socket `/proc/PID/fd/N` names; None if it is
/// not connected (yet), gone, or the kernel refuses the copy.
pub fn ends(fd_path: &Path) -> Option<SocketId> {
    let fd: i32 = fd_path.file_name()?.to_str()?.parse().ok()?;
    let pid: i32 = fd_path
        .parent()?
        .parent()?
        .file_name()?
        .to_str()?
        .parse()
        .ok()?;
    // SAFETY: plain system calls; each result is checked and owned at once.
    let copy = unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0);
        if pidfd < 0 {
            return None;
        }
        let pidfd = OwnedFd::from_raw_fd(pidfd as i32);
        let copy = libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0);
        if copy < 0 {
            return None;
        }
        OwnedFd::from_raw_fd(copy as i32)
    };
    let local = name(&copy, libc::getsockname)?;
    let remote = name(&copy, libc::getpeername)?;
    Some(SocketId { local, remote })
}

type NameFn = unsafe extern "C" fn(i32, *mut libc::sockaddr, *mut libc::socklen_t) -> i32;

fn name(fd: &OwnedFd, call: NameFn) -> Option<SocketAddr> {
    // SAFETY: a zeroed sockaddr_storage is a valid out-parameter of its size.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: a valid descriptor and out-parameters of the sizes given.
    if unsafe {
        call(
            fd.as_raw_fd(),
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    } != 0
    {
        return None;
    }
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a: libc::sockaddr_in =
                unsafe { std::ptr::read((&ss as *const libc::sockaddr_storage).cast()) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::new(ip.into(), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a: libc::sockaddr_in6 =
                unsafe { std::ptr::read((&ss as *const libc::sockaddr_storage).cast()) };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::new(ip.into(), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ends_of_our_own_connected_socket() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let path = format!("/proc/{}/fd/{}", std::process::id(), c.as_raw_fd());
        let Some(id) = ends(Path::new(&path)) else {
            // pidfd_getfd needs root (ptrace rights) and Linux 5.6.
            // SAFETY: geteuid has no preconditions.
            assert_ne!(
                unsafe { libc::geteuid() },
                0,
                "root must be able to copy its own fd"
            );
            return;
        };
        assert_eq!(id.local, c.local_addr().unwrap());
        assert_eq!(id.remote, l.local_addr().unwrap());
        let unbound = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let path = format!("/proc/{}/fd/{}", std::process::id(), unbound.as_raw_fd());
        assert_eq!(ends(Path::new(&path)), None, "not connected: no peer");
    }
}
