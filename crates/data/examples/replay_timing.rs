fn main() {
    let agents = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("agents"))
        .unwrap_or(aumann_data::synth::DEFAULT_AGENTS);
    let name = std::env::args().nth(2).unwrap_or("polarization".into());
    let params = aumann_data::synth::SynthParams {
        agents,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let data = aumann_data::synth::generate(&params, &|_| {});
    eprintln!("generated in {:.2?}", t.elapsed());
    let t = std::time::Instant::now();
    let replay = aumann_models::Replay::new(&data.population).unwrap();
    drop(data);
    eprintln!(
        "replay built in {:.2?}: {} gates, {} edges, {} MB",
        t.elapsed(),
        replay.players(),
        replay.graph.edges(),
        replay.memory_bytes() >> 20
    );
    let t = std::time::Instant::now();
    let r = aumann_models::attribute(
        &replay,
        name.parse().unwrap(),
        &aumann_engine::AumannShapley::default()
            .batch(std::env::var("BATCH").map(|b| b.parse().unwrap()).unwrap_or(16))
            .fixed(std::env::var("NODES").map(|b| b.parse().unwrap()).unwrap_or(24)),
    )
    .unwrap();
    eprintln!(
        "attributed in {:.2?}: levels {:?} gap {:e} evals {} edges read {}",
        t.elapsed(),
        r.gates.levels,
        r.gates.relative_gap(),
        r.gates.gradient_evaluations,
        r.edges_read
    );
}
