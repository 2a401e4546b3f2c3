//! Generate the built-in population and print its summary statistics.
//! `cargo run --release -p aumann-data --example synth_stats -- [AGENTS]`

fn main() {
    let agents = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("agents"))
        .unwrap_or(aumann_data::synth::DEFAULT_AGENTS);
    let params = aumann_data::synth::SynthParams {
        agents,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let data = aumann_data::synth::generate(&params, &|s| eprintln!("{s}"));
    eprintln!("generated in {:.2?}", t.elapsed());
    println!("{}", aumann_data::stats::PopulationStats::of(&data.population));
}
