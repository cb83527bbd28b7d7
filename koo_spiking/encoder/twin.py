"""Rate twin of the Koo Encoder v3: hierarchical predictive coding with inference, local rules, numpy only.

Citations
---------
- Rao & Ballard 1999, Nature Neuroscience 2:79 -- hierarchical predictive coding, error and value units.
- Whittington & Bogacz 2017, Neural Computation 29:1229 -- inference then local learning approximates backprop;
  Bogacz 2017, J. Math. Psychol. 76:198 -- the tutorial form of the equations used here.
- Millidge, Tschantz & Buckley 2022, Neural Computation 34:1329 -- the small-error ("fixed prediction") limit.
- Song et al. 2024, Nature Neuroscience 27:348 -- infer first, then learn (prospective configuration).
- Kolen & Pollack 1994 (ICNN); Akrout et al. 2019 (NeurIPS) -- separate feedback weights learned with the same
  Hebbian product and the same decay converge to the transpose of the forward weights.
- Lillicrap et al. 2016, Nature Communications 7:13276 -- random fixed feedback (feedback alignment).
- Parisien, Anderson & Eliasmith 2008, Neural Computation 20:1473 -- signed weights from excitatory synapses
  plus an inhibitory population that pools the excitatory cells (how Dale's principle is kept here).
- Keller & Mrsic-Flogel 2018, Neuron 100:424 -- positive and negative prediction-error neurons.
- Sacramento et al. 2018 (NeurIPS) -- errors carried to a cell by its apical dendrite.
- Marino 2022 / Tschantz et al. 2023 (amortised inference): a feed-forward encoder trained to predict the
  settled code initialises inference.

The equations (batch of images X, rows are images; f = softplus, rates f(x) >= 0)
---------------------------------------------------------------------------------
Layers: x0 = X (pixels, clamped), x1 (hidden 1, ``n_h1`` value units), x2 (hidden 2 = the code, ``n_h2``).
Generative (top-down) path, the reconstruction::

    mu1 = W1 f(x2) + b1            (prediction of hidden 1 from the code)
    mu0 = W0 f(x1) + b0            (prediction of the pixels from hidden 1)
    e0  = x0 - mu0                 (pixel error units)
    e1  = pi1 (x1 - mu1)           (hidden-1 error units, precision pi1)

Inference (per image, ``n_settle`` steps, before any weight changes). Energy ``F = 1/2 |e0|^2 + 1/(2 pi1) |e1|^2``.
The value units of hidden 1 relax fast and with high precision (pi1 -> infinity, the small-error limit of
Whittington & Bogacz): x1 stays at its top-down prediction mu1 and its error unit settles at the apical
(feedback) input it receives::

    x1 = mu1,     e1 = f'(x1) * (B0 e0)                         (equilibrium of dx1/dt = -e1/pi1 + f'(x1) B0 e0)
    x2 <- clip(x2 + clip(dt * ( f'(x2) * (B1 e1) - prior * x2 ), +-max_step), +-max_membrane)   (descends F)

started from the amortised encoder's guess ``x2 = u2``. ``B`` are the feedback weights: ``mirror`` (default,
separate synapses learned by a weight mirror), ``kolen_pollack`` (separate, learned by KP), ``tied`` (B = W^T,
weight transport) or ``random`` (fixed). The step bound ``max_step`` keeps inference stable as the weights grow
(without it, training diverged after ~18 of 50 epochs). The pixel error reaches the code through both
layers, and the reconstruction mu0(x2) is nonlinear in the code through f.

Learning, at the settled state, every rule a product of a post-synaptic error, a pre-synaptic rate, the
post-synaptic neuron's own dopamine d and its own astrocyte's gate g (per neuron i; n = batch size)::

    G_l   = g_l o [ (d_l * e_l)^T f(x_{l+1}) / n ]               (g_l: astrocyte gates, elementwise)
    W_l  <- W_l + eta G_l   - lam W_l
    b_l  <- b_l + eta g_b mean(d_l * e_l)
    Kolen-Pollack:  B_l <- B_l + eta G_l'^T - lam B_l            (G_l' = the same product as W_l's effective change:
                                                                  B_l - W_l^T decays as (1 - lam)^t)
    weight mirror:  B_l <- B_l + eta_m (xi^T (xi W_l^T) / m - B_l)   (xi: m noise rate fluctuations of layer l+1;
                                                                  Akrout et al. 2019; eta_m anneals with eta)

Amortised encoder (delta rules towards the settled values, local: target minus own prediction times input)::

    u1 = V1 x0 + c1,   u2 = V2 f(u1) + c2
    V1 <- V1 + eta_enc g (x1* - u1)^T x0 / n,   V2 <- V2 + eta_enc g (x2* - u2)^T f(u1) / n

Dale's principle (``dale=True``)
--------------------------------
Every matrix that leaves a population of value cells (the generative W0, W1 and the encoder V1, V2) is the sum of
an excitatory and an inhibitory pathway: the E cells of the source layer excite the target directly with weights
``P >= 0``, and they drive the source layer's I population (``n_E / ei_ratio`` cells, rates ``r_I = A r_E`` with
fixed pooling weights ``A >= 0``), whose synapses onto the target are ``-N <= 0`` (``N >= 0`` stored). The effective
signed matrix is ``W = P - N A``. Both are learned with the same local rule (``dP = eta G``, ``dN = -eta G A^T``,
i.e. error times the rate of the synapse's own pre-synaptic cell, E or I), then clipped at zero, so after every
update all weights out of E cells are >= 0 and all out of I cells are <= 0. The pixels' own I population pools the
input for the encoder. ``balance`` sets the initial I strength: E and I start large and cancelling, so learning
rarely reaches a sign bound. What Dale does NOT cover in the twin: the feedback matrices B (error units -> value
units) are signed, and the error units carry signed values; a spiking network would code each error as a pair of
rectified cells (Keller & Mrsic-Flogel 2018: positive and negative error neurons) and route B's negative part
through I cells as above. Biases b, c are intrinsic excitabilities (bias currents) and carry no sign constraint.

Mission features, each with a switch
------------------------------------
- ``astrocytes``: each neuron's astrocyte sets that neuron's learning rate. Its calcium integrates the power of
  the neuron's synaptic changes, c_i <- c_i + (p_i - c_i)/tau_astro + D (Laplacian c)_i (slow, coupled by diffusion
  between neighbours on a grid or ring); post-synaptic calcium R_i from the incoming changes (row sums of G^2),
  pre-synaptic calcium C_j from the outgoing ones (column sums). A synapse's gate is the product of its two cells'
  gates, g_ij = 1 / sqrt(R_i C_j / sum(R)) (a factorised RMS normaliser, like Adafactor; a one-factor, post-only
  gate gave 0.011 instead of 0.007 at 30 epochs). Off: g = 1 with the plain rate ``eta_plain``.
- ``dopamine``: the neuron's own credit signal, its surprise: d_ni = clip(1 + k (e_ni^2 / v_i - 1), 0, max_gain)
  with v_i the neuron's running mean squared error. Off: d = 1.
- ``forgetting``: every weight is slow + fast; updates go to the fast part, which decays with tau_forget (in
  batches); where a new update has the sign of the fast part (inference keeps confirming the change), a fraction
  ``consolidation`` moves into the slow part. Off: updates go straight into the weights.
- ``layers=1``: the one-hidden-layer variant (code predicts the pixels directly, mu0 = W0 f(x2) + b0).

Count quantisation
------------------
``spike_window=m`` (e.g. 8) evaluates with rates mapped to spike counts in a window: pixels as counts of at most m
spikes, the code and hidden-1 rates scaled so that the 99th percentile of training rates is m spikes, counts
``deterministic`` (rounded) or ``poisson``, then mapped back. :meth:`RateTwin.spike_budget` estimates the spikes
per image.
"""

import time

import numpy as np

__all__ = ["RateTwin", "alignment_angle", "check_input"]

FEEDBACK = ("tied", "kolen_pollack", "mirror", "random")


def check_input(X, n_features=None, name="X"):
    """Validate images: 2-D, numeric, finite, values in [0, 1]; returns float64. Raises ValueError (one line)."""
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} is not an array: {err}") from None
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_samples, n_pixels), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
        raise ValueError(f"{name} must be real numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if X.min() < 0 or X.max() > 1:
        raise ValueError(f"{name} values must lie in [0, 1] (rates), got range [{X.min():g}, {X.max():g}]")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features per sample, expected {n_features}")
    return X


def alignment_angle(B, W):
    """Angle in degrees between feedback B and the transpose of the forward matrix W (0: B = c W^T, c > 0)."""
    b, w = np.ravel(B), np.ravel(np.transpose(W))
    cos = float(b @ w / (np.linalg.norm(b) * np.linalg.norm(w) + 1e-300))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _softplus(z):
    return np.logaddexp(0.0, z)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), no overflow


def _laplacian(n):
    """Graph Laplacian (as a matrix, L c = sum of neighbours minus degree * c) of n cells on a grid or a ring."""
    side = int(round(np.sqrt(n)))
    L = np.zeros((n, n))
    if side * side == n and side > 1:
        for i in range(n):
            r, c = divmod(i, side)
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < side and 0 <= cc < side:
                    L[i, rr * side + cc] = 1.0
    elif n > 1:
        for i in range(n):
            L[i, (i - 1) % n] = L[i, (i + 1) % n] = 1.0
    return L - np.diag(L.sum(1))


class RateTwin:
    """Rate twin of the Koo Encoder v3: predictive coding with inference, local rules, E/I with Dale, KP feedback.

    Parameters
    ----------
    n_h1 : int
        Value (E) units of hidden layer 1 (unused with ``layers=1``).
    n_h2 : int
        Value (E) units of hidden layer 2, the code.
    layers : int
        Hidden layers: 2 (input -> h1 -> code) or 1 (input -> code).
    ei_ratio : int
        E cells per I cell in every population (Dale's inhibitory pathway).
    feedback : str
        ``"kolen_pollack"`` (separate, learned), ``"tied"`` (B = W^T, weight transport) or ``"random"`` (fixed).
    eta_mirror : float
        Rate of the weight mirror's feedback learning, per batch (``feedback="mirror"``).
    mirror_samples : int
        Noise samples per weight-mirror step.
    feedback_init : float
        Scale of the learned feedback's random initial weights, relative to 1/sqrt(n) (Kolen-Pollack only).
    dale : bool
        Keep Dale's principle (E/I split of every weight leaving value cells); False: signed weights.
    init_scale : float
        Scale of the generative weights' random initial values, relative to 1/sqrt(n).
    balance : float
        Initial I-pathway strength in units of the smallest that keeps P >= 0: E and I weights start large and
        cancelling (a balanced network), so weight decay and learning rarely push a weight to its sign bound.
    astrocytes : bool
        Per-neuron astrocyte gate as the neuron's learning rate; False: plain rate ``eta_plain``.
    dopamine : bool
        Per-neuron dopamine (the neuron's surprise) scales its learning; False: d = 1.
    forgetting : bool
        Fast weights that decay unless consolidated; False: updates go straight into the weights.
    amortised : bool
        Start inference from the feed-forward encoder's code; False: start from the code's running mean.
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per minibatch (all rules are vectorised over the batch).
    eta : float
        Learning rate with astrocyte gates (gates normalise the update size).
    eta_plain : float
        Learning rate without astrocytes.
    eta_encoder : float
        Learning rate of the amortised encoder, relative to ``eta``.
    anneal : tuple of float
        Rate factors for the last 40 % and the last 15 % of the epochs.
    decay : float
        Weight decay relative to the learning rate (lam = rate * decay per batch), the same on W and B
        (Kolen-Pollack's second half: it removes the initial mismatch of B and W^T).
    decay_until : float
        Fraction of the epochs during which the decay acts (the mirror phase); afterwards lam = 0, so the decay
        does not shrink the final weights.
    n_settle : int
        Inference steps per image during training.
    n_settle_test : int
        Inference steps per image in transform (default: ``n_settle``).
    settle_rate : float
        Step size dt of the code's inference dynamics.
    prior : float
        Leak of the code towards zero during inference (a weak prior on the top layer).
    max_step : float
        Largest change of a code membrane per settling step (a saturating input current; keeps inference stable
        when the weights grow).
    max_membrane : float
        Bound of the code membranes (the rates saturate at f(max_membrane)).
    tau_astro : float
        Time constant of the astrocytes' calcium, in batches.
    diffusion : float
        Coupling D of neighbouring astrocytes (per batch).
    gate_eps : float
        Floor of the astrocyte's calcium in the gate (keeps gates finite).
    dopamine_gain : float
        k, sensitivity of dopamine to the neuron's surprise.
    dopamine_max : float
        Largest dopamine factor.
    tau_dopamine : float
        Time constant, in batches, of the neuron's running mean squared error v_i.
    tau_forget : float
        Decay time constant, in batches, of unconsolidated (fast) weight changes.
    consolidation : float
        Fraction of a confirmed fast change moved into the slow weight per batch.
    spike_window : int or None
        Evaluate with spike counts of at most this many spikes per window (None: rates).
    spike_noise : str
        ``"deterministic"`` (rounded counts) or ``"poisson"``.
    track_every : int
        Record alignment angles and training error every this many epochs (0: never).
    seed : int
        Seed of initial weights, batch order and Poisson counts: same seed, same result.
    """

    # fmt: off  (one parameter per line, its comment aligned)
    def __init__(
        self,
        n_h1=64,  # hidden-1 value units
        n_h2=16,  # code units
        layers=2,  # 2 hidden layers or 1
        ei_ratio=4,  # E cells per I cell
        feedback="mirror",  # tied | kolen_pollack | mirror | random
        eta_mirror=0.3,  # rate of the weight mirror (per batch)
        mirror_samples=256,  # noise samples per mirror step
        feedback_init=0.1,  # initial scale of learned feedback (x 1/sqrt(n))
        init_scale=1.0,  # initial scale of generative weights (x 1/sqrt(n))
        dale=True,  # E/I split with sign constraints
        balance=50.0,  # size of the cancelling E and I offsets
        astrocytes=True,  # per-neuron gated learning rate
        dopamine=False,  # per-neuron surprise scales learning
        forgetting=False,  # fast weights decay unless consolidated
        amortised=True,  # encoder initialises inference
        epochs=50,  # passes over the data
        batch_size=32,  # images per minibatch
        eta=0.01,  # rate with astrocyte gates
        eta_plain=0.02,  # rate without astrocytes
        eta_encoder=1.0,  # encoder rate relative to eta
        anneal=(0.3, 0.1),  # rate factors, last 40 % / 15 % of epochs
        decay=0.0,  # weight decay relative to the rate (W and B)
        decay_until=0.25,  # fraction of the epochs with weight decay
        n_settle=20,  # inference steps (training)
        n_settle_test=None,  # inference steps (transform)
        settle_rate=0.5,  # dt of the code's dynamics
        prior=0.0,  # leak of the code
        max_step=0.5,  # largest membrane change per settling step
        max_membrane=10.0,  # membrane bound (rates saturate at f(10))
        tau_astro=100.0,  # astrocyte calcium time constant (batches)
        diffusion=0.05,  # neighbour coupling of astrocytes
        gate_eps=1e-6,  # calcium floor
        dopamine_gain=0.25,  # surprise sensitivity
        dopamine_max=3.0,  # largest dopamine factor
        tau_dopamine=100.0,  # running error time constant (batches)
        tau_forget=200.0,  # fast-weight decay (batches)
        consolidation=0.05,  # confirmed fraction consolidated per batch
        spike_window=None,  # max spikes per window in evaluation
        spike_noise="deterministic",  # deterministic | poisson
        track_every=0,  # epochs between alignment records
        seed=0,
    ):  # random seed
        self.n_h1, self.n_h2, self.layers, self.ei_ratio = n_h1, n_h2, layers, ei_ratio
        self.feedback_init, self.balance, self.init_scale = feedback_init, balance, init_scale
        self.eta_mirror, self.mirror_samples = eta_mirror, mirror_samples
        self.feedback, self.dale, self.astrocytes, self.dopamine = feedback, dale, astrocytes, dopamine
        self.forgetting, self.amortised, self.epochs, self.batch_size = forgetting, amortised, epochs, batch_size
        self.eta, self.eta_plain, self.eta_encoder, self.anneal, self.decay = eta, eta_plain, eta_encoder, anneal, decay
        self.decay_until = decay_until
        self.n_settle, self.n_settle_test, self.settle_rate, self.prior = n_settle, n_settle_test, settle_rate, prior
        self.max_step, self.max_membrane = max_step, max_membrane
        self.tau_astro, self.diffusion, self.gate_eps = tau_astro, diffusion, gate_eps
        self.dopamine_gain, self.dopamine_max, self.tau_dopamine = dopamine_gain, dopamine_max, tau_dopamine
        self.tau_forget, self.consolidation = tau_forget, consolidation
        self.spike_window, self.spike_noise, self.track_every, self.seed = spike_window, spike_noise, track_every, seed

    # fmt: on

    # ------------------------------------------------------------------ checks and set-up
    def _check_params(self):
        def pos_int(name, lo=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")

        def pos_float(name, zero=False):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float, np.number))
                or not np.isfinite(v)
                or (v < 0 if zero else v <= 0)
            ):
                raise ValueError(f"{name} must be a finite number {'>= 0' if zero else '> 0'}, got {v!r}")

        for name in ("mirror_samples", "n_h1", "n_h2", "ei_ratio", "epochs", "batch_size", "n_settle"):
            pos_int(name)
        if self.n_settle_test is not None:
            pos_int("n_settle_test", 0)
        pos_int("track_every", 0)
        if self.layers not in (1, 2):
            raise ValueError(f"layers must be 1 or 2, got {self.layers!r}")
        if self.feedback not in FEEDBACK:
            raise ValueError(f"feedback must be one of {FEEDBACK}, got {self.feedback!r}")
        if self.spike_noise not in ("deterministic", "poisson"):
            raise ValueError(f"spike_noise must be 'deterministic' or 'poisson', got {self.spike_noise!r}")
        if self.spike_window is not None:
            pos_int("spike_window")
        for name in (
            "max_step",
            "max_membrane",
            "eta_mirror",
            "init_scale",
            "balance",
            "eta",
            "eta_plain",
            "eta_encoder",
            "settle_rate",
            "tau_astro",
            "gate_eps",
            "dopamine_max",
            "tau_dopamine",
            "tau_forget",
        ):
            pos_float(name)
        for name in ("feedback_init", "decay", "decay_until", "prior", "diffusion", "dopamine_gain", "consolidation"):
            pos_float(name, zero=True)
        if len(self.anneal) != 2 or not all(0 < a <= 1 for a in self.anneal):
            raise ValueError(f"anneal must be two factors in (0, 1], got {self.anneal!r}")

    def _sizes(self):
        return [self.n_features_in_, self.n_h1, self.n_h2] if self.layers == 2 else [self.n_features_in_, self.n_h2]

    def _pool(self, n, rng):
        """Fixed E -> I pooling weights A >= 0 of a population of n E cells (n_I = ceil(n / ei_ratio))."""
        n_i = max(1, -(-n // self.ei_ratio))
        return rng.uniform(0.5, 1.5, (n_i, n)) / n

    def _split(self, W, A):
        """(P, N) >= 0 with P - N A = W exactly (N a constant big enough that P >= 0)."""
        colsum = A.sum(0)
        c = (max(0.0, float(np.max(-W / colsum[None, :]))) + 1e-3) * self.balance
        N = np.full((W.shape[0], A.shape[0]), c)
        return W + N @ A, N

    def _init(self, X):
        rng = np.random.default_rng(self.seed)
        sizes = self._sizes()
        L = len(sizes) - 1
        self._rng = rng
        self.random_B_ = {}
        self.pools_ = [self._pool(n, rng) for n in sizes]  # E -> I pooling of each layer
        p = {}
        self._nonneg = set()
        for l in range(L):  # generative W_l: layer l+1 -> layer l
            n_out, n_in = sizes[l], sizes[l + 1]
            W = rng.normal(0.0, self.init_scale / np.sqrt(n_in), (n_out, n_in)) * (0.5 if l == 0 else 1.0)
            self._put(p, f"W{l}", W, self.pools_[l + 1])
            p[f"b{l}"] = X.mean(0).copy() if l == 0 else np.zeros(n_out)
            if self.feedback in ("kolen_pollack", "mirror"):  # separate, signed feedback synapses
                p[f"B{l}"] = rng.normal(0.0, self.feedback_init / np.sqrt(n_out), (n_in, n_out))
            elif self.feedback == "random":
                self.random_B_[l] = rng.normal(0.0, 1.0 / np.sqrt(n_out), (n_in, n_out))
        for l in range(L):  # encoder V_l: layer l -> layer l+1
            n_out, n_in = sizes[l + 1], sizes[l]
            V = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in))
            self._put(p, f"V{l}", V, self.pools_[l])
            p[f"c{l}"] = np.zeros(n_out)
        self.params_ = p
        self.fast_ = {k: np.zeros_like(v) for k, v in p.items()} if self.forgetting else None
        # per-neuron state: astrocyte calcium (created on first use) and dopamine baselines of the error units
        self.calcium_, self.lap_, self.astro_steps_ = {}, {}, 0
        self.surprise_ = {f"e{l}": np.full(sizes[l], np.nan) for l in range(L)}
        self.code_mean_ = np.zeros(sizes[-1])

    def _put(self, p, name, W, A):
        if self.dale:
            p[name + "P"], p[name + "N"] = self._split(W, A)
            self._nonneg |= {name + "P", name + "N"}
        else:
            p[name] = W

    def _w(self, name, l_src):
        """Effective signed matrix of ``name`` whose source layer is ``l_src``."""
        p = self.params_
        if self.dale:
            return p[name + "P"] - p[name + "N"] @ self.pools_[l_src]
        return p[name]

    def _feedback(self, l):
        """B_l: from the error units of layer l to the value units of layer l+1."""
        if self.feedback == "tied":
            return self._w(f"W{l}", l + 1).T
        if self.feedback == "random":
            return self.random_B_[l]
        return self.params_[f"B{l}"]

    # ------------------------------------------------------------------ dynamics
    def _weights(self):
        L = self.layers
        W = [self._w(f"W{l}", l + 1) for l in range(L)]
        V = [self._w(f"V{l}", l) for l in range(L)]
        B = [self._feedback(l) for l in range(L)]
        b = [self.params_[f"b{l}"] for l in range(L)]
        c = [self.params_[f"c{l}"] for l in range(L)]
        return W, V, B, b, c

    def _encode(self, X, V, c):
        """Amortised encoder: membrane guesses u_1..u_L of the value units."""
        u, r = [], X
        for l in range(self.layers):
            u.append(r @ V[l].T + c[l])
            r = _softplus(u[-1])
        return u

    def _down(self, xL, W, b):
        """Top-down pass from the code's membrane xL: returns values x_1..x_{L-1} (list, bottom first) and mu0."""
        xs = [xL]
        for l in range(self.layers - 1, 0, -1):
            xs.insert(0, _softplus(xs[0]) @ W[l].T + b[l])
        mu0 = _softplus(xs[0]) @ W[0].T + b[0]
        return xs, mu0

    def _settle(self, X, W, V, B, b, c, n_steps):
        """Inference: the code descends the prediction error; returns values, errors and the encoder's guesses."""
        u = self._encode(X, V, c)
        xL = u[-1] if self.amortised else np.tile(self.code_mean_, (len(X), 1))
        dt, L = self.settle_rate, self.layers
        for k in range(n_steps + 1):
            xs, mu0 = self._down(xL, W, b)  # xs[j] = value of layer j+1
            errs = [X - mu0]  # e_0
            for l in range(1, L):  # e_l = f'(x_l) * (B_{l-1} e_{l-1})
                errs.append(_sigmoid(xs[l - 1]) * (errs[-1] @ B[l - 1].T))
            if k == n_steps:
                break
            drive = _sigmoid(xL) * (errs[-1] @ B[L - 1].T)
            xL = np.clip(
                xL + np.clip(dt * (drive - self.prior * xL), -self.max_step, self.max_step),
                -self.max_membrane,
                self.max_membrane,
            )
        return xs, errs, u

    # ------------------------------------------------------------------ plasticity helpers
    def _calcium(self, key, power):
        """Slow calcium of a population's astrocytes, driven by ``power`` and coupled by diffusion."""
        if key not in self.calcium_:
            self.calcium_[key] = np.zeros(len(power))
            self.lap_[key] = _laplacian(len(power))
        ca = self.calcium_[key]
        ca += (power - ca) / self.tau_astro + self.diffusion * (self.lap_[key] @ ca)
        np.maximum(ca, 0.0, out=ca)
        corr = 1.0 - (1.0 - 1.0 / self.tau_astro) ** self.astro_steps_  # start-up correction (like a mean)
        return ca / max(corr, 1e-12)

    def _gate(self, key, G):
        """Astrocyte gates of the synapses G (post x pre): product of the post- and pre-synaptic cells' gates.

        The post-synaptic cell's astrocyte integrates the power of the cell's incoming changes (row sums of G^2),
        the pre-synaptic cell's astrocyte that of its outgoing ones (column sums); the gate of synapse ij is
        1 / sqrt(R_i C_j / sum(R)), i.e. (post gate 1/sqrt(R_i)) x (pre gate sqrt(sum R / C_j)). A vector G
        (a bias, from a constant input) gets 1 / sqrt(R_i). Off (``astrocytes=False``): 1.
        """
        if not self.astrocytes:
            return 1.0
        G2 = G * G
        if G.ndim == 1:
            return 1.0 / (np.sqrt(self._calcium(key, G2)) + self.gate_eps)
        R = self._calcium(key + ":post", G2.sum(1))
        C = self._calcium(key + ":pre", G2.sum(0))
        return 1.0 / (np.sqrt(np.outer(R, C) / max(R.sum(), 1e-300)) + self.gate_eps)

    def _dopamine(self, key, e):
        """Per-neuron, per-image dopamine: the neuron's surprise relative to its running mean squared error."""
        if not self.dopamine:
            return 1.0
        e2 = e * e
        v = self.surprise_[key]
        m = e2.mean(0)
        if np.isnan(v[0]):
            v[:] = m
        d = np.clip(1.0 + self.dopamine_gain * (e2 / (v + 1e-12) - 1.0), 0.0, self.dopamine_max)
        v += (m - v) / self.tau_dopamine
        return d

    def _apply(self, name, delta, nonneg):
        p = self.params_
        if self.forgetting:
            fast = self.fast_[name]
            confirm = (delta * fast) > 0  # the new change agrees with the unconsolidated one
            fast += delta
            moved = self.consolidation * confirm * fast
            p[name] += delta
            fast -= moved  # moved into the slow part (p = slow + fast)
            forgotten = fast / self.tau_forget
            fast -= forgotten
            p[name] -= forgotten
        else:
            p[name] += delta
        if nonneg:
            neg = p[name] < 0
            if np.any(neg):
                if self.forgetting:
                    self.fast_[name][neg] -= p[name][neg]
                p[name][neg] = 0.0

    def _update(self, name, G, l_src, rate, mirror=None, decay=True):
        """Apply the Hebbian product G (post x pre) to matrix ``name`` (and its Kolen-Pollack mirror), with decay.

        With Dale: dP = rate G (error x E rate), dN = -rate G A^T (error x I rate), so the effective matrix
        changes by rate G (1 + A^T A); the mirror B gets the transpose of that same product.
        """
        p, lam = self.params_, (rate * self._decay if decay else 0.0)
        if self.dale:
            GI = G @ self.pools_[l_src].T  # error x I-cell rate of the source layer
            for key, d in ((name + "P", rate * G), (name + "N", -rate * GI)):
                self._apply(key, d - lam * p[key], True)
            if mirror is not None:
                self._apply(mirror, rate * (G + GI @ self.pools_[l_src]).T - lam * p[mirror], False)
        else:
            self._apply(name, rate * G - lam * p[name], False)
            if mirror is not None:
                self._apply(mirror, rate * G.T - lam * p[mirror], False)

    def _mirror(self, eta_mirror):
        """Weight mirror (Akrout et al. 2019): the source layer's E cells fire noise xi (rate fluctuations), the
        target units respond with y = W xi through both pathways, and each feedback synapse learns
        dB = eta_mirror (xi y^T / n - B): B tracks W^T with decay on B alone. ``eta_mirror`` anneals with the
        learning rate (the mirror averages longer when W changes slowly)."""
        for l in range(self.layers):
            W = self._w(f"W{l}", l + 1)
            xi = self._rng.standard_normal((self.mirror_samples, W.shape[1]))
            y = xi @ W.T
            B = self.params_[f"B{l}"]
            B += eta_mirror * (xi.T @ y / len(xi) - B)

    def _learn(self, X, rate):
        W, V, B, b, c = self._weights()
        xs, errs, u = self._settle(X, W, V, B, b, c, self.n_settle)
        n, L = len(X), self.layers
        self.astro_steps_ += 1
        pre = [_softplus(x) for x in xs]  # rates of layers 1..L
        for l in range(L):
            e = errs[l]
            d = self._dopamine(f"e{l}", e)
            de = d * e
            G, gb = de.T @ pre[l] / n, de.mean(0)
            G = G * self._gate(f"W{l}", G)
            mirror = f"B{l}" if self.feedback == "kolen_pollack" else None
            self._update(f"W{l}", G, l + 1, rate, mirror)
            self._apply(f"b{l}", rate * gb * self._gate(f"b{l}", gb), False)
        # amortised encoder: delta rules towards the settled values
        inputs = [X] + [_softplus(v) for v in u[:-1]]
        for l in range(L):
            delta = xs[l] - u[l]
            G, gb = delta.T @ inputs[l] / n, delta.mean(0)
            G = G * self._gate(f"V{l}", G)
            self._update(f"V{l}", G, l, rate * self.eta_encoder, decay=False)
            self._apply(f"c{l}", rate * self.eta_encoder * gb * self._gate(f"c{l}", gb), False)
        if self.feedback == "mirror":
            self._mirror(self.eta_mirror * rate / (self.eta if self.astrocytes else self.eta_plain))
        self.code_mean_ += (xs[-1].mean(0) - self.code_mean_) * 0.01
        return float(np.mean(errs[0] ** 2))

    # ------------------------------------------------------------------ public API
    def fit(self, X, y=None):
        """Learn from images X (n, pixels) in [0, 1]; returns self."""
        self._check_params()
        X = check_input(X)
        if len(X) < 2:
            raise ValueError(f"X needs at least 2 images to learn from, got {len(X)}")
        self.n_features_in_ = X.shape[1]
        self._init(X)
        rng = self._rng
        t0 = time.time()
        base = self.eta if self.astrocytes else self.eta_plain
        self.history_ = {"epoch": [], "train_error": [], "alignment": []}
        if self.feedback != "tied":
            self.history_["alignment"].append(self.alignment())
            self.history_["epoch"].append(0)
            self.history_["train_error"].append(float("nan"))
        for ep in range(self.epochs):
            frac = ep / self.epochs
            rate = base * (1.0 if frac < 0.6 else self.anneal[0] if frac < 0.85 else self.anneal[1])
            self._decay = self.decay if frac < self.decay_until else 0.0
            order = rng.permutation(len(X))
            errs = [self._learn(X[order[i : i + self.batch_size]], rate) for i in range(0, len(X), self.batch_size)]
            if not np.all(np.isfinite(errs)):
                raise FloatingPointError(f"training diverged at epoch {ep} (non-finite error); lower eta")
            if self.track_every and ((ep + 1) % self.track_every == 0 or ep + 1 == self.epochs):
                self.history_["epoch"].append(ep + 1)
                self.history_["train_error"].append(float(np.mean(errs)))
                self.history_["alignment"].append(self.alignment() if self.feedback != "tied" else [0.0])
        self.fit_time_ = time.time() - t0
        codes = _softplus(self._settle(X, *self._weights(), self._n_test())[0][-1])
        self.rate_scale_ = [float(np.percentile(codes, 99)) + 1e-9]
        if self.layers == 2:
            W, V, B, b, c = self._weights()
            self.rate_scale_.insert(
                0,
                float(
                    np.percentile(
                        _softplus(self._down(self._settle(X, W, V, B, b, c, self._n_test())[0][-1], W, b)[0][0]), 99
                    )
                )
                + 1e-9,
            )
        return self

    def _n_test(self):
        return self.n_settle if self.n_settle_test is None else self.n_settle_test

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ValueError("RateTwin is not fitted yet: call fit(X) first")

    def alignment(self):
        """Angle (degrees) between each feedback matrix B_l and W_l^T, bottom layer first."""
        self._check_fitted()
        W, _, B, _, _ = self._weights()
        return [alignment_angle(B[l], W[l]) for l in range(self.layers)]

    def _quantise(self, r, scale, rng):
        """Rates -> spike counts in a window of at most ``spike_window`` spikes at rate ``scale`` -> rates."""
        m = self.spike_window
        lam = np.clip(r / scale, 0.0, None) * m
        counts = rng.poisson(lam) if self.spike_noise == "poisson" else np.rint(lam)
        return np.minimum(counts, m) * scale / m

    def _code_membrane(self, X):
        W, V, B, b, c = self._weights()
        if self.spike_window is not None:
            X = self._quantise(X, 1.0, np.random.default_rng(self.seed + 1))
        return self._settle(X, W, V, B, b, c, self._n_test())[0][-1]

    def transform(self, X):
        """The code: settled rates f(x2) >= 0 of the top layer, shape (n, n_h2)."""
        self._check_fitted()
        X = check_input(X, self.n_features_in_)
        r = _softplus(self._code_membrane(X))
        if self.spike_window is not None:
            r = self._quantise(r, self.rate_scale_[-1], np.random.default_rng(self.seed + 2))
        return r

    def inverse_transform(self, code):
        """Reconstruction from code rates by the top-down (generative) pass, clipped to [0, 1]."""
        self._check_fitted()
        code = np.asarray(code, dtype=np.float64)
        if code.ndim != 2 or code.shape[1] != self.n_h2 or not np.all(np.isfinite(code)) or np.any(code < 0):
            raise ValueError(
                f"code must be a finite, non-negative array of shape (n, {self.n_h2}), got shape {code.shape}"
            )
        W, _, _, b, _ = self._weights()
        r = code
        for l in range(self.layers - 1, -1, -1):
            m = r @ W[l].T + b[l]
            if l == 0:
                return np.clip(m, 0.0, 1.0)
            r = _softplus(m)
            if self.spike_window is not None:
                r = self._quantise(r, self.rate_scale_[l - 1], np.random.default_rng(self.seed + 3))
        raise AssertionError("unreachable")

    def reconstruct(self, X):
        """Encode (settle) and decode (top-down) X; returns images in [0, 1]."""
        return self.inverse_transform(self.transform(X))

    def mse(self, X):
        """Mean squared reconstruction error per pixel."""
        X = check_input(X, getattr(self, "n_features_in_", None))
        return float(np.mean((self.reconstruct(X) - X) ** 2))

    def score(self, X, y=None):
        """Negative per-pixel MSE (greater is better, scikit-learn's convention)."""
        return -self.mse(X)

    def encoder_mse(self, X):
        """MSE when the code is the amortised encoder's guess alone (no settling)."""
        self._check_fitted()
        X = check_input(X, self.n_features_in_)
        W, V, B, b, c = self._weights()
        return float(np.mean((self.inverse_transform(_softplus(self._encode(X, V, c)[-1])) - X) ** 2))

    def spike_budget(self, X, window=None):
        """Estimated spikes per image in one presentation window of at most ``window`` spikes per cell.

        Rates are scaled as in the count quantisation (pixel 1 -> ``window`` spikes; a hidden cell at the 99th
        percentile of training rates -> ``window`` spikes). Error units are counted as rectified pairs with the same
        scale as their layer's values. Returns a dict of mean spikes per image per population and ``total``.
        """
        self._check_fitted()
        X = check_input(X, self.n_features_in_)
        m = window or self.spike_window or 8
        W, V, B, b, c = self._weights()
        xs, errs, _ = self._settle(X, W, V, B, b, c, self._n_test())
        out = {"input": float(np.minimum(np.rint(X * m), m).sum(1).mean())}
        names = ["h1", "code"] if self.layers == 2 else ["code"]
        for name, x, s in zip(names, xs, self.rate_scale_):
            r = _softplus(x)
            out[name] = float(np.minimum(np.rint(r / s * m), m).sum(1).mean())
            out[name + "_inhibitory"] = float(np.rint(r @ self.pools_[names.index(name) + 1].T / s * m).sum(1).mean())
        out["error_pixels"] = float(np.minimum(np.rint(np.abs(errs[0]) * m), m).sum(1).mean())
        out["total"] = float(sum(out.values()))
        return out

    def get_params(self, deep=True):
        """Constructor parameters (scikit-learn convention)."""
        import inspect

        return {k: getattr(self, k) for k in inspect.signature(type(self).__init__).parameters if k != "self"}

    def set_params(self, **params):
        """Set constructor parameters; returns self."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"unknown parameter {k!r} for RateTwin")
            setattr(self, k, v)
        return self
