//! Output directories written whole or not at all, that keep every file
//! this program did not write.
//!
//! A run declares, before any work, the names of the files it writes (a
//! `*` stands for any text) and the paths it reads. [`StagedDir::create`]
//! refuses an `--out` that is not a directory, that equals, contains or
//! lies inside an input, or that holds a file of a declared name which no
//! manifest of this program lists (the user's own `metadata.json`, say).
//!
//! The run writes its files into a staging directory beside the target
//! (`.NAME.partial-PID`, marked as unfinished by a file of its own). On
//! commit it writes a manifest (`run.json`: the command, the input and
//! every file with its size and hash), removes the unfinished mark, gives
//! the staging directory a hard link to every entry of the target that the
//! target's manifest does not list (the user's notes, notebooks, figures:
//! directories as trees of links), and swaps the two directories in one
//! step (`renameat2` with `RENAME_EXCHANGE` on Linux). The earlier side is
//! then retired entry by entry: the files its manifest lists (an earlier
//! run's, superseded) are removed, and so are the links whose twin is in
//! the new target; anything else (a file made in the target during the
//! run) goes back into the target, or stays where it is with a warning.
//! Nothing is ever removed that this program did not write or link.
//!
//! A kill at any moment leaves the target whole, earlier or new. Where the
//! exchange is not available (another system, a file system without it)
//! the swap is two renames through `.NAME.old-PID`; a kill between them
//! leaves the target absent, and the next run puts the earlier directory
//! back before anything else. Directories that killed runs left beside the
//! target are cleaned the same way: an unfinished staging directory holds
//! only this program's files and is removed; any other is retired as above.

use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use twox_hash::XxHash64;

pub const MANIFEST: &str = "run.json";

/// The file that marks a staging directory as unfinished: while it is
/// there, every other entry of the directory is this program's.
const UNFINISHED: &str = ".unfinished";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} exists and is not a directory: choose a directory for --out")]
    NotADirectory(PathBuf),
    #[error(
        "{out} {relation} the input {input}: the run would write over what it reads; choose an --out apart from every input"
    )]
    Overlap {
        out: PathBuf,
        input: PathBuf,
        relation: &'static str,
    },
    #[error(
        "{0} was not written by this program (no run.json beside it lists it), and this run writes a file of that name: move it away or choose another --out"
    )]
    NotOurs(PathBuf),
    #[error(
        "{dir} holds the output of another kind of run ({file}, listed in its run.json), which this run would remove: choose another --out"
    )]
    OtherKind { dir: PathBuf, file: String },
    #[error("cannot keep {path} through the swap ({source}): move it out of --out, or choose another --out")]
    CannotKeep { path: PathBuf, source: std::io::Error },
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

/// The files the manifest in `dir` lists, with the manifest itself; empty
/// when there is no manifest or it is not one this program wrote (then
/// nothing in `dir` counts as this program's).
pub fn listed(dir: &Path) -> BTreeSet<String> {
    let read = || -> Option<BTreeSet<String>> {
        let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        let files = value.get("files")?.as_array()?;
        let mut names: BTreeSet<String> = files
            .iter()
            .filter_map(|f| Some(f.get("name")?.as_str()?.to_string()))
            .collect();
        names.insert(MANIFEST.to_string());
        Some(names)
    };
    read().unwrap_or_default()
}

/// Whether `name` fits `pattern`, where one `*` stands for any text.
fn fits(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail),
    }
}

/// `path` made absolute, with every symbolic link of the part that exists
/// resolved; the part that does not exist yet is appended with `..` taken
/// lexically, which is exact there since a name that does not exist is no
/// link.
pub fn resolved(path: &Path) -> Result<PathBuf, OutputError> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(io(path))?.join(path)
    };
    let components: Vec<Component> = absolute.components().collect();
    for exists in (0..=components.len()).rev() {
        let head: PathBuf = components[..exists].iter().collect();
        let Ok(mut real) = head.canonicalize() else { continue };
        for component in &components[exists..] {
            match component {
                Component::ParentDir => {
                    real.pop();
                }
                Component::Normal(name) => real.push(name),
                _ => {}
            }
        }
        return Ok(real);
    }
    Ok(absolute)
}

/// Refuses an output that equals, contains or lies inside an input, with
/// both paths compared after every link is resolved. An input that does
/// not exist is left to its reader's error.
fn refuse_overlap(out: &Path, real: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    for &input in inputs {
        let Ok(input_real) = input.canonicalize() else { continue };
        let relation = if input_real == real {
            "is"
        } else if input_real.starts_with(real) {
            "contains"
        } else if real.starts_with(&input_real) {
            "lies inside"
        } else {
            continue;
        };
        return Err(OutputError::Overlap {
            out: out.to_path_buf(),
            input: input.to_path_buf(),
            relation,
        });
    }
    Ok(())
}

/// Refuses a target that holds an entry the run would write (a name that
/// fits `names`, or the manifest's) and that the target's manifest does
/// not list: it is someone else's. Refuses one whose manifest lists a file
/// that this run would not write: the output of another kind of run (a
/// population under an attribution), which superseding would remove.
fn refuse_unlisted(target: &Path, names: &[String]) -> Result<(), OutputError> {
    let listed = listed(target);
    if let Some(other) = listed
        .iter()
        .find(|n| *n != MANIFEST && !names.iter().any(|p| fits(p, n)))
    {
        return Err(OutputError::OtherKind {
            dir: target.to_path_buf(),
            file: other.clone(),
        });
    }
    for entry in std::fs::read_dir(target).map_err(io(target))? {
        let name = entry.map_err(io(target))?.file_name().to_string_lossy().into_owned();
        if listed.contains(&name) {
            continue;
        }
        if name == MANIFEST || names.iter().any(|p| fits(p, &name)) {
            return Err(OutputError::NotOurs(target.join(name)));
        }
        if subdirectories(names).any(|d| d == name) {
            let path = target.join(&name);
            // A file or a link where the run puts a folder of its own.
            if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                return Err(OutputError::NotOurs(path));
            }
            for inner in std::fs::read_dir(&path).map_err(io(&path))? {
                let inner = inner.map_err(io(&path))?.file_name().to_string_lossy().into_owned();
                let full = format!("{name}/{inner}");
                if !listed.contains(&full) && names.iter().any(|p| fits(p, &full)) {
                    return Err(OutputError::NotOurs(path.join(inner)));
                }
            }
        }
    }
    Ok(())
}

/// The folders that declared names put files in (`figures` for
/// `figures/*.svg`): one level, as [`StagedDir`] writes them.
fn subdirectories(names: &[String]) -> impl Iterator<Item = &str> {
    names.iter().filter_map(|n| n.split_once('/').map(|(dir, _)| dir))
}

/// The files under `dir`, one level of folders deep, as `name` or
/// `folder/name`, sorted.
fn files_under(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().map_err(io(dir))?.is_dir() {
            let path = entry.path();
            for inner in std::fs::read_dir(&path).map_err(io(&path))? {
                let inner = inner.map_err(io(&path))?;
                names.push(format!("{name}/{}", inner.file_name().to_string_lossy()));
            }
        } else if name != UNFINISHED {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A name for a directory beside the target that no other in this process
/// has: `.NAME.TAG-PID-K`.
fn sibling(parent: &Path, name: &str, tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    parent.join(format!(".{name}.{tag}-{}-{k}", std::process::id()))
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

/// A directory being written: files go to [`StagedDir::path`], and
/// [`StagedDir::commit`] puts them in place. Dropped without a commit, it
/// removes what it wrote.
pub struct StagedDir {
    /// The target as the user named it, for messages.
    named: PathBuf,
    /// The target with its links resolved: what is swapped.
    target: PathBuf,
    staging: PathBuf,
    names: Vec<String>,
    committed: bool,
}

impl StagedDir {
    /// Checks, before any work, that `target` may receive files named as
    /// `names` (a `*` stands for any text) from a run that reads `inputs`,
    /// and creates the staging directory beside it. Puts back or cleans
    /// the directories that killed runs left beside it.
    pub fn create(target: &Path, names: &[&str], inputs: &[&Path]) -> Result<Self, OutputError> {
        let exists = std::fs::symlink_metadata(target).is_ok();
        if exists && !std::fs::metadata(target).is_ok_and(|m| m.is_dir()) {
            return Err(OutputError::NotADirectory(target.to_path_buf()));
        }
        let real = resolved(target)?;
        refuse_overlap(target, &real, inputs)?;
        let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(OutputError::NotADirectory(target.to_path_buf()));
        };
        let name = name.to_string_lossy().into_owned();
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        recover(parent, &name, &real)?;
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        if real.is_dir() {
            refuse_unlisted(&real, &names)?;
        }
        let staging = sibling(parent, &name, "partial");
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        let staged = Self {
            named: target.to_path_buf(),
            target: real,
            staging,
            names,
            committed: false,
        };
        let mark = staged.staging.join(UNFINISHED);
        std::fs::write(&mark, b"").map_err(io(&mark))?;
        Ok(staged)
    }

    /// Where to write a file of the run; for a name in a folder
    /// (`figures/a.svg`), the folder is made.
    pub fn path(&self, name: &str) -> PathBuf {
        let path = self.staging.join(name);
        if let Some(dir) = path.parent().filter(|d| *d != self.staging) {
            // A failure here surfaces when the file itself is written.
            let _ = std::fs::create_dir_all(dir);
        }
        path
    }

    /// The staging directory itself.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Hashes every file written, writes the manifest (when given), makes
    /// the files durable, and swaps the directory into place, keeping every
    /// entry of the target that its manifest does not list. Returns the
    /// final paths of the files, in name order.
    pub fn commit(mut self, manifest: Option<Manifest>) -> Result<Vec<PathBuf>, OutputError> {
        let mut names = files_under(&self.staging)?;
        debug_assert!(
            names.iter().all(|n| self.names.iter().any(|p| fits(p, n))),
            "{names:?} written, {:?} declared",
            self.names
        );
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
        let target_exists = self.target.is_dir();
        if target_exists {
            // A file of one of our names may have appeared during the run.
            refuse_unlisted(&self.target, &self.names)?;
        }
        let mark = self.staging.join(UNFINISHED);
        std::fs::remove_file(&mark).map_err(io(&mark))?;
        for dir in subdirectories(&self.names) {
            let path = self.staging.join(dir);
            if path.is_dir() {
                sync_dir(&path)?;
            }
        }
        sync_dir(&self.staging)?;
        if target_exists {
            let listed = listed(&self.target);
            for entry in std::fs::read_dir(&self.target).map_err(io(&self.target))? {
                let entry = entry.map_err(io(&self.target))?;
                let name = entry.file_name();
                let text = name.to_string_lossy();
                if listed.contains(&*text) {
                    continue;
                }
                let ours = self.staging.join(&name);
                if subdirectories(&self.names).any(|d| d == text) {
                    // A folder this run's kind writes into (refuse_unlisted
                    // made sure it is one): what the earlier run listed
                    // there is superseded, whether or not this run writes
                    // the folder, and the rest stays.
                    for inner in std::fs::read_dir(entry.path()).map_err(io(&entry.path()))? {
                        let inner = inner.map_err(io(&entry.path()))?;
                        let full = format!("{text}/{}", inner.file_name().to_string_lossy());
                        if !listed.contains(&full) {
                            if !ours.is_dir() {
                                std::fs::create_dir(&ours).map_err(io(&ours))?;
                            }
                            link_tree(&inner.path(), &ours.join(inner.file_name()))?;
                        }
                    }
                } else {
                    link_tree(&entry.path(), &ours)?;
                }
            }
        }
        let parent = self.target.parent().expect("a target has a parent").to_path_buf();
        let name = self
            .target
            .file_name()
            .expect("a target has a name")
            .to_string_lossy()
            .into_owned();
        let old = if !target_exists {
            std::fs::rename(&self.staging, &self.target).map_err(io(&self.named))?;
            self.committed = true;
            None
        } else {
            match exchange(&self.staging, &self.target) {
                Ok(()) => {
                    self.committed = true;
                    Some(self.staging.clone())
                }
                Err(e) if swap_unsupported(&e) => {
                    let old = sibling(&parent, &name, "old");
                    std::fs::rename(&self.target, &old).map_err(io(&self.named))?;
                    if let Err(e) = std::fs::rename(&self.staging, &self.target) {
                        let _ = std::fs::rename(&old, &self.target);
                        return Err(io(&self.named)(e));
                    }
                    self.committed = true;
                    Some(old)
                }
                Err(e) => return Err(io(&self.named)(e)),
            }
        };
        sync_dir(&parent)?;
        if let Some(old) = old {
            retire(&old, &self.target)?;
        }
        Ok(names.iter().map(|n| self.named.join(n)).collect())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            // Before the swap the staging directory holds this run's files
            // and links to the target's entries, whose other names remain.
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Gives `to` a hard link to every file under `from`, directories made
/// anew: the entry's data stays where it is, under two names.
fn link_tree(from: &Path, to: &Path) -> Result<(), OutputError> {
    let keep = |source| OutputError::CannotKeep {
        path: from.to_path_buf(),
        source,
    };
    let meta = std::fs::symlink_metadata(from).map_err(keep)?;
    if !meta.is_dir() {
        // link(2) does not follow a symbolic link: the link itself is kept.
        return std::fs::hard_link(from, to).map_err(keep);
    }
    std::fs::create_dir(to).map_err(keep)?;
    std::fs::set_permissions(to, meta.permissions()).map_err(keep)?;
    for entry in std::fs::read_dir(from).map_err(keep)? {
        let entry = entry.map_err(keep)?;
        link_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

/// Whether two paths name the same file (the same inode): one is a link of
/// the other.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        // Without inode numbers nothing is taken for a link: kept, not removed.
        let _ = (a, b);
        false
    }
}

/// Empties `old`, the directory the target replaced (or one a killed run
/// left), and removes it: the files its manifest lists and the links whose
/// twin is in `target` are removed; anything else goes into `target` where
/// its name is free. What cannot go back is kept in `.NAME.kept-PID-K`
/// beside the target, with a warning.
fn retire(old: &Path, target: &Path) -> Result<(), OutputError> {
    let kept = retire_entries(old, target, &listed(old))?;
    if kept.is_empty() {
        return std::fs::remove_dir(old).map_err(io(old));
    }
    let parent = target.parent().expect("a target has a parent");
    let name = target.file_name().expect("a target has a name").to_string_lossy();
    let aside = sibling(parent, &name, "kept");
    std::fs::rename(old, &aside).map_err(io(old))?;
    eprintln!(
        "warning: {} entries appeared in {} while it was replaced and could not go back ({}); they are in {}",
        kept.len(),
        target.display(),
        kept.iter()
            .map(|p| p.strip_prefix(old).unwrap_or(p).display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        aside.display()
    );
    Ok(())
}

/// What `listed` names inside the folder `name` (`figures/a.svg` gives
/// `a.svg` for `figures`).
fn listed_inside(listed: &BTreeSet<String>, name: &std::ffi::OsStr) -> BTreeSet<String> {
    let prefix = format!("{}/", name.to_string_lossy());
    listed
        .iter()
        .filter_map(|n| n.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// Removes from `dir`, a folder that the new output does not have, the
/// files the manifest lists there (`inside`); true when nothing else was
/// in it, so that it can go too.
fn only_listed(dir: &Path, inside: &BTreeSet<String>) -> Result<bool, OutputError> {
    let mut left = false;
    for inner in std::fs::read_dir(dir).map_err(io(dir))? {
        let inner = inner.map_err(io(dir))?;
        let ours = inside.contains(&*inner.file_name().to_string_lossy());
        if ours && !inner.file_type().map_err(io(dir))?.is_dir() {
            std::fs::remove_file(inner.path()).map_err(io(&inner.path()))?;
        } else {
            left = true;
        }
    }
    Ok(!left)
}

fn retire_entries(old: &Path, target: &Path, listed: &BTreeSet<String>) -> Result<Vec<PathBuf>, OutputError> {
    let mut kept = Vec::new();
    for entry in std::fs::read_dir(old).map_err(io(old))? {
        let entry = entry.map_err(io(old))?;
        let (path, name) = (entry.path(), entry.file_name());
        let twin = target.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        let ours = !meta.is_dir() && listed.contains(&*name.to_string_lossy());
        if ours || (!meta.is_dir() && same_file(&path, &twin)) {
            std::fs::remove_file(&path).map_err(io(&path))?;
        } else if meta.is_dir()
            && std::fs::symlink_metadata(&twin).is_err()
            && only_listed(&path, &listed_inside(listed, &name))?
        {
            std::fs::remove_dir(&path).map_err(io(&path))?;
        } else if meta.is_dir() && std::fs::symlink_metadata(&twin).is_ok_and(|m| m.is_dir()) {
            let inner = retire_entries(&path, &twin, &listed_inside(listed, &name))?;
            if inner.is_empty() {
                std::fs::remove_dir(&path).map_err(io(&path))?;
            }
            kept.extend(inner);
        } else if std::fs::symlink_metadata(&twin).is_err() {
            std::fs::rename(&path, &twin).map_err(io(&path))?;
        } else {
            kept.push(path);
        }
    }
    Ok(kept)
}

/// Puts back, or cleans, the directories that killed runs left beside the
/// target (`.NAME.partial-PID-K`, `.NAME.old-PID-K`; where /proc tells
/// that PID no longer runs, elsewhere they are left alone). An earlier
/// output put aside by a swap that did not finish becomes the target again
/// when the target is missing; a staging directory still marked unfinished
/// holds only this program's files and is removed; any other is retired
/// against the target.
fn recover(parent: &Path, name: &str, target: &Path) -> Result<(), OutputError> {
    if !Path::new("/proc/self").exists() {
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    let mut stale: Vec<(bool, PathBuf)> = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        for (tag, earlier) in [(".old-", true), (".partial-", false)] {
            let Some(rest) = file.strip_prefix(&format!(".{name}{tag}")) else {
                continue;
            };
            let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid
                && pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                stale.push((earlier, entry.path()));
            }
        }
    }
    // Earlier outputs first: a swap killed between its renames left both
    // the earlier output and the finished new one, and the earlier is what
    // the target held.
    stale.sort_by_key(|(earlier, path)| (!earlier, path.clone()));
    for (_, path) in stale {
        if path.join(UNFINISHED).exists() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        } else if std::fs::symlink_metadata(target).is_err() {
            std::fs::rename(&path, target).map_err(io(&path))?;
        } else {
            retire(&path, target)?;
        }
    }
    Ok(())
}

/// Swaps two directories in one step.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are NUL-terminated strings that live through
    // the call, which reads them and keeps neither.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Whether the exchange failed because the system or the file system does
/// not offer it (then the swap is two renames).
fn swap_unsupported(e: &std::io::Error) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return true;
    }
    e.kind() == std::io::ErrorKind::Unsupported
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

    const NAMES: &[&str] = &["a.txt", "b.txt", "table-*.parquet"];

    fn run(out: &Path, files: &[(&str, &str)]) -> Result<Vec<PathBuf>, OutputError> {
        let staged = StagedDir::create(out, NAMES, &[])?;
        for (name, text) in files {
            std::fs::write(staged.path(name), text).unwrap();
        }
        staged.commit(Some(Manifest::new("in", "f")))
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_commit_replaces_the_earlier_runs_files_and_a_drop_leaves_them() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let written = run(&out, &[("a.txt", "first"), ("b.txt", "first")]).unwrap();
        assert_eq!(written.len(), 3);
        // A second run that writes only a.txt: b.txt, the first run's, is gone.
        run(&out, &[("a.txt", "second")]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "second");
        assert_eq!(entries(&out), ["a.txt", "run.json"]);
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["files"][0]["name"], "a.txt");
        assert_eq!(manifest["files"][0]["bytes"], 6);
        // A run that fails (dropped without commit) leaves the last one.
        let staged = StagedDir::create(&out, NAMES, &[]).unwrap();
        std::fs::write(staged.path("a.txt"), "third").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "second");
        assert_eq!(entries(root.path()), ["out"]);
    }

    #[test]
    fn files_and_folders_the_program_did_not_write_survive_every_run() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir_all(out.join("figures/raw")).unwrap();
        std::fs::write(out.join("figures/raw/f.svg"), "<svg/>").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("notes.txt", out.join("link")).unwrap();
        run(&out, &[("a.txt", "first"), ("b.txt", "first")]).unwrap();
        std::fs::write(out.join("notebook.ipynb"), "{}").unwrap();
        run(&out, &[("a.txt", "second")]).unwrap();
        let mut expected = vec!["a.txt", "figures", "notebook.ipynb", "notes.txt", "run.json"];
        if cfg!(unix) {
            expected.insert(2, "link");
        }
        assert_eq!(entries(&out), expected);
        assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(out.join("notebook.ipynb")).unwrap(), "{}");
        assert_eq!(
            std::fs::read_to_string(out.join("figures/raw/f.svg")).unwrap(),
            "<svg/>"
        );
        #[cfg(unix)]
        assert_eq!(std::fs::read_link(out.join("link")).unwrap(), Path::new("notes.txt"));
        // The run.json lists the run's files only.
        assert_eq!(listed(&out).into_iter().collect::<Vec<_>>(), ["a.txt", "run.json"]);
        // Nothing is left beside the target.
        assert_eq!(entries(root.path()), ["out"]);
    }

    #[test]
    fn a_folder_of_the_runs_files_is_superseded_file_by_file_and_keeps_the_users() {
        const WITH_FOLDER: &[&str] = &["a.txt", "figures/*.svg"];
        let write = |out: &Path, files: &[(&str, &str)]| -> Result<Vec<PathBuf>, OutputError> {
            let staged = StagedDir::create(out, WITH_FOLDER, &[])?;
            for (name, text) in files {
                std::fs::write(staged.path(name), text).unwrap();
            }
            staged.commit(Some(Manifest::new("in", "f")))
        };
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let written = write(&out, &[("a.txt", "1"), ("figures/x.svg", "1"), ("figures/y.svg", "1")]).unwrap();
        assert_eq!(written.len(), 4);
        assert_eq!(
            listed(&out).into_iter().collect::<Vec<_>>(),
            ["a.txt", "figures/x.svg", "figures/y.svg", "run.json"]
        );
        // The user's own file in the folder stays; the earlier run's
        // figures are replaced or, when not written again, removed.
        std::fs::write(out.join("figures/notes.txt"), "mine").unwrap();
        write(&out, &[("a.txt", "2"), ("figures/x.svg", "2")]).unwrap();
        assert_eq!(entries(&out.join("figures")), ["notes.txt", "x.svg"]);
        assert_eq!(std::fs::read_to_string(out.join("figures/x.svg")).unwrap(), "2");
        // A run that writes no figure removes the earlier run's, and keeps
        // the folder for the user's file.
        write(&out, &[("a.txt", "3")]).unwrap();
        assert_eq!(entries(&out.join("figures")), ["notes.txt"]);
        assert_eq!(std::fs::read_to_string(out.join("figures/notes.txt")).unwrap(), "mine");
        // A file of a name the run writes, in that folder, that no manifest
        // lists is someone else's: refused, and nothing moves.
        std::fs::write(out.join("figures/mine.svg"), "mine").unwrap();
        let refused = write(&out, &[("a.txt", "4"), ("figures/mine.svg", "4")]).unwrap_err();
        assert!(
            matches!(&refused, OutputError::NotOurs(p) if p.ends_with("figures/mine.svg")),
            "{refused}"
        );
        assert_eq!(std::fs::read_to_string(out.join("figures/mine.svg")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "3");
        // A file where the run puts its folder is refused too.
        let other = root.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("figures"), "a file").unwrap();
        let refused = write(&other, &[("figures/x.svg", "1")]).unwrap_err();
        assert!(
            matches!(&refused, OutputError::NotOurs(p) if p.ends_with("figures")),
            "{refused}"
        );
        assert_eq!(std::fs::read_to_string(other.join("figures")).unwrap(), "a file");
        // An output whose folder holds only the run's files loses the
        // folder with them.
        let clean = root.path().join("clean");
        write(&clean, &[("a.txt", "1"), ("figures/x.svg", "1")]).unwrap();
        write(&clean, &[("a.txt", "2")]).unwrap();
        assert_eq!(entries(&clean), ["a.txt", "run.json"]);
        assert_eq!(entries(root.path()), ["clean", "other", "out"]);
    }

    #[test]
    fn a_file_of_a_name_the_run_writes_that_no_manifest_lists_is_refused_before_any_work() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("b.txt"), "the user's").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = StagedDir::create(&out, NAMES, &[]).err().unwrap();
        assert!(matches!(&err, OutputError::NotOurs(p) if p.ends_with("b.txt")), "{err}");
        std::fs::remove_file(out.join("b.txt")).unwrap();
        std::fs::write(out.join("table-x.parquet"), "the user's").unwrap();
        let err = StagedDir::create(&out, NAMES, &[]).err().unwrap();
        assert!(
            matches!(&err, OutputError::NotOurs(p) if p.ends_with("table-x.parquet")),
            "{err}"
        );
        // A manifest that is not one of ours is not ours either.
        std::fs::remove_file(out.join("table-x.parquet")).unwrap();
        std::fs::write(out.join(MANIFEST), "not json").unwrap();
        let err = StagedDir::create(&out, NAMES, &[]).err().unwrap();
        assert!(
            matches!(&err, OutputError::NotOurs(p) if p.ends_with(MANIFEST)),
            "{err}"
        );
        assert_eq!(entries(&out), ["notes.txt", "run.json"]);
        assert_eq!(entries(root.path()), ["out"]);
        // Nor is the output of another kind of run, which would be removed.
        std::fs::remove_file(out.join(MANIFEST)).unwrap();
        run(&out, &[("a.txt", "ours")]).unwrap();
        let err = StagedDir::create(&out, &["c.txt"], &[]).err().unwrap();
        assert!(
            matches!(&err, OutputError::OtherKind { file, .. } if file == "a.txt"),
            "{err}"
        );
        std::fs::remove_file(out.join("a.txt")).unwrap();
        // One that appears during the run stops the commit, and nothing moves.
        std::fs::remove_file(out.join(MANIFEST)).unwrap();
        let staged = StagedDir::create(&out, NAMES, &[]).unwrap();
        std::fs::write(staged.path("a.txt"), "ours").unwrap();
        std::fs::write(out.join("a.txt"), "the user's, made meanwhile").unwrap();
        let err = staged.commit(Some(Manifest::new("in", "f"))).err().unwrap();
        assert!(matches!(&err, OutputError::NotOurs(_)), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("a.txt")).unwrap(),
            "the user's, made meanwhile"
        );
        assert_eq!(entries(root.path()), ["out"]);
    }

    #[test]
    fn anything_but_a_directory_is_refused_and_left_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("notes.txt");
        std::fs::write(&file, "mine").unwrap();
        let refused = |path: &Path| {
            let err = StagedDir::create(path, NAMES, &[]).err().unwrap();
            assert!(
                matches!(err, OutputError::NotADirectory(_)),
                "{}: {err}",
                path.display()
            );
        };
        refused(&file);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
        #[cfg(unix)]
        {
            let fifo = root.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
            assert!(made.success());
            refused(&fifo);
            let link = root.path().join("to-file");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            refused(&link);
            let dangling = root.path().join("dangling");
            std::os::unix::fs::symlink(root.path().join("nowhere"), &dangling).unwrap();
            refused(&dangling);
            assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo_like());
            refused(Path::new("/dev/null"));
            assert!(!std::fs::metadata("/dev/null").unwrap().is_dir());
        }
        refused(Path::new("/"));
        let mut left = entries(root.path());
        left.retain(|n| n.starts_with('.'));
        assert!(left.is_empty(), "{left:?}");
    }

    #[cfg(unix)]
    trait FifoLike {
        fn is_fifo_like(&self) -> bool;
    }
    #[cfg(unix)]
    impl FifoLike for std::fs::FileType {
        fn is_fifo_like(&self) -> bool {
            std::os::unix::fs::FileTypeExt::is_fifo(self)
        }
    }

    #[test]
    fn an_out_that_is_contains_or_lies_inside_an_input_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let input = root.path().join("pop");
        std::fs::create_dir(&input).unwrap();
        std::fs::write(input.join("agents.parquet"), "data").unwrap();
        let seeds = root.path().join("work/seeds.csv");
        std::fs::create_dir_all(seeds.parent().unwrap()).unwrap();
        std::fs::write(&seeds, "a,1").unwrap();
        let inputs = [input.as_path(), seeds.as_path()];
        let relation = |out: &Path| match StagedDir::create(out, NAMES, &inputs) {
            Err(OutputError::Overlap { relation, .. }) => relation,
            Err(e) => panic!("{}: {e}", out.display()),
            Ok(_) => panic!("{}: accepted", out.display()),
        };
        assert_eq!(relation(&input), "is");
        assert_eq!(relation(&root.path().join("pop/../pop/./")), "is");
        assert_eq!(relation(&input.join("attr")), "lies inside");
        assert_eq!(relation(&input.join("new/../attr")), "lies inside");
        assert_eq!(relation(&root.path().join("work")), "contains");
        #[cfg(unix)]
        {
            let alias = root.path().join("alias");
            std::os::unix::fs::symlink(&input, &alias).unwrap();
            assert_eq!(relation(&alias), "is");
            assert_eq!(relation(&alias.join("attr")), "lies inside");
        }
        // Beside the inputs is fine; nothing was created inside them.
        StagedDir::create(&root.path().join("attr"), NAMES, &inputs).unwrap();
        assert_eq!(entries(&input), ["agents.parquet"]);
        assert_eq!(entries(&root.path().join("work")), ["seeds.csv"]);
    }

    #[test]
    fn an_earlier_output_put_aside_by_a_killed_swap_is_put_back() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        run(&out, &[("a.txt", "earlier")]).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        // The two-rename swap killed between its renames: the target is
        // missing and both sides lie beside it. No process has pid 2^31.
        let aside = root.path().join(".out.old-2147483647-0");
        std::fs::rename(&out, &aside).unwrap();
        let finished = root.path().join(".out.partial-2147483647-1");
        std::fs::create_dir(&finished).unwrap();
        std::fs::write(finished.join("a.txt"), "new").unwrap();
        std::fs::hard_link(aside.join("notes.txt"), finished.join("notes.txt")).unwrap();
        std::fs::write(
            finished.join(MANIFEST),
            r#"{"files": [{"name": "a.txt", "bytes": 3, "xxh64": "0"}]}"#,
        )
        .unwrap();
        let staged = StagedDir::create(&out, NAMES, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "earlier");
        assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        drop(staged);
        assert_eq!(entries(root.path()), ["out"]);
    }

    #[test]
    fn what_killed_runs_left_beside_the_target_is_cleaned_without_losing_a_file() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        run(&out, &[("a.txt", "current")]).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        // Killed while writing: marked unfinished, all of it ours.
        let unfinished = root.path().join(".out.partial-2147483647-0");
        std::fs::create_dir(&unfinished).unwrap();
        std::fs::write(unfinished.join(UNFINISHED), "").unwrap();
        std::fs::write(unfinished.join("a.txt"), "half").unwrap();
        // Killed after the exchange: the earlier side, with its own files,
        // links of the target's notes, and a file made in the target
        // during the swap (which must go back), and one whose name the
        // target took meanwhile (which must be kept aside).
        let earlier = root.path().join(".out.partial-2147483647-1");
        std::fs::create_dir(&earlier).unwrap();
        std::fs::write(earlier.join("b.txt"), "earlier run's").unwrap();
        std::fs::write(
            earlier.join(MANIFEST),
            r#"{"files": [{"name": "b.txt", "bytes": 13, "xxh64": "0"}]}"#,
        )
        .unwrap();
        std::fs::hard_link(out.join("notes.txt"), earlier.join("notes.txt")).unwrap();
        std::fs::write(earlier.join("late.txt"), "made during the swap").unwrap();
        std::fs::write(earlier.join("a.txt"), "the user's, same name").unwrap();
        let staged = StagedDir::create(&out, NAMES, &[]).unwrap();
        drop(staged);
        assert_eq!(
            std::fs::read_to_string(out.join("late.txt")).unwrap(),
            "made during the swap"
        );
        assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "current");
        assert_eq!(entries(&out), ["a.txt", "late.txt", "notes.txt", "run.json"]);
        let beside = entries(root.path());
        assert_eq!(beside.len(), 2, "{beside:?}");
        let kept = root.path().join(&beside[0]);
        assert!(beside[0].starts_with(".out.kept-"), "{beside:?}");
        assert_eq!(entries(&kept), ["a.txt"]);
        assert_eq!(
            std::fs::read_to_string(kept.join("a.txt")).unwrap(),
            "the user's, same name"
        );
    }
}
