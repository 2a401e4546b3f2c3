//! `aumann stance`: estimate every agent's stance from the data.

use crate::options::{StanceSettings, print_stance};
use aumann_data::staged::{Manifest, StagedDir};
use aumann_data::stance::{self, StanceMethod};
use aumann_data::{format, progress};
use std::path::PathBuf;

/// Estimate every agent's stance from the population itself and write a
/// population directory with `stance`, `stance_source` and
/// `stance_confidence` in agents.parquet.
///
/// Methods: `follows` (the default: correspondence analysis of who follows
/// which of the --elites most-followed accounts; Barberá 2015), `engagements`
/// (the same on who likes, reposts, replies to and quotes which of the
/// most-engaged authors), `seeds` (--file of external_id,stance rows spread
/// over the follow graph by harmonic propagation), `csv` (--file of
/// external_id,stance rows, as given). `lexicon` scores post text and is
/// given at ingest (`--stance lexicon --stance-file TERMS`). With follows
/// or engagements, a --file of labelled accounts chooses the orientation.
/// docs/stance.md explains each choice that changes the number.
#[derive(clap::Args)]
pub struct Args {
    /// The population directory to read.
    #[arg(long, value_name = "DIR")]
    input: PathBuf,
    /// follows, engagements, seeds, csv (lexicon: at ingest).
    #[arg(long, default_value = "follows")]
    method: StanceMethod,
    /// Labels (external_id,stance) for seeds and csv; for follows and
    /// engagements, labels that orient the axis.
    #[arg(long, value_name = "CSV")]
    file: Option<PathBuf>,
    #[command(flatten)]
    settings: StanceSettings,
    /// Where to write the population with its stances (may be --input).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print the diagnostics as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    // The population read may be written back over itself: every file of it
    // is rewritten, so nothing of the input is lost.
    let same = args
        .out
        .canonicalize()
        .ok()
        .is_some_and(|out| Some(out) == args.input.canonicalize().ok());
    let mut inputs: Vec<&std::path::Path> = args.file.as_deref().into_iter().collect();
    if !same {
        inputs.push(&args.input);
    }
    let staged = StagedDir::create(&args.out, &format::POPULATION_FILES, &inputs)?;
    let terminal = progress::Terminal::new();
    let mut data = format::read_observed(&args.input, &terminal)?;
    terminal.finish();
    let spinner = progress::spinner(&format!("estimating stance ({})", args.method.name()));
    let diagnostics = stance::apply(&mut data, &args.settings.request(args.method, args.file.clone()))?;
    spinner.finish_and_clear();
    let fingerprint = format::fingerprint(&data);
    format::write_into(staged.dir(), &data)?;
    staged.commit(Some(Manifest::new(&args.input.display().to_string(), &fingerprint)))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&diagnostics)?);
    } else {
        print_stance(&diagnostics);
        println!("wrote {}", args.out.display());
    }
    Ok(())
}
