//! `aumann ingest`: build a population directory from real data.

use aumann_data::ingest::jetstream::{self, JetstreamOptions};
use aumann_data::ingest::oasis::{self, OasisOptions};
use aumann_data::{format, progress, stats::PopulationStats};
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
    /// the author of what they point at; deletes undo their create.
    /// Malformed lines are counted by kind and skipped unless --strict.
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
        #[arg(long, default_value = "out/population", value_name = "DIR")]
        out: PathBuf,
        /// Print the ingest report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// An OASIS (camel-ai/oasis) simulation database.
    Oasis {
        /// The SQLite file the simulation wrote.
        db: PathBuf,
        /// Step length in seconds for Reddit-mode datetimes (Twitter mode
        /// uses its integer time steps).
        #[arg(long, default_value_t = 3600, value_name = "S")]
        step_seconds: u64,
        #[arg(long, default_value = "out/population", value_name = "DIR")]
        out: PathBuf,
        /// Print the ingest report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
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
            out,
            json,
        } => {
            let options = JetstreamOptions {
                steps: days,
                start_us: start.as_deref().map(parse_date).transpose()?,
                step_seconds: step_hours * 3600,
                follow_snapshot: follows,
                stances,
                strict,
            };
            let (data, report) = jetstream::ingest(&files, &options)?;
            write(&out, &data)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
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
            println!("{}", PopulationStats::of(&data.population));
        }
        Source::Oasis {
            db,
            step_seconds,
            out,
            json,
        } => {
            let (data, report) = oasis::ingest(&db, &OasisOptions { step_seconds })?;
            write(&out, &data)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            println!("{} users, {} steps ({})", report.users, report.steps, report.mode);
            for (what, n) in report.tally.used.iter() {
                println!("  used     {n:>10}  {what}");
            }
            for (why, n) in report.tally.skipped.iter() {
                println!("  skipped  {n:>10}  {why}");
            }
            println!("{}", PopulationStats::of(&data.population));
        }
    }
    Ok(())
}

fn write(out: &std::path::Path, data: &aumann_data::Dataset) -> Result<(), crate::Error> {
    let spinner = progress::spinner(&format!("writing {}", out.display()));
    format::write(out, data)?;
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
