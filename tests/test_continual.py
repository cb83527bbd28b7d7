"""Continual-learning metrics on synthetic curves with known answers."""

import numpy as np
import pytest

from koo_spiking.studies import continual


def test_samples_to_adapt_on_an_exponential_curve():
    # mse = a + b exp(-s/tau): within 10 % of a once b exp(-s/tau) <= 0.1 a, at s = tau ln(10 b / a)
    a, b, tau = 0.02, 0.2, 50.0
    s = np.arange(0, 2001, 1.0)
    mse = a + b * np.exp(-s / tau)
    expected = tau * np.log(10 * b / a)
    assert continual.samples_to_adapt(s, mse) == pytest.approx(np.ceil(expected), abs=1)
    # a faster curve adapts sooner; an already adapted curve needs no sample
    assert continual.samples_to_adapt(s, a + b * np.exp(-s / 10)) < expected / 4
    assert continual.samples_to_adapt(s, np.full_like(s, a)) == 0


def test_area_and_block_metrics():
    s = np.array([100.0, 150.0, 200.0, 300.0])
    mse = np.array([0.4, 0.2, 0.1, 0.1])
    # trapezoids: 50*0.3 + 50*0.15 + 100*0.1
    assert continual.area_under_curve(s, mse) == pytest.approx(15 + 7.5 + 10)
    m = continual.block_metrics(s, mse, tail=2)
    assert m["asymptote"] == pytest.approx(0.1) and m["samples_to_adapt"] == 100
    assert m["mean_mse"] == pytest.approx(32.5 / 200) and m["first"] == 0.4


def test_forgetting_and_forward_transfer_of_a_known_task_matrix():
    # blocks A, B, A, B; rows: MSE of (A, B) at the end of each block
    R = [[0.10, 0.50], [0.30, 0.12], [0.11, 0.40], [0.25, 0.10]]
    f = continual.forgetting(R, [0, 1, 0, 1])
    assert f["per_block"][1] == {0: pytest.approx(0.20)}
    assert f["per_block"][2] == {1: pytest.approx(0.28)}
    assert f["per_block"][3] == {0: pytest.approx(0.14)}
    assert f["mean"] == pytest.approx((0.20 + 0.28 + 0.14) / 3)
    assert f["final"] == {0: pytest.approx(0.25 - 0.11)} and f["mean_final"] == pytest.approx(0.14)
    ft = continual.forward_transfer(R, [0, 1, 0, 1], initial=[0.6, 0.6])
    assert ft["per_task"] == {1: pytest.approx(0.6 - 0.5)}
    # a learner that keeps everything forgets nothing
    keep = continual.forgetting([[0.1, 0.5], [0.1, 0.1]], [0, 1])
    assert keep["mean"] == 0 and keep["final"] == {0: 0.0}
    with pytest.raises(ValueError, match="2-D"):
        continual.task_matrix([0.1, 0.2])


def test_effective_rank_and_silent_fraction():
    assert continual.effective_rank(np.eye(6)) == pytest.approx(6)
    rank_one = np.outer(np.arange(1, 9), np.arange(1, 5))
    assert continual.effective_rank(rank_one) == pytest.approx(1, abs=1e-6)
    assert continual.effective_rank(np.zeros((5, 3))) == 0
    # two equal singular values and one half as large: exp(entropy of (0.4, 0.4, 0.2))
    H = np.diag([2.0, 2.0, 1.0])
    p = np.array([0.4, 0.4, 0.2])
    assert continual.effective_rank(H) == pytest.approx(np.exp(-np.sum(p * np.log(p))))
    H = np.array([[0, 1, 0, 2], [0, 3, 0, 0]])
    assert continual.silent_fraction(H) == 0.5


def test_trend():
    x = np.arange(8.0)
    t = continual.trend(x, 0.5 * x + 1)
    assert t["slope"] == pytest.approx(0.5) and t["change"] == pytest.approx(0.5 * 6)
    assert continual.trend(x, np.ones(8))["change"] == 0
