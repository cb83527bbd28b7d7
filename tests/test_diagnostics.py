"""Health diagnostics on synthetic spike counts with a known answer."""

import numpy as np

from koo_spiking.encoder.spec import validate_spec
from koo_spiking.studies.diagnostics import health


def _counts(h1, h2, n=50, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "input": rng.poisson(2.0, (n, 64)),
        "h1": rng.poisson(h1, (n, 32)),
        "h2": rng.poisson(h2, (n, 16)),
        "recon": rng.poisson(2.0, (n, 64)),
    }


def test_rates_at_their_targets_raise_no_warning():
    spec = validate_spec({})
    out = health(_counts(spec["learning"]["target_h1"], spec["learning"]["target_h2"]), spec)
    assert out["warnings"] == []
    assert out["layers"]["h2"]["target_spikes_per_image"] == spec["learning"]["target_h2"]


def test_a_hidden_layer_far_below_its_target_is_named():
    spec = validate_spec({})
    out = health(_counts(spec["learning"]["target_h1"], 1.0), spec)  # the small-budget failure of seed 2
    assert len(out["warnings"]) == 1 and "layer h2 fires" in out["warnings"][0]
    assert abs(out["layers"]["h2"]["mean_spikes_per_image"] - 1.0) < 0.2


def test_a_silent_layer_is_a_collapse():
    spec = validate_spec({})
    out = health(_counts(0.0, spec["learning"]["target_h2"]), spec)
    assert any("h1 collapsed" in w for w in out["warnings"])
    assert out["layers"]["h1"]["silent_fraction"] == 1.0
