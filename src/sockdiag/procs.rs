//! Which sockets a process tree holds, from `/proc`: the tree through each
//! thread's `children` file (or, on a kernel built without
//! CONFIG_PROC_CHILDREN, the parent pid in every `/proc/PID/stat`), each
//! process's descriptors through its `/proc/PID/fd` links, `socket:[INODE]`,
//! and each socket's protocol through the descriptor's extended attribute.
//!
//! Processes come and go while this reads: one that vanishes mid-read is
//! simply not there, never an error. Threads share their process's
//! descriptor table (a thread that unshared its own is not looked at).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `root` and every process descended from it, alive now.
pub fn tree(root: u32) -> BTreeSet<u32> {
    trees(&[root])
}

/// The processes of every tree rooted at `roots`.
pub fn trees(roots: &[u32]) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    let mut todo = roots.to_vec();
    let mut by_parent: Option<BTreeMap<u32, Vec<u32>>> = None;
    while let Some(pid) = todo.pop() {
        if !seen.insert(pid) {
            continue;
        }
        if has_children_files() {
            todo.extend(children(pid));
        } else {
            let map = by_parent.get_or_insert_with(parents);
            todo.extend(map.get(&pid).into_iter().flatten());
        }
    }
    seen
}

/// A process tree watched over time: every process once seen in it stays a
/// root of its own while it lives, so a child whose parent exits (a daemon,
/// `sh -c 'server &'`), reparented to init, is still followed.
#[derive(Debug)]
pub struct Watch {
    root: u32,
    /// Each process seen, by pid, with its start time (a pid reused by an
    /// unrelated process has another).
    seen: BTreeMap<u32, u64>,
    /// Every pid ever seen in the tree.
    pub ever: BTreeSet<u32>,
}

impl Watch {
    pub fn new(root: u32) -> Watch {
        Watch {
            root,
            seen: BTreeMap::new(),
            ever: BTreeSet::from([root]),
        }
    }

    /// The socket inodes the tree holds now, each with one descriptor's
    /// `/proc` path (to ask what kind of socket it is).
    pub fn socket_fds(&mut self) -> BTreeMap<u64, PathBuf> {
        self.seen
            .retain(|&pid, start| Stat::read(pid).is_some_and(|s| s.start_time == *start));
        let mut roots: Vec<u32> = self.seen.keys().copied().collect();
        roots.push(self.root);
        let pids = trees(&roots);
        self.ever.extend(&pids);
        for &pid in &pids {
            if let Entry::Vacant(e) = self.seen.entry(pid) {
                if let Some(s) = Stat::read(pid) {
                    e.insert(s.start_time);
                }
            }
        }
        socket_fds(&pids)
    }
}

/// Whether this kernel has `/proc/PID/task/TID/children` (Linux 3.5 with
/// CONFIG_PROC_CHILDREN): far cheaper than reading every process's `stat`.
fn has_children_files() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| std::path::Path::new("/proc/thread-self/children").exists())
}

/// The children of every thread of `pid` (each file lists only the
/// children that thread forked).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// Every process's children, by the parent pid of each `/proc/PID/stat`.
fn parents() -> BTreeMap<u32, Vec<u32>> {
    let mut map: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(stat) = Stat::read(pid) {
            map.entry(stat.ppid).or_default().push(pid);
        }
    }
    map
}

/// The two fields of `/proc/PID/stat` tcplab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ppid: u32,
    /// Clock ticks after boot at which the process started: with the pid,
    /// it names one process, since pids are reused.
    pub start_time: u64,
}

impl Stat {
    pub fn read(pid: u32) -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// The command name (field 2) is in parentheses and may hold spaces and
    /// parentheses itself, so fields are counted from the last `)`.
    fn parse(text: &str) -> Option<Stat> {
        let rest = &text[text.rfind(')')? + 1..];
        let mut f = rest.split_whitespace();
        // After the name: state (3), ppid (4), ..., starttime (22).
        let ppid = f.nth(1)?.parse().ok()?;
        let start_time = f.nth(17)?.parse().ok()?;
        Some(Stat { ppid, start_time })
    }
}

/// The socket inodes `pids` hold open, each with the path of one
/// descriptor that holds it.
pub fn socket_fds(pids: &BTreeSet<u32>) -> BTreeMap<u64, PathBuf> {
    let mut out = BTreeMap::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let path = fd.path();
            if let Some(inode) = std::fs::read_link(&path)
                .ok()
                .and_then(|t| t.to_str().and_then(socket_inode))
            {
                out.entry(inode).or_insert(path);
            }
        }
    }
    out
}

/// The inode of a descriptor link's target `socket:[N]`.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// What a socket is, as far as tcplab cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// An AF_INET TCP socket.
    Tcp4,
    /// An AF_INET6 TCP socket (its peers may be IPv4, mapped).
    Tcp6,
    /// Unix, UDP, netlink...: never in a TCP dump.
    Other,
}

/// The protocol of the socket a descriptor path holds, from sockfs's
/// `system.sockprotoname` attribute (`TCP`, `TCPv6`, `UNIX-STREAM`...):
/// no dump needed to tell a TCP socket from the rest. `None` if the
/// descriptor is gone.
pub fn proto(fd_path: &Path) -> Option<Proto> {
    let path = CString::new(fd_path.as_os_str().as_bytes()).ok()?;
    let name = c"system.sockprotoname";
    let mut buf = [0u8; 32];
    // SAFETY: both names are NUL-terminated and the buffer's length is given.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    let value = buf[..n].split(|&b| b == 0).next().unwrap_or_default();
    Some(match value {
        b"TCP" => Proto::Tcp4,
        b"TCPv6" => Proto::Tcp6,
        _ => Proto::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_socket_links() {
        assert_eq!(socket_inode("socket:[4174651]"), Some(4174651));
        assert_eq!(socket_inode("pipe:[12]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn counts_stat_fields_from_the_last_parenthesis() {
        let text = "4242 (a) b) (c) S 17 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615";
        let s = Stat::parse(text).unwrap();
        assert_eq!((s.ppid, s.start_time), (17, 987654));
        assert_eq!(Stat::parse("12 (x) S"), None);
    }

    #[test]
    fn tells_tcp_sockets_from_the_rest() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let unix = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let of = |fd: i32| proto(Path::new(&format!("/proc/self/fd/{fd}")));
        use std::os::fd::AsRawFd;
        assert_eq!(of(v4.as_raw_fd()), Some(Proto::Tcp4));
        assert_eq!(of(unix.as_raw_fd()), Some(Proto::Other));
        if let Ok(v6) = std::net::TcpListener::bind("[::1]:0") {
            assert_eq!(of(v6.as_raw_fd()), Some(Proto::Tcp6));
        }
        let held = socket_fds(&[std::process::id()].into());
        assert!(held.keys().any(|&i| Some(i) == fd_inode(v4.as_raw_fd())));
        assert_eq!(proto(Path::new("/proc/self/fd/999999")), None);
    }

    fn fd_inode(fd: i32) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .ok()
            .map(|m| m.ino())
    }

    #[test]
    fn this_process_is_in_its_own_tree_and_its_parent_is_not() {
        let me = std::process::id();
        let t = tree(me);
        assert!(t.contains(&me));
        let parent = Stat::read(me).unwrap().ppid;
        assert!(!t.contains(&parent));
    }
}
