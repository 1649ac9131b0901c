//! The `kv` store on disk: one JSON object of strings, replaced atomically.
//!
//! Every change is written to a temporary file in the same directory,
//! fsynced, renamed over the data file, and the directory fsynced; only then
//! does the change count (and the client hear `OK`). A kill at any moment
//! leaves either the old file or the new one, never half of one, and never
//! loses a write that was acknowledged.
//!
//! The file must be a regular file (or not exist yet); a symlink is
//! followed, and the rename happens beside its target, so the link stays a
//! link. One server at a time: an advisory lock on `.NAME.lock` beside the
//! data file keeps a second `serve kv` off it (two would each overwrite
//! the other's acknowledged writes).

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

/// A key is one word of at most this many bytes (commands can address no other).
pub const MAX_KEY: usize = 256;

/// A data file larger than this cannot hold a store within its limits (even
/// with every byte escaped in JSON): it is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 8 * MAX_STORE_BYTES as u64;

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
    /// Held across a save, so saves happen one at a time, in order. A save
    /// replaces the Arc, so a snapshot taken for a slow `list` stays as it
    /// was and is shared by every reader of the same version.
    entries: Mutex<Arc<Entries>>,
    /// The advisory lock, held as long as the store is open.
    _lock: File,
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
        let path = real_path(path.into())?;
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
        let lock = lock(&dir.join(format!(".{name}.lock")), &path)?;
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
                entries: Mutex::new(Arc::new(entries)),
                _lock: lock,
            }),
        })
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// A copy of the entries.
    pub async fn entries(&self) -> Entries {
        Entries::clone(&*self.inner.entries.lock().await)
    }

    /// The entries as they are now, shared, not copied.
    pub(crate) async fn snapshot(&self) -> Arc<Entries> {
        Arc::clone(&*self.inner.entries.lock().await)
    }

    /// Looks at the entries without changing them.
    pub(crate) async fn read<R>(&self, f: impl FnOnce(&Entries) -> R) -> R {
        f(&**self.inner.entries.lock().await)
    }

    /// Applies `change` and saves; the store changes only if both succeed.
    pub(crate) async fn write(
        &self,
        change: impl FnOnce(&mut Entries) -> Result<(), String>,
    ) -> Result<(), Refused> {
        let mut entries = self.inner.entries.lock().await;
        let mut next = Entries::clone(&entries);
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
        *entries = Arc::new(next);
        Ok(())
    }
}

/// The file a `--data` path stands for: symlinks followed (a dangling one
/// to where it points), and refused unless it is a regular file or absent.
fn real_path(path: PathBuf) -> Result<PathBuf> {
    let mut path = path;
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&path).map_err(|source| Error::File {
                    path: path.clone(),
                    source,
                })?;
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            Ok(m) if m.is_file() => return Ok(path),
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "--data {}: not a regular file (a directory, device, FIFO or socket \
                     cannot hold the store)",
                    path.display()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path),
            Err(source) => return Err(Error::File { path, source }),
        }
    }
    Err(Error::Usage(format!(
        "--data {}: too many levels of symbolic links",
        path.display()
    )))
}

/// Takes the store's advisory lock, and writes this process's id into the
/// lock file for whoever finds it taken.
fn lock(lock_path: &Path, data: &Path) -> Result<File> {
    use std::os::fd::AsRawFd;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path)
        .map_err(|e| cannot_write(lock_path.parent().unwrap_or(Path::new(".")), e))?;
    // SAFETY: flock on a descriptor this function owns; no memory is shared.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder = fs::read_to_string(lock_path).unwrap_or_default();
        let holder = holder.trim();
        return Err(Error::Trace(format!(
            "kv store {} is in use by another tcplab serve kv{}; stop it first, or give this one \
             another --data file",
            data.display(),
            if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            }
        )));
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .map_err(|e| cannot_write(lock_path.parent().unwrap_or(Path::new(".")), e))?;
    Ok(file)
}

/// Reads the data file: missing or blank is empty.
fn load(path: &Path) -> Result<Entries> {
    let file_err = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entries::new()),
        Err(e) => return Err(file_err(e)),
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            return Err(Error::Usage(format!(
                "--data {}: {} bytes, more than a store can hold ({} MiB of keys and values); \
                 is it the right file?",
                path.display(),
                m.len(),
                MAX_STORE_BYTES >> 20
            )))
        }
        Ok(_) => {}
    }
    let bytes = fs::read(path).map_err(file_err)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Entries::new());
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde::de::Deserializer::deserialize_map(&mut de, StrictEntries)
        .and_then(|entries| de.end().map(|()| entries))
        .map_err(|e| {
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

/// A JSON object read as entries, refusing what no command could address:
/// a key that is empty, holds white space or is over [`MAX_KEY`] bytes, and
/// a key given twice (serde_json's error names the line).
struct StrictEntries;

impl<'de> serde::de::Visitor<'de> for StrictEntries {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of strings")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        use serde::de::Error as _;
        let mut entries = Entries::new();
        // Each key is checked as soon as it is read, so the error's line is the key's.
        while let Some(key) = map.next_key::<String>()? {
            if key.is_empty() || key.len() > MAX_KEY || key.contains(char::is_whitespace) {
                return Err(A::Error::custom(format!(
                    "key {key:?} is not one word of 1 to {MAX_KEY} bytes"
                )));
            }
            if entries.contains_key(&key) {
                return Err(A::Error::custom(format!("key {key:?} is given twice")));
            }
            let value = map.next_value::<String>()?;
            entries.insert(key, value);
        }
        Ok(entries)
    }
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
        drop(store);
        let again = KvStore::open(&path).unwrap();
        assert_eq!(
            again.entries().await.get("a").map(String::as_str),
            Some("1 2")
        );
        assert!(!dir.join(".kv.json.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_no_command_could_address_are_refused_with_their_line() {
        let dir = temp_dir("badkeys");
        let path = dir.join("kv.json");
        for (text, want) in [
            ("{\n  \"a b\": \"1\"\n}", "line 2"),
            ("{\"\": \"1\"}", "not one word"),
            ("{\n\"a\": \"1\",\n\"a\": \"2\"\n}", "given twice at line 3"),
        ] {
            fs::write(&path, text).unwrap();
            let e = KvStore::open(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
        fs::write(&path, format!("{{\"{}\": \"v\"}}", "k".repeat(MAX_KEY + 1))).unwrap();
        assert!(KvStore::open(&path).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_symlink_is_written_through_and_stays_a_link() {
        let dir = temp_dir("symlink");
        let target = dir.join("real.json");
        let link = dir.join("kv.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let store = KvStore::open(&link).unwrap();
        store
            .write(|e| {
                e.insert("a".into(), "1".into());
                Ok(())
            })
            .await
            .unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::read_to_string(&target).unwrap().contains("\"a\""));
        drop(store);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_regular_file_can_hold_the_store() {
        for path in ["/dev/null", "/dev/zero", "/"] {
            let e = KvStore::open(path).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{path}: {e}");
            assert!(e.to_string().contains("not a regular file"), "{path}: {e}");
        }
    }

    #[test]
    fn a_second_server_on_the_same_file_is_refused_naming_the_first() {
        let dir = temp_dir("lock");
        let path = dir.join("kv.json");
        let first = KvStore::open(&path).unwrap();
        let e = KvStore::open(&path).unwrap_err().to_string();
        assert!(e.contains("in use by another tcplab serve kv"), "{e}");
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(first);
        assert!(KvStore::open(&path).is_ok(), "the lock goes with the store");
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
