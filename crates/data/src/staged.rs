//! Output directories written whole or not at all.
//!
//! A run writes every file into a staging directory beside its target
//! (`.NAME.partial-PID`), writes a manifest (`run.json`) naming the command,
//! its input and every file with its size and hash, and only then swaps the
//! staging directory into place. A crash or kill before the swap leaves the
//! previous output untouched (and a stale staging directory, removed by the
//! next run); a crash between the two renames of the swap leaves the target
//! absent, never half-written, and never mixed with an earlier run's files:
//! the whole earlier directory is replaced, so its files that this run does
//! not produce are gone with it.
//!
//! A target that exists, is not empty, and holds neither a manifest nor a
//! population's metadata.json was not written by this program: it is never
//! replaced (that would delete the user's files), and the run stops before
//! any work with an error that says so.

use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use twox_hash::XxHash64;

pub const MANIFEST: &str = "run.json";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{0} exists and holds files this program did not write (no run.json or metadata.json): choose a new or empty --out directory"
    )]
    Foreign(PathBuf),
    #[error("{0} is a file, not a directory: choose a directory for --out")]
    NotADirectory(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a run's manifest records.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The command line, as run.
    pub command: Vec<String>,
    /// The input directory, or a description of the built-in population.
    pub input: String,
    /// A fingerprint of the input: its tables' hashes, or the generator's
    /// settings.
    pub input_fingerprint: String,
    pub version: String,
    pub created: String,
    pub files: Vec<FileEntry>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    /// XxHash64 of the file's bytes, hexadecimal.
    pub xxh64: String,
}

impl Manifest {
    /// A manifest for this process's command line.
    pub fn new(input: &str, input_fingerprint: &str) -> Self {
        Self {
            command: std::env::args().collect(),
            input: input.to_string(),
            input_fingerprint: input_fingerprint.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: crate::now_rfc3339(),
            files: Vec::new(),
        }
    }
}

/// XxHash64 of a file's bytes, streamed.
pub fn file_hash(path: &Path) -> Result<(u64, String), OutputError> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = XxHash64::with_seed(0);
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        std::hash::Hasher::write(&mut hasher, &buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, format!("{:016x}", std::hash::Hasher::finish(&hasher))))
}

/// A directory being written: files go to [`StagedDir::path`], and
/// [`StagedDir::commit`] puts them in place. Dropped without a commit, it
/// removes what it wrote.
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Checks that `target` may be replaced and creates the staging
    /// directory beside it, so that an unwritable or foreign --out fails
    /// before any work. Removes staging directories that earlier runs left
    /// when they were killed.
    pub fn create(target: &Path) -> Result<Self, OutputError> {
        if target.is_file() {
            return Err(OutputError::NotADirectory(target.to_path_buf()));
        }
        if target.is_dir() {
            let mut entries = std::fs::read_dir(target).map_err(io(target))?;
            let empty = entries.next().is_none();
            let ours = target.join(MANIFEST).exists() || target.join(crate::format::METADATA).exists();
            if !empty && !ours {
                return Err(OutputError::Foreign(target.to_path_buf()));
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        remove_stale(&parent, &name);
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where to write a file of the run.
    pub fn path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// The staging directory itself.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Hashes every file written, writes the manifest (when given), makes
    /// the files durable, and swaps the directory into place. Returns the
    /// final paths of the files, in name order.
    pub fn commit(mut self, manifest: Option<Manifest>) -> Result<Vec<PathBuf>, OutputError> {
        let mut names: Vec<String> = std::fs::read_dir(&self.staging)
            .map_err(io(&self.staging))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        if let Some(mut manifest) = manifest {
            for name in &names {
                let (bytes, xxh64) = file_hash(&self.staging.join(name))?;
                manifest.files.push(FileEntry {
                    name: name.clone(),
                    bytes,
                    xxh64,
                });
            }
            let path = self.staging.join(MANIFEST);
            let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n";
            std::fs::write(&path, json).map_err(io(&path))?;
            names.push(MANIFEST.into());
            names.sort();
        }
        for name in &names {
            let path = self.staging.join(name);
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io(&path))?;
        }
        let old = self.staging.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        if self.target.exists() {
            std::fs::rename(&self.target, &old).map_err(io(&self.target))?;
        }
        std::fs::rename(&self.staging, &self.target).map_err(io(&self.target))?;
        self.committed = true;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(names.iter().map(|n| self.target.join(n)).collect())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Removes `.NAME.partial-PID` and `.NAME.old-PID` directories of processes
/// that no longer run (where /proc tells; elsewhere they are left alone).
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = [".partial-", ".old-"].iter().find_map(|tag| {
            file.strip_prefix(&format!(".{name}{tag}"))
                .and_then(|p| p.parse::<u32>().ok())
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && Path::new("/proc/self").exists()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes one file whole or not at all: into a temporary sibling, made
/// durable, then renamed over `path`. For outputs that share a directory
/// with others (the benchmarks' results), where replacing the directory
/// would remove its other files.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_replaces_the_whole_directory_and_a_drop_leaves_it_alone() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let staged = StagedDir::create(&out).unwrap();
        std::fs::write(staged.path("a.txt"), "first").unwrap();
        std::fs::write(staged.path("b.txt"), "first").unwrap();
        let written = staged.commit(Some(Manifest::new("in", "f"))).unwrap();
        assert_eq!(written.len(), 3);
        // A second run that writes only a.txt: b.txt from the first is gone.
        let staged = StagedDir::create(&out).unwrap();
        std::fs::write(staged.path("a.txt"), "second").unwrap();
        staged.commit(Some(Manifest::new("in", "f"))).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "second");
        assert!(!out.join("b.txt").exists());
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["files"][0]["name"], "a.txt");
        assert_eq!(manifest["files"][0]["bytes"], 6);
        // A run that fails (dropped without commit) leaves the last one.
        let staged = StagedDir::create(&out).unwrap();
        std::fs::write(staged.path("a.txt"), "third").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "second");
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn a_foreign_directory_or_a_file_is_refused_before_any_work() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("notes.txt"), "mine").unwrap();
        let err = StagedDir::create(root.path()).err().unwrap();
        assert!(matches!(err, OutputError::Foreign(_)), "{err}");
        assert!(root.path().join("notes.txt").exists());
        let file = root.path().join("notes.txt");
        assert!(matches!(
            StagedDir::create(&file).err().unwrap(),
            OutputError::NotADirectory(_)
        ));
    }

    #[test]
    fn stale_staging_directories_of_dead_processes_are_removed() {
        let root = tempfile::tempdir().unwrap();
        // pid 0 never names a user process.
        let stale = root.path().join(".out.partial-999999999");
        std::fs::create_dir(&stale).unwrap();
        let staged = StagedDir::create(&root.path().join("out")).unwrap();
        assert!(!stale.exists() || !Path::new("/proc/self").exists());
        drop(staged);
    }
}
