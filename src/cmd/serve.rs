//! `tcplab serve MODE`: a lesson server; see `lab::serve` (lands next).

use std::io::Write;

use crate::cli::{ColorChoice, ServeArgs};
use crate::{Error, Result};

/// Runs the server until Ctrl-C, logging to `out`.
pub fn run(args: &ServeArgs, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let _ = (args, color, out);
    Err(Error::Usage("tcplab serve lands in the next commit".into()))
}
