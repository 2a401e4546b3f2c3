//! Attribute a small nonlinear game three ways: Aumann–Shapley, exact
//! Shapley, and permutation Shapley.
//!
//! Run with `cargo run -p aumann-engine --example softplus_market`.

use aumann_engine::{AumannShapley, PermutationShapley, exact_shapley, games::ComposedLinear};

fn main() -> Result<(), aumann_engine::Error> {
    // Twelve traders whose net order flow moves a price through a softplus
    // response: F(x) = ln(1 + exp(sum_i w_i x_i)).
    let weights: Vec<f64> = (0..12).map(|i| 0.3 * ((i % 5) as f64 - 1.5)).collect();
    let game = ComposedLinear::new(weights, |s: f64| s.exp().ln_1p(), |s: f64| 1.0 / (1.0 + (-s).exp()));
    let input = vec![1.0; 12];
    let baseline = vec![0.0; 12];

    let path = AumannShapley::default().attribute(&game, &input, &baseline)?;
    let exact = exact_shapley(&game, &input, &baseline)?;
    let sampled = PermutationShapley::default()
        .seed(7)
        .estimate(&game, &input, &baseline)?;

    println!(
        "F(x) - F(x') = {:.6}; Aumann–Shapley with {} {} nodes, relative completeness gap {:.1e}",
        path.target(),
        path.nodes,
        path.rule,
        path.relative_gap()
    );
    println!(
        "{:>6} {:>12} {:>12} {:>12} {:>10}",
        "player", "aumann", "exact", "sampled", "std.err"
    );
    for i in 0..12 {
        println!(
            "{i:>6} {:>12.6} {:>12.6} {:>12.6} {:>10.6}",
            path.phi[i], exact.phi[i], sampled.phi[i], sampled.std_error[i]
        );
    }
    println!(
        "evaluations: {} gradients, {} exact coalitions, {} sampled",
        path.gradient_evaluations, exact.evaluations, sampled.evaluations
    );
    Ok(())
}
