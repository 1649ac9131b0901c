//! `--html FILE` for `trace`, `replay` and `lab`: the page written whole
//! (to a sibling file renamed over FILE, so a signal mid-write leaves the
//! old file or the new one, never half a page), then one line saying so.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output_error;
use crate::render::{text_prose, write_html, PagePart, PageText, Paint, TextOptions};
use crate::{Error, Result};

/// Writes the page of `parts` to `path`; says where on `out` when `say`
/// (stdout carries a text report).
pub fn write_page(
    path: &Path,
    text: &PageText,
    parts: &[PagePart<'_>],
    say: Option<(&TextOptions, &mut dyn Write)>,
) -> Result<()> {
    let size = write_whole(path, |w| write_html(w, text, parts))?;
    if let Some((opts, out)) = say {
        let frames: usize = parts.iter().map(|p| p.packets.len()).sum();
        let line = format!(
            "page of {frames} frames written to {} ({} KiB, opens offline in a browser)",
            path.display(),
            size.div_ceil(1024)
        );
        text_prose(out, "", &opts.palette.paint(Paint::Dim, &line), opts).map_err(output_error)?;
    }
    Ok(())
}

/// What `write` writes, to `path` through a sibling temporary file, synced
/// and renamed; how many bytes that was.
fn write_whole(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<u64> {
    let file_err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp: PathBuf = path.with_file_name(format!(".{}.tcplab-part", name.unwrap_or_default()));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut buf = std::io::BufWriter::new(f);
        write(&mut buf)?;
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(f.metadata()?.len())
    });
    match written.and_then(|size| std::fs::rename(&tmp, path).map(|()| size)) {
        Ok(size) => Ok(size),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(file_err(e))
        }
    }
}
