"""The engine on Python functions: closed forms, an independent quadrature,
Shapley values, and the failures a user's function can have."""

import _thread
import threading
import time
import warnings

import numpy as np
import pytest

import aumann


def linear(w):
    return lambda p: (p @ w, np.tile(w, (len(p), 1)))


def test_linear_model_closed_form():
    w = np.array([1.0, -2.0, 3.0, 0.5])
    x = np.array([2.0, 1.0, -1.0, 4.0])
    b = np.array([1.0, 0.0, 0.0, -2.0])
    r = aumann.path_attribution(linear(w), x, b)
    np.testing.assert_allclose(r.phi, w * (x - b), rtol=0, atol=1e-13)
    assert abs(r.convergence_delta) < 1e-12 and r.converged
    assert r.value == pytest.approx(w @ x) and r.baseline_value == pytest.approx(w @ b)


def test_function_of_a_weighted_sum_closed_form():
    # F(x) = exp(w . x) from 0: phi_i = w_i x_i (F(x) - F(0)) / (w . x).
    w = np.array([0.3, -0.2, 0.5])
    x = np.array([1.0, 2.0, 3.0])

    def f(p):
        v = np.exp(p @ w)
        return v, v[:, None] * w[None, :]

    r = aumann.path_attribution(f, x)
    s = w @ x
    np.testing.assert_allclose(r.phi, w * x * (np.exp(s) - 1.0) / s, rtol=1e-9)
    assert r.relative_gap < 1e-6
    assert np.all(np.abs(r.error) < 1e-6)


def test_homogeneous_function_closed_form():
    # F = x0^2 x1 is homogeneous of degree 3: from 0, phi_i = a_i / 3 F(x) (Euler).
    def f(p):
        v = p[:, 0] ** 2 * p[:, 1]
        return v, np.stack([2 * p[:, 0] * p[:, 1], p[:, 0] ** 2], axis=1)

    r = aumann.path_attribution(f, [3.0, 2.0])
    np.testing.assert_allclose(r.phi, [2 / 3 * 18.0, 1 / 3 * 18.0], rtol=1e-12)


def test_a_small_network_against_an_independent_quadrature():
    # A two-layer tanh network on a 2 x 3 input, its gradient by hand; the
    # oracle integrates the same gradient with numpy's own Gauss-Legendre.
    rng = np.random.default_rng(5)
    w1, w2 = rng.normal(size=(6, 8)), rng.normal(size=8)

    def forward(p):
        h = np.tanh(p.reshape(len(p), 6) @ w1)
        return h @ w2, ((1 - h**2) * w2) @ w1.T

    def f(p):
        v, g = forward(p)
        return v, g.reshape(p.shape)

    x = rng.normal(size=(2, 3))
    # The hand-written gradient agrees with finite differences.
    e = 1e-6
    fd = [(forward((x.ravel() + e * d)[None])[0] - forward((x.ravel() - e * d)[None])[0])[0] / (2 * e) for d in np.eye(6)]
    np.testing.assert_allclose(forward(x.ravel()[None])[1][0], fd, rtol=1e-6, atol=1e-8)
    r = aumann.path_attribution(f, x, batch=16)
    assert r.phi.shape == (2, 3)
    nodes, weights = np.polynomial.legendre.leggauss(200)
    taus = 0.5 * (nodes + 1)
    grads = forward(taus[:, None] * x.ravel()[None, :])[1]
    oracle = x.ravel() * (0.5 * weights @ grads)
    np.testing.assert_allclose(r.phi.ravel(), oracle, rtol=1e-7, atol=1e-9)
    assert r.relative_gap < 1e-6


def test_every_rule_and_fixed_nodes():
    w = np.array([1.0, 2.0])
    for rule in ["gauss-legendre", "riemann-left", "riemann-right", "riemann-midpoint", "trapezoid"]:
        r = aumann.path_attribution(linear(w), [1.0, 1.0], rule=rule, nodes=8)
        assert r.rule == rule and r.nodes == 8
        np.testing.assert_allclose(r.phi, w, atol=1e-12)


def test_the_node_limit_warns_and_returns_the_best():
    def f(p):
        v = np.exp(3 * p[:, 0])
        return v, 3 * v[:, None]

    with pytest.warns(aumann.ConvergenceWarning, match="completeness gap"):
        r = aumann.path_attribution(f, [1.0], rule="riemann-left", max_nodes=16)
    assert not r.converged and r.relative_gap > 1e-6 and r.nodes == 16


def test_a_function_that_raises_raises_its_exception():
    calls = []

    def f(p):
        calls.append(len(p))
        if len(calls) > 2:
            raise ZeroDivisionError("the model broke")
        return linear(np.ones(3))(p)

    with pytest.raises(ZeroDivisionError, match="the model broke"):
        aumann.path_attribution(f, np.ones(3), nodes=64)
    assert len(calls) == 3  # it stopped at the failing call


def test_malformed_answers():
    with pytest.raises(aumann.InvalidInputError, match="pair"):
        aumann.path_attribution(lambda p: p.sum(axis=1), np.ones(3))
    with pytest.raises(aumann.InvalidInputError, match="gradients of shape"):
        aumann.path_attribution(lambda p: (p.sum(axis=1), np.ones((len(p), 2))), np.ones(3))
    with pytest.raises(aumann.InvalidInputError, match="values of shape"):
        aumann.path_attribution(lambda p: (np.ones(7), np.ones(p.shape)), np.ones(3))
    with pytest.raises(ValueError, match="non-finite"):
        aumann.path_attribution(lambda p: (np.full(len(p), np.nan), np.ones(p.shape)), np.ones(3))
    with pytest.raises(ValueError, match="baseline"):
        aumann.path_attribution(linear(np.ones(3)), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        aumann.path_attribution(linear(np.ones(3)), [1.0, np.inf, 0.0])
    with pytest.raises(ValueError, match="rule"):
        aumann.path_attribution(linear(np.ones(3)), np.ones(3), rule="simpson")


def test_ctrl_c_stops_a_slow_model():
    def slow(p):
        time.sleep(0.01)
        return linear(np.ones(2))(p)

    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        aumann.path_attribution(slow, np.ones(2), nodes=20_000, batch=1)
    timer.cancel()
    assert time.perf_counter() - started < 5.0


def test_ctrl_c_stops_a_slow_coalition_function():
    calls = []

    def slow(s):
        calls.append(len(s))
        time.sleep(0.01)
        return s.sum(axis=1).astype(float)

    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        aumann.permutation_shapley(slow, 50, permutations=100_000)
    timer.cancel()
    # 100,000 permutations of 50 players, one call per walk: far more calls
    # than the interrupt let through.
    assert len(calls) < 2000


def glove(s):
    # Player 0 holds a left glove, the others right gloves: a pair is worth 1.
    return np.minimum(s[:, 0], s[:, 1:].sum(axis=1)).astype(float)


def test_exact_shapley_closed_forms():
    np.testing.assert_allclose(aumann.exact_shapley(glove, 3).phi, [2 / 3, 1 / 6, 1 / 6], atol=1e-15)
    w = np.arange(1.0, 13.0)
    r = aumann.exact_shapley(lambda s: s @ w, 12)
    np.testing.assert_allclose(r.phi, w, atol=1e-10)
    assert r.evaluations == 2**12
    with pytest.raises(ValueError, match="25 players"):
        aumann.exact_shapley(glove, 30)
    with pytest.raises(ValueError, match="at least one player"):
        aumann.exact_shapley(glove, 0)
    with pytest.raises(TypeError):
        aumann.exact_shapley(glove, 2.5)


def test_permutation_shapley_is_seeded_and_unbiased():
    w = np.array([3.0, 1.0, 0.0, 2.0])
    additive = aumann.permutation_shapley(lambda s: s @ w, 4, permutations=10)
    np.testing.assert_allclose(additive.phi, w, atol=1e-12)  # every permutation gives w
    a = aumann.permutation_shapley(glove, 5, permutations=400, seed=3)
    b = aumann.permutation_shapley(glove, 5, permutations=400, seed=3)
    np.testing.assert_array_equal(a.phi, b.phi)
    exact = aumann.exact_shapley(glove, 5).phi
    assert np.all(np.abs(a.phi - exact) < 5 * a.std_error + 1e-12)
    assert a.permutations == 400 and a.stop == "max-permutations"
    c = aumann.permutation_shapley(glove, 5, permutations=None, max_evaluations=200)
    assert c.evaluations <= 200 and c.stop == "max-evaluations"
    with pytest.raises(ValueError, match="limit"):
        aumann.permutation_shapley(glove, 5, permutations=None)


def test_permutation_shapley_hands_each_round_of_permutations_over_in_one_call():
    calls = []

    def v(s):
        calls.append(s.shape)
        return glove(s)

    r = aumann.permutation_shapley(v, 5, permutations=64, seed=1)
    # The two ends, then two rounds of 16 antithetic pairs: each round's
    # 16 x 2 walks of 4 coalitions in one call.
    assert calls[2:] == [(128, 5), (128, 5)]
    np.testing.assert_array_equal(r.phi, aumann.permutation_shapley(glove, 5, permutations=64, seed=1).phi)


def test_a_coalition_function_that_raises():
    def v(s):
        raise RuntimeError("no coalition for you")

    with pytest.raises(RuntimeError, match="no coalition"):
        aumann.exact_shapley(v, 4)
    with pytest.raises(RuntimeError, match="no coalition"):
        aumann.permutation_shapley(v, 4)


def test_no_warnings_on_a_clean_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aumann.path_attribution(linear(np.ones(2)), np.ones(2))


def test_a_fixed_node_count_too_coarse_is_not_converged_and_errors_are_magnitudes():
    def f(p):
        v = np.exp(3 * p[:, 0] - p[:, 1])
        return v, np.stack([3 * v, -v], axis=1)

    coarse = aumann.path_attribution(f, [1.0, 1.0], rule="riemann-left", nodes=8)
    assert coarse.relative_gap > 0.01 and not coarse.converged
    fine = aumann.path_attribution(f, [1.0, 1.0], nodes=16)
    assert fine.relative_gap < 1e-12 and fine.converged
    # The second input's phi is negative; its error estimate is not.
    with pytest.warns(aumann.ConvergenceWarning):
        adaptive = aumann.path_attribution(f, [1.0, 1.0], rule="riemann-left", max_nodes=256)
    assert adaptive.phi[1] < 0 and np.all(adaptive.error >= 0) and np.any(adaptive.error > 0)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: aumann.generate(agents=-5), "agents must be at least 0, got -5"),
        (lambda: aumann.path_attribution(lambda p: (p[:, 0], np.ones_like(p)), [1.0], nodes=-3), "nodes must be at least 1"),
        (lambda: aumann.permutation_shapley(lambda c: 0.0, 3, permutations=-1), "permutations must be at least 0"),
        (lambda: aumann.permutation_shapley(lambda c: 0.0, 3, seed=-1), "seed must be at least 0"),
        (lambda: aumann.permutation_shapley(lambda c: 0.0, 3, seed=2**64), "seed must be at most"),
    ],
)
def test_negative_counts_raise_the_packages_error_naming_the_argument(call, words):
    with pytest.raises(aumann.InvalidInputError, match=words):
        call()


def test_a_count_that_is_not_a_whole_number_is_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match="days must be a whole number, got 2.5"):
        aumann.generate(days=2.5)


def test_to_shap_gives_an_explanation_shaps_plots_take(monkeypatch):
    shap = pytest.importorskip("shap")
    import matplotlib

    matplotlib.use("Agg")
    w = np.array([1.0, -2.0, 3.0])
    r = aumann.path_attribution(linear(w), np.array([2.0, 1.0, -1.0]), np.array([1.0, 0.0, 0.0]))
    e = r.to_shap(feature_names=["a", "b", "c"])
    assert isinstance(e, shap.Explanation)
    np.testing.assert_array_equal(e.values, r.phi)
    np.testing.assert_array_equal(e.data, [2.0, 1.0, -1.0])
    assert e.base_values == r.baseline_value and e.feature_names == ["a", "b", "c"]
    assert e.base_values + e.values.sum() == pytest.approx(r.value, abs=1e-12)
    shap.plots.waterfall(e, show=False)
    import matplotlib.pyplot as plt

    plt.close("all")
