"""Model-library benchmark: wall seconds per simulated second, all measured in one run.

1. Brette et al. (2007) CUBA network (4000 LIF neurons, 80 inputs each) under numpy, cython and
   cpp_standalone.
2. A 4000-neuron E/I network (3200 E + 800 I, 1.28 M synapses with Tsodyks-Markram STP) with one
   astrocyte per excitatory neuron and IP3 gap junctions on the astrocyte sheet:
   - koo design: event-driven synapses, astrocytes on a 10 ms clock, one neuron->astrocyte synapse per
     neuron, the astrocyte gate read through a linked variable;
   - per-synapse design: the tripartite synapse of Stimberg et al. (2019, example 6), written here from
     the published equations: glutamate Y_S and presynaptic receptor activation Gamma_S integrated on
     every synapse every 0.1 ms, synapse <-> astrocyte coupling through summed variables.

Usage: python benchmarks/bench_models.py [--quick] [--json results.json]
Each measurement runs in a fresh process (Brian2 allows one standalone device per process).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)


# --------------------------------------------------------------------------- workers
def _cuba(target, duration_s):
    import brian2 as b
    from brian2 import ms

    from koo_spiking import backend

    backend.use(target, directory=tempfile.mkdtemp(prefix="bench_cuba_"))
    backend.seed(1)
    eqs = """
    dv/dt  = (ge + gi - (v + 49*mV))/(20*ms) : volt (unless refractory)
    dge/dt = -ge/(5*ms)                      : volt
    dgi/dt = -gi/(10*ms)                     : volt
    """
    P = b.NeuronGroup(4000, eqs, threshold="v > -50*mV", reset="v = -60*mV", refractory=5 * ms, method="exact")
    P.v = "-60*mV + 10*mV*rand()"
    Ce = b.Synapses(P[:3200], P, on_pre="ge += 1.62*mV")
    Ci = b.Synapses(P[3200:], P, on_pre="gi -= 9*mV")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    mon = b.SpikeMonitor(P)
    net = b.Network(P, Ce, Ci, mon)
    return _timed_run(net, duration_s, target, mon)


def _timed_run(net, duration_s, target, mon):
    import brian2 as b

    t0 = time.time()
    if target != "cpp_standalone":
        net.run(1 * b.ms)  # compile every code object first
        compile_s = time.time() - t0
        t1 = time.time()
        net.run(duration_s * b.second)
        run_s = time.time() - t1
    else:
        net.run(duration_s * b.second)
        run_s = b.device._last_run_time
        compile_s = time.time() - t0 - run_s
    return {
        "run_s": run_s,
        "setup_compile_s": compile_s,
        "simulated_s": duration_s,
        "s_per_sim_s": run_s / duration_s,
        "spikes": int(mon.num_spikes),
    }


_NEURON_PARAMS = dict(E_l=-60, g_l=9.99, C_m=198, E_e=0, E_i=-80, tau_e=5, tau_i=10, V_th=-50)


def _ei_network(design, duration_s):
    import brian2 as b
    from brian2 import mmolar, ms, mV, nS, pA, pF, second, umolar

    from koo_spiking import backend
    from koo_spiking.astrocyte import astrocyte_group, couple, drive_from_neurons, link_gate

    backend.use("cpp_standalone", directory=tempfile.mkdtemp(prefix=f"bench_{design}_"))
    backend.seed(2)
    N_e, N_i = 3200, 800
    ns = dict(
        E_l=-60 * mV,
        g_l=9.99 * nS,
        C_m=198 * pF,
        E_e=0 * mV,
        E_i=-80 * mV,
        tau_e=5 * ms,
        tau_i=10 * ms,
        V_th=-50 * mV,
        I_ex=150 * pA,
        w_e=0.05 * nS,
        w_i=1.0 * nS,
        U_0__star=0.6,
        Omega_d=2.0 / second,
        Omega_f=3.33 / second,
    )
    eqs = """
    dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + I_ex)/C_m : volt (unless refractory)
    dg_e/dt = -g_e/tau_e : siemens
    dg_i/dt = -g_i/tau_i : siemens
    """

    def population(n, name, extra=""):
        group = b.NeuronGroup(
            n,
            eqs + extra,
            threshold="v > V_th",
            reset="v = E_l",
            refractory=5 * ms,
            method="euler",
            namespace=ns,
            name=name,
        )
        group.v = "E_l + rand()*(V_th - E_l)"
        return group

    exc = population(N_e, "exc", "gate : 1 (linked)" if design == "koo" else "")
    inh = population(N_i, "inh")
    shape = (40, 80)  # the astrocyte sheet, one cell per excitatory neuron
    objs = [exc, inh]
    stp = """
    du_S/dt = -Omega_f*u_S : 1 (event-driven)
    dx_S/dt = Omega_d*(1 - x_S) : 1 (event-driven)
    r_S : 1
    """
    act = "u_S += U_0__star*(1 - u_S)\nr_S = u_S*x_S\nx_S -= r_S\n"
    if design == "koo":
        astro = astrocyte_group(N_e, dt=10 * ms, name="astro")
        link_gate(exc, astro)  # the gate reaches the neuron without touching its synapses
        objs += [astro, couple(astro, "grid", shape=shape), drive_from_neurons(exc, astro)]
        model = stp
    else:
        # Stimberg et al. 2019 example 6 (tripartite synapses), from the published equations
        astro_ns = dict(
            O_P=0.9 * umolar / second,
            K_P=0.05 * umolar,
            C_T=2 * umolar,
            rho_A=0.18,
            Omega_C=6 / second,
            Omega_L=0.1 / second,
            d_1=0.13 * umolar,
            d_2=1.05 * umolar,
            O_2=0.2 / umolar / second,
            d_3=0.9434 * umolar,
            d_5=0.08 * umolar,
            O_beta=0.5 * umolar / second,
            O_N=0.3 / umolar / second,
            Omega_N=0.5 / second,
            K_KC=0.5 * umolar,
            zeta=10,
            O_delta=1.2 * umolar / second,
            kappa_delta=1.5 * umolar,
            K_delta=0.1 * umolar,
            Omega_5P=0.05 / second,
            K_D=0.7 * umolar,
            K_3K=1.0 * umolar,
            O_3K=4.5 * umolar / second,
            F=0.09 * umolar / second,
            I_Theta=0.3 * umolar,
            omega_I=0.05 * umolar,
            C_Theta=0.5 * umolar,
            Omega_A=0.6 / second,
            U_A=0.6,
            G_T=200 * mmolar,
            rho_e=6.5e-4,
            Omega_e=60 / second,
            rho_c=0.005,
            Y_T=500 * mmolar,
            Omega_c=40 / second,
            O_G=1.5 / umolar / second,
            Omega_G=0.5 / (60 * second),
            alpha=0.0,
        )
        ns.update(astro_ns)
        astro_eqs = """
        dGamma_A/dt = O_N*Y_S*(1 - clip(Gamma_A, 0, 1)) - Omega_N*(1 + zeta*C/(C + K_KC))*clip(Gamma_A, 0, 1) : 1
        dI/dt = O_beta*clip(Gamma_A, 0, 1) + O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2)
                - O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) - Omega_5P*I + J_coupling : mmolar
        dC/dt = Omega_C*m_inf**3*h**3*(C_T - (1 + rho_A)*C) + Omega_L*(C_T - (1 + rho_A)*C)
                - O_P*C**2/(C**2 + K_P**2) : mmolar
        dh/dt = (Q_2/(Q_2 + C) - h)*O_2*(Q_2 + C) : 1
        m_inf = I/(I + d_1)*C/(C + d_5) : 1
        Q_2 = d_2*(I + d_1)/(I + d_3) : mmolar
        dx_A/dt = Omega_A*(1 - x_A) : 1
        dG_A/dt = -Omega_e*G_A : mmolar
        Y_S = Y_S_ee + Y_S_ei : mmolar
        Y_S_ee : mmolar
        Y_S_ei : mmolar
        J_coupling : mmolar/second
        x : 1 (constant)
        y : 1 (constant)
        """
        astro = b.NeuronGroup(
            N_e,
            astro_eqs,
            threshold="C > C_Theta",
            refractory="C > C_Theta",
            reset="G_A += rho_e*G_T*U_A*x_A\nx_A -= U_A*x_A",
            method="rk4",
            dt=10 * ms,
            namespace=ns,
            name="astro",
        )
        astro.h = 0.9
        astro.x_A = 1.0
        astro.x = "i % 80"
        astro.y = "i // 80"
        gap = b.Synapses(
            astro,
            astro,
            """
        delta_I = I_post - I_pre : mmolar
        J_coupling_post = -F/2*(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I) : mmolar/second (summed)
        """,
            namespace=ns,
            dt=10 * ms,
        )
        gap.connect("i != j and (x_pre - x_post)**2 + (y_pre - y_post)**2 < 1.5")
        objs += [astro, gap]
        model = (
            stp
            + """
        dY_S/dt = -Omega_c*Y_S : mmolar (clock-driven)
        dGamma_S/dt = O_G*G_A*(1 - Gamma_S) - Omega_G*Gamma_S : 1 (clock-driven)
        G_A : mmolar
        astrocyte_index : integer (constant)
        """
        )
        act = (
            "U_0 = (1 - Gamma_S)*U_0__star + alpha*Gamma_S\nu_S += U_0*(1 - u_S)\n"
            "r_S = u_S*x_S\nx_S -= r_S\nY_S += rho_c*Y_T*r_S\n"
        )
    for src, p, var, w in ((exc, 0.05, "g_e", "w_e"), (inh, 0.2, "g_i", "w_i")):
        for tgt in (exc, inh):
            syn = b.Synapses(
                src,
                tgt,
                model,
                on_pre=act + f"{var}_post += {w}*r_S",
                namespace=ns,
                method="linear" if design != "koo" else None,
                name=f"{src.name}_to_{tgt.name}",
            )
            syn.connect(p=p)
            syn.x_S = 1
            objs.append(syn)
            if design != "koo":
                syn.astrocyte_index = f"(j*{N_e // len(tgt)}) % {N_e}"
                to_syn = b.Synapses(astro, syn, "G_A_post = G_A_pre : mmolar (summed)")
                to_syn.connect("i == astrocyte_index_post")
                objs.append(to_syn)
                if src is exc:
                    target_var = "Y_S_ee" if tgt is exc else "Y_S_ei"
                    from_syn = b.Synapses(syn, astro, f"{target_var}_post = Y_S_pre/N_incoming : mmolar (summed)")
                    from_syn.connect("astrocyte_index_pre == j")
                    objs.append(from_syn)
    mon = b.SpikeMonitor(exc)
    objs.append(mon)
    return _timed_run(b.Network(*objs), duration_s, "cpp_standalone", mon)


def _worker(kind, target, duration_s):
    if kind == "cuba":
        return _cuba(target, duration_s)
    return _ei_network(target, duration_s)


# --------------------------------------------------------------------------- driver
def _measure(kind, target, duration_s):
    proc = subprocess.run(
        [sys.executable, HERE, "--worker", kind, target, str(duration_s)], capture_output=True, text=True
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind}/{target} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test of the script)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, target, dur = args.worker
        print(json.dumps(_worker(kind, target, float(dur))))
        return 0
    q = 0.2 if args.quick else 1.0
    plan = [
        ("cuba", "numpy", 0.5 * q),
        ("cuba", "cython", 2.0 * q),
        ("cuba", "cpp_standalone", 5.0 * q),
        ("ei_astro", "koo", 2.0 * q),
        ("ei_astro", "per_synapse", 0.1 * q),
    ]
    rows = []
    for kind, target, dur in plan:
        print(f"running {kind} / {target} for {dur:g} s simulated ...", flush=True)
        res = _measure(kind, target, dur)
        rows.append({"benchmark": kind, "variant": target, **res})
    base = {r["benchmark"]: r for r in rows if r["variant"] in ("numpy", "per_synapse")}
    print(
        f"\n{'benchmark':<10} {'variant':<15} {'sim s':>6} {'run s':>8} {'s / sim s':>10} "
        f"{'setup s':>8} {'spikes':>9} {'speed-up':>9}"
    )
    for r in rows:
        r["speedup_vs_baseline"] = base[r["benchmark"]]["s_per_sim_s"] / r["s_per_sim_s"]
        print(
            f"{r['benchmark']:<10} {r['variant']:<15} {r['simulated_s']:>6.2f} {r['run_s']:>8.3f} "
            f"{r['s_per_sim_s']:>10.4f} {r['setup_compile_s']:>8.1f} {r['spikes']:>9d} "
            f"{r['speedup_vs_baseline']:>8.1f}x"
        )
    print(
        "\nspeed-up: against numpy (cuba) and against the per-synapse tripartite design (ei_astro); "
        "goal for ei_astro: >= 100x"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine_cores": os.cpu_count(), "results": rows}, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
