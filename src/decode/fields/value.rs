//! Values written the way tshark's PDML `show` writes them.

use std::fmt::Write;

/// `0x` and `digits` hex digits: `0x0800`, `0x02`.
pub(crate) fn hex(n: u32, digits: usize) -> String {
    format!("0x{n:0digits$x}")
}

/// Bytes as `68:65:6c` (PDML's form for byte fields and whole options).
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A MAC address, `02:77:01:00:00:02`.
pub(crate) fn mac(bytes: &[u8]) -> String {
    colon_hex(bytes)
}

/// `0` or `1`: a one-bit field.
pub(crate) fn bit(set: bool) -> String {
    if set { "1" } else { "0" }.to_string()
}

/// "set" or "not set", for the words.
pub(crate) fn said(set: bool) -> &'static str {
    if set {
        "set"
    } else {
        "not set"
    }
}
