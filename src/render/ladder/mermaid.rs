//! The ladder as a Mermaid `sequenceDiagram`, for handouts and Markdown
//! pages that render Mermaid: one `participant` per end, one `->>` message
//! per segment, a `Note over` both for each note, a `Note over` one end
//! for what its application did (`write() 5 bytes`, `'data'`).
//!
//! Mermaid's parser ends a message at `;` or `#` and its renderer reads
//! `<...>` as HTML, so those characters are written as Mermaid's entity
//! codes (`#59;`, `#35;`, `#lt;`...), which it turns back into the characters.

use std::io::{self, Write};

use super::{endpoint_text, AppMark, Ladder, MAX_ARROWS};

/// Text made safe for a Mermaid message, note or participant alias.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Writes the ladder as a Mermaid sequence diagram.
pub fn write_ladder_mermaid(w: &mut dyn Write, ladder: &Ladder) -> io::Result<()> {
    if let Some(title) = &ladder.title {
        // Front matter (Mermaid's title for every diagram type) is YAML:
        // a double-quoted string takes any text once `\` and `"` are
        // escaped. Mermaid decodes no entity codes there and strips what
        // looks like HTML, so `<`, `>` and `&` become look-alikes.
        let quoted: String = title
            .chars()
            .filter(|c| !c.is_control())
            .flat_map(|c| match c {
                '\\' | '"' => vec!['\\', c],
                '<' => vec!['‹'],
                '>' => vec!['›'],
                '&' => vec!['+'],
                c => vec![c],
            })
            .collect();
        writeln!(w, "---\ntitle: \"{quoted}\"\n---")?;
    }
    writeln!(w, "sequenceDiagram")?;
    writeln!(
        w,
        "    participant C as client {}",
        escape(&endpoint_text(&ladder.client))
    )?;
    writeln!(
        w,
        "    participant S as server {}",
        escape(&endpoint_text(&ladder.server))
    )?;
    for (a, (before, after)) in ladder.arrows().iter().zip(ladder.marks_around()) {
        write_marks(w, &before)?;
        let (from, to) = if a.from_client() {
            ("C", "S")
        } else {
            ("S", "C")
        };
        let mut text = a.label();
        if let Some(p) = &a.preview {
            text.push(' ');
            text.push_str(p);
        }
        // Mermaid's `-x` ends the line in a cross: a segment lost on the path.
        let line = if a.lost { "-x" } else { "->>" };
        writeln!(
            w,
            "    {from}{line}{to}: {} (frame {}, {} ms)",
            escape(&text),
            a.frame,
            a.time()
        )?;
        for note in &a.notes {
            writeln!(w, "    Note over C,S: {}", escape(note))?;
        }
        if let Some(s) = a.states.client {
            writeln!(w, "    Note left of C: {s}")?;
        }
        if let Some(s) = a.states.server {
            writeln!(w, "    Note right of S: {s}")?;
        }
        write_marks(w, &after)?;
    }
    let [kc, ks] = ladder.kernel_words();
    if let Some(k) = kc {
        writeln!(w, "    Note left of C: {}", escape(&k))?;
    }
    if let Some(k) = ks {
        writeln!(w, "    Note right of S: {}", escape(&k))?;
    }
    if ladder.omitted() > 0 {
        writeln!(
            w,
            "    Note over C,S: {} more segments not drawn (a ladder shows the first {MAX_ARROWS})",
            ladder.omitted()
        )?;
    }
    Ok(())
}

/// What the applications did, each a note over its end.
fn write_marks(w: &mut dyn Write, marks: &[&AppMark]) -> io::Result<()> {
    for m in marks {
        let end = if m.client { "C" } else { "S" };
        writeln!(w, "    Note over {end}: {}", escape(&m.text))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_mermaid_reads_as_syntax() {
        assert_eq!(escape("a;b#c"), "a#59;b#35;c");
        assert_eq!(escape("<br> & \"x\""), "#lt;br#gt; #amp; \"x\"");
        assert_eq!(escape("one\ntwo"), "one two");
    }
}
