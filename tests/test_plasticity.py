"""Plasticity protocols: tasks, the one-run layout, bad input, evaluation windows that change no
weight, and a small repeated protocol writing its JSON and plots."""

import json

import numpy as np
import pytest

from koo_spiking.cli import main
from koo_spiking.io.datasets import resample
from koo_spiking.studies.plasticity import build_tasks, evaluate, layout, run_protocol


def test_class_split_repeated_and_stream_tasks():
    ds, tasks, blocks = build_tasks("class-split", "digits", seed=0)
    assert [t["name"] for t in tasks] == ["digits 0-4", "digits 5-9"] and blocks == [0, 1]
    assert set(tasks[0]["y_train"]) == {0, 1, 2, 3, 4} and set(tasks[1]["y_test"]) == {5, 6, 7, 8, 9}
    assert len(tasks[0]["X_train"]) + len(tasks[1]["X_train"]) == len(ds["X_train"])
    _, _, blocks = build_tasks("repeated", "digits", switches=10)
    assert blocks == [0, 1] * 5 + [0]
    _, tasks, blocks = build_tasks("stream", "digits")
    assert len(tasks) == 10 and blocks == list(range(10))


def test_domain_switch_resamples_the_other_domain(tmp_path):
    rng = np.random.default_rng(0)
    big = rng.uniform(0, 1, (40, 28 * 28))
    np.savez(tmp_path / "big.npz", X_train=big[:30], X_test=big[30:])
    _, tasks, blocks = build_tasks("domain-switch", "digits", other=str(tmp_path / "big.npz"))
    assert blocks == [0, 1] and tasks[1]["name"].endswith("(28x28 -> 8x8)")
    assert tasks[1]["X_train"].shape == (30, 64)
    # area averaging keeps each image's mean brightness
    np.testing.assert_allclose(tasks[1]["X_train"].mean(1), big[:30].mean(1))
    np.testing.assert_allclose(resample(big[:2], (28, 28), (28, 28)), big[:2])


def test_layout_puts_plasticity_off_windows_of_every_task_into_one_run():
    _, tasks, blocks = build_tasks("class-split", "digits", train_samples=200, test_samples=60)
    lay = layout(tasks, blocks, passes=2, eval_every=40, eval_images=7, rng=np.random.default_rng(0), rate=0.5)
    n_train = 2 * sum(len(t["X_train"]) for t in tasks)
    assert lay["n_train"] == n_train == len(lay["train_slots"])
    sched = lay["schedule"]
    train = np.zeros(len(lay["frames"]), bool)
    train[lay["train_slots"]] = True
    assert np.all(sched["enc"][train] == 0.5) and np.all(sched["teach"][train] == 1)
    assert not np.any(sched["enc"][~train]) and not np.any(sched["dec"][~train]) and not np.any(sched["teach"][~train])
    assert (~train).sum() == len(lay["points"]) * 14
    # every window shows the same held-out images of each task; the first one before any training
    for p in lay["points"]:
        for j, X in enumerate(lay["eval_sets"]):
            np.testing.assert_array_equal(lay["frames"][p["slots"][j] : p["slots"][j] + 7], X)
    assert lay["points"][0]["sample"] == 0 and lay["points"][-1]["sample"] == n_train
    # dense right after the switch, then every 40 images, and at the block's end
    n_a = 2 * len(tasks[0]["X_train"])
    offsets = [p["block_sample"] for p in lay["points"] if p["block"] == 1]
    assert offsets[:4] == [5, 10, 20, 40] and offsets[-1] == n_train - n_a
    assert np.array_equal(lay["train_images"], lay["frames"][lay["train_slots"]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"protocol": "shuffle"}, "--protocol must be one of"),
        ({"protocol": "repeated", "switches": 5}, "at least 10 switches"),
        ({"rate": 0.0}, "--rate must be in"),
        ({"eval_every": 0}, "--eval-every must be an integer"),
        ({"protocol": "stream", "passes": 2}, "shows every image once"),
        ({"data": "/no/such.npz"}, "no such data file"),
        ({"spec": {"network": {"n_h2": -1}}}, "n_h2"),
    ],
)
def test_bad_protocol_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        run_protocol(**{"out": tmp_path / "p", "verbose": False, **kwargs})
    assert not (tmp_path / "p").exists()


def test_unlabelled_data_cannot_be_split_by_class(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).uniform(0, 1, (40, 64)))
    assert (
        main(
            ["plasticity", "--protocol", "class-split", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "p")]
        )
        == 2
    )
    assert not (tmp_path / "p").exists()


def test_evaluation_windows_change_no_weight():
    """Every pathway's weights (mean, SD, mean magnitude) stay the same through each window.

    An image's dopamine acts one time step into the next slot, so the last training image's change
    lands at the window's first step; the window's own images would change the weights from the
    second slot on (sample k is taken at the end of slot k-1's boundary step)."""
    from koo_spiking import KooEncoder
    from koo_spiking.encoder.spec import FEATURES

    tiny = {
        "network": {"n_h1": 8, "n_h2": 4, "present": "40 ms", "dt": "1 ms"},
        "learning": {"warm_up": 2, "tau_avg": 5.0},
        "reward": {"fast": 2.0, "slow": 6.0, "tau_dop": "1 ms"},
        "features": {name: True for name in FEATURES},
    }
    _, tasks, blocks = build_tasks("class-split", "digits", train_samples=40, test_samples=20)
    lay = layout(tasks, blocks, passes=1, eval_every=8, eval_images=2, rng=np.random.default_rng(0))
    enc = KooEncoder(spec=tiny, backend="numpy", seed=1)
    enc.spec_ = enc._resolved_spec()
    enc.input_stats_ = enc._input_stats(tasks[0]["X_train"], enc.spec_)
    out = enc.simulate(lay["frames"], lay["schedule"], state={}, weights_every=1)
    changed = 0
    for name, w in out["weights"].items():
        for p in lay["points"]:
            a, b = p["slots"][0] + 1, p["slots"][0] + 4  # the window's slots a-1 .. b-1 (2 tasks x 2 images)
            for key in ("mean", "std", "mean_abs"):
                assert w[key][a] == w[key][b], f"{name}.{key} changed in the window at sample {p['sample']}"
        changed += not np.allclose(w["mean_abs"][0], w["mean_abs"][-1])
    assert changed, "no weight learned during the protocol: the check above could not fail"


@pytest.mark.cpp_standalone
def test_a_small_repeated_protocol_writes_its_json_and_plots(small_protocol):
    code, out = small_protocol
    assert code == 0
    result = json.loads((out / "plasticity.json").read_text())
    assert result["blocks"] == [0, 1] * 5 + [0] and result["provenance"]["git_commit"]
    assert set(result["models"]) == {"koo", "shallow_autoencoder", "backprop_autoencoder", "incremental_pca"}
    n_points = len(result["points"])
    for name, model in result["models"].items():
        m = model["metrics"]
        mse = np.asarray(model["mse"])
        assert mse.shape == (n_points, 2) and np.all(np.isfinite(mse))
        # the task matrix is the curve at each block's end; forgetting is read from it
        ends = [max(k for k, p in enumerate(result["points"]) if p["block"] == b) for b in range(11)]
        np.testing.assert_allclose(m["task_matrix"], mse[ends])
        assert len(m["forgetting"]["per_block"]) == 10 and len(m["blocks"]) == 11
        assert m["samples_to_adapt"] is not None
    koo = result["models"]["koo"]
    assert {"h1", "h2"} == set(koo["health"][0]) and koo["over_time"]["gates"]
    assert {"ff1", "ff2", "dec"} <= set(koo["over_time"]["weights"])
    # the Koo Encoder learned: its error fell from the untrained network's
    assert np.asarray(koo["mse"])[-1].mean() < 0.7 * np.asarray(koo["mse"])[0].mean()
    for name in ("learning_curves.png", "health.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(result["summary"]) >= {"samples_to_adapt_ratio", "forgetting_ratio", "silent_fraction_change"}
    # a second run into the same directory is refused
    assert main(["plasticity", "--protocol", "repeated", "--out", str(out)]) == 2


TINY = """
[network]
n_h1 = 8
n_h2 = 4
present = "20 ms"
[learning]
warm_up = 2
[reward]
tau_dop = "0.5 ms"  # reward on needs tau_dop <= present/40
"""


def test_an_interrupted_protocol_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, capsys):
    """Ctrl-C in the first chunk: the chunk is saved, exit 130; ``--resume`` gives the curves, weights
    over time and metrics of the same run without the interruption (same chunking)."""
    import os
    import signal

    from koo_spiking import KooEncoder

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    args = [
        "plasticity",
        str(spec),
        "--protocol",
        "class-split",
        "--passes",
        "1",
        "--train-samples",
        "20",
        "--test-samples",
        "4",
        "--eval-every",
        "8",
        "--eval-images",
        "2",
        "--backend",
        "numpy",
        "--checkpoint-every",
        "20",
    ]  # 50 slots: chunks of 20, 20 and 10
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    assert not (tmp_path / "whole" / "checkpoint").exists()  # removed once the run is complete

    simulate = KooEncoder.simulate

    def interrupted_once(self, *a, **kw):  # Ctrl-C arrives while the first chunk runs
        monkeypatch.setattr(KooEncoder, "simulate", simulate)
        os.kill(os.getpid(), signal.SIGINT)
        return simulate(self, *a, **kw)

    monkeypatch.setattr(KooEncoder, "simulate", interrupted_once)
    out = tmp_path / "cut"
    assert main([*args, "--out", str(out)]) == 130
    assert "koo-spiking plasticity --resume" in capsys.readouterr().err
    with np.load(out / "checkpoint" / "checkpoint.npz") as data:
        assert int(data["__done"]) == 20
    assert not (out / "plasticity.json").exists()
    assert main([*args, "--out", str(out)]) == 2  # a new start into it is refused
    assert "--resume" in capsys.readouterr().err
    assert main(["plasticity", "--resume", str(out)]) == 0
    assert not (out / "checkpoint").exists()

    whole = json.loads((tmp_path / "whole" / "plasticity.json").read_text())
    cut = json.loads((out / "plasticity.json").read_text())
    for name in whole["models"]:
        a, b = whole["models"][name], cut["models"][name]
        assert a["mse"] == b["mse"] and a["metrics"] == b["metrics"], name
    w_whole, w_cut = (r["models"]["koo"]["over_time"]["weights"] for r in (whole, cut))
    assert w_whole == w_cut and len(w_whole["dec"]["sample"]) > 20  # sampled in every chunk
    assert main(["plasticity", "--resume", str(out)]) == 2  # complete: nothing to resume
    assert "that run is complete" in capsys.readouterr().err


def test_plasticity_needs_a_protocol_and_an_out_unless_resumed(tmp_path, capsys):
    assert main(["plasticity", "--out", str(tmp_path / "p")]) == 2
    assert "--protocol" in capsys.readouterr().err
    assert main(["plasticity", "--protocol", "repeated"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["plasticity", "--resume", str(tmp_path / "none")]) == 2
    assert "no checkpoint there" in capsys.readouterr().err
    assert main(["plasticity", "--protocol", "repeated", "--checkpoint-every", "0", "--out", str(tmp_path / "p")]) == 2
    assert "--checkpoint-every must be a positive" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def _curves(koo_mse, ae_mse, blocks, points_per_block):
    """Evaluation points of a 2-task protocol and both models' curves (points x tasks)."""
    points = [{"sample": 0, "block": -1}] + [
        {"sample": 10 * (k + 1) + 100 * b, "block": b} for b in range(len(blocks)) for k in range(points_per_block)
    ]
    health = [None] * len(points)
    health[0] = health[-1] = {"h1": {"silent_fraction": 0.1, "effective_rank": 5.0}}
    lay = {"points": points}
    return {
        name: evaluate({"mse": m, "health": health}, lay, blocks)
        for name, m in (("koo", koo_mse), ("backprop_autoencoder", ae_mse))
    }


def test_goals_not_measurable_when_nothing_moved():
    """A run too small to measure (flat curves: the weights did not move) reports 'not measurable' instead
    of 'samples to adapt 0.00, forgetting 0.00, goals met' (what a 60/20-image run printed)."""
    from koo_spiking.studies.plasticity import summary

    blocks = [0, 1, 0, 1]
    n = 1 + 4 * 5
    flat = np.full((n, 2), 0.05)
    ae = np.full((n, 2), 0.05)
    for b, task in enumerate(blocks):  # the autoencoder learns each block's task and forgets the other
        k = 1 + 5 * b + np.arange(5)
        ae[k, task] = 0.05 * np.exp(-np.arange(1, 6) / 1.5) + 0.01
        ae[k, 1 - task] = 0.04
    s = summary(_curves(flat, ae, blocks, 5))
    assert s["samples_to_adapt_ratio"] is None and s["samples_to_adapt_met"] is None
    assert "not measurable" in s["samples_to_adapt_note"]
    assert s["forgetting_ratio"] is None and s["forgetting_met"] is None
    assert "nothing to forget" in s["forgetting_note"]
    s = summary(_curves(ae, ae, blocks, 5))  # the same learning: both measurable, ratio 1
    assert s["samples_to_adapt_ratio"] == pytest.approx(1.0) and s["samples_to_adapt_met"] is False
    assert s["forgetting_ratio"] == pytest.approx(1.0) and s["forgetting_note"] is None
