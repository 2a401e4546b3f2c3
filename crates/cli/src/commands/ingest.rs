//! `aumann ingest`: build a population directory from real data.

use crate::options::{StanceSettings, print_stance};
use aumann_data::ingest::jetstream::{self, JetstreamOptions};
use aumann_data::ingest::oasis::{self, OasisOptions};
use aumann_data::ingest::twitter_trees::{self, TreeOptions};
use aumann_data::staged::{Manifest, StagedDir};
use aumann_data::stance::{self, StanceMethod};
use aumann_data::{format, progress, stats::PopulationStats};
use aumann_stance::Lexicon;
use clap::Subcommand;
use std::path::PathBuf;

/// Build a population directory from Bluesky Jetstream archives or an OASIS
/// simulation database.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    source: Source,
}

#[derive(Subcommand)]
enum Source {
    /// Bluesky Jetstream archives: JSON lines, plain, .gz or .zst.
    ///
    /// Agents are the DIDs that posted, reposted, liked or followed in the
    /// window; posts (replies and quotes included) and reposts are
    /// activity; likes, reposts, replies and quotes are engagements with
    /// the author of what they point at, and exposures of the engager to
    /// the author's post (dated by its record key); reposts and quotes
    /// carry their post's content; follows hold from their create to their
    /// delete; deletes undo their create. Malformed lines are counted by
    /// kind and skipped unless --strict.
    Jetstream {
        /// Archive files, in any order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Steps in the window.
        #[arg(long, default_value_t = 14)]
        days: usize,
        /// First day of the window, YYYY-MM-DD (UTC). Default: the last
        /// --days days present in the input.
        #[arg(long, value_name = "DATE")]
        start: Option<String>,
        /// Length of a step in hours.
        #[arg(long, default_value_t = 24, value_name = "H")]
        step_hours: u64,
        /// CSV of follower,followee DIDs: follows made before the stream.
        #[arg(long, value_name = "CSV")]
        follows: Option<PathBuf>,
        /// CSV of did,stance with stance in (0, 1); others get 0.5.
        #[arg(long, value_name = "CSV")]
        stances: Option<PathBuf>,
        /// Fail on the first malformed line or truncated file.
        #[arg(long)]
        strict: bool,
        /// Do not write engagements as exposures (who saw whom is then the
        /// follows alone).
        #[arg(long)]
        no_implied_exposures: bool,
        #[command(flatten)]
        stance: IngestStance,
        #[arg(long, default_value = "out/population", value_name = "DIR")]
        out: PathBuf,
        /// Print the ingest report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// The Twitter15/16 propagation trees (real retweet cascades; one file
    /// per source tweet): one population whose agents are (tree, user)
    /// pairs, grouped by the tree's label (docs/ingest.md).
    TwitterTrees(TreesArgs),
    /// An OASIS (camel-ai/oasis) simulation database.
    Oasis {
        /// The SQLite file the simulation wrote.
        db: PathBuf,
        /// Step length in seconds for Reddit-mode datetimes (Twitter mode
        /// uses its integer time steps).
        #[arg(long, default_value_t = 3600, value_name = "S")]
        step_seconds: u64,
        #[command(flatten)]
        stance: IngestStance,
        #[arg(long, default_value = "out/population", value_name = "DIR")]
        out: PathBuf,
        /// Print the ingest report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `aumann ingest twitter-trees`.
#[derive(clap::Args)]
struct TreesArgs {
    /// Dataset directories (twitter15, twitter16), each with tree/ and
    /// label.txt.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Minutes per step: a tweet's delay after its source, divided by
    /// this and rounded down, is its step.
    #[arg(long, default_value_t = twitter_trees::DEFAULT_STEP_MINUTES, value_name = "M")]
    step_minutes: f64,
    /// Retweets later than this many minutes after their source are left
    /// out (and counted), with the retweets of them: a week by default.
    #[arg(long, default_value_t = twitter_trees::DEFAULT_WINDOW_MINUTES, value_name = "M")]
    window_minutes: f64,
    #[arg(long, default_value = "out/population", value_name = "DIR")]
    out: PathBuf,
    /// Print the ingest report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Stance estimated right after ingest (see `aumann stance --help`).
#[derive(clap::Args)]
struct IngestStance {
    /// Estimate every agent's stance from the data: follows, engagements,
    /// seeds, lexicon or csv. Without it every stance is 0.5 and
    /// polarization is flat.
    #[arg(long = "stance", value_name = "METHOD")]
    method: Option<StanceMethod>,
    /// The method's file: labels (external_id,stance) for seeds and csv, and
    /// to orient follows or engagements; term lists (side,term) for lexicon.
    #[arg(long = "stance-file", value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    settings: StanceSettings,
}

impl IngestStance {
    /// The lexicon to score post text with while reading, if asked for.
    fn lexicon(&self) -> Result<Option<Lexicon>, crate::Error> {
        match (self.method, &self.file) {
            (Some(StanceMethod::Lexicon), Some(file)) => Ok(Some(Lexicon::read(file)?)),
            (Some(StanceMethod::Lexicon), None) => {
                Err("--stance lexicon needs --stance-file TERMS (CSV of side,term)".into())
            }
            _ => Ok(None),
        }
    }

    /// Runs the stance step on the ingested data, if asked for.
    fn apply(&self, data: &mut aumann_data::Dataset) -> Result<Option<aumann_stance::Diagnostics>, crate::Error> {
        let Some(method) = self.method else { return Ok(None) };
        let request = self.settings.request(method, self.file.clone());
        Ok(Some(stance::apply(data, &request)?))
    }
}

/// The ingest report as JSON, with the stance diagnostics when a stance was
/// estimated.
fn report_json(
    report: &impl serde::Serialize,
    stance: &Option<aumann_stance::Diagnostics>,
) -> Result<String, crate::Error> {
    let mut value = serde_json::to_value(report)?;
    if let (Some(d), Some(object)) = (stance, value.as_object_mut()) {
        object.insert("stance".into(), serde_json::to_value(d)?);
    }
    Ok(serde_json::to_string_pretty(&value)?)
}

/// "YYYY-MM-DD" as Unix microseconds at 00:00 UTC.
fn parse_date(text: &str) -> Result<i64, String> {
    let bad = || format!("--start takes a date as YYYY-MM-DD, got '{text}'");
    let parts: Vec<i64> = text
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [y, m, d] = parts[..] else { return Err(bad()) };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = aumann_data::days_from_civil(y, m, d);
    Ok(days * 86_400 * 1_000_000)
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    match args.source {
        Source::Jetstream {
            files,
            days,
            start,
            step_hours,
            follows,
            stances,
            strict,
            no_implied_exposures,
            stance,
            out,
            json,
        } => {
            let mut inputs: Vec<&std::path::Path> = files.iter().map(|f| f.as_path()).collect();
            inputs.extend(stance.file.as_deref());
            inputs.extend(follows.as_deref());
            inputs.extend(stances.as_deref());
            let staged = StagedDir::create(&out, &format::POPULATION_FILES, &inputs)?;
            let options = JetstreamOptions {
                steps: days,
                start_us: start.as_deref().map(parse_date).transpose()?,
                step_seconds: step_hours * 3600,
                follow_snapshot: follows,
                stances,
                strict,
                lexicon: stance.lexicon()?,
                implied_exposures: !no_implied_exposures,
            };
            let (mut data, report) = jetstream::ingest(&files, &options)?;
            let diagnostics = stance.apply(&mut data)?;
            let input: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            write(staged, &out, &input.join(" "), &data)?;
            if json {
                println!("{}", report_json(&report, &diagnostics)?);
                return Ok(());
            }
            println!(
                "read {} lines ({:.1} MB) from {} files; window {} .. {}",
                report.lines,
                report.bytes as f64 / 1e6,
                report.files,
                aumann_data::rfc3339(report.window_start_us / 1_000_000),
                aumann_data::rfc3339(report.window_end_us / 1_000_000)
            );
            println!("used:");
            for (what, n) in report.tally.used.iter() {
                println!("  {n:>12}  {what}");
            }
            println!("skipped:");
            for (why, n) in report.tally.skipped.iter() {
                println!("  {n:>12}  {why}");
            }
            for t in &report.truncated_files {
                println!("  truncated: {t}");
            }
            println!(
                "{} exposures implied by engagements, {} of them outside the follows that held then; {} reposts and quotes carry a post of the window; {} follows timed",
                report.exposures, report.exposures_outside_follows, report.reposts, report.timed_follows
            );
            println!("{}", PopulationStats::of(&data.population));
            if let Some(d) = &diagnostics {
                print_stance(d);
            }
        }
        Source::TwitterTrees(TreesArgs {
            dirs,
            step_minutes,
            window_minutes,
            out,
            json,
        }) => {
            let inputs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
            let staged = StagedDir::create(&out, &format::POPULATION_FILES, &inputs)?;
            let (data, report) = twitter_trees::ingest(
                &dirs,
                &TreeOptions {
                    step_minutes,
                    window_minutes,
                },
            )?;
            let named: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            write(staged, &out, &named.join(", "), &data)?;
            if json {
                println!("{}", report_json(&report, &None)?);
                return Ok(());
            }
            let labels: Vec<String> = report.trees_by_label.iter().map(|(l, n)| format!("{n} {l}")).collect();
            println!(
                "{} trees ({}), {} (tree, user) agents, {} steps of {} minutes; the largest tree has {} users",
                report.trees,
                labels.join(", "),
                report.agents,
                report.steps,
                report.step_minutes,
                report.largest_tree
            );
            for (what, n) in report.tally.used.iter() {
                println!("  used     {n:>10}  {what}");
            }
            for (why, n) in report.tally.skipped.iter() {
                println!("  skipped  {n:>10}  {why}");
            }
            println!("{}", PopulationStats::of(&data.population));
        }
        Source::Oasis {
            db,
            step_seconds,
            stance,
            out,
            json,
        } => {
            let mut inputs = vec![db.as_path()];
            inputs.extend(stance.file.as_deref());
            let staged = StagedDir::create(&out, &format::POPULATION_FILES, &inputs)?;
            let options = OasisOptions {
                step_seconds,
                lexicon: stance.lexicon()?,
            };
            let (mut data, report) = oasis::ingest(&db, &options)?;
            let diagnostics = stance.apply(&mut data)?;
            write(staged, &out, &db.display().to_string(), &data)?;
            if json {
                println!("{}", report_json(&report, &diagnostics)?);
                return Ok(());
            }
            println!("{} users, {} steps ({})", report.users, report.steps, report.mode);
            println!(
                "{} exposures (reader, author, step), {} of them outside the follows that held then",
                report.exposures, report.exposures_outside_follows
            );
            for (what, n) in report.tally.used.iter() {
                println!("  used     {n:>10}  {what}");
            }
            for (why, n) in report.tally.skipped.iter() {
                println!("  skipped  {n:>10}  {why}");
            }
            println!("{}", PopulationStats::of(&data.population));
            if let Some(d) = &diagnostics {
                print_stance(d);
            }
        }
    }
    Ok(())
}

fn write(
    staged: StagedDir,
    out: &std::path::Path,
    input: &str,
    data: &aumann_data::Dataset,
) -> Result<(), crate::Error> {
    let spinner = progress::spinner(&format!("writing {}", out.display()));
    format::write_into(staged.dir(), data)?;
    staged.commit(Some(Manifest::new(input, &format::fingerprint(data))))?;
    spinner.finish_and_clear();
    eprintln!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_parse_to_utc_midnight() {
        assert_eq!(super::parse_date("1970-01-02"), Ok(86_400_000_000));
        assert_eq!(super::parse_date("2026-01-01"), Ok(1_767_225_600_000_000));
        assert!(super::parse_date("2026-13-01").is_err());
        assert!(super::parse_date("yesterday").is_err());
    }
}
