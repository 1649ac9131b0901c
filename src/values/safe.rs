//! Text that cannot drive a terminal: control characters (ESC, BEL, BS,
//! DEL, NUL, C1 controls...) written as `\xNN` and a backslash doubled,
//! for every string that came from outside (a file name, a client's key).

use std::borrow::Cow;

/// `s` with every control character but a tab escaped as `\xNN` (`\u{NNNN}`
/// past 0xff) and `\` as `\\`; borrowed when nothing needs escaping.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c == '\\' || (c.is_control() && c != '\t'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push('\t'),
            c if c.is_control() && (c as u32) <= 0xff => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn controls_are_spelled_out_and_plain_text_is_kept() {
        assert_eq!(terminal_safe("kv.json"), "kv.json");
        assert_eq!(terminal_safe("naïve ✓"), "naïve ✓");
        assert_eq!(
            terminal_safe("\x1b]0;pwned\x07\x1b[2J"),
            "\\x1b]0;pwned\\x07\\x1b[2J"
        );
        assert_eq!(
            terminal_safe("a\x08\x7f\0b\u{9b}"),
            "a\\x08\\x7f\\x00b\\x9b"
        );
        assert_eq!(terminal_safe("a\\x1b\nb"), "a\\\\x1b\\x0ab");
    }
}
