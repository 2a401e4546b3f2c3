//! Correspondence analysis of a sparse rows x columns matrix, matrix-free.
//!
//! CA is the SVD of the standardised residuals
//! S = D_r^{-1/2} (P - r c^T) D_c^{-1/2}, with P the matrix over its total,
//! r and c its row and column masses. S is never formed: S v is a pass over
//! the nonzeros less a rank-one correction, and so is S^T u. The leading
//! singular pairs come from subspace iteration on S^T S (columns x block),
//! with a Rayleigh–Ritz step on the block.

use crate::eigen::symmetric_eigen;
use rayon::prelude::*;

/// Rows of one parallel task: fixed, so that sums do not depend on the
/// thread count.
const ROW_CHUNK: usize = 4096;

/// At most this many partial column sums in one product with S^T.
const GRAM_CHUNKS: usize = 32;

/// A sparse matrix of nonnegative weights in compressed rows.
#[derive(Clone, Debug, Default)]
pub struct Sparse {
    /// offsets[i]..offsets[i+1] index `cols` and `weights` for row i.
    pub offsets: Vec<usize>,
    pub cols: Vec<u32>,
    pub weights: Vec<f64>,
    pub columns: usize,
}

impl Sparse {
    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.cols[r.clone()], &self.weights[r])
    }

    /// Builds the matrix from rows of (column, weight), summing duplicates.
    pub fn from_rows(columns: usize, rows: Vec<Vec<(u32, f64)>>) -> Self {
        let mut offsets = vec![0];
        let (mut cols, mut weights) = (Vec::new(), Vec::new());
        for mut row in rows {
            row.sort_unstable_by_key(|e| e.0);
            for (c, w) in row {
                if cols.len() > *offsets.last().expect("offset") && *cols.last().expect("a column") == c {
                    *weights.last_mut().expect("a weight") += w;
                } else {
                    cols.push(c);
                    weights.push(w);
                }
            }
            offsets.push(cols.len());
        }
        Self {
            offsets,
            cols,
            weights,
            columns,
        }
    }
}

/// The leading dimension of a CA fit.
#[derive(Clone, Debug)]
pub struct Fit {
    /// Principal coordinate of every row with weight on a fitted column
    /// (the weighted mean of those columns' standard coordinates); NaN for
    /// rows without.
    pub row_scores: Vec<f64>,
    /// Principal coordinate of every column; NaN for columns no core row
    /// touches.
    pub column_scores: Vec<f64>,
    /// The leading singular values of S (up to the block size).
    pub singular_values: Vec<f64>,
    /// Total inertia ||S||_F^2 (the chi-square statistic over the total).
    pub total_inertia: f64,
    pub iterations: usize,
}

/// Fits CA on the rows marked `core`, then places every row by the
/// transition formula. `block` vectors are iterated (at least 2), for at
/// most `max_iterations` products with S^T S, until the leading singular
/// vector moves less than `tolerance`.
pub fn fit(m: &Sparse, core: &[bool], block: usize, max_iterations: usize, tolerance: f64) -> Fit {
    let k = m.columns;
    let block = block.clamp(2, k.max(2));
    // Masses over the core rows.
    let mut total = 0.0;
    let mut row_mass = vec![0.0; m.rows()];
    let mut col_mass = vec![0.0; k];
    for i in (0..m.rows()).filter(|&i| core[i]) {
        let (cols, weights) = m.row(i);
        for (&c, &w) in cols.iter().zip(weights) {
            row_mass[i] += w;
            col_mass[c as usize] += w;
        }
        total += row_mass[i];
    }
    let empty = Fit {
        row_scores: vec![f64::NAN; m.rows()],
        column_scores: vec![f64::NAN; k],
        singular_values: Vec::new(),
        total_inertia: 0.0,
        iterations: 0,
    };
    if total <= 0.0 || k < 2 {
        return empty;
    }
    row_mass.iter_mut().for_each(|r| *r /= total);
    col_mass.iter_mut().for_each(|c| *c /= total);
    let core_rows: Vec<u32> = (0..m.rows() as u32)
        .filter(|&i| core[i as usize] && row_mass[i as usize] > 0.0)
        .collect();
    let op = Residuals {
        m,
        core_rows: &core_rows,
        row_mass: &row_mass,
        col_mass: &col_mass,
        total,
    };
    let total_inertia = op.total_inertia();

    // Deterministic start: columns scaled by a fixed irregular pattern.
    let mut v: Vec<f64> = (0..k * block)
        .map(|x| ((x as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.5)
        .collect();
    orthonormalize(&mut v, k, block);
    let mut previous = vec![0.0; k];
    let mut iterations = 0;
    let mut values: Vec<f64>;
    loop {
        let mut w = op.gram(&v, block);
        iterations += 1;
        // Rayleigh–Ritz on the block: H = V^T (S^T S) V.
        let mut h = vec![0.0; block * block];
        for a in 0..block {
            for b in 0..block {
                h[a * block + b] = (0..k).map(|j| v[j * block + a] * w[j * block + b]).sum();
            }
        }
        for a in 0..block {
            for b in 0..a {
                let s = 0.5 * (h[a * block + b] + h[b * block + a]);
                h[a * block + b] = s;
                h[b * block + a] = s;
            }
        }
        let (eig, q) = symmetric_eigen(&h, block);
        values = eig;
        // The Ritz vectors span the same space as V; the leading one is the
        // current estimate.
        let leading: Vec<f64> = (0..k)
            .map(|j| (0..block).map(|a| v[j * block + a] * q[a * block]).sum())
            .collect();
        let sign = if leading.iter().zip(&previous).map(|(a, b)| a * b).sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        let moved = leading
            .iter()
            .zip(&previous)
            .map(|(a, b)| (sign * a - b).abs())
            .fold(0.0, f64::max);
        previous = leading.iter().map(|a| sign * a).collect();
        if moved < tolerance || iterations >= max_iterations {
            break;
        }
        orthonormalize(&mut w, k, block);
        v = w;
    }
    let sigma = values.first().copied().unwrap_or(0.0).max(0.0).sqrt();
    let standard: Vec<f64> = (0..k)
        .map(|j| {
            if col_mass[j] > 0.0 {
                previous[j] / col_mass[j].sqrt()
            } else {
                f64::NAN
            }
        })
        .collect();
    let row_scores = (0..m.rows())
        .into_par_iter()
        .with_min_len(ROW_CHUNK)
        .map(|i| {
            let (cols, weights) = m.row(i);
            let (mut s, mut wsum) = (0.0, 0.0);
            for (&c, &w) in cols.iter().zip(weights) {
                let b = standard[c as usize];
                if b.is_finite() {
                    s += w * b;
                    wsum += w;
                }
            }
            if wsum > 0.0 { s / wsum } else { f64::NAN }
        })
        .collect();
    Fit {
        row_scores,
        column_scores: standard.iter().map(|b| sigma * b).collect(),
        singular_values: values.iter().map(|v| v.max(0.0).sqrt()).collect(),
        total_inertia,
        iterations,
    }
}

/// S and S^T applied to blocks, over the core rows.
struct Residuals<'a> {
    m: &'a Sparse,
    core_rows: &'a [u32],
    row_mass: &'a [f64],
    col_mass: &'a [f64],
    total: f64,
}

impl Residuals<'_> {
    /// ||S||_F^2 = sum over nonzeros of P^2 / (r c), less 1.
    fn total_inertia(&self) -> f64 {
        let partial: Vec<f64> = self
            .core_rows
            .par_chunks(ROW_CHUNK)
            .map(|rows| {
                let mut s = 0.0;
                for &i in rows {
                    let (cols, weights) = self.m.row(i as usize);
                    for (&c, &w) in cols.iter().zip(weights) {
                        let p = w / self.total;
                        s += p * p / (self.row_mass[i as usize] * self.col_mass[c as usize]);
                    }
                }
                s
            })
            .collect();
        (partial.iter().sum::<f64>() - 1.0).max(0.0)
    }

    /// W = S^T S V for V columns x block (row-major).
    fn gram(&self, v: &[f64], block: usize) -> Vec<f64> {
        let k = self.m.columns;
        // t[a] = sum_j sqrt(c_j) v[j][a]: the rank-one part of S v.
        let mut t = vec![0.0; block];
        for j in 0..k {
            for a in 0..block {
                t[a] += self.col_mass[j].sqrt() * v[j * block + a];
            }
        }
        // Per chunk of core rows: u_i = S v (row i), then its contribution
        // to S^T u, summed in chunk order. A fixed number of chunks (their
        // size set by the row count alone) bounds the per-chunk column
        // buffers whatever the population.
        let chunk = self.core_rows.len().div_ceil(GRAM_CHUNKS).max(ROW_CHUNK);
        let partials: Vec<(Vec<f64>, Vec<f64>)> = self
            .core_rows
            .par_chunks(chunk)
            .map(|rows| {
                let mut w = vec![0.0; k * block];
                let mut rank_one = vec![0.0; block];
                let mut u = vec![0.0; block];
                for &i in rows {
                    let i = i as usize;
                    let r = self.row_mass[i];
                    let (cols, weights) = self.m.row(i);
                    u.fill(0.0);
                    for (&c, &wt) in cols.iter().zip(weights) {
                        let scale = wt / self.total / self.col_mass[c as usize].sqrt();
                        let row = &v[c as usize * block..][..block];
                        for a in 0..block {
                            u[a] += scale * row[a];
                        }
                    }
                    for a in 0..block {
                        u[a] = u[a] / r.sqrt() - r.sqrt() * t[a];
                    }
                    for (&c, &wt) in cols.iter().zip(weights) {
                        let scale = wt / self.total / r.sqrt();
                        let out = &mut w[c as usize * block..][..block];
                        for a in 0..block {
                            out[a] += scale * u[a];
                        }
                    }
                    for a in 0..block {
                        rank_one[a] += r.sqrt() * u[a];
                    }
                }
                (w, rank_one)
            })
            .collect();
        let mut w = vec![0.0; k * block];
        let mut rank_one = vec![0.0; block];
        for (pw, pr) in partials {
            for (a, b) in w.iter_mut().zip(pw) {
                *a += b;
            }
            for (a, b) in rank_one.iter_mut().zip(pr) {
                *a += b;
            }
        }
        for j in 0..k {
            let c = self.col_mass[j];
            for a in 0..block {
                w[j * block + a] = if c > 0.0 {
                    w[j * block + a] / c.sqrt() - c.sqrt() * rank_one[a]
                } else {
                    0.0
                };
            }
        }
        w
    }
}

/// Modified Gram–Schmidt on the columns of a rows x block matrix.
fn orthonormalize(v: &mut [f64], rows: usize, block: usize) {
    for a in 0..block {
        for b in 0..a {
            let dot: f64 = (0..rows).map(|j| v[j * block + a] * v[j * block + b]).sum();
            for j in 0..rows {
                v[j * block + a] -= dot * v[j * block + b];
            }
        }
        let norm = (0..rows).map(|j| v[j * block + a].powi(2)).sum::<f64>().sqrt();
        if norm > 0.0 {
            for j in 0..rows {
                v[j * block + a] /= norm;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense CA of a small matrix, by the definition: the leading
    /// eigenpair of S^T S by power iteration on the dense S.
    fn dense_leading(x: &[Vec<f64>]) -> (f64, Vec<f64>) {
        let (n, k) = (x.len(), x[0].len());
        let total: f64 = x.iter().flatten().sum();
        let r: Vec<f64> = x.iter().map(|row| row.iter().sum::<f64>() / total).collect();
        let c: Vec<f64> = (0..k)
            .map(|j| x.iter().map(|row| row[j]).sum::<f64>() / total)
            .collect();
        let s: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..k)
                    .map(|j| (x[i][j] / total - r[i] * c[j]) / (r[i] * c[j]).sqrt())
                    .collect()
            })
            .collect();
        let mut sts = vec![0.0; k * k];
        for a in 0..k {
            for b in 0..k {
                sts[a * k + b] = (0..n).map(|i| s[i][a] * s[i][b]).sum();
            }
        }
        let (values, vectors) = symmetric_eigen(&sts, k);
        let v: Vec<f64> = (0..k).map(|j| vectors[j * k] / c[j].sqrt()).collect();
        (values[0].sqrt(), v)
    }

    #[test]
    fn the_matrix_free_fit_matches_the_dense_definition() {
        let x: Vec<Vec<f64>> = (0..12)
            .map(|i| {
                (0..6)
                    .map(|j| {
                        if (i + j) % 3 == 0 || (i < 6) == (j < 3) {
                            1.0 + (i * j % 2) as f64
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let rows: Vec<Vec<(u32, f64)>> = x
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(j, &w)| (j as u32, w))
                    .collect()
            })
            .collect();
        let m = Sparse::from_rows(6, rows);
        let fit = fit(&m, &[true; 12], 4, 500, 1e-13);
        let (sigma, standard) = dense_leading(&x);
        assert!(
            (fit.singular_values[0] - sigma).abs() < 1e-10,
            "{:?} vs {sigma}",
            fit.singular_values
        );
        let sign = (fit.column_scores[0] / (sigma * standard[0])).signum();
        for j in 0..6 {
            assert!((fit.column_scores[j] - sign * sigma * standard[j]).abs() < 1e-8);
        }
        // Rows: the weighted mean of the columns' standard coordinates,
        // which for a fitted row is its principal coordinate.
        for (i, row) in x.iter().enumerate() {
            let w: f64 = row.iter().sum();
            let expected: f64 = row.iter().zip(&standard).map(|(a, b)| a * b).sum::<f64>() / w;
            assert!((fit.row_scores[i] - sign * expected).abs() < 1e-8);
        }
    }

    #[test]
    fn duplicate_entries_are_summed_and_empty_matrices_give_no_scores() {
        let m = Sparse::from_rows(3, vec![vec![(2, 1.0), (0, 1.0), (2, 2.0)]]);
        assert_eq!(m.row(0), (&[0u32, 2][..], &[1.0, 3.0][..]));
        let f = fit(&Sparse::from_rows(3, vec![vec![], vec![]]), &[true, true], 4, 10, 1e-9);
        assert!(f.row_scores.iter().all(|s| s.is_nan()) && f.singular_values.is_empty());
    }
}
