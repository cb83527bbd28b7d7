"""Nothing computed after a long simulation throws the simulation away: when scoring, the spike record or
a figure fails, the learned state and counts are saved first and the error says where."""

import numpy as np
import pytest

from koo_spiking.studies import train
from koo_spiking.studies.train import UNSCORED, rescued, run_study, save_simulation


def _fake_result(n_slots):
    return {
        "counts": {"recon": np.ones((n_slots, 64)), "h2": np.zeros((n_slots, 16))},
        "dopamine": {"h2": np.full((n_slots, 16), 0.5)},
        "state": {"ff1.w": np.arange(6.0)},
        "wall_s": 1.0,
    }


@pytest.mark.parametrize("stage", ["score_study", "test_record"])
def test_a_failure_after_the_simulation_saves_it(tmp_path, monkeypatch, stage):
    seen = {}

    def simulate(self, frames, schedule, **kw):
        seen["slots"] = len(frames)
        out = _fake_result(len(frames))
        out["window"] = {"slots": 1}
        return out

    def boom(*args, **kwargs):
        raise ValueError(f"{stage}: something broke")

    monkeypatch.setattr(train.KooEncoder, "simulate", simulate)
    if stage == "test_record":
        monkeypatch.setattr(
            train,
            "score_study",
            lambda study, result, base, command=None: (
                {"models": {}, "diagnostics": {"health": {"warnings": []}}},
                np.zeros((10, 64)),
            ),
        )
    monkeypatch.setattr(train, stage, boom)
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=rf"{stage}: something broke \[simulation saved in .*{UNSCORED}\]"):
        run_study(
            "koo_small",
            train_samples=20,
            test_samples=10,
            out=str(out),
            backend="numpy",
            verbose=False,
            figures=False,
            record=1,
        )
    with np.load(out / UNSCORED) as saved:
        assert np.array_equal(saved["state.ff1.w"], np.arange(6.0))
        assert saved["counts.recon"].shape == (seen["slots"], 64) and "dopamine.h2" in saved.files
    assert not (out / "metrics.json").exists()
    with pytest.raises(ValueError, match="holds a previous run"):  # the saved simulation is not overwritten silently
        run_study("koo_small", train_samples=20, test_samples=10, out=str(out), backend="numpy", verbose=False)


def test_rescued_keeps_the_error_type_and_passes_success(tmp_path):
    path = str(tmp_path / "x.npz")
    with rescued(_fake_result(3), path):
        pass
    with pytest.raises(KeyError):
        with rescued(_fake_result(3), path):
            raise KeyError("missing")
    assert save_simulation(str(tmp_path / "y.npz"), {"state": {}, "mse": [[0.1, 0.2]]}).endswith("y.npz")
    with np.load(tmp_path / "y.npz") as saved:
        assert saved["mse"].shape == (1, 2)
