//! Exact Shapley values by enumerating every coalition.

use crate::error::{Error, Result, check_output, check_point};
use crate::game::ValueFunction;
use rayon::prelude::*;
use serde::Serialize;
use std::time::{Duration, Instant};

/// 2^25 coalitions is about 3.4e7 evaluations: seconds for a cheap game.
pub const MAX_EXACT_PLAYERS: usize = 25;

/// Shapley values of a coalitional game, with what they cost.
#[derive(Clone, Debug, Serialize)]
pub struct ShapleyValues {
    pub phi: Vec<f64>,
    pub evaluations: usize,
    #[serde(serialize_with = "crate::attribution::as_seconds")]
    pub elapsed: Duration,
}

/// The coalition S as a point: `input` for members, `baseline` for the rest.
pub(crate) fn coalition_point(mask: u64, input: &[f64], baseline: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = if mask >> i & 1 == 1 { input[i] } else { baseline[i] };
    }
}

/// Exact Shapley values of v(S) = F(x_S), where x_S takes `input` for the
/// members of S and `baseline` for the others.
///
/// Uses phi_i = sum_{S containing i} w(|S|-1) v(S) - sum_{S not containing i} w(|S|) v(S),
/// with w(s) = s! (n-s-1)! / n!, so each coalition is evaluated once and
/// nothing of size 2^n is stored. Coalitions are split into fixed chunks
/// summed in parallel and reduced in chunk order: the result does not depend
/// on the thread count.
pub fn exact_shapley<G: ValueFunction + ?Sized>(game: &G, input: &[f64], baseline: &[f64]) -> Result<ShapleyValues> {
    let started = Instant::now();
    let n = game.players();
    if n == 0 {
        return Err(Error::NoPlayers);
    }
    if n > MAX_EXACT_PLAYERS {
        return Err(Error::TooManyPlayers {
            players: n,
            max: MAX_EXACT_PLAYERS,
        });
    }
    check_point("input", input, n)?;
    check_point("baseline", baseline, n)?;
    let weights: Vec<f64> = (0..n).map(|s| 1.0 / (n as f64 * binomial(n - 1, s))).collect();
    let total: u64 = 1 << n;
    let chunk: u64 = 1 << n.min(12);
    let partials: Vec<Result<Vec<f64>>> = (0..total / chunk)
        .into_par_iter()
        .map(|c| {
            let mut phi = vec![0.0; n];
            let masks = c * chunk..(c + 1) * chunk;
            let mut points = vec![0.0; chunk as usize * n];
            for (mask, point) in masks.clone().zip(points.chunks_exact_mut(n)) {
                coalition_point(mask, input, baseline, point);
            }
            let mut values = vec![0.0; chunk as usize];
            game.values(&points, &mut values);
            for (mask, &v) in masks.zip(&values) {
                let v = check_output("coalition value", v)?;
                let size = mask.count_ones() as usize;
                let joined = if size > 0 { weights[size - 1] * v } else { 0.0 };
                let outside = if size < n { weights[size] * v } else { 0.0 };
                for (i, p) in phi.iter_mut().enumerate() {
                    *p += if mask >> i & 1 == 1 { joined } else { -outside };
                }
            }
            Ok(phi)
        })
        .collect();
    let mut phi = vec![0.0; n];
    for partial in partials {
        for (p, q) in phi.iter_mut().zip(partial?) {
            *p += q;
        }
    }
    Ok(ShapleyValues {
        phi,
        evaluations: total as usize,
        elapsed: started.elapsed(),
    })
}

fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, j| acc * (n - j) as f64 / (j + 1) as f64)
}
