//! Reading a population: each table's row groups decoded in parallel, and
//! each decoded batch checked and copied into the population's arrays as it
//! comes, so that no table is ever held whole in Arrow form.
//!
//! Reading every table whole and then copying it, as this module once did,
//! held about 1 GB of Arrow buffers at once at 1,671,587 agents; the
//! kernel's zeroing of those fresh pages and their release cost more than
//! the decoding (BENCHMARKS.md, "Reading a population").

use super::table::{Source, TableRows};
use super::{FormatError, OPTIONAL_TABLES, RUN_KEY, TABLES, io};
use crate::dataset::{Dataset, FORMAT_VERSION, Metadata, StanceDetail};
use crate::progress::Observer;
use arrow_array::{RecordBatch, StringArray};
use aumann_models::{Activity, Engagement, Exposure, FollowSpan, Order, Population, Repost};
use std::path::{Path, PathBuf};

/// The run id a table carries, if any.
fn run_of(table: &TableRows) -> Option<String> {
    table.schema().and_then(|s| s.metadata().get(RUN_KEY).cloned())
}

/// Refuses tables written by different runs: each against metadata.json's
/// run, or, when metadata.json names none, against the first table that
/// carries one. Returns the id the directory claims (None when nothing
/// carries one) and the tables without an id (rewritten by pandas or
/// polars, say: the user's edits).
fn check_runs(tables: &[&TableRows], meta: &Metadata) -> Result<(Option<String>, Vec<String>), FormatError> {
    let mut claimed = meta.run.clone();
    let mut untagged = Vec::new();
    for table in tables {
        match (run_of(table), &claimed) {
            (Some(found), Some(expected)) if &found != expected => {
                return Err(FormatError::Mixed {
                    path: table.path.clone(),
                    expected: expected.clone(),
                    found,
                });
            }
            (Some(found), None) => claimed = Some(found),
            (Some(_), Some(_)) => {}
            (None, _) => untagged.push(table.path.file_name().map_or_else(
                || table.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )),
        }
    }
    Ok((claimed, untagged))
}

/// Checks what was read against the content id the directory claims: a
/// table changed by a program that kept its id (a flipped bit, a copy
/// tool's repair) no longer hashes to it. Tables without an id are the
/// user's edits and cannot be checked: that is said once, through
/// `progress`, and they are read as they are.
fn check_content(
    dir: &Path,
    data: &Dataset,
    claimed: Option<String>,
    untagged: &[String],
    progress: &dyn Observer,
) -> Result<(), FormatError> {
    match claimed {
        Some(claimed) if untagged.is_empty() => {
            let found = super::content_id(data);
            if found != claimed {
                return Err(FormatError::Damaged {
                    path: dir.to_path_buf(),
                    claimed,
                    found,
                });
            }
        }
        None => progress.note(&format!(
            "{}: no table or metadata.json carries a content id (written by another program?), so the tables are read unchecked",
            dir.display()
        )),
        Some(_) => progress.note(&format!(
            "{}: {} changed since this program wrote the population (no content id to check it by): read as your edit, unchecked",
            dir.display(),
            untagged.join(", ")
        )),
    }
    Ok(())
}

/// Reads a population directory, checking every table against the metadata
/// (agent ids dense from 0, one agents row per agent, steps below T).
pub fn read(dir: &Path) -> Result<Dataset, FormatError> {
    read_observed(dir, &())
}

/// [`read`], telling `progress` the rows read against the rows the tables'
/// footers announce.
pub fn read_observed(dir: &Path, progress: &dyn Observer) -> Result<Dataset, FormatError> {
    let meta_path = dir.join(super::METADATA);
    if !meta_path.exists() {
        return Err(FormatError::NotAPopulation(dir.to_path_buf()));
    }
    let text = std::fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
    let meta: Metadata = serde_json::from_str(&text).map_err(|source| FormatError::Metadata {
        path: meta_path.clone(),
        source,
    })?;
    if meta.format_version > FORMAT_VERSION {
        return Err(FormatError::Invalid {
            path: meta_path,
            message: format!(
                "format version {} is newer than this build understands ({FORMAT_VERSION}); upgrade aumann",
                meta.format_version
            ),
        });
    }
    aumann_models::population::check_size(meta.agents, meta.steps).map_err(|e| FormatError::Invalid {
        path: meta_path.clone(),
        message: e.to_string(),
    })?;
    // Every footer is read, and every table checked against the metadata,
    // before any rows are.
    let mut tables = Vec::with_capacity(TABLES.len());
    for name in TABLES {
        tables.push(TableRows::open(&dir.join(name))?);
    }
    let mut optional = Vec::new();
    for name in OPTIONAL_TABLES {
        let path = dir.join(name);
        optional.push(if path.exists() {
            Some(TableRows::open(&path)?)
        } else {
            None
        });
    }
    let every: Vec<&TableRows> = tables.iter().chain(optional.iter().flatten()).collect();
    let (claimed, mut untagged) = check_runs(&every, &meta)?;
    // An optional table that the run wrote (its run.json lists it) and the
    // user removed is an edit too: the content no longer hashes to the id.
    let listed = crate::staged::listed(dir);
    for (name, table) in OPTIONAL_TABLES.iter().zip(&optional) {
        if table.is_none() && listed.contains(*name) {
            untagged.push(format!("{name} (removed)"));
        }
    }
    let total: u64 = tables
        .iter()
        .chain(optional.iter().flatten())
        .map(|t| t.rows() as u64)
        .sum();
    progress.stage(&format!("reading {}", dir.display()), Some(total));
    let done = std::sync::atomic::AtomicU64::new(0);
    let on_rows = |n: u64| {
        let d = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress.advance(d, total, "rows");
    };
    let data = assemble(dir, meta, tables, optional, &on_rows);
    release_freed_memory();
    let data = data?;
    progress.stage("checking the tables against their content id", None);
    check_content(dir, &data, claimed, &untagged, progress)?;
    Ok(data)
}

/// Hands the memory of the Arrow batches just read back to the system.
///
/// The decoders' batches are freed as soon as they are copied, but glibc
/// keeps the pages of its per-thread heaps until it is asked to trim. On
/// other platforms nothing is done.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of glibc's heaps; it
    // touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A population from tables in memory (Arrow record batches, as pandas
/// hands them over through pyarrow), checked exactly as a directory's
/// files are: `tables` names each by its file name ("agents.parquet", ...);
/// the five of [`TABLES`] are needed, those of [`OPTIONAL_TABLES`] may be
/// given. Errors name the table by its name without the extension.
pub fn from_batches(meta: Metadata, tables: Vec<(String, Vec<RecordBatch>)>) -> Result<Dataset, FormatError> {
    let label = PathBuf::from("the tables given");
    aumann_models::population::check_size(meta.agents, meta.steps).map_err(|e| FormatError::Invalid {
        path: label.clone(),
        message: e.to_string(),
    })?;
    let mut given: Vec<(String, Vec<RecordBatch>)> = tables;
    if let Some((name, _)) = given
        .iter()
        .find(|(name, _)| !TABLES.contains(&name.as_str()) && !OPTIONAL_TABLES.contains(&name.as_str()))
    {
        return Err(FormatError::Invalid {
            path: label,
            message: format!(
                "unknown table '{name}': a population has {} and optionally {}",
                TABLES.join(", "),
                OPTIONAL_TABLES.join(", ")
            ),
        });
    }
    let mut take = |name: &str| {
        let at = given.iter().position(|(n, _)| n == name)?;
        let (_, batches) = given.swap_remove(at);
        Some(TableRows {
            path: PathBuf::from(name.trim_end_matches(".parquet")),
            source: Source::Memory(batches),
        })
    };
    let mut required = Vec::new();
    for name in TABLES {
        required.push(take(name).ok_or_else(|| FormatError::Invalid {
            path: label.clone(),
            message: format!("the {} table is missing", name.trim_end_matches(".parquet")),
        })?);
    }
    let optional = OPTIONAL_TABLES.iter().map(|name| take(name)).collect();
    assemble(&label, meta, required, optional, &|_| {})
}

/// An agents row, before its columns are split.
struct AgentRow {
    external_id: String,
    followers: f64,
    stance: f64,
    stance_detail: Option<(String, f64)>,
    group: Option<String>,
}

/// Reads the tables into the dataset, checking them against the metadata
/// and each other: what a population directory and tables in memory share.
fn assemble(
    dir: &Path,
    meta: Metadata,
    tables: Vec<TableRows>,
    optional: Vec<Option<TableRows>>,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Dataset, FormatError> {
    let [agents, follows, activity, engagements, orders]: [TableRows; 5] = tables
        .try_into()
        .map_err(|_| FormatError::NotAPopulation(dir.to_path_buf()))?;
    let [exposures, reposts]: [Option<TableRows>; 2] = optional.try_into().ok().expect("two optional tables");

    let agents_rows = read_agents(&agents, &meta, on_rows)?;
    let mut external_ids = Vec::with_capacity(agents_rows.len());
    let mut followers = Vec::with_capacity(agents_rows.len());
    let mut stance = Vec::with_capacity(agents_rows.len());
    let with_detail = agents.has("stance_source");
    let mut detail = StanceDetail {
        source: Vec::new(),
        confidence: Vec::new(),
    };
    let mut groups = agents.has("group").then(|| Vec::with_capacity(agents_rows.len()));
    for row in agents_rows {
        external_ids.push(row.external_id);
        followers.push(row.followers);
        stance.push(row.stance);
        if let Some((source, confidence)) = row.stance_detail {
            detail.source.push(source);
            detail.confidence.push(confidence);
        }
        if let (Some(groups), Some(group)) = (groups.as_mut(), row.group) {
            groups.push(group);
        }
    }

    let needs = "follower, followee";
    follows.require(&["follower", "followee"], needs)?;
    let pairs = follows.collect(&["follower", "followee"], on_rows, |b, out| {
        let (follower, followee) = (b.u32("follower", needs)?, b.u32("followee", needs)?);
        out.extend(follower.iter().zip(followee.iter()).map(|(&j, &i)| (j, i)));
        Ok(())
    })?;
    let follow_spans = if follows.has("step") || follows.has("end_step") {
        follows.collect(&["step", "end_step"], &|_| {}, |b, out| {
            let rows = b.batch.num_rows();
            let begin = b.optional_u32("step")?.unwrap_or_else(|| vec![None; rows]);
            let end = b.optional_u32("end_step")?.unwrap_or_else(|| vec![None; rows]);
            out.extend(begin.into_iter().zip(end).map(|(begin, end)| FollowSpan { begin, end }));
            Ok(())
        })?
    } else {
        Vec::new()
    };

    let needs = "agent, step, amount";
    let columns = ["agent", "step", "amount"];
    activity.require(&columns, needs)?;
    let activity = activity.collect(&columns, on_rows, |b, out| {
        let (agent, step, amount) = (b.u32("agent", needs)?, b.u32("step", needs)?, b.f64("amount", needs)?);
        out.extend((0..agent.len()).map(|r| Activity {
            agent: agent[r],
            step: step[r],
            amount: amount[r],
        }));
        Ok(())
    })?;

    let needs = "engager, author, step, amount";
    let columns = ["engager", "author", "step", "amount"];
    engagements.require(&columns, needs)?;
    let engagements = engagements.collect(&columns, on_rows, |b, out| {
        let (engager, author) = (b.u32("engager", needs)?, b.u32("author", needs)?);
        let (step, amount) = (b.u32("step", needs)?, b.f64("amount", needs)?);
        out.extend((0..engager.len()).map(|r| Engagement {
            engager: engager[r],
            author: author[r],
            step: step[r],
            amount: amount[r],
        }));
        Ok(())
    })?;

    let needs = "agent, step, flow";
    let columns = ["agent", "step", "flow"];
    orders.require(&columns, needs)?;
    let orders = orders.collect(&columns, on_rows, |b, out| {
        let (agent, step, flow) = (b.u32("agent", needs)?, b.u32("step", needs)?, b.f64("flow", needs)?);
        out.extend((0..agent.len()).map(|r| Order {
            agent: agent[r],
            step: step[r],
            flow: flow[r],
        }));
        Ok(())
    })?;

    let exposures = match exposures {
        None => Vec::new(),
        Some(t) => {
            let needs = "reader, author, step, amount (and optionally posted)";
            let columns = ["reader", "author", "step", "amount", "posted"];
            t.require(&columns[..4], needs)?;
            t.collect(&columns, on_rows, |b, out| {
                let (reader, author) = (b.u32("reader", needs)?, b.u32("author", needs)?);
                let (step, amount) = (b.u32("step", needs)?, b.f64("amount", needs)?);
                let posted = b.optional_u32("posted")?;
                out.extend((0..reader.len()).map(|r| Exposure {
                    reader: reader[r],
                    author: author[r],
                    step: step[r],
                    posted: posted.as_ref().and_then(|p| p[r]),
                    amount: amount[r],
                }));
                Ok(())
            })?
        }
    };
    let reposts = match reposts {
        None => Vec::new(),
        Some(t) => {
            let needs = "reposter, step, parent_author, parent_step, amount";
            let columns = ["reposter", "step", "parent_author", "parent_step", "amount"];
            t.require(&columns, needs)?;
            t.collect(&columns, on_rows, |b, out| {
                let (reposter, step) = (b.u32("reposter", needs)?, b.u32("step", needs)?);
                let (parent_author, parent_step) = (b.u32("parent_author", needs)?, b.u32("parent_step", needs)?);
                let amount = b.f64("amount", needs)?;
                out.extend((0..reposter.len()).map(|r| Repost {
                    reposter: reposter[r],
                    step: step[r],
                    parent_author: parent_author[r],
                    parent_step: parent_step[r],
                    amount: amount[r],
                }));
                Ok(())
            })?
        }
    };

    let population = Population {
        agents: meta.agents,
        steps: meta.steps,
        stance,
        followers,
        follows: pairs,
        follow_spans,
        activity,
        engagements,
        orders,
        exposures,
        reposts,
    };
    population.validate().map_err(|e| FormatError::Invalid {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Dataset {
        population,
        external_ids,
        meta,
        stance_detail: with_detail.then_some(detail),
        lexicon_hits: None,
        groups,
    })
}

/// The agents table: one row per agent, ids 0..N in order (checked against
/// the footer before any row is read, then row by row).
fn read_agents(
    agents: &TableRows,
    meta: &Metadata,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Vec<AgentRow>, FormatError> {
    let not_dense = |rows: usize| FormatError::Invalid {
        path: agents.path.clone(),
        message: format!(
            "expected agents 0..{} in order, one row each (metadata says N = {}); found {rows} rows",
            meta.agents, meta.agents
        ),
    };
    if agents.rows() != meta.agents {
        return Err(not_dense(agents.rows()));
    }
    let needs = "agent, external_id, followers, stance";
    agents.require(&["agent", "external_id", "followers", "stance"], needs)?;
    let detail_needs = "stance_source and stance_confidence together";
    let with_detail = agents.has("stance_source");
    if with_detail {
        agents.require(&["stance_source", "stance_confidence"], detail_needs)?;
    }
    let with_group = agents.has("group");
    let columns = [
        "agent",
        "external_id",
        "followers",
        "stance",
        "stance_source",
        "stance_confidence",
        "group",
    ];
    agents.collect(&columns, on_rows, |b, out| {
        let ids = b.u32("agent", needs)?;
        if ids.iter().enumerate().any(|(r, &a)| a as usize != b.first_row + r) {
            return Err(not_dense(agents.rows()));
        }
        let external = b.strings("external_id", needs)?;
        let (followers, stance) = (b.f64("followers", needs)?, b.f64("stance", needs)?);
        let detail = match with_detail {
            true => Some((
                b.strings("stance_source", detail_needs)?,
                b.f64("stance_confidence", detail_needs)?,
            )),
            false => None,
        };
        let group = match with_group {
            true => Some(b.strings("group", "agent, external_id, followers, stance (and group)")?),
            false => None,
        };
        // The string columns have no nulls (checked by `strings`).
        let text = |a: &StringArray, r: usize| a.value(r).to_string();
        out.extend((0..ids.len()).map(|r| AgentRow {
            external_id: text(&external, r),
            followers: followers[r],
            stance: stance[r],
            stance_detail: detail.as_ref().map(|(s, c)| (text(s, r), c[r])),
            group: group.as_ref().map(|g| text(g, r)),
        }));
        Ok(())
    })
}
