//! `--hex` values: `0c22`, `0c 22`, `0x0c,0x22`.

/// Bytes given as hex on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

/// Parses hex bytes. Separators are spaces, commas and colons; a `0x` prefix
/// may stand before each byte (then one digit is enough, `0xc`) or before a
/// run of pairs. The error names the first bad character and its position.
pub fn parse_hex(input: &str) -> Result<HexBytes, String> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for token in input.split([' ', ',', ':', '\t']) {
        let start = pos;
        pos += token.chars().count() + 1;
        if token.is_empty() {
            continue;
        }
        let (digits, prefixed, offset) = match token.get(..2) {
            Some("0x") | Some("0X") => (&token[2..], true, 2),
            _ => (token, false, 0),
        };
        if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            let at = start + offset + digits[..i].chars().count() + 1;
            return Err(format!(
                "'{c}' at position {at} of \"{input}\" is not a hex digit (use 0-9, a-f: 0c22, \"0c 22\" or 0x0c,0x22)"
            ));
        }
        if digits.is_empty() {
            return Err(format!("\"{token}\" has no digits after 0x"));
        }
        if prefixed && digits.len() == 1 {
            out.push(u8::from_str_radix(digits, 16).expect("checked hex digit"));
            continue;
        }
        if digits.len() % 2 == 1 {
            return Err(format!(
                "\"{token}\" has an odd number of hex digits: write each byte as two digits (0c, not c)"
            ));
        }
        out.extend(hex::decode(digits).map_err(|e| e.to_string())?);
    }
    if out.is_empty() {
        return Err("no bytes given: write them as 0c22, \"0c 22\" or 0x0c,0x22".to_string());
    }
    Ok(HexBytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_three_spellings() {
        for s in [
            "0c22",
            "0c 22",
            "0x0c,0x22",
            "0x0c, 0x22",
            "0xc 0x22",
            "0C:22",
            "0x0c22",
        ] {
            assert_eq!(parse_hex(s).unwrap().0, vec![0x0c, 0x22], "{s}");
        }
    }

    #[test]
    fn names_the_bad_character_and_where() {
        let e = parse_hex("0c2g").unwrap_err();
        assert!(e.starts_with("'g' at position 4"), "{e}");
        let e = parse_hex("0c zz").unwrap_err();
        assert!(e.starts_with("'z' at position 4"), "{e}");
        let e = parse_hex("0x0q").unwrap_err();
        assert!(e.starts_with("'q' at position 4"), "{e}");
    }

    #[test]
    fn rejects_odd_and_empty() {
        assert!(parse_hex("0c2").unwrap_err().contains("odd number"));
        assert!(parse_hex("").unwrap_err().contains("no bytes"));
        assert!(parse_hex(" , ").unwrap_err().contains("no bytes"));
        assert!(parse_hex("0x").unwrap_err().contains("no digits"));
    }
}
