//! Plays a stepped report (`--step`) on the terminal: a line of stdin
//! before each piece, the hint on stderr, a redraw when going back.

use std::io::{IsTerminal, Write};

use super::output_error;
use crate::render::{play, Screen, Steps, TextOptions};
use crate::Result;

/// Shows `steps` on `out`, advancing on each line of stdin (Enter at a
/// terminal; from a pipe or file each line advances one piece, the end
/// shows the rest).
pub fn play_steps(steps: &Steps, opts: &TextOptions, out: &mut dyn Write) -> Result<()> {
    let stdin = std::io::stdin();
    let mut stderr = std::io::stderr();
    let on_screen = std::io::stdout().is_terminal();
    // The hint goes to the terminal only, never into a pipe or a file,
    // and only when the report goes there too (it erases itself by moving
    // the cursor).
    let tty = stdin.is_terminal() && stderr.is_terminal() && on_screen;
    let screen = Screen {
        prompt: tty.then_some(&mut stderr as &mut dyn Write),
        redraw: on_screen,
        palette: opts.palette,
        typed_ahead: line_waiting,
    };
    play(out, steps, &mut stdin.lock(), screen).map_err(output_error)
}

/// True if stdin has input waiting. At a terminal, which hands over one
/// line per read, that is a line typed ahead.
fn line_waiting() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    unsafe { libc::poll(&mut fd, 1, 0) == 1 }
}
