//! Maximizing concave log-likelihoods of one or two nonnegative
//! parameters, and the ends of profile-likelihood intervals.
//!
//! Written here rather than taken from an optimization crate: the
//! functions are concave with exact first and second derivatives in at
//! most two variables, where a safeguarded Newton step is a few lines and
//! a general solver (argmin and the like) would add a dependency tree for
//! less control over the bounds.

/// Value, first and second derivative of a function of one variable.
pub(crate) type Curve<'a> = &'a dyn Fn(f64) -> (f64, f64, f64);

/// Value, gradient and Hessian of a function of two variables.
pub(crate) type Surface<'a> = &'a dyn Fn(f64, f64) -> (f64, [f64; 2], [[f64; 2]; 2]);

/// Where an unbounded search gives up: a maximum or an interval's end past
/// this many times the scale of the problem is "without bound".
const UNBOUNDED: f64 = 1e12;

/// The maximum of a concave `f` on [lo, hi] (hi may be infinite), started
/// at `start`: a Newton step where it stays inside the bracket that the
/// derivative's sign keeps, a bisection where it does not. Returns the
/// argument and the value; an argument of [`UNBOUNDED`] times the scale
/// means the function still rises there.
pub(crate) fn argmax_1d(f: Curve<'_>, lo: f64, hi: f64, start: f64) -> (f64, f64) {
    let (_, d_lo, _) = f(lo);
    if d_lo <= 0.0 {
        return (lo, f(lo).0);
    }
    let mut r = hi;
    if r.is_infinite() {
        r = (2.0 * start.max(lo)).max(lo + 1e-9).max(1e-9);
        while f(r).1 > 0.0 {
            if r > UNBOUNDED {
                return (r, f(r).0);
            }
            r *= 2.0;
        }
    } else if f(r).1 >= 0.0 {
        return (r, f(r).0);
    }
    let mut l = lo;
    let mut x = start.clamp(l, r);
    if x <= l || x >= r {
        x = 0.5 * (l + r);
    }
    for _ in 0..200 {
        let (_, d1, d2) = f(x);
        if d1 == 0.0 {
            break;
        }
        if d1 > 0.0 {
            l = x;
        } else {
            r = x;
        }
        let newton = x - d1 / d2;
        let next = if d2 < 0.0 && newton > l && newton < r {
            newton
        } else {
            0.5 * (l + r)
        };
        if (next - x).abs() <= 1e-15 * x.abs().max(1e-300) || r - l <= 1e-15 * r.abs() {
            x = next;
            break;
        }
        x = next;
    }
    (x, f(x).0)
}

/// The maximum of a concave `f` over a, b >= 0, from `start`: Newton
/// steps on the coordinates not held at 0 by the constraint (a coordinate
/// at 0 whose derivative points below 0 is held), each shortened until the
/// value does not fall. Returns the argument and the value.
pub(crate) fn argmax_quadrant(f: Surface<'_>, start: [f64; 2]) -> ([f64; 2], f64) {
    let mut x = start;
    let (mut value, mut grad, mut hess) = f(x[0], x[1]);
    for _ in 0..500 {
        let free = [x[0] > 0.0 || grad[0] > 0.0, x[1] > 0.0 || grad[1] > 0.0];
        let step = match free {
            [true, true] => {
                let det = hess[0][0] * hess[1][1] - hess[0][1] * hess[1][0];
                if det > 0.0 && hess[0][0] < 0.0 {
                    [
                        -(hess[1][1] * grad[0] - hess[0][1] * grad[1]) / det,
                        -(hess[0][0] * grad[1] - hess[1][0] * grad[0]) / det,
                    ]
                } else {
                    // Not strictly concave here (a flat direction): the
                    // coordinates one at a time.
                    [one_coordinate(grad[0], hess[0][0]), one_coordinate(grad[1], hess[1][1])]
                }
            }
            [true, false] => [one_coordinate(grad[0], hess[0][0]), 0.0],
            [false, true] => [0.0, one_coordinate(grad[1], hess[1][1])],
            [false, false] => break,
        };
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..60 {
            let next = [(x[0] + t * step[0]).max(0.0), (x[1] + t * step[1]).max(0.0)];
            let (v, g, h) = f(next[0], next[1]);
            if v >= value {
                let gain = v - value;
                let size = (next[0] - x[0]).abs() + (next[1] - x[1]).abs();
                (x, value, grad, hess) = (next, v, g, h);
                moved = gain > 1e-15 * value.abs().max(1.0) || size > 1e-14 * (x[0] + x[1]).max(1e-300);
                break;
            }
            t *= 0.5;
        }
        if !moved {
            break;
        }
    }
    (x, value)
}

/// A Newton step along one coordinate (a gradient step where the
/// curvature says nothing).
fn one_coordinate(grad: f64, curvature: f64) -> f64 {
    if curvature < 0.0 { -grad / curvature } else { grad }
}

/// Where a profile-likelihood interval ends on one side of the maximum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum End {
    /// The profile falls to the threshold here.
    At(f64),
    /// It stays above the threshold up to the parameter's bound (or, with
    /// no bound, as far as [`UNBOUNDED`] times the scale).
    Bound,
}

/// The end of an interval on one side of the maximum `at`: where
/// `profile`, monotone from `at` toward `bound` (None: without bound),
/// falls to `target`. Regula falsi with the Illinois change, which keeps
/// the bracket and converges in a few profile evaluations.
pub(crate) fn interval_end(profile: &dyn Fn(f64) -> f64, at: f64, bound: Option<f64>, target: f64) -> End {
    let g = |x: f64| profile(x) - target;
    let (mut inside, mut outside) = (
        at,
        match bound {
            Some(b) => b,
            None => {
                let mut x = if at > 0.0 { 2.0 * at } else { 1e-6 };
                while g(x) >= 0.0 {
                    if x > UNBOUNDED * at.max(1.0) {
                        return End::Bound;
                    }
                    x *= 2.0;
                }
                x
            }
        },
    );
    let (mut g_in, mut g_out) = (g(inside), g(outside));
    if g_out >= 0.0 {
        return End::Bound;
    }
    if g_in <= 0.0 {
        // The maximum itself is at the threshold: a zero-width side.
        return End::At(at);
    }
    let mut side = 0;
    for _ in 0..200 {
        let secant = (inside * g_out - outside * g_in) / (g_out - g_in);
        // A cliff (the profile at −∞, as at a bound the data rule out)
        // gives no secant: halve the bracket there.
        let (low, high) = (inside.min(outside), inside.max(outside));
        let x = if secant.is_finite() && secant > low && secant < high {
            secant
        } else {
            0.5 * (inside + outside)
        };
        let gx = g(x);
        if gx >= 0.0 {
            (inside, g_in) = (x, gx);
            if side == 1 {
                g_out *= 0.5;
            }
            side = 1;
        } else {
            (outside, g_out) = (x, gx);
            if side == -1 {
                g_in *= 0.5;
            }
            side = -1;
        }
        if (outside - inside).abs() <= 1e-12 * inside.abs().max(outside.abs()).max(1e-300) || gx == 0.0 {
            break;
        }
    }
    End::At(if g_in.abs() <= g_out.abs() { inside } else { outside })
}
