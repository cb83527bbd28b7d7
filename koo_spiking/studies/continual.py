"""Continual-learning metrics of a learning curve across task switches.

A protocol (``studies.plasticity``) trains on a sequence of blocks, each of one task, and
evaluates every task's held-out images at evaluation points (plasticity off). From the test
MSE per task at those points:

- adaptation speed after a switch: training samples until the new task's MSE is within 10 %
  of its asymptote (the mean of the block's last evaluation points), and the area under the
  post-switch curve (trapezoids over samples; also as the block's mean MSE);
- the task matrix ``R[i][j]``: MSE on task j at the end of block i (Lopez-Paz & Ranzato 2017,
  with errors instead of accuracies), its backward transfer (forgetting) and forward transfer;
- network health (Dohare et al. 2024, Nature 632): silent fraction and effective rank of the
  hidden codes (Roy & Vetterli 2007), with a trend over time.

Signs: forgetting > 0 means the error on an earlier task grew; forward transfer > 0 means
training on earlier tasks lowered a task's error before it was trained.
"""

import numpy as np

__all__ = [
    "asymptote",
    "samples_to_adapt",
    "area_under_curve",
    "block_metrics",
    "task_matrix",
    "forgetting",
    "forward_transfer",
    "effective_rank",
    "silent_fraction",
    "code_health",
    "trend",
]


def asymptote(mse, tail=3):
    """Mean of the last ``tail`` values of a block's curve."""
    mse = np.asarray(mse, float)
    if not len(mse):
        raise ValueError("asymptote of an empty curve")
    return float(mse[-min(tail, len(mse)) :].mean())


def samples_to_adapt(samples, mse, within=0.1, tail=3):
    """Samples after the block's start until the curve is within ``within`` of its asymptote.

    ``samples`` counts training samples from the block's start (the first point may be 0, right
    at the switch); the answer is the first evaluation point with ``mse <= (1 + within) * asymptote``.
    """
    samples, mse = np.asarray(samples, float), np.asarray(mse, float)
    if samples.shape != mse.shape or not len(mse):
        raise ValueError(f"samples {samples.shape} and mse {mse.shape} must be equal, non-empty curves")
    limit = (1 + within) * asymptote(mse, tail)
    return float(samples[np.argmax(mse <= limit)])


def area_under_curve(samples, mse):
    """Trapezoid area under the curve over training samples (MSE x samples)."""
    samples, mse = np.asarray(samples, float), np.asarray(mse, float)
    if len(mse) < 2:
        return 0.0
    return float(np.sum(np.diff(samples) * (mse[1:] + mse[:-1]) / 2))


def block_metrics(samples, mse, within=0.1, tail=3):
    """Adaptation of one block: samples to adapt, area, mean MSE over the block, asymptote."""
    samples = np.asarray(samples, float)
    area = area_under_curve(samples, mse)
    length = float(samples[-1] - samples[0])
    return {
        "samples_to_adapt": samples_to_adapt(samples - samples[0], mse, within, tail),
        "area": area,
        "mean_mse": area / length if length > 0 else float(np.mean(mse)),
        "asymptote": asymptote(mse, tail),
        "first": float(np.asarray(mse)[0]),
    }


def task_matrix(block_end_mse):
    """``R[i][j]`` from the MSE of every task (columns) at the end of each block (rows)."""
    R = np.asarray(block_end_mse, float)
    if R.ndim != 2:
        raise ValueError(f"task matrix must be 2-D (blocks x tasks), got shape {R.shape}")
    return R


def forgetting(R, block_task):
    """Error growth on earlier-trained tasks during each block.

    Returns ``per_block`` (block i -> task j -> R[i][j] - R[i-1][j] for every task j trained in an
    earlier block and not in block i), their ``mean``, and ``final``: per task, the error at the
    end minus the error at the end of the task's last training block (Lopez-Paz's backward
    transfer, sign flipped for errors).
    """
    R = task_matrix(R)
    block_task = list(block_task)
    per_block, values = {}, []
    for i in range(1, len(block_task)):
        seen = set(block_task[:i]) - {block_task[i]}
        per_block[i] = {j: float(R[i, j] - R[i - 1, j]) for j in sorted(seen)}
        values += list(per_block[i].values())
    final = {}
    for j in sorted(set(block_task)):
        last = max(i for i, t in enumerate(block_task) if t == j)
        if last < len(block_task) - 1:
            final[j] = float(R[-1, j] - R[last, j])
    return {
        "per_block": per_block,
        "mean": float(np.mean(values)) if values else None,
        "final": final,
        "mean_final": float(np.mean(list(final.values()))) if final else None,
    }


def forward_transfer(R, block_task, initial):
    """Per task first trained in block i > 0: its initial error minus its error at the end of block i-1."""
    R, initial = task_matrix(R), np.asarray(initial, float)
    out = {}
    for i, j in enumerate(block_task):
        if i > 0 and j not in block_task[:i]:
            out[j] = float(initial[j] - R[i - 1, j])
    return {"per_task": out, "mean": float(np.mean(list(out.values()))) if out else None}


def effective_rank(H):
    """Roy & Vetterli's effective rank of a code matrix (samples x units): exp of the entropy of its
    normalised singular values; 0 for an all-zero code."""
    H = np.asarray(H, float)
    s = np.linalg.svd(H, compute_uv=False)
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def silent_fraction(H):
    """Fraction of units (columns) that are zero on every sample."""
    H = np.asarray(H, float)
    return float(np.mean(np.all(H == 0, axis=0)))


def code_health(codes):
    """Silent fraction and effective rank of each hidden code (layer -> samples x units)."""
    return {
        layer: {"silent_fraction": silent_fraction(H), "effective_rank": effective_rank(H)}
        for layer, H in codes.items()
    }


def trend(x, y):
    """Least-squares slope of y over x and the change from the first to the last quarter's mean."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0:
        return {"slope": 0.0, "first_quarter": float(np.mean(y)), "last_quarter": float(np.mean(y)), "change": 0.0}
    q = max(1, len(y) // 4)
    first, last = float(y[:q].mean()), float(y[-q:].mean())
    return {
        "slope": float(np.polyfit(x, y, 1)[0]),
        "first_quarter": first,
        "last_quarter": last,
        "change": last - first,
    }
