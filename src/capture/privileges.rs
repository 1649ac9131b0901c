//! Dropping root after the capture is open, as tcpdump's `-Z` does: the
//! packet socket keeps working, everything after runs as an ordinary user.

use std::ffi::CString;

use crate::{Error, Result};

/// Switches this process to `user` (its uid, primary gid, and no other
/// groups). Only root can do it; the switch cannot be undone.
pub fn drop_to(user: &str) -> Result<()> {
    let name = CString::new(user)
        .map_err(|_| Error::Usage(format!("--user '{user}': not a user name")))?;
    // getpwnam returns a pointer into static storage: read it at once.
    // SAFETY: `name` is a valid C string; the result is checked for null
    // before it is read, and nothing else runs getpwnam meanwhile (the
    // capture runs on one thread).
    let (uid, gid) = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(Error::Usage(format!("--user '{user}': no such user")));
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    let fail = |what: &str| {
        Error::io(
            format!("dropping privileges to '{user}' ({what})"),
            std::io::Error::last_os_error(),
        )
    };
    // SAFETY: plain system calls with integer arguments; each result is checked.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(fail("setgroups"));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("setgid"));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("setuid"));
        }
        // Make sure there is no way back.
        if uid != 0 && libc::setuid(0) == 0 {
            return Err(Error::Trace(format!(
                "dropping privileges to '{user}': root could be regained"
            )));
        }
    }
    Ok(())
}
