"""Per-image code of the Koo Encoder's neurons: errors, dopamine, homeostasis, monitors, state.

Once per image (at the slot boundary, ``run_regularly`` in the ``groups`` slot) each predicted
neuron turns its spike count and dendritic prediction into a local error, running means and
surprise statistics; its dopamine is set from the error and drives its astrocyte; hidden biases move towards their
target counts; I cells scale their inputs. ``LEARNED_STATE`` lists what is kept between runs.
"""

from __future__ import annotations

import numpy as np
from brian2 import StateMonitor, linked_var, mV, second

from ..astrocyte import COUPLING_PARAMS, astrocyte_group, couple, drive_from_events, link_gate
from ..neuromodulator import dopamine_parts, eligibility_parts
from ..topology import square_shape
from .hubs import mean_hub, sum_to_hub

__all__ = ["ImageBoundary", "LEARNED_STATE"]

#: learned state kept between runs: object -> variables
LEARNED_STATE = {
    "groups": ("I_b", "m_count", "m_pred", "a_in", "ef", "es", "seen"),
    "synapses": ("w", "w_slow", "w_fast", "alive", "w_avg", "age"),
}


class ImageBoundary:
    """Mixin of ``EncoderNetwork``: the code run at image boundaries and what it records."""

    @staticmethod
    def _previous(flag):
        """The flag of the image that just ended (boundary code runs at the start of the next)."""
        return f"{flag}(t - present/2)*int(t > present/2)"

    # ------------------------------------------------------------------ neurons
    def _predicted_eqs(self):
        """Variables of a neuron that is predicted from the other side of a pathway."""
        return """
        count : 1
        n_last : 1
        pred : 1
        m_count : 1
        m_pred : 1
        err : 1
        ef : 1
        es : 1
        dop : 1
        gain_s : 1
        raw_err : 1
        seen : 1
        nrm : 1 (linked)
        step : 1
        """ + ("n_syn : 1\n" if self.f["structural"] else "")

    def _error_code(self, flag, bias="", pinh=" - pinh"):
        """Local prediction error of the image that ended, running means, surprise statistics."""
        learn = self._previous(flag)
        # running means are exact averages until tau_avg images were seen; errors count once
        # the means have settled (warm_up images)
        return f"""
        ptot = pred{pinh}{bias}
        ready = int({learn} > 0)*int(seen >= warm_up)
        err = ready*((count - m_count) - (ptot - m_pred))
        raw_err = ready*(count - ptot)
        seen += {learn}
        m_count += {learn}*(count - m_count)/clip(seen, 1, tau_avg)
        m_pred += {learn}*(ptot - m_pred)/clip(seen, 1, tau_avg)
        ef += ready*(abs(err) - ef)/clip(seen - warm_up, 1, fast)
        es += ready*(abs(err) - es)/clip(seen - warm_up, 1, slow)
        gain_s = clip(ef/(es + 1e-3), 1/max_gain, max_gain)
        n_last = count
        count = 0
        pred = 0
        """

    def _dopamine_code(self, flag, amount="err"):
        learn = self._previous(flag)
        surprise = "gain_s" if self.f["reward"] else "1"
        return f"dop = int({learn} > 0)*({amount})*{surprise}\nreward_in = dop\nstep = nrm"

    def _with_dopamine(self, flag, extra):
        parts = dopamine_parts(tau_dop=self.spec["reward"]["tau_dop"])  # pulses only while learning
        return parts, extra + parts["eqs"]

    def _eligibility(self, name, parts):
        """Reward on: the ``trace_reset`` event an eighth into each slot (after the dopamine pulse).

        STDP off (no pairings), the cell keeps one eligibility trace per learning flag for all its
        synapses (``neuromodulator.eligibility_parts``): it restarts from minus the cell's mean count
        and each spike adds 1. Returns the traces' equations and their spike code.
        """
        if not self.f["reward"]:
            return "", ""
        parts["events"]["trace_reset"] = "abs(t/present - floor(t/present) - 0.125) < 0.5*dt/present"
        if not self._shared_traces:
            return "", ""
        eqs, on_spike, resets = "", "", []
        for flag in {"h1": ("enc",), "h2": ("enc", "dec"), "recon": ("dec",)}[name]:
            trace = eligibility_parts(f"c_{flag}", self.spec["reward"]["tau_c"], active=f"int({flag}(t) > 0)")
            eqs, on_spike = eqs + trace["eqs"], on_spike + "\n" + trace["on_spike"]
            parts["namespace"].update(trace["namespace"])
            resets.append(f"c_{flag} += int({flag}(t) > 0)*(-m_count - c_{flag})")
        parts["on_event"]["trace_reset"] = "\n".join(resets)
        return eqs, on_spike

    def _restore_groups(self):
        """Neuron-side learned state (biases, running means, scaling factors) of an earlier run."""
        for group in self.groups.values():
            for var in LEARNED_STATE["groups"]:
                key = f"{group.name}.{var}"
                if key in self.state and var in group.variables:
                    value = np.asarray(self.state[key], float)
                    if value.shape != (len(group),):
                        raise ValueError(
                            f"encoder: stored state {key} has shape {value.shape}, expected ({len(group)},)"
                        )
                    group.variables[var].set_value(value)

    def learned_state(self) -> dict[str, np.ndarray]:
        """Learned state after a run: ``'object.variable'`` -> array (SI values)."""
        state = {}
        for kind, objs in (("groups", self.groups), ("synapses", self.synapses)):
            for obj in objs.values():
                for var in LEARNED_STATE[kind]:
                    if var in obj.variables:
                        state[f"{obj.name}.{var}"] = np.array(obj.variables[var].get_value(), float)
        return state

    def _boundary_predicted(self, group, name, flag):
        bias = " + I_b*present/v_th" if name == "recon" else ""
        reset = (
            "v = rand()*v_th\ncph = 0\nsph = 0"
            if name != "input"
            else ("phi = rand()" if "phi" in group.variables else "")
        )
        save_phase = "ph_c = cph\nph_s = sph\n" if name != "input" else ""
        pinh = "" if name == "recon" else " - pinh"
        group.run_regularly(
            self._error_code(flag, bias, pinh) + save_phase + reset,
            clock=self.image_clock,
            when="groups",
            order=-20,
            name=f"{name}_error",
        )
        group.run_regularly(
            self._dopamine_code(flag), clock=self.image_clock, when="groups", order=20, name=f"{name}_dopamine"
        )
        if name == "recon":  # the read-out's bias learns like a synapse from an always-on input
            group.run_regularly(
                f"I_b += {self._previous('dec')}*eta_bias*raw_err*v_th/present",
                clock=self.image_clock,
                when="groups",
                order=21,
                name="recon_bias",
            )
            group.I_b = self._init("recon", "I_b", np.zeros(len(group))) * (mV / second)

    def _boundary_inhibitory(self, inhib, flag, pname):
        learn = self._previous(flag)
        # the I cell's astrocyte gates the scaling of its inputs
        rate = "(gate_floor + (1 - gate_floor)*gate)" if self.f["astrocytes"] else "1"
        inhib.run_regularly(
            f"""
        a_in *= 1 + {learn}*eta_scale*{rate}*clip((target_i - csum/N)/target_i, -1, 1)
        m_count += {learn}*(count - m_count)/tau_avg
        n_last = count
        count = 0
        q = 0
        v = (i + 0.5)/N*v_th
        """,
            clock=self.image_clock,
            when="groups",
            order=-20,
            name=f"{inhib.name}_boundary",
        )
        # the I cells' dopamine: the mean error of the layer they pool, with the sign of inhibition
        inhib.run_regularly(
            f"dop = -int({learn} > 0)*esum_low/n_low\nreward_in = dop\nstep = nrm",
            clock=self.image_clock,
            when="groups",
            order=20,
            name=f"{inhib.name}_dopamine",
        )
        if f"{inhib.name}.a_in" in self.state:
            inhib.a_in = self.state[f"{inhib.name}.a_in"]

    def _homeostasis(self, group, target):
        group.run_regularly(
            f"I_b += {self._previous('enc')}*eta_homeostasis*(({target!r}) - n_last)*v_th/present",
            clock=self.image_clock,
            when="groups",
            order=-10,
            name=f"{group.name}_homeostasis",
        )
        group.I_b = self._init(group.name, "I_b", np.zeros(len(group))) * (mV / second)

    def _monitors(self):
        mons = {}
        for name, group in self.groups.items():
            variables = (
                ["n_last"]
                + (["ph_c", "ph_s"] if name in ("h1", "h2") else [])
                + (["dop"] if "dop" in group.variables else [])
            )
            mons[name] = StateMonitor(
                group, variables, record=True, clock=self.image_clock, when="groups", order=25, name=f"{name}_per_image"
            )
        for name, astro in self.astros.items():
            every = max(float(self.T / second), float(self.n_slots * self.T / second) / 400) * second
            timing = {"clock": self.image_clock} if float(every) == float(self.T) else {"dt": every}
            mons[f"{name}_astro"] = StateMonitor(
                astro, ["C", "gate"], record=True, name=f"{name}_astro_state", **timing
            )
        return mons

    def _gate_eqs(self):
        """A cell's astrocyte gate and its layer's mean |dopamine| (the astrocyte drive's scale)."""
        return "gate : 1 (linked)\ndop_avg : 1 (linked)\ndrive_rel : 1\n" if self.f["astrocytes"] else "gate : 1\n"

    def _astrocytes(self, neurons, name, objs):
        """One astrocyte per neuron, driven by the neuron's unsigned dopamine (its local error).

        Hypothesis: an astrocyte integrates its neuron's error over seconds (receptors -> IP3 ->
        Ca2+). The drive is the error relative to the layer's running mean error, so a neuron that
        is predicted worse than its layer has high Ca2+ and an open gate (its synapses learn faster
        and consolidate less), a well-predicted neuron closes its gate (slow learning, its fast
        weights consolidate); IP3 through gap junctions lets neighbours share this state. The cell
        is De Pitta et al.'s synaptically driven one (preset ``'single'``): quiescent at rest, its
        Ca2+ graded with the drive (the ``'network'`` cell sits at 0.5 uM whatever the drive).
        """
        if not self.f["astrocytes"]:
            neurons.gate = 1.0
            return
        a = self.spec["astrocytes"]
        n = len(neurons)
        rows, cols = square_shape(n)
        astro = astrocyte_group(
            n, dt=a["dt"], clock=self.astro_clock, name=f"{name}_astro", preset="single", C_gate=a["C_gate"]
        )
        objs.append(astro)
        if n > 1 and a["coupling"] != "none":
            topology = a["coupling"] if n > 2 or a["coupling"] != "grid" else "chain"
            objs.append(
                couple(
                    astro,
                    topology,
                    shape=(rows, cols),
                    k=min(4, n - 1),
                    name=f"{name}_gap",
                    F=COUPLING_PARAMS["F"].value * a["coupling_strength"],
                )
            )
        # the layer's running mean |dopamine| (over the images it learned from) scales the drive
        scale = mean_hub(
            f"{name}_hub_dop",
            self.image_clock,
            {"tau_avg": self.spec["learning"]["tau_avg"], "n_cells": float(n)},
            order=25,
        )
        neurons.dop_avg = linked_var(scale, "S_avg", index=np.zeros(n, dtype=int))
        objs += [scale, sum_to_hub(neurons, scale, "S", "abs(reward_in_pre)", f"{name}_dop_to_hub")]
        # (the mean is the previous images'; synapses cannot read a linked variable with an index)
        neurons.run_regularly(
            "drive_rel = int(dop_avg > 0)*abs(reward_in)/clip(dop_avg, 1e-9, inf)",
            clock=self.image_clock,
            when="groups",
            order=22,
            name=f"{name}_drive_rel",
        )
        objs.append(
            drive_from_events(
                neurons, astro, event="reward", amount="drive_rel_pre", gain=a["drive"], name=f"{name}_to_astro"
            )
        )
        link_gate(neurons, astro)
        self.astros[name] = astro
