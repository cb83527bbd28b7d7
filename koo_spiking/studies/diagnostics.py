"""What each mission feature did in a training run: numbers for ``metrics.json``.

- ``health``: per layer, the fraction of neurons that never fire on the test set and the fraction
  firing near the refractory limit, with a warning when a layer collapses or a hidden layer's
  mean rate ends far (a factor 2) from its homeostatic target;
- ``reward``: per layer, statistics of the per-neuron dopamine (the local prediction error);
- ``astrocytes``: per layer, the gate's spread across neurons and over time, and how it tracks its
  neuron's and its neighbours' dopamine;
- ``forgetting``: share of each pathway's weight still unconsolidated at the end;
- ``dale``: sign violations of the learned weights (must be 0);
- ``short_term``: release factor of a synapse at the measured input and hidden rates;
- ``phase``: probe accuracy of hidden 2 from spike counts and from counts plus spike phases.
"""

import numpy as np
from brian2 import second

from ..encoder.record import slot_index
from ..synapse import tm_release
from ..topology import topology_pairs

__all__ = ["diagnostics", "health"]

HIDDEN = ("h1", "h2", "recon")


def health(counts, spec):
    """Silent and saturated fractions of each layer's neurons on the given slots, and the hidden
    layers' mean rates against their homeostatic targets (``[learning] target_h1``, ``target_h2``)."""
    net = spec["network"]
    window = net["present"] / 4  # each layer releases its spikes in a quarter of the slot
    limit = float(window / max(net["t_ref"], net["dt"]))
    out, warnings = {}, []
    for layer, c in counts.items():
        if layer == "input":
            continue
        mean = c.mean(0)
        silent = float(np.mean(c.sum(0) == 0))
        saturated = float(np.mean(mean >= 0.9 * limit))
        out[layer] = {
            "silent_fraction": silent,
            "saturated_fraction": saturated,
            "mean_spikes_per_image": float(mean.mean()),
            "refractory_limit": limit,
        }
        if layer in HIDDEN and (silent >= 0.5 or saturated >= 0.5):
            state = "silent" if silent >= 0.5 else "saturated"
            warnings.append(
                f"layer {layer} collapsed: {max(silent, saturated):.0%} of its neurons are {state} on the test set"
            )
        target = spec["learning"].get(f"target_{layer}")
        if target is not None:
            out[layer]["target_spikes_per_image"] = float(target)
            if not 0.5 * target <= mean.mean() <= 2 * target:
                warnings.append(
                    f"layer {layer} fires {mean.mean():.2f} spikes per neuron and image on the test set, "
                    f"far from its target {target:g}: its learning went off balance"
                )
    return {"layers": out, "warnings": warnings}


def _corr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _reward(dop, training):
    out = {}
    for layer, d in dop.items():
        d = d[training]
        if not len(d):
            continue
        tenth = max(len(d) // 10, 1)
        active = d[np.any(d != 0, axis=1)] if np.any(d != 0) else d
        out[layer] = {
            "mean_abs": float(np.abs(active).mean()),
            "std": float(active.std()),
            "positive_fraction": float(np.mean(active > 0)),
            "mean_abs_first_tenth": float(np.abs(d[:tenth]).mean()),
            "mean_abs_last_tenth": float(np.abs(d[-tenth:]).mean()),
            "neurons": int(d.shape[1]),
        }
    return out


def _astrocytes(traces, dop, parts, spec):
    out = {}
    training = parts["training"]
    coupling = spec["astrocytes"]["coupling"]
    floor = spec["astrocytes"]["gate_floor"]
    for layer, (t, calcium, gate) in traces.items():
        slot = np.clip(slot_index(t, spec) - 1, 0, None)  # the slot that ended at t
        during = (slot >= training.start) & (slot < training.stop)
        if not np.any(during) or layer not in dop:
            continue
        g, ca = gate[:, during], calcium[:, during]
        d = np.abs(dop[layer][training])
        n = g.shape[0]
        # each sample's window of images
        edges = np.r_[training.start, slot[during]]
        d_win = np.array([np.abs(dop[layer][a : max(b, a + 1)]).mean(0) for a, b in zip(edges[:-1], edges[1:])]).T
        own = _corr(g.mean(1), d.mean(0))
        i, j = topology_pairs(n, coupling if n > 2 or coupling != "grid" else "chain")
        neigh = np.zeros(n)
        if len(i):
            np.add.at(neigh, j, d.mean(0)[i])
            neigh /= np.maximum(np.bincount(j, minlength=n), 1)
        out[layer] = {
            "gate_mean": float(g.mean()),
            "gate_min": float(g.min()),
            "gate_max": float(g.max()),
            "gate_spread_across_neurons": float(g.mean(1).std()),
            "gate_p10_p90_across_neurons": [float(v) for v in np.percentile(g.mean(1), [10, 90])],
            "gate_spread_over_time": float(g.mean(0).std()),
            "gate_spread_over_time_per_neuron": float(g.std(1).mean()),
            "learning_rate_factor_range": [float(floor + (1 - floor) * v) for v in (g.min(), g.max())],
            "calcium_mean_uM": float(ca.mean()),
            "calcium_max_uM": float(ca.max()),
            "corr_gate_vs_own_dopamine_across_neurons": own,
            "corr_gate_vs_neighbours_dopamine_across_neurons": _corr(g.mean(1), neigh) if len(i) else None,
            "corr_gate_vs_dopamine_over_time": _corr(g.mean(0), d_win.mean(0)),
        }
    return out


def _forgetting(state):
    out = {}
    for key in state:
        if key.endswith(".w_fast"):
            name = key[:-7]
            fast, slow = np.abs(state[key]).sum(), np.abs(state[f"{name}.w_slow"]).sum()
            out[name] = {"unconsolidated_share": float(fast / max(fast + slow, 1e-12))}
    return out


def _structural(state, spec):
    """Live synapses of each pruned pathway, and those regrown recently (younger than the protection)."""
    if not spec["features"]["structural"]:
        return {"enabled": False}
    protect = spec["structural"]["protect"]
    out = {"enabled": True}
    for key in state:
        if key.endswith(".alive"):
            name = key[:-6]
            alive, age = state[key], state[f"{name}.age"]
            out[name] = {
                "alive_fraction": float(alive.mean()),
                "pruned": int(np.sum(alive == 0)),
                "young_alive": int(np.sum((alive == 1) & (age < protect))),
                "synapses": int(len(alive)),
            }
    return out


def _dale(state):
    worst, violations = 0.0, 0
    for key in state:
        if key.endswith((".w", ".w_slow")):
            name = key.rsplit(".", 1)[0]
            w = state[key] + state.get(f"{name}.w_fast", 0.0) if key.endswith(".w_slow") else state[key]
            violations += int(np.sum(w < -1e-12))
            worst = min(worst, float(w.min()))
    return {
        "negative_weights": violations,
        "most_negative": worst,
        "note": "all weights are magnitudes; E synapses excite and I synapses inhibit",
    }


def _short_term(counts, parts, spec):
    st, net = spec["short_term"], spec["network"]
    if not spec["features"]["short_term"]:
        return {"enabled": False}
    window = net["present"] / 4
    out = {"enabled": True}
    for layer in ("input", "h1", "h2"):
        if layer not in counts:  # no hidden 1 without the second hidden layer
            continue
        n = counts[layer][parts["test"]]
        active = n[n > 0]
        if not len(active):
            continue
        k = int(round(active.mean()))
        if k < 1:
            continue
        r, _ = tm_release(k, window / k, st["U"], st["tau_d"], max(st["tau_f"], 1e-9 * second))
        out[layer] = {
            "mean_spikes_of_active_neuron": float(active.mean()),
            "mean_release_relative_to_first_spike": float(r.mean() / r[0]),
        }
    return out


def diagnostics(result, parts, spec, ds):
    """All diagnostics of a study run (see the module docstring)."""
    from .train import probe_accuracy

    counts, dop = result["counts"], result["dopamine"]
    test, train = parts["test"], parts["train"]
    z = result["phase"]["h2"]
    angle = np.angle(z)
    fired = np.abs(z) > 0  # a silent cell has no phase
    phase_feats = np.hstack([np.cos(angle) * fired, np.sin(angle) * fired])
    c2 = counts["h2"]
    return {
        "health": health({k: v[test] for k, v in counts.items()}, spec),
        "reward": {"enabled": spec["features"]["reward"], "layers": _reward(dop, parts["training"])},
        "astrocytes": _astrocytes(result.get("astrocytes", {}), dop, parts, spec),
        "forgetting": _forgetting(result["state"]),
        "structural": _structural(result["state"], spec),
        "dale": _dale(result["state"]),
        "short_term": _short_term(counts, parts, spec),
        "phase": {
            "enabled": spec["features"]["phase"],
            "probe_accuracy_counts": probe_accuracy(c2[train], ds.get("y_train"), c2[test], ds.get("y_test")),
            "probe_accuracy_counts_and_phase": probe_accuracy(
                np.hstack([c2[train], phase_feats[train]]),
                ds.get("y_train"),
                np.hstack([c2[test], phase_feats[test]]),
                ds.get("y_test"),
            ),
        },
    }
