//! `--step`: a report revealed a piece at a time, for pacing a class.
//!
//! [`Steps`] is the report cut into pieces: what is on screen at once (the
//! connection line), then one piece per segment (its row, header sizes,
//! dump and arrow), then the totals. [`play`] shows the first piece and one
//! more per line of input: Enter (or any line) goes on, `b` goes back one,
//! `q` stops. The end of the input shows the rest at once, so a script or
//! `< /dev/null` gets the whole report.

use std::io::{self, BufRead, Write};

use super::{Paint, Palette};

/// One piece: what it is (`segment 3 of 10`, for the hint) and its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Piece {
    what: String,
    lines: Vec<String>,
}

/// A report in pieces; the first is shown without waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    pieces: Vec<Piece>,
}

impl Steps {
    /// Steps whose first piece is `lines`.
    pub fn new(lines: Vec<String>) -> Steps {
        Steps {
            pieces: vec![Piece {
                what: String::new(),
                lines,
            }],
        }
    }

    /// Adds lines to the last piece.
    pub fn extend(&mut self, lines: impl IntoIterator<Item = String>) {
        if let Some(last) = self.pieces.last_mut() {
            last.lines.extend(lines);
        }
    }

    /// Adds an empty line, unless the last line is one already.
    pub fn blank(&mut self) {
        if self.lines().last().is_some_and(|l| !l.is_empty()) {
            self.extend([String::new()]);
        }
    }

    /// Starts a piece, shown after a wait; `what` names it in the hint.
    pub fn pause(&mut self, what: impl Into<String>) {
        self.pieces.push(Piece {
            what: what.into(),
            lines: Vec::new(),
        });
    }

    /// The pieces after the first.
    pub fn waits(&self) -> usize {
        self.pieces.len() - 1
    }

    /// Every line, as the report without pauses.
    pub fn lines(&self) -> impl Iterator<Item = &String> {
        self.pieces.iter().flat_map(|p| &p.lines)
    }
}

/// Where `play` writes besides the report.
pub struct Screen<'a> {
    /// A terminal's stderr: the hint is written there before each wait and
    /// erased after (never into a pipe or a file).
    pub prompt: Option<&'a mut dyn Write>,
    /// The report goes to a terminal: going back clears it and redraws.
    /// Elsewhere going back writes the earlier piece again, under a line
    /// that says so.
    pub redraw: bool,
    pub palette: Palette,
    /// True if a line is already typed (a terminal's keys pressed ahead):
    /// its echo came before the hint, so no hint is drawn, and none erased
    /// (the erasing would take a line of the report).
    pub typed_ahead: fn() -> bool,
}

/// For a `Screen` that cannot tell.
pub fn never() -> bool {
    false
}

/// Shows `steps` on `w`, one piece per line of `input` (see the module).
pub fn play(
    w: &mut dyn Write,
    steps: &Steps,
    input: &mut dyn BufRead,
    mut screen: Screen<'_>,
) -> io::Result<()> {
    let pieces = &steps.pieces;
    write_lines(w, &pieces[0].lines)?;
    // The pieces shown: 0..=at.
    let mut at = 0;
    while at + 1 < pieces.len() {
        w.flush()?;
        let answer = ask(input, &mut screen, &pieces[at + 1].what, at > 0)?;
        match answer.as_deref().map(str::trim) {
            None => {
                for p in &pieces[at + 1..] {
                    write_lines(w, &p.lines)?;
                }
                break;
            }
            Some("q") => return Ok(()),
            Some("b") if at > 0 => {
                at -= 1;
                back(w, steps, at, &screen)?;
            }
            // Nothing before the start.
            Some("b") => {}
            Some(_) => {
                at += 1;
                write_lines(w, &pieces[at].lines)?;
            }
        }
    }
    w.flush()
}

/// Waits for a line; `None` at the end of the input.
fn ask(
    input: &mut dyn BufRead,
    screen: &mut Screen<'_>,
    next: &str,
    can_go_back: bool,
) -> io::Result<Option<String>> {
    let pal = screen.palette;
    let hinted = screen.prompt.is_some() && !(screen.typed_ahead)();
    if let (Some(p), true) = (screen.prompt.as_deref_mut(), hinted) {
        let back = if can_go_back { " · b: back" } else { "" };
        let hint = format!("Enter: {next}{back} · q: stop");
        write!(p, "{}", pal.paint(Paint::Dim, &hint))?;
        p.flush()?;
    }
    let mut answer = String::new();
    let read = input.read_line(&mut answer)?;
    if let (Some(p), true) = (screen.prompt.as_deref_mut(), hinted) {
        // Enter moved the cursor down: go back up and clear the hint.
        let up = if answer.ends_with('\n') {
            "\x1b[1A"
        } else {
            ""
        };
        write!(p, "\r{up}\x1b[2K")?;
        p.flush()?;
    }
    Ok((read > 0).then_some(answer))
}

/// Shows pieces 0..=at again: cleared and redrawn on a terminal, else the
/// piece `at` under a line saying so.
fn back(w: &mut dyn Write, steps: &Steps, at: usize, screen: &Screen<'_>) -> io::Result<()> {
    if screen.redraw {
        // Home, clear the screen and the scrollback: the earlier answers
        // must not be one scroll away.
        write!(w, "\x1b[H\x1b[2J\x1b[3J")?;
        for p in &steps.pieces[..=at] {
            write_lines(w, &p.lines)?;
        }
        return Ok(());
    }
    let what = match at {
        0 => "the start".to_string(),
        _ => steps.pieces[at].what.clone(),
    };
    let line = format!("── back to {what}");
    writeln!(w, "{}", screen.palette.paint(Paint::Dim, &line))?;
    write_lines(w, &steps.pieces[at].lines)
}

fn write_lines(w: &mut dyn Write, lines: &[String]) -> io::Result<()> {
    for line in lines {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps() -> Steps {
        let mut s = Steps::new(vec!["head".into()]);
        for n in 1..=3 {
            s.pause(format!("segment {n} of 3"));
            s.extend([format!("row {n}")]);
        }
        s.pause("the totals");
        s.extend(["totals".to_string()]);
        s
    }

    fn run(input: &str, redraw: bool) -> String {
        let mut out = Vec::new();
        let screen = Screen {
            prompt: None,
            redraw,
            palette: Palette { enabled: false },
            typed_ahead: never,
        };
        play(&mut out, &steps(), &mut input.as_bytes(), screen).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_line_per_piece_and_the_end_of_input_shows_the_rest() {
        assert_eq!(run("\n", false), "head\nrow 1\nrow 2\nrow 3\ntotals\n");
        assert_eq!(run("", false), "head\nrow 1\nrow 2\nrow 3\ntotals\n");
        assert_eq!(run("\n\nq\n\n", false), "head\nrow 1\nrow 2\n");
        assert_eq!(steps().waits(), 4);
    }

    #[test]
    fn back_redraws_a_terminal_and_repeats_the_piece_elsewhere() {
        let clear = "\x1b[H\x1b[2J\x1b[3J";
        assert_eq!(
            run("\n\nb\nq\n", true),
            format!("head\nrow 1\nrow 2\n{clear}head\nrow 1\n")
        );
        assert_eq!(
            run("\n\nb\nq\n", false),
            "head\nrow 1\nrow 2\n── back to segment 1 of 3\nrow 1\n"
        );
        // Back from the first piece is back to the start; before it, nothing.
        assert_eq!(
            run("b\n\nb\nq\n", false),
            "head\nrow 1\n── back to the start\nhead\n"
        );
    }
}
