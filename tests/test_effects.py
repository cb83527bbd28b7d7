"""Statistics and report writers of the ablation study, on synthetic numbers with known answers."""

import math

import numpy as np
import pytest
from scipy import stats

from koo_spiking.studies.effects import (
    bootstrap_ci,
    effect_figure,
    markdown,
    paired_effect,
    smallest_not_worse,
    summarize,
    write_figure,
    write_markdown,
)

SEEDS = [0, 1, 2, 3, 4]
BASE_MSE = [0.0150, 0.0160, 0.0155, 0.0148, 0.0152]
BASE_PROBE = [0.94, 0.93, 0.95, 0.94, 0.92]
BASE_SPIKES = [940.0, 950.0, 930.0, 945.0, 955.0]


def _run(seed, mse, probe, spikes):
    if mse is None:
        return {"seed": seed, "status": "failed", "error": "boom"}
    models = {
        "koo": {"test_mse": mse, "r2": 0.8, "probe_accuracy": probe, "spikes_per_image": spikes},
        "pca": {"test_mse": 0.01},
    }
    return {"seed": seed, "status": "done", "models": models, "diagnostics": {}}


def _variant(label, size, mse, probe=BASE_PROBE, spikes=BASE_SPIKES, seeds=SEEDS):
    runs = [_run(s, m, p, k) for s, m, p, k in zip(seeds, mse, probe, spikes)]
    return {"label": label, "flips": {}, "size": size, "runs": runs}


def _ablation(**variants):
    variants = {"full": _variant("full model", 8, BASE_MSE), **variants}
    return {
        "provenance": {"git_commit": "abc1234", "command": "koo-spiking ablation --seeds 5", "date": "today"},
        "data": "digits",
        "seeds": SEEDS,
        "full": "full",
        "variants": variants,
    }


def _shift(values, *deltas):
    return [v + d for v, d in zip(values, deltas)]


# --- bootstrap_ci ---------------------------------------------------------------------------------------------


def test_bootstrap_ci_normal_samples():
    x = np.random.default_rng(1).normal(2.0, 0.5, 400)
    mean, low, high = bootstrap_ci(x, seed=3)
    assert mean == pytest.approx(x.mean())
    assert low < 2.0 < high
    analytic = 2 * 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert high - low == pytest.approx(analytic, rel=0.15)
    assert bootstrap_ci(x, seed=3) == (mean, low, high)  # deterministic for a seed
    assert bootstrap_ci(x, seed=4) != (mean, low, high)
    narrow = bootstrap_ci(x, confidence=0.5, seed=3)
    assert narrow[2] - narrow[1] < 0.5 * (high - low)


def test_bootstrap_ci_degenerate_inputs():
    assert bootstrap_ci([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    mean, low, high = bootstrap_ci([0.7])
    assert mean == 0.7 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    mean, low, high = bootstrap_ci([1.0, 2.0])  # BCa undefined for two values: percentile interval
    assert mean == 1.5 and 1.0 <= low < high <= 2.0


# --- paired_effect --------------------------------------------------------------------------------------------


def test_paired_effect_constant_shift():
    ref = np.array([0.5, 1.25, 2.0, 3.5])
    e = paired_effect(ref + 0.25, ref)
    assert e == {"diff": 0.25, "low": 0.25, "high": 0.25, "p": 0.0, "n": 4}
    same = paired_effect(ref, ref)
    assert same["diff"] == 0.0 and same["p"] == 1.0
    one = paired_effect([1.0], [0.5])
    assert one["diff"] == 0.5 and one["n"] == 1 and math.isnan(one["p"])


def test_paired_effect_matches_t_test():
    v = np.array([0.52, 0.61, 0.47, 0.58, 0.55])
    r = np.array([0.50, 0.57, 0.49, 0.52, 0.51])
    e = paired_effect(v, r)
    d = v - r
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))  # by hand
    assert e["p"] == pytest.approx(2 * stats.t.sf(abs(t), d.size - 1), rel=1e-10)
    assert e["p"] == pytest.approx(stats.ttest_rel(v, r).pvalue, rel=1e-12)
    assert e["diff"] == pytest.approx(0.028) and e["n"] == 5
    assert e["low"] < e["diff"] < e["high"]
    assert d.min() <= e["low"] and e["high"] <= d.max()


def test_paired_effect_pairs_seeds_in_both():
    e = paired_effect({0: 1.0, 1: 2.0, 2: 3.5, 7: 100.0}, {2: 3.0, 0: 0.5, 1: 1.5, 5: -9.0})
    assert e["n"] == 3 and e["diff"] == 0.5 and e["p"] == 0.0
    with pytest.raises(ValueError):
        paired_effect([1.0, 2.0], [1.0])


# --- summarize and smallest_not_worse -------------------------------------------------------------------------


def test_summarize_flags_worse_and_not_noise():
    ab = _ablation(
        worse=_variant(
            "much worse",
            7,
            _shift(BASE_MSE, 0.010, 0.011, 0.009, 0.010, 0.012),
            probe=_shift(BASE_PROBE, -0.10, -0.12, -0.09, -0.11, -0.10),
        ),
        noisy=_variant(
            "noisy",
            7,
            _shift(BASE_MSE, 0.002, -0.002, 0.001, -0.001, 0.0005),
            spikes=_shift(BASE_SPIKES, -300, -310, -290, -305, -295),
        ),
    )
    rows = {r["name"]: r for r in summarize(ab)}
    assert list(rows) == ["full", "worse", "noisy"]
    full, worse, noisy = rows["full"], rows["worse"], rows["noisy"]
    assert full["full"] and full["test_mse"]["effect"] is None and not full["test_mse"]["worse"]
    assert full["test_mse"]["mean"] == pytest.approx(np.mean(BASE_MSE))
    assert full["test_mse"]["low"] < full["test_mse"]["mean"] < full["test_mse"]["high"]
    assert worse["test_mse"]["effect"]["diff"] == pytest.approx(0.0104)
    assert worse["test_mse"]["effect"]["p"] < 0.001
    assert worse["test_mse"]["worse"] and not worse["test_mse"]["better"]
    assert worse["probe_accuracy"]["worse"] and worse["probe_accuracy"]["effect"]["diff"] < 0  # higher is better
    assert not worse["spikes_per_image"]["worse"] and not worse["spikes_per_image"]["better"]
    assert not noisy["test_mse"]["worse"] and not noisy["test_mse"]["better"]
    assert noisy["test_mse"]["effect"]["p"] > 0.5
    assert noisy["spikes_per_image"]["better"] and not noisy["spikes_per_image"]["worse"]  # fewer spikes
    assert smallest_not_worse(list(rows.values())) == "noisy"


def test_summarize_without_full_variant():
    ab = _ablation()
    ab["full"] = "reference"
    with pytest.raises(ValueError, match="reference"):
        summarize(ab)


def test_smallest_not_worse_tie_break_and_seeds():
    tiny = [0.0001, -0.0001, 0.0002, -0.0002, 0.0]
    ab = _ablation(
        a=_variant("seven", 7, _shift(BASE_MSE, *tiny)),
        b=_variant("five, worse", 5, _shift(BASE_MSE, 0.01, 0.011, 0.012, 0.01, 0.009)),
        c=_variant("five, higher mse", 5, _shift(BASE_MSE, 0.0003, -0.0001, 0.0004, 0.0, 0.0002)),
        # seed 2 missing, seed 4 failed in the full model (below) with an outlier here: paired on 0, 1, 3
        d=_variant(
            "five, lower mse",
            5,
            [BASE_MSE[0] - 0.0011, BASE_MSE[1] - 0.0009, BASE_MSE[3] - 0.0010, 1.0],
            seeds=[0, 1, 3, 4],
        ),
        e=_variant("two, one seed", 2, [BASE_MSE[0], None, None, None, None]),
    )
    ab["variants"]["full"]["runs"][4] = {**_run(4, 0.5, 0.5, 500.0), "status": "failed"}  # left-over metrics
    rows = summarize(ab)
    by = {r["name"]: r for r in rows}
    assert by["full"]["n_seeds"] == 4 and by["d"]["n_seeds"] == 4 and by["e"]["n_seeds"] == 1
    assert by["d"]["test_mse"]["effect"]["n"] == 3
    assert by["d"]["test_mse"]["effect"]["diff"] == pytest.approx(-0.0010)
    assert by["d"]["test_mse"]["mean"] > by["c"]["test_mse"]["mean"]  # the outlier counts in its own mean
    assert by["b"]["test_mse"]["worse"]
    assert by["e"]["test_mse"]["effect"]["n"] == 1 and math.isnan(by["e"]["test_mse"]["effect"]["p"])
    # e (size 2) cannot be tested, b is worse; c and d tie on size 5: c has the lower mean MSE
    assert smallest_not_worse(rows) == "c"
    assert smallest_not_worse([r for r in rows if r["name"] != "c"]) == "d"
    assert smallest_not_worse([r for r in rows if r["name"] not in "cd"]) == "a"
    assert smallest_not_worse([r for r in rows if r["name"] in ("full", "b")]) == "full"
    with pytest.raises(ValueError):
        smallest_not_worse(rows, metrics=("r2",))


# --- writers --------------------------------------------------------------------------------------------------


def _report_ablation():
    return _ablation(
        no_astrocytes=_variant("no astrocytes", 7, _shift(BASE_MSE, 0.004, 0.005, 0.0045, 0.004, 0.005)),
        minimal=_variant("minimal | core", 2, _shift(BASE_MSE, 0.0002, -0.0001, 0.0, 0.0001, -0.0002)),
    )


def test_write_markdown(tmp_path):
    path = tmp_path / "ablation.md"
    assert write_markdown(path, _report_ablation()) == str(path)
    text = path.read_text()
    assert text == markdown(_report_ablation())
    assert "digits" in text and "abc1234" in text and "koo-spiking ablation --seeds 5" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3  # header + one row per variant
    for label, row in zip(["full model", "no astrocytes", "minimal \\| core"], table[1:]):
        assert row.startswith(f"| {label} | 5/5 |")
    assert f"{np.mean(BASE_MSE):.4f} [" in table[1] and f"{np.mean(BASE_PROBE):.3f} [" in table[1]
    assert "+0.0045 [" in table[2] and "(worse)" in table[2]
    assert "(worse)" not in table[3]
    assert (
        "Smallest model not significantly worse than the full one (test MSE and probe accuracy, p < 0.05): "
        "**minimal | core** (`minimal`, 2 features)."
    ) in text
    assert "scipy.stats.bootstrap" in text and "ttest_rel" in text
    assert [p.name for p in tmp_path.iterdir()] == ["ablation.md"]  # no temporary file left


def test_write_figure(tmp_path):
    ab = _report_ablation()
    fig = effect_figure(ab)
    assert len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["no astrocytes", "minimal | core"]
    assert "worse" in fig.axes[0].get_xlabel() and "variant - full model" in fig.axes[1].get_xlabel()
    path = tmp_path / "effects.png"
    write_figure(path, ab)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["effects.png"]
