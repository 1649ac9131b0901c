//! Fitting text to the terminal: visible width (ANSI escapes excluded),
//! word wrapping with a hanging indent, and a last-resort cut.

/// Columns a string takes on screen: escapes count zero, every char one
/// (tcplab prints no wide characters).
pub fn visible_width(s: &str) -> usize {
    visible_chars(s).count()
}

/// `s` without its colour escapes.
pub fn strip_escapes(s: &str) -> String {
    visible_chars(s).collect()
}

/// The chars of `s` outside its colour escapes (`ESC [ ... m`).
fn visible_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut in_escape = false;
    s.chars().filter(move |&c| {
        if in_escape {
            in_escape = c != 'm';
            false
        } else if c == '\x1b' {
            in_escape = true;
            false
        } else {
            true
        }
    })
}

/// Wraps `text` at spaces so no line is wider than `width`: the first line
/// starts with `lead`, the others with `indent`. A word longer than a line
/// is cut.
pub fn wrap(lead: &str, text: &str, width: usize, indent: &str) -> Vec<String> {
    let width = width.max(visible_width(indent) + 8);
    let mut lines = Vec::new();
    let mut line = lead.to_string();
    let mut has_word = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if has_word && visible_width(&line) + 1 + visible_width(word) > width {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            has_word = false;
        }
        if has_word {
            line.push(' ');
        }
        line.push_str(word);
        has_word = true;
    }
    lines.push(line);
    lines.into_iter().map(|l| cut(&l, width)).collect()
}

/// Cuts a line to `width` visible columns, ending with `…` when cut.
/// Escapes are kept and the colour reset, so a cut never bleeds colour.
/// A number is never cut: `len 327…` would read as 327, so the cut goes
/// before it (`len …`).
pub fn cut(line: &str, width: usize) -> String {
    if visible_width(line) <= width {
        return line.to_string();
    }
    let mut out = String::new();
    let mut shown = 0;
    let mut in_escape = false;
    // Where the digits that end `out` begin.
    let mut digits_from: Option<usize> = None;
    for c in line.chars() {
        if in_escape {
            out.push(c);
            in_escape = c != 'm';
            continue;
        }
        if c == '\x1b' {
            in_escape = true;
            out.push(c);
            continue;
        }
        if shown + 1 >= width {
            if let (true, Some(at)) = (c.is_ascii_digit(), digits_from) {
                out.truncate(at);
            }
            break;
        }
        match (c.is_ascii_digit(), digits_from) {
            (true, None) => digits_from = Some(out.len()),
            (false, _) => digits_from = None,
            _ => {}
        }
        out.push(c);
        shown += 1;
    }
    out.push('…');
    if line.contains('\x1b') {
        out.push_str("\x1b[0m");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_have_no_width() {
        assert_eq!(visible_width("\x1b[34m14 Ethernet\x1b[0m"), 11);
        assert_eq!(visible_width("client → server"), 15);
    }

    #[test]
    fn wraps_with_a_hanging_indent() {
        let lines = wrap("", "one two three four five six", 10, "  ");
        assert_eq!(lines, ["one two", "  three", "  four", "  five six"]);
        assert_eq!(wrap("> ", "a b", 10, "  "), ["> a b"]);
        for l in &lines {
            assert!(visible_width(l) <= 10);
        }
    }

    #[test]
    fn cuts_long_words() {
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("len 32768", 8), "len …");
        assert_eq!(cut("len 32 more", 8), "len 32 …");
        let lines = wrap("", "abcdefghijklmnopqrstuvwxyz", 10, "");
        assert!(lines.iter().all(|l| visible_width(l) <= 10));
    }
}
