"""The ablation study: variants of the full model over seeds, its JSON, Markdown and PNG."""

import json
from pathlib import Path

import pytest

from koo_spiking.encoder.spec import FEATURES, validate_spec, with_values
from koo_spiking.studies.ablate import run_ablation, variant_table


def test_every_feature_is_flipped_once_and_the_minimal_core_keeps_only_the_layers_and_inhibition():
    spec = validate_spec({})
    table = variant_table(spec)
    flipped = [
        k.split(".")[1] for _, flips in table.values() if len(flips) == 1 for k in flips if k.startswith("features.")
    ]
    assert sorted(flipped) == sorted(FEATURES)
    assert table["no_coupling"][1] == {"astrocytes.coupling": "none"}
    core = with_values(spec, table["minimal"][1])["features"]
    assert core == {name: name in ("second_hidden", "inhibition") for name in FEATURES}
    assert table["no_second_hidden"] == ("no second hidden layer", {"features.second_hidden": False})
    # a spec with astrocytes off has no coupling variant; a feature off in the full model is added
    off = variant_table(validate_spec({"features": {"astrocytes": False}}))
    assert "no_coupling" not in off and off["with_astrocytes"][1] == {"features.astrocytes": True}


def test_bad_ablation_arguments_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'no_glia'"):
        run_ablation(None, seeds=2, out=tmp_path / "a", variants=["no_glia"], verbose=False)
    with pytest.raises(ValueError, match="--seeds must be a positive integer"):
        run_ablation(None, seeds=0, out=tmp_path / "a", verbose=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        run_ablation(None, seeds=2, out=tmp_path / "file", verbose=False)
    with pytest.raises(FileNotFoundError, match="no such data file"):
        run_ablation(None, seeds=2, data=str(tmp_path / "none.npz"), out=tmp_path / "a", verbose=False)
    assert not (tmp_path / "a").exists()


@pytest.mark.cpp_standalone
def test_a_tiny_ablation_writes_json_markdown_and_png(small_ablation):
    code, out = small_ablation
    assert code == 0
    result = json.loads((out / "ablation.json").read_text())
    assert list(result["variants"]) == ["full", "no_astrocytes", "minimal"] and result["seeds"] == [0, 1]
    assert result["provenance"]["git_commit"] and "ablate" in result["provenance"]["command"]
    for name, variant in result["variants"].items():
        assert [r["seed"] for r in variant["runs"]] == [0, 1] and all(r["status"] == "done" for r in variant["runs"])
        for run in variant["runs"]:
            assert {"koo", "pca", "shallow_autoencoder", "backprop_autoencoder", "mean_image"} <= set(run["models"])
            assert "health" in run["diagnostics"]
    sizes = {k: v["size"] for k, v in result["variants"].items()}
    assert sizes["full"] > sizes["no_astrocytes"] > sizes["minimal"] == 2
    # each seed's split is the same for every variant: the baselines agree to the last digit
    for seed in (0, 1):
        pca = {v["runs"][seed]["models"]["pca"]["test_mse"] for v in result["variants"].values()}
        assert len(pca) == 1
    # the features change what is learned
    mse = {k: [r["models"]["koo"]["test_mse"] for r in v["runs"]] for k, v in result["variants"].items()}
    assert mse["full"] != mse["no_astrocytes"] != mse["minimal"]
    text = (out / "ablation.md").read_text()
    for label in ("full model", "no astrocytes", "minimal core", "Smallest model not significantly worse"):
        assert label in text
    assert (out / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # resumable: a rerun finds every point done in OUT/ablation.sqlite and runs nothing
    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    again = run_ablation(
        str(spec),
        seeds=2,
        out=out,
        variants=["no_astrocytes", "minimal"],
        train_samples=60,
        test_samples=20,
        verbose=False,
    )
    assert again["ablation"]["timing"] == {"done": 0, "skipped": 6, "failed": 0, "compiled": 0}
    assert again["ablation"]["variants"]["full"]["runs"] == result["variants"]["full"]["runs"]
