//! Storing files (product images) by key. The built-in store keeps them in
//! a local directory; an object store (S3 and the like) is another
//! implementation of the same trait. The database says which keys exist;
//! this layer only holds bytes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures::future::BoxFuture;

/// A key: `/`-separated segments of ASCII letters, digits, `-`, `_` and
/// `.`, none empty or starting with a dot. So a key is always a relative
/// path inside the store's root (no `..`, no absolute path, no backslash),
/// and means the same on a file system as in an object store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(key: &str) -> Option<BlobKey> {
        let ok = !key.is_empty()
            && key.len() <= 512
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg.len() <= 128
                    && !seg.starts_with('.')
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            });
        ok.then(|| BlobKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("blob store: {0}")]
pub struct BlobError(pub String);

impl From<std::io::Error> for BlobError {
    fn from(e: std::io::Error) -> Self {
        BlobError(e.to_string())
    }
}

/// Where files live. `put` is durable when it returns (the database will
/// point at the key right after); `delete` of a missing key succeeds.
pub trait BlobStore: Send + Sync + 'static {
    fn put<'a>(&'a self, key: &'a BlobKey, bytes: Vec<u8>) -> BoxFuture<'a, Result<(), BlobError>>;
    /// The bytes, or `None` when no such blob exists.
    fn get<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<Option<Vec<u8>>, BlobError>>;
    fn delete<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<(), BlobError>>;
    /// Every key below `prefix` (keys that start with it and a `/`), with
    /// when each was written: housekeeping finds files nothing points at.
    fn list<'a>(&'a self, prefix: &'a BlobKey) -> BoxFuture<'a, Result<Vec<BlobEntry>, BlobError>>;
}

/// A stored blob as [`BlobStore::list`] reports it.
#[derive(Debug, Clone)]
pub struct BlobEntry {
    pub key: BlobKey,
    pub written_at: SystemTime,
}

/// Files under one directory, a key's segments as sub-directories.
#[derive(Debug, Clone)]
pub struct LocalDirBlobStore {
    root: PathBuf,
}

impl LocalDirBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDirBlobStore { root: root.into() }
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        // Safe to join: a BlobKey is a relative path without `..` (see parse).
        self.root.join(key.as_str())
    }
}

/// Writes to a temporary file beside the target, syncs it, renames it into
/// place and syncs the directory: a reader sees the whole file or none, and
/// after a crash the file is either complete or absent.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("a blob path has a parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp =
        dir.join(format!(".tmp-{}-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"), ulid::Ulid::new()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl BlobStore for LocalDirBlobStore {
    fn put<'a>(&'a self, key: &'a BlobKey, bytes: Vec<u8>) -> BoxFuture<'a, Result<(), BlobError>> {
        let path = self.path(key);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
                .await
                .map_err(|e| BlobError(e.to_string()))??;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<Option<Vec<u8>>, BlobError>> {
        let path = self.path(key);
        Box::pin(async move {
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<(), BlobError>> {
        let path = self.path(key);
        let root = self.root.clone();
        Box::pin(async move {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            // Tidy up directories the key made, up to the root; one that is
            // not empty stops the walk (remove_dir refuses it).
            let mut dir = path.parent().map(Path::to_path_buf);
            while let Some(d) = dir {
                if d == root || !d.starts_with(&root) || tokio::fs::remove_dir(&d).await.is_err() {
                    break;
                }
                dir = d.parent().map(Path::to_path_buf);
            }
            Ok(())
        })
    }

    fn list<'a>(&'a self, prefix: &'a BlobKey) -> BoxFuture<'a, Result<Vec<BlobEntry>, BlobError>> {
        let (root, start) = (self.root.clone(), self.path(prefix));
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                walk(&root, &start, &mut out)?;
                Ok(out)
            })
            .await
            .map_err(|e| BlobError(e.to_string()))?
        })
    }
}

/// Collects the files below `dir` whose paths are keys. Names starting with
/// a dot (a write's temporary file) are not keys and are left alone.
fn walk(root: &Path, dir: &Path, out: &mut Vec<BlobEntry>) -> Result<(), BlobError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let key = path.strip_prefix(root).ok().and_then(|rel| rel.to_str()).and_then(BlobKey::parse);
        if let Some(key) = key {
            out.push(BlobEntry { key, written_at: meta.modified()? });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_the_root() {
        assert!(BlobKey::parse("str_01/med_01/full-abc.jpg").is_some());
        for bad in [
            "",
            "/etc/passwd",
            "../secrets/keys.toml",
            "a/../../b",
            "a//b",
            "a/",
            ".hidden",
            "a\\b",
            "a/b\0c",
            "a b",
            "ünï",
            "C:",
        ] {
            assert!(BlobKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn local_store_puts_gets_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirBlobStore::new(dir.path().join("media"));
        let key = BlobKey::parse("str_1/med_1/full-abc.jpg").unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, b"one".to_vec()).await.unwrap();
        store.put(&key, b"two".to_vec()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&b"two"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path().join("media/str_1/med_1")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary files left");
        let other = BlobKey::parse("str_2/med_1/full-abc.jpg").unwrap();
        store.put(&other, b"elsewhere".to_vec()).await.unwrap();
        let listed = store.list(&BlobKey::parse("str_1").unwrap()).await.unwrap();
        assert_eq!(listed.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), [key.as_str()]);
        assert!(store.list(&BlobKey::parse("str_9").unwrap()).await.unwrap().is_empty());
        store.delete(&other).await.unwrap();
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
        assert!(!dir.path().join("media/str_1").exists(), "empty folders removed");
        assert!(dir.path().join("media").exists(), "the root stays");
    }
}
