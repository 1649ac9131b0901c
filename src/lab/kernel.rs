//! What the kernel's TCP settings say, read from `/proc/sys/net`: the labs
//! size their traffic and word their findings from this machine's values,
//! not from the defaults of a textbook.

use std::path::Path;

/// The most a TCP socket's send buffer grows to on its own (the third
/// number of `net.ipv4.tcp_wmem`; Linux's default is 4 MiB).
pub fn tcp_wmem_max() -> Option<usize> {
    third_number(&read("/proc/sys/net/ipv4/tcp_wmem")?)
}

/// How often Linux answers a segment outside the window (a window probe
/// among them) at most: `net.ipv4.tcp_invalid_ratelimit`, in ms (500 by
/// default).
pub fn invalid_ratelimit_ms() -> Option<u64> {
    read("/proc/sys/net/ipv4/tcp_invalid_ratelimit")?
        .trim()
        .parse()
        .ok()
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `4096 16384 4194304` → 4194304: min, default, max as the file has them.
fn third_number(text: &str) -> Option<usize> {
    text.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::third_number;

    #[test]
    fn the_max_is_the_third_number() {
        assert_eq!(third_number("4096\t16384\t4194304\n"), Some(4_194_304));
        assert_eq!(third_number("4096 16384"), None);
        assert_eq!(third_number("a b c"), None);
    }
}
