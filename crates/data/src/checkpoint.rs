//! An attribution's checkpoint on disk: one file, replaced whole after
//! every sweep, and the one it replaced beside it (`….previous`).
//!
//! The file holds the engine's [`SweepState`] behind a header (a magic
//! word, a format version, the job's [`JobIdentity`], the sizes) and ends with
//! an xxHash64 of everything before it. It is written to a temporary file
//! beside it, synced and renamed over the old one, so a crash leaves the
//! previous checkpoint or the new one, never half of one. A file that is
//! not a checkpoint, belongs to another job, or was cut short is not used:
//! the run starts from the beginning and says why.
//!
//! The previous generation is kept for a cluster: its processes save after
//! the same sweeps, but a crash can stop one after its save and another
//! just before, and the run then continues from the newest state that
//! every process holds rather than from the beginning.

use aumann_engine::{Checkpoint, SaveError, SweepState};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"AUMANNCK";
const VERSION: u32 = 2;
const HEADER: usize = 8 + 4 + 8 * 8;

/// What a checkpoint belongs to, part by part, each part a hash of what
/// changes the numbers and nothing else: a state of another job is refused
/// with the part that differs named, and the same job is recognised
/// whatever the paths, the order of the options, the thread count or the
/// timeouts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobIdentity {
    /// The population's content: every value read
    /// ([`crate::format::content_id`]), not its path or its run id.
    pub data: u64,
    /// The indicator with its parameters, and the network it is replayed
    /// over.
    pub model: u64,
    /// The engine's settings: rule, node counts, tolerance, batch.
    pub engine: u64,
    /// How the players are split: processes and workers.
    pub layout: u64,
}

impl JobIdentity {
    fn words(&self) -> [u64; 4] {
        [self.data, self.model, self.engine, self.layout]
    }

    /// Why a state of `other` is not this job's, or None when it is.
    fn differs(&self, other: [u64; 4]) -> Option<&'static str> {
        const PARTS: [&str; 4] = [
            "other data (the population's content differs)",
            "another indicator, its parameters or its network",
            "other engine settings (rule, nodes, tolerance or batch)",
            "another split over processes and workers",
        ];
        let mine = self.words();
        (0..4).find(|&k| mine[k] != other[k]).map(|k| PARTS[k])
    }
}

/// XxHash64 of a text, for the parts of a [`JobIdentity`].
pub fn identity_part(text: &str) -> u64 {
    twox_hash::XxHash64::oneshot(0, text.as_bytes())
}

/// What [`FileCheckpoint::restore`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Restored {
    /// No checkpoint file: the run starts from the beginning.
    Nothing,
    /// The run continues after this many gradient evaluations, from the
    /// state in `from`: the newest file, or the one before it, with why the
    /// newest was not used.
    Resumed {
        evaluations: usize,
        from: PathBuf,
        newest_unused: Option<String>,
    },
    /// A file that could not be used, and why.
    Ignored(String),
}

/// A checkpoint file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A [`Checkpoint`] in one file.
pub struct FileCheckpoint {
    path: PathBuf,
    identity: JobIdentity,
    /// Whether this copy writes (several workers of one process restore
    /// from one file; one of them saves it).
    writes: bool,
    restored: Restored,
    /// What the newest file held (evaluations, batches, integrations
    /// finished: no two saves of a run share them), or why it was
    /// unusable, as the last restore found it.
    newest: Result<Option<SaveId>, String>,
}

/// What tells the saves of one run apart: evaluations, batches,
/// integrations finished.
type SaveId = (usize, usize, usize);

fn identity(state: &SweepState) -> SaveId {
    (state.evaluations, state.batches, state.finished.len())
}

impl FileCheckpoint {
    /// The checkpoint at `path` of the job that `identity` identifies.
    pub fn new(path: PathBuf, identity: JobIdentity, writes: bool) -> Self {
        Self {
            path,
            identity,
            writes,
            restored: Restored::Nothing,
            newest: Ok(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the checkpoint that the last save replaced is kept.
    pub fn previous_path(&self) -> PathBuf {
        previous(&self.path)
    }

    /// Reads and checks the checkpoint at `path`.
    fn read(&self, path: &Path) -> Result<Option<SweepState>, String> {
        match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
            Ok(bytes) => self
                .decode(&bytes)
                .map(Some)
                .map_err(|why| format!("{}: {why}", path.display())),
        }
    }

    /// What the last restore found.
    pub fn restored(&self) -> Restored {
        self.restored.clone()
    }

    fn decode(&self, bytes: &[u8]) -> Result<SweepState, String> {
        if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
            return Err("not a checkpoint".into());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if twox_hash::XxHash64::oneshot(0, body).to_le_bytes() != sum {
            return Err("cut short or damaged (its checksum does not match)".into());
        }
        let u32_at = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
        if u32_at(8) != VERSION {
            return Err(format!("format version {} (this program writes {VERSION})", u32_at(8)));
        }
        if let Some(why) = self.identity.differs([u64_at(12), u64_at(20), u64_at(28), u64_at(36)]) {
            return Err(format!("written by another job: {why}"));
        }
        let (players, finished, batches, evaluations, accumulated) =
            (u64_at(44), u64_at(52), u64_at(60), u64_at(68), batches_rows(u64_at(60)));
        let vectors = finished
            .checked_mul(2)
            .and_then(|v| v.checked_add(accumulated))
            .and_then(|v| v.checked_mul(players))
            .and_then(|v| v.checked_mul(8))
            .ok_or("sizes out of range")?;
        if (body.len() - HEADER) as u64 != vectors {
            return Err("its sizes do not match its length".into());
        }
        let players = players as usize;
        let mut values = body[HEADER..]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")));
        let mut vector = || values.by_ref().take(players).collect::<Vec<f64>>();
        let finished = (0..finished).map(|_| (vector(), vector())).collect();
        let accumulator = if accumulated == 0 {
            Vec::new()
        } else {
            let mut a = vector();
            a.extend(vector());
            a
        };
        Ok(SweepState {
            finished,
            batches: batches as usize,
            accumulator,
            evaluations: evaluations as usize,
        })
    }

    fn encode(&self, state: &SweepState) -> Vec<u8> {
        let players = state
            .finished
            .first()
            .map(|f| f.0.len())
            .unwrap_or(state.accumulator.len() / 2);
        let mut bytes = Vec::with_capacity(HEADER + 8 * players * (2 * state.finished.len() + 2) + 8);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        for word in self.identity.words().into_iter().chain([
            players as u64,
            state.finished.len() as u64,
            state.batches as u64,
            state.evaluations as u64,
        ]) {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        for (a, b) in &state.finished {
            for v in a.iter().chain(b) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        if state.batches > 0 {
            for v in &state.accumulator {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = twox_hash::XxHash64::oneshot(0, &bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        bytes
    }
}

/// The previous generation of the checkpoint at `path`.
fn previous(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".previous");
    PathBuf::from(name)
}

/// Removes the checkpoint at `path` and its previous generation (once a
/// run's outputs are written); absent files are no error.
pub fn remove(path: &Path) {
    // Best effort: a file left behind lets at most a rerun of the same
    // job (the same fingerprint) skip sweeps, to the same numbers.
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(previous(path));
}

/// Rows of accumulator a state with `batches` done carries.
fn batches_rows(batches: u64) -> u64 {
    if batches == 0 { 0 } else { 2 }
}

impl Checkpoint for FileCheckpoint {
    fn restore(&mut self) -> Option<SweepState> {
        let read = self.read(&self.path);
        self.newest = read.as_ref().map(|s| s.as_ref().map(identity)).map_err(Clone::clone);
        let (found, state) = match read {
            Ok(None) => (Restored::Nothing, None),
            Ok(Some(state)) => (
                Restored::Resumed {
                    evaluations: state.evaluations,
                    from: self.path.clone(),
                    newest_unused: None,
                },
                Some(state),
            ),
            Err(why) => (Restored::Ignored(why), None),
        };
        self.restored = found;
        state
    }

    fn restore_previous(&mut self) -> Option<SweepState> {
        // Unusable or absent: nothing to fall back on, and nothing to say
        // beyond what the newest file's restore said.
        self.read(&previous(&self.path)).ok().flatten()
    }

    fn resumed_from(&mut self, state: Option<&SweepState>) {
        self.restored = match (state, &self.restored) {
            (Some(state), _) => {
                let (from, newest_unused) = match &self.newest {
                    Ok(Some(id)) if *id == identity(state) => (self.path.clone(), None),
                    Ok(Some(_)) => (
                        previous(&self.path),
                        Some(format!(
                            "{}: the other workers do not all hold its state",
                            self.path.display()
                        )),
                    ),
                    Ok(None) => (previous(&self.path), Some(format!("{}: missing", self.path.display()))),
                    Err(why) => (previous(&self.path), Some(why.clone())),
                };
                Restored::Resumed {
                    evaluations: state.evaluations,
                    from,
                    newest_unused,
                }
            }
            (None, Restored::Resumed { .. }) => Restored::Ignored(format!(
                "{}: the other workers hold no state of the same sweep",
                self.path.display()
            )),
            (None, other) => other.clone(),
        };
    }

    fn save(&mut self, state: &SweepState) -> Result<(), SaveError> {
        if !self.writes {
            return Ok(());
        }
        let bytes = self.encode(state);
        let staged = self.path.with_extension("partial");
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::File::create(&staged)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            match std::fs::rename(&self.path, previous(&self.path)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            std::fs::rename(&staged, &self.path)
        };
        write().map_err(|source| {
            Box::new(WriteError {
                path: self.path.clone(),
                source,
            }) as SaveError
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(players: usize, finished: usize, batches: usize) -> SweepState {
        let v = |k: usize| (0..players).map(|i| (i * 7 + k) as f64 / 3.0).collect::<Vec<f64>>();
        SweepState {
            finished: (0..finished).map(|k| (v(k), v(k + 10))).collect(),
            batches,
            accumulator: if batches > 0 {
                [v(20), v(21)].concat()
            } else {
                Vec::new()
            },
            evaluations: 12,
        }
    }

    /// What a restore of a test state (12 evaluations) from the newest
    /// file at `path` reports.
    fn resumed_from_newest(path: &Path) -> Restored {
        Restored::Resumed {
            evaluations: 12,
            from: path.to_path_buf(),
            newest_unused: None,
        }
    }

    fn job(data: u64) -> JobIdentity {
        JobIdentity {
            data,
            model: 2,
            engine: 3,
            layout: 4,
        }
    }

    #[test]
    fn a_saved_state_comes_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("polarization.checkpoint");
        let mut checkpoint = FileCheckpoint::new(path.clone(), job(9), true);
        assert_eq!(checkpoint.restore(), None);
        assert_eq!(checkpoint.restored(), Restored::Nothing);
        for s in [state(5, 0, 2), state(5, 2, 0), state(5, 1, 3), state(0, 0, 0)] {
            checkpoint.save(&s).unwrap();
            assert_eq!(checkpoint.restore(), Some(s.clone()));
            assert_eq!(checkpoint.restored(), resumed_from_newest(&path));
        }
        assert!(!path.with_extension("partial").exists());
    }

    #[test]
    fn another_jobs_or_a_damaged_file_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        FileCheckpoint::new(path.clone(), job(9), true)
            .save(&state(4, 1, 1))
            .unwrap();
        let mut other = FileCheckpoint::new(path.clone(), job(10), true);
        assert_eq!(other.restore(), None);
        assert!(matches!(other.restored(), Restored::Ignored(why) if why.contains("another job: other data")));
        // Each part is checked, and named.
        let parts = [
            (JobIdentity { model: 9, ..job(9) }, "another indicator"),
            (JobIdentity { engine: 9, ..job(9) }, "other engine settings"),
            (JobIdentity { layout: 9, ..job(9) }, "another split"),
        ];
        for (identity, why) in parts {
            let mut other = FileCheckpoint::new(path.clone(), identity, true);
            assert_eq!(other.restore(), None);
            assert!(
                matches!(other.restored(), Restored::Ignored(w) if w.contains(why)),
                "{why}"
            );
        }
        let bytes = std::fs::read(&path).unwrap();
        let mut mine = FileCheckpoint::new(path.clone(), job(9), true);
        for cut in [0, 7, HEADER, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert_eq!(mine.restore(), None, "cut at {cut}");
            assert!(matches!(mine.restored(), Restored::Ignored(_)));
        }
        let mut flipped = bytes.clone();
        flipped[HEADER + 3] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(mine.restore(), None);
        assert!(matches!(mine.restored(), Restored::Ignored(why) if why.contains("checksum")));
    }

    #[test]
    fn a_reading_copy_does_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        FileCheckpoint::new(path.clone(), job(1), false)
            .save(&state(3, 1, 0))
            .unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn the_state_a_save_replaced_is_kept_beside_it_and_removed_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cascade.checkpoint");
        let mut checkpoint = FileCheckpoint::new(path.clone(), job(9), true);
        assert_eq!(checkpoint.restore_previous(), None);
        let (first, second, third) = (state(4, 0, 1), state(4, 1, 0), state(4, 1, 2));
        checkpoint.save(&first).unwrap();
        assert_eq!(checkpoint.restore_previous(), None, "nothing replaced yet");
        checkpoint.save(&second).unwrap();
        checkpoint.save(&third).unwrap();
        assert_eq!(checkpoint.restore(), Some(third.clone()));
        assert_eq!(checkpoint.restore_previous(), Some(second.clone()));
        assert_eq!(
            checkpoint.previous_path(),
            dir.path().join("cascade.checkpoint.previous")
        );
        // The run continues from the older state: the summary says so; if
        // from none, that the state it found was not used.
        checkpoint.resumed_from(Some(&second));
        assert!(matches!(
            checkpoint.restored(),
            Restored::Resumed { evaluations: 12, from, newest_unused: Some(why) }
                if from == checkpoint.previous_path() && why.contains("do not all hold")
        ));
        checkpoint.resumed_from(Some(&third));
        assert_eq!(checkpoint.restored(), resumed_from_newest(&path));
        checkpoint.resumed_from(None);
        assert!(matches!(checkpoint.restored(), Restored::Ignored(why) if why.contains("other workers")));
        remove(&path);
        assert!(!path.exists() && !checkpoint.previous_path().exists());
        remove(&path);
    }

    #[test]
    fn a_damaged_newest_leaves_the_previous_one_usable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        let mut checkpoint = FileCheckpoint::new(path.clone(), job(9), true);
        checkpoint.save(&state(3, 1, 0)).unwrap();
        checkpoint.save(&state(3, 2, 0)).unwrap();
        std::fs::write(&path, b"AUMANNCK and then nothing").unwrap();
        assert_eq!(checkpoint.restore(), None);
        assert!(matches!(checkpoint.restored(), Restored::Ignored(_)));
        assert_eq!(checkpoint.restore_previous(), Some(state(3, 1, 0)));
        // One process continues from it: the summary names that file, and
        // why the newest was not used.
        checkpoint.resumed_from(Some(&state(3, 1, 0)));
        assert!(matches!(
            checkpoint.restored(),
            Restored::Resumed { from, newest_unused: Some(why), .. }
                if from == checkpoint.previous_path() && why.contains("not a checkpoint")
        ));
    }
}
