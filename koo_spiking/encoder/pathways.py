"""Synaptic pathways of the Koo Encoder: tied reciprocal E synapses, their learning rules,
forgetting and structural plasticity, the inhibitory pools and their plastic I->E synapses.

A mixin of ``encoder.network.EncoderNetwork`` (see its docstring for the scheme).
"""

from __future__ import annotations

import numpy as np
from brian2 import mV

from ..neuromodulator import reward_rule
from ..structural import structural_rule
from ..synapse import Rule, apply_init, forgetting_rule, local_error_rule, synapses, tm_rule

__all__ = ["Pathways", "V_TH", "all_pairs"]

V_TH = 1 * mV


def all_pairs(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)`` (int32) of every pre/post pair of an all-to-all pathway, pre-major."""
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    return i.astype(np.int32), j.astype(np.int32)


class Pathways:
    """Mixin of ``EncoderNetwork``: the synapses of each pathway and the rules they learn with."""

    def _rate_factor(self, who):
        return f"(gate_floor + (1 - gate_floor)*gate_{who})" if self.f["astrocytes"] else "1"

    def _plastic_rules(self, flag, eta, who_gate, dop_side, elig_side, elig_mean, suffix="", sign=1.0, gated=False):
        """Rules of one learning term: eligibility from one side, local error (dopamine) from the other.

        Reward on: the library's reward STDP. The eligibility trace restarts from minus the eligible
        neuron's mean count early in each slot (its ``trace_reset`` event), each of its spikes adds 1,
        so at the image boundary it holds the centred count; the dopamine pulse (the other neuron's
        local error) turns it into a weight change. STDP off: the trace is the cell's own and the pulse
        acts whole at the reward event (``integration='impulse'``); on: every synapse keeps its trace,
        fed by pairings too (closed form). Reward off: the same product applied directly.
        ``gated``: a pruned synapse (structural plasticity, ``alive`` = 0) does not learn.
        """
        s = self.spec
        # the image that just ended sets the rate (its error acts at, or just after, its boundary)
        rate = f"{sign!r}*{eta}*{self._previous(flag)}*{self._rate_factor(who_gate)}*step_{dop_side}" + (
            "*alive" if gated else ""
        )
        weight = "w_fast" if self.f["forgetting"] else "w"
        lower, upper = ("-w_slow", "w_max - w_slow") if self.f["forgetting"] else ("0", "w_max")
        if not self.f["reward"]:
            # two-factor: the local error times the eligibility side's centred spike count
            pre = f"(n_last_{elig_side} - m_count_{elig_side})"
            rule = local_error_rule(pre, f"dop_{dop_side}", eta=rate, weight=weight, lower=lower, upper=upper)
            return [rule]
        tau_c, tau_dop = s["reward"]["tau_c"], s["reward"]["tau_dop"]
        tau_star = 1 / (1 / tau_c + 1 / tau_dop)
        stdp = s["stdp"]
        pairing = stdp["amplitude"] if self.f["stdp"] else 0.0  # spike-timing pairings add to the trace
        elig = {"A_pre": 1.0, "A_post": 0.0} if elig_side == "pre" else {"A_pre": 0.0, "A_post": 1.0}
        shared = {"integration": "impulse", "trace": f"c_{flag}_{elig_side}"} if self._shared_traces else {}
        rule = reward_rule(
            rate=rate,
            weight=weight,
            dopamine=dop_side,
            tau_dop=tau_dop,
            active=f"int({flag}(t) > 0)",
            lower=lower,
            upper=upper,
            suffix=suffix,
            reward_order=-1,
            mirror=True,
            tau_c=tau_c,
            tau_s=tau_star,
            A_plus=pairing,
            A_minus=pairing,
            tau_plus=stdp["tau"],
            tau_minus=stdp["tau"],
            w_max=self._w_max,
            **elig,
            **shared,
        )
        if shared:  # the whole pulse acts at the reward event; the cell resets its own trace
            return [rule]
        # the eligible neuron's ``trace_reset`` event restarts the trace (settled first)
        reset = f"c{suffix} += int({flag}(t) > 0)*(-{elig_mean} - c{suffix})"
        rule.pathways[f"reset{suffix}_{elig_side}"] = (elig_side, "trace_reset", reset)
        return [rule]

    def _tied(self, lower, upper, name, flag, eta, ns, w0, w_ref, decoder=False):
        """Reciprocal E synapses upper -> lower (feedback orientation): one weight, both directions.

        With structural plasticity each lower neuron's tied partners are pruned and regrown
        (``structural.structural_rule``); ``w_ref`` is the weight a new synapse starts from."""
        f = self.f
        ff = "(1 - teach(t))*" if decoder else ""
        weight = "w_slow + w_fast" if f["forgetting"] else "w"
        weight = f"alive*({weight})" if f["structural"] else weight
        gated = f["structural"]
        rules = []
        if f["short_term"]:
            st = self.spec["short_term"]
            rules.append(tm_rule("depressing", side="post", U_0=st["U"], tau_d=st["tau_d"], tau_f=st["tau_f"]))
        # feedback: the upper neuron's spike adds the weight to the lower neuron's prediction
        on_pre = f"pred_post += {weight}"
        if decoder:
            # read-out: recon's error (LMS) x eligibility from h2 spikes, and h2's error x recon spikes
            rules += self._plastic_rules("dec", eta, "pre", "pre", "post", "m_count_post", suffix="_r", gated=gated)
            if self._sym > 0:
                rules += self._plastic_rules(
                    "dec", f"{eta}*{self._sym!r}", "pre", "post", "pre", "m_count_pre", gated=gated
                )
        else:
            rules += self._plastic_rules(flag, eta, "pre", "post", "pre", "m_count_pre", gated=gated)
        rel = "/U_0" if f["short_term"] else ""
        effect = f"v_pre += {ff}{{w}}{rel}*v_th" + (f"\npred_pre += {{w}}{rel}" if decoder else "")
        rules.append(Rule(on_pre=on_pre))
        if f["structural"]:
            rules.append(self._structural(lower, upper, w_ref, flag))
        return self._learning_synapses(upper, lower, rules, effect, name, flag, ns, w0, w_ref if gated else None)

    def _structural(self, lower, upper, w_ref, flag):
        """Pruning and regrowth of a lower neuron's tied partners; its astrocyte (the input layer has
        none) sets the regrowth rate."""
        st, n_pre = self.spec["structural"], len(upper)
        glia = self.f["astrocytes"] and lower.name in self.astros
        growth = "(gate_floor + (1 - gate_floor)*gate_post)" if glia else "1"
        return structural_rule(
            weights=("w_slow", "w_fast") if self.f["forgetting"] else ("w",),
            active=self._previous(flag),
            growth=growth,
            # one partner per lower neuron and image, in turn: counts move by one at most
            turn="int(i == int(t/present + 0.5) % N_pre)",
            prune_below=st["prune_below"],
            tau_w=st["tau"],
            regrow=st["regrow"],
            protect=float(st["protect"]),
            w_ref=float(w_ref),
            n_min=float(np.ceil(st["min_fraction"] * n_pre)),
            n_max=float(np.floor(st["max_fraction"] * n_pre)),
        )

    def _learning_synapses(self, source, target, rules, effect, name, flag, ns, w0, w_ref=None):
        """All-to-all plastic synapses in feedback orientation, with forgetting when it is on
        (``w_ref``: structural plasticity is on, new synapses start at this weight)."""
        weight = "w_slow + w_fast" if self.f["forgetting"] else "w"
        if w_ref is not None:
            weight = f"alive*({weight})"
        if self.f["forgetting"]:
            rules.append(
                forgetting_rule(
                    consolidation=self._consolidation("pre"),
                    active=self._previous(flag),
                    tau_forget=self.spec["forgetting"]["tau"],
                    period=self.T,
                    w_max=self._w_max,
                )
            )
        syn = synapses(
            source,
            target,
            rules,
            effect=effect,
            transmit="post",
            weight=weight,
            name=name,
            namespace={**ns, "w_max": self._w_max},
            period=self.image_clock,
            when="groups",
            order=30,
        )
        i, j = all_pairs(len(source), len(target))
        syn.connect(i=i, j=j)
        apply_init(syn)
        self._set_weights(syn, name, w0)
        if w_ref is not None:
            n = len(syn)
            syn.alive = self._init(name, "alive", np.ones(n))
            syn.w_avg = self._init(name, "w_avg", np.full(n, 0.0) + w0)
            syn.age = self._init(name, "age", np.zeros(n))  # every synapse protected at first
        return syn

    def _consolidation(self, who):
        if self.f["astrocytes"]:
            return f"consolidation*(1 - 0.5*gate_{who})"
        return "consolidation"

    def _set_weights(self, syn, name, w0):
        n = len(syn)
        if self.f["forgetting"]:
            syn.w_slow = self._init(name, "w_slow", np.full(n, 0.0) + w0)
            syn.w_fast = self._init(name, "w_fast", np.zeros(n))
        else:
            syn.w = self._init(name, "w", np.full(n, 0.0) + w0)

    def _pool(self, lower, inhib, name):
        """Lower E -> I cells: equal weights, scaled together for the whole pool (synaptic scaling).

        Scaling each cell to its own target would cancel the stratified start phases and make the
        pool fire in lockstep, so its inhibition would come in steps of one spike per cell.
        """
        rules = []
        if self.f["short_term"]:
            st = self.spec["short_term"]
            rules.append(tm_rule("depressing", U_0=st["U"], tau_d=st["tau_d"], tau_f=st["tau_f"]))
        rel = "/U_0" if self.f["short_term"] else ""
        syn = synapses(
            lower, inhib, rules, effect=f"v_post += a_in_post*v_th*{{w}}{rel}", name=name, namespace={"v_th": V_TH}
        )
        i, j = all_pairs(len(lower), len(inhib))
        syn.connect(i=i, j=j)
        syn.w = 1.0
        apply_init(syn)
        return syn

    def _inhibit(self, upper, inhib, name, flag, eta, ns, v0, decoder=False):
        """I -> upper E synapses (feedback orientation: the E spike reaches the I cell's dendrite)."""
        f = self.f
        ff = "(1 - teach(t))*" if decoder else ""
        weight = "w_slow + w_fast" if f["forgetting"] else "w"
        # hidden pathways: I->E weights learn from the I cells' dopamine (the layer below's mean error);
        # the read-out's inhibitory pool is fixed (its E weights learn the signed read-out)
        rules = [] if decoder else self._plastic_rules(flag, f"{eta}*eta_inh", "pre", "post", "pre", "m_count_pre")
        effect = f"v_pre -= {ff}{{w}}*v_th" + ("\npred_pre -= {w}" if decoder else "")
        rules.append(Rule(on_pre=f"q_post += {weight}"))
        return self._learning_synapses(upper, inhib, rules, effect, name, flag, ns, v0)  # (I synapses: no pruning)
