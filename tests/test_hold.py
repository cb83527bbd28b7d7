"""Evaluation windows leave the learner's slow state as they found it (``encoder.hold``): the
astrocytes and the running means of the activity power are the same after a window as before it,
to the last bit, and without the hold they are not."""

import brian2
import numpy as np
import pytest
from brian2 import NeuronGroup, StateMonitor, TimedArray, mmolar, ms

from koo_spiking.encoder.hold import hold_flags, holder
from koo_spiking.encoder.network import EncoderNetwork
from koo_spiking.encoder.spec import validate_spec
from koo_spiking.io.datasets import load_dataset


def test_hold_flags_save_after_a_windows_first_image_and_restore_after_its_last():
    window = [0, 0, 1, 1, 1, 0, 1, 0, 0, 1]
    f = hold_flags(window)
    # boundary k handles the image of slot k - 1
    np.testing.assert_array_equal(f["hold_save"], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(f["hold_restore"], [0, 0, 0, 0, 0, 1, 0, 1, 0, 0])  # (the last: after the run)


def test_a_holder_puts_back_what_it_saved(numpy_target):
    cells = NeuronGroup(3, "dC/dt = -C/(50*ms) : mmolar", dt=10 * ms)
    cells.C = [1, 2, 3] * mmolar
    flags = {
        "hold_save": TimedArray([0, 1, 0, 0, 0], dt=100 * ms),
        "hold_restore": TimedArray([0, 0, 0, 1, 0], dt=100 * ms),
    }
    keeper = holder(cells, ["C"], 100 * ms, flags, "keeper")  # (found by brian2.run in this frame)
    mon = StateMonitor(cells, "C", record=True, dt=100 * ms, when="start", order=2)
    brian2.run(450 * ms, namespace={})
    assert keeper.name == "keeper"
    C = mon.C / mmolar
    np.testing.assert_allclose(C[:, 3], C[:, 1])  # restored at 300 ms to the value saved at 100 ms
    np.testing.assert_allclose(C[:, 4], C[:, 1] * np.exp(-2))  # and decays on from there
    assert np.all(C[:, 2] < C[:, 1])


TINY = {
    "network": {"n_h1": 8, "n_h2": 4, "present": "40 ms", "dt": "1 ms"},
    "learning": {"warm_up": 2, "tau_avg": 5.0},
    "reward": {"fast": 2.0, "slow": 6.0, "tau_dop": "1 ms"},
}


def _run(hold):
    """12 training images, a window of 6, 6 training images; the slow state recorded at every boundary."""
    X = load_dataset("digits", 40, 10, 0)["X_train"]
    frames = np.vstack([X[:12], X[30:36], X[12:18]])
    learn = np.r_[np.ones(12), np.zeros(6), np.ones(6)]
    schedule = {"enc": learn, "dec": learn, "teach": learn, **(hold_flags(1 - learn) if hold else {})}
    spec = validate_spec(TINY)
    brian2.start_scope()
    brian2.defaultclock.dt = spec["network"]["dt"]
    model = EncoderNetwork(
        spec, frames, schedule, power=float(np.sum(np.var(X * 3.2, axis=0))), mean_image=X.mean(0), state={}
    )
    net = model.build()
    T = model.T
    # recorded at the end of each boundary's time step, after its per-image code
    mons = {name: StateMonitor(hub, "P_avg", record=True, dt=T, when="end") for name, hub in model.power_hubs.items()}
    mons.update(
        {
            f"{name}_astro": StateMonitor(a, ["C", "gate"], record=True, dt=T, when="end")
            for name, a in model.astros.items()
        }
    )
    net.add(*mons.values())
    net.run(model.duration, namespace={})
    return mons


@pytest.mark.parametrize("hold", [True, False])
def test_a_held_window_leaves_astrocytes_and_running_means_as_they_were(numpy_target, hold):
    mons = _run(hold)
    a, b = 12, 18  # the window's slots
    same = []
    for name, mon in mons.items():
        if name.endswith("_astro"):  # saved at the boundary after the window's first image
            same += [np.array_equal(mon.C[:, a + 1], mon.C[:, b]), np.array_equal(mon.gate[:, a + 1], mon.gate[:, b])]
            assert not np.array_equal(mon.C[:, a + 1], mon.C[:, a + 2])  # (the state does move in the window)
        else:  # the running mean is the last training image's
            same.append(np.array_equal(mon.P_avg[:, a], mon.P_avg[:, b]))
            assert not np.array_equal(mon.P_avg[:, a], mon.P_avg[:, a + 1])
    assert all(same) if hold else not any(same)
