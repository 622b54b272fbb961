//! Local storage of document bytes. Files are named by document id under
//! `<data dir>/documents`; the client's filename never reaches a path.
//! Uploads are received under `<data dir>/tmp` and renamed into place only
//! once they passed every check, so a reader never sees a partial file.

use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Clone)]
pub struct DocumentStorage {
    documents_dir: PathBuf,
    tmp_dir: PathBuf,
}

impl DocumentStorage {
    /// Creates the folders and removes uploads left over from a crash.
    pub fn open(documents_dir: PathBuf, tmp_dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&documents_dir).with_context(|| format!("cannot create {}", documents_dir.display()))?;
        std::fs::create_dir_all(&tmp_dir).with_context(|| format!("cannot create {}", tmp_dir.display()))?;
        for entry in std::fs::read_dir(&tmp_dir)?.flatten().filter(|entry| entry.file_name() != ".health-probe") {
            if let Err(err) = std::fs::remove_file(entry.path()) {
                tracing::warn!(error = %err, path = %entry.path().display(), "cannot remove leftover upload");
            }
        }
        Ok(Self { documents_dir, tmp_dir })
    }

    /// Path of a stored document. `id` is always a UUID the server made.
    pub fn path_of(&self, id: &uuid::Uuid) -> PathBuf {
        self.documents_dir.join(id.to_string())
    }

    /// Returns a fresh temporary upload file, removed when the guard drops
    /// unless it was moved into place.
    pub fn temp_file(&self) -> TempUpload {
        TempUpload {
            path: self.tmp_dir.join(format!("{}.part", uuid::Uuid::new_v4())),
            armed: true,
        }
    }

    /// Moves a checked upload to its final name.
    pub async fn commit(&self, mut upload: TempUpload, id: &uuid::Uuid) -> std::io::Result<PathBuf> {
        let target = self.path_of(id);
        tokio::fs::rename(&upload.path, &target).await?;
        upload.armed = false;
        Ok(target)
    }

    /// Checks that the upload folder accepts writes and the documents folder
    /// exists. The probe file is reused rather than created and deleted on
    /// every call, because inode churn under frequent health checks slowed
    /// ext4 down measurably.
    pub async fn check_writable(&self) -> bool {
        let probe = self.tmp_dir.join(".health-probe");
        let writable = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&probe)
            .await
            .is_ok();
        writable && tokio::fs::metadata(&self.documents_dir).await.is_ok_and(|meta| meta.is_dir())
    }

    pub fn documents_dir(&self) -> &Path {
        &self.documents_dir
    }
}

/// A temporary upload file that deletes itself when dropped, which covers
/// every early return and a client that disconnects mid-upload (the
/// handler's future is dropped then).
pub struct TempUpload {
    path: PathBuf,
    armed: bool,
}

impl TempUpload {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if self.armed {
            if let Err(err) = std::fs::remove_file(&self.path) {
                if err.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(error = %err, path = %self.path.display(), "cannot remove temporary upload");
                }
            }
        }
    }
}
