"""Bad parameters raise a one-line ValueError naming the parameter."""

import numpy as np
import pytest
from brian2 import ms, mV, nS, second, umolar

from koo_spiking import astrocyte, backend, neuromodulator, neuron, population, synapse


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: neuron.lif_group(10, tau_m=-5 * ms), "tau_m"),
        (lambda: neuron.lif_group(10, tau_m=100), "tau_m"),
        (lambda: neuron.lif_group(10, tau_m=100 * mV), "tau_m"),
        (lambda: neuron.lif_group(10, g_L=np.nan * nS), "g_L"),
        (lambda: neuron.lif_group(0), "n"),
        (lambda: neuron.lif_group(-3), "n"),
        (lambda: neuron.lif_group(10, kind="pyramidal"), "kind"),
        (lambda: neuron.lif_group(10, tau_membrane=10 * ms), "tau_membrane"),
        (lambda: neuron.izhikevich_group(5, "XX"), "preset"),
        (lambda: neuron.izhikevich_group(5, a=0.02), "a"),
        (lambda: synapse.stdp_rule(tau_plus=0 * ms), "tau_plus"),
        (lambda: synapse.stdp_rule(A_plus=-0.1), "A_plus"),
        (lambda: synapse.tm_rule(U_0=1.5), "U_0"),
        (lambda: synapse.tm_rule(tau_d=800), "tau_d"),
        (lambda: astrocyte.astrocyte_group(0), "n"),
        (lambda: astrocyte.astrocyte_group(4, O_P=0.9 * umolar), "O_P"),
        (lambda: astrocyte.astrocyte_group(4, preset="giant"), "preset"),
        (lambda: neuromodulator.dopamine_parts(tau_dop=-1 * second), "tau_dop"),
        (lambda: population.ei_pair(0, 5), "n_e"),
        (lambda: population.ei_pair(5, 5, p_ie=1.5), "p_ie"),
        (lambda: population.ei_pair(5, 5, w_ie=-1.0), "w_ie"),
        (lambda: backend.use("cuda"), "cuda"),
    ],
)
def test_bad_parameter_names_itself(call, name):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert name in message and "\n" not in message


def test_good_parameters_pass_through():
    ns = neuron.lif_params("inhibitory", tau_m=12 * ms)
    assert ns["tau_m"] == 12 * ms and ns["v_thresh"] == -40 * mV
