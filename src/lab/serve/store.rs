//! The `kv` store on disk: one JSON object of strings, replaced atomically.
//!
//! Every change is written to a temporary file in the same directory,
//! fsynced, renamed over the data file, and the directory fsynced; only then
//! does the change count (and the client hear `OK`). A kill at any moment
//! leaves either the old file or the new one, never half of one, and never
//! loses a write that was acknowledged.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::{Error, Result};

/// Keys and values together may not take more than this: every write
/// rewrites the whole file, and a `list` reply holds all of it.
pub const MAX_STORE_BYTES: usize = 1024 * 1024;

/// Nor may there be more keys than this.
pub const MAX_KEYS: usize = 10_000;

/// The store's entries.
pub type Entries = BTreeMap<String, String>;

/// A `kv` store backed by a file; clones share it.
#[derive(Debug, Clone)]
pub struct KvStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    tmp: PathBuf,
    dir: PathBuf,
    /// Held across a save, so saves happen one at a time, in order.
    entries: Mutex<Entries>,
}

/// Why a change was not made.
#[derive(Debug)]
pub enum Refused {
    /// The change breaks a rule of the store (the text says which).
    Rule(String),
    /// Saving failed; the store is unchanged.
    Save(io::Error),
}

impl KvStore {
    /// Loads the store at `path`: a missing file is an empty store; a file
    /// that is not a JSON object of strings is an error, as is a directory
    /// where the file cannot be replaced.
    pub fn open(path: impl Into<PathBuf>) -> Result<KvStore> {
        let path = path.into();
        let name = path
            .file_name()
            .ok_or_else(|| Error::Usage(format!("--data {}: not a file name", path.display())))?
            .to_string_lossy()
            .into_owned();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(".{name}.tmp"));
        let entries = load(&path)?;
        // A temporary file left by a kill mid-save holds nothing acknowledged.
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(cannot_write(&dir, e)),
        }
        // Fail now, not at the first write, if the directory is not writable.
        File::create(&tmp)
            .and_then(|_| fs::remove_file(&tmp))
            .map_err(|e| cannot_write(&dir, e))?;
        Ok(KvStore {
            inner: Arc::new(Inner {
                path,
                tmp,
                dir,
                entries: Mutex::new(entries),
            }),
        })
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// A copy of the entries.
    pub async fn entries(&self) -> Entries {
        self.inner.entries.lock().await.clone()
    }

    /// Looks at the entries without changing them.
    pub(crate) async fn read<R>(&self, f: impl FnOnce(&Entries) -> R) -> R {
        f(&*self.inner.entries.lock().await)
    }

    /// Applies `change` and saves; the store changes only if both succeed.
    pub(crate) async fn write(
        &self,
        change: impl FnOnce(&mut Entries) -> Result<(), String>,
    ) -> Result<(), Refused> {
        let mut entries = self.inner.entries.lock().await;
        let mut next = entries.clone();
        change(&mut next).map_err(Refused::Rule)?;
        let size: usize = next.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_STORE_BYTES || next.len() > MAX_KEYS {
            return Err(Refused::Rule(format!(
                "store full (at most {MAX_KEYS} keys and {} MiB of keys and values); \
                 delete something first",
                MAX_STORE_BYTES >> 20
            )));
        }
        let mut bytes = serde_json::to_vec_pretty(&next)
            .map_err(|e| Refused::Save(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        bytes.push(b'\n');
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || save(&inner.path, &inner.tmp, &inner.dir, &bytes))
            .await
            .map_err(|e| Refused::Save(io::Error::other(e)))?
            .map_err(Refused::Save)?;
        *entries = next;
        Ok(())
    }
}

/// Reads the data file: missing or blank is empty.
fn load(path: &Path) -> Result<Entries> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entries::new()),
        Err(source) => {
            return Err(Error::File {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Entries::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::io(
            format!(
                "kv store {} cannot be loaded (fix it or move it away)",
                path.display()
            ),
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a JSON object of strings: {e}"),
            ),
        )
    })
}

/// Write, fsync, rename, fsync the directory: the file is the old one or
/// the new one whenever the process dies.
fn save(path: &Path, tmp: &Path, dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)?;
    // The rename is durable only once the directory entry is.
    File::open(dir)?.sync_all()
}

fn cannot_write(dir: &Path, e: io::Error) -> Error {
    Error::io(
        format!(
            "kv store: cannot write in {} (the store is saved there)",
            dir.display()
        ),
        e,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tcplab-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn changes_are_saved_and_loaded_back() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("kv.json");
        let store = KvStore::open(&path).unwrap();
        assert!(store.entries().await.is_empty());
        assert!(!path.exists(), "nothing written before the first change");
        store
            .write(|e| {
                e.insert("a".into(), "1 2".into());
                Ok(())
            })
            .await
            .unwrap();
        let refused = store.write(|_| Err("no".into())).await;
        assert!(matches!(refused, Err(Refused::Rule(r)) if r == "no"));
        let again = KvStore::open(&path).unwrap();
        assert_eq!(
            again.entries().await.get("a").map(String::as_str),
            Some("1 2")
        );
        assert!(!dir.join(".kv.json.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_file_is_an_error_that_names_it() {
        let dir = temp_dir("corrupt");
        let path = dir.join("kv.json");
        fs::write(&path, b"{\"a\": 1}").unwrap();
        let e = KvStore::open(&path).unwrap_err().to_string();
        assert!(e.contains("kv.json cannot be loaded"), "{e}");
        assert!(e.contains("not a JSON object of strings"), "{e}");
        fs::write(&path, b"  \n").unwrap();
        assert!(KvStore::open(&path).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
