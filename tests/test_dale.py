"""Dale's principle holds through 10 s of plasticity on E and I synapses."""

import numpy as np
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, second

from koo_spiking.population import EXCITATORY_EFFECT, dale_violations, ei_pair, signed_weights
from koo_spiking.synapse import Rule, stdp_rule, synapses


def test_dale_principle_survives_plasticity(target):
    rng = np.random.default_rng(3)
    pair = ei_pair(
        30,
        8,
        p_ei=0.3,
        p_ie=0.6,
        w_ei=3.0,
        w_ie=2.0,
        plastic_inhibition=True,
        istdp={"rho_0": 50 * Hz, "eta_i": 0.05},
        rng=rng,
        name="dale",
    )
    inputs = PoissonGroup(40, 30 * Hz)
    # depression-dominated STDP pushes many input weights onto their zero bound
    ff = synapses(inputs, pair.E, [stdp_rule(A_plus=0.01, A_minus=0.05)], effect=EXCITATORY_EFFECT)
    i, j = np.nonzero(rng.random((40, 30)) < 0.5)
    ff.connect(i=i, j=j)
    ff.w = rng.uniform(0.5, 1.0, len(i))
    mon = SpikeMonitor(pair.E)
    Network(inputs, *pair.objects, ff, mon).run(10 * second)
    assert mon.num_spikes > 100
    groups = [ff, pair.E_to_I, pair.I_to_E]
    assert dale_violations(groups) == 0
    assert np.all(signed_weights(ff) >= 0) and np.all(signed_weights(pair.E_to_I) >= 0)
    assert np.all(signed_weights(pair.I_to_E) <= 0)
    # plasticity really ran and hit the bound (otherwise the check proves nothing)
    w = np.asarray(ff.w[:])
    assert np.mean(w == 0) > 0.02 and w.mean() < 0.5  # started uniform in [0.5, 1]
    assert np.asarray(pair.I_to_E.w[:]).std() > 0.01


def test_checker_flags_violations(numpy_target):  # the checker, not the compiled model, is under test
    inputs = PoissonGroup(5, 50 * Hz)
    pair = ei_pair(5, 2, name="bad")
    unclipped = Rule("w : 1", "w -= 0.1", "", {})  # no lower bound: breaks Dale
    ff = synapses(inputs, pair.E, [unclipped], effect=EXCITATORY_EFFECT)
    ff.connect()
    ff.w = 0.1
    Network(inputs, *pair.objects, ff).run(1 * second)
    assert dale_violations([ff]) > 0
