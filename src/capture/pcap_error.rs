//! libpcap's errors as tcplab's: a missing capture right names the fix.

use crate::Error;

/// Turns a libpcap error into ours; a permission failure names the fix.
pub(crate) fn capture_error(interface: &str, e: pcap::Error) -> Error {
    let detail = e.to_string();
    let lower = detail.to_ascii_lowercase();
    if lower.contains("operation not permitted")
        || lower.contains("permission denied")
        || lower.contains("you don't have permission")
    {
        let binary = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "tcplab".to_string());
        Error::NoCapturePermission {
            interface: interface.to_string(),
            detail,
            binary,
        }
    } else {
        Error::Capture {
            interface: interface.to_string(),
            detail,
        }
    }
}
