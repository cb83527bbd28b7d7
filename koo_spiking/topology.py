"""Which cells of a layer are neighbours: the sheets and graphs that couple astrocytes (and any
other population laid out as a layer)."""

from __future__ import annotations

import numpy as np

__all__ = ["topology_pairs", "square_shape"]


def topology_pairs(
    n: int,
    topology: str = "ring",
    shape: tuple[int, int] | None = None,
    k: int = 4,
    positions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Directed (i, j) pairs of a symmetric astrocyte network.

    Parameters
    ----------
    topology : {'ring', 'chain', 'grid', 'knn', 'none'}
        ``grid`` is the layer's 2-D sheet (4 neighbours, ``shape`` = (rows, cols));
        ``knn`` joins each cell to its ``k`` nearest neighbours in ``positions``
        (n x 2; the grid by default), made symmetric.
    """
    if topology == "none":
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    if topology in ("ring", "chain"):
        src = np.arange(n - 1) if topology == "chain" else np.arange(n)
        dst = (src + 1) % n
        edges = {(int(a), int(b)) for a, b in zip(src, dst) if a != b}
    elif topology in ("grid", "knn"):
        rows, cols = shape or square_shape(n)
        if rows * cols != n:
            raise ValueError(f"astrocyte coupling: parameter 'shape' {shape} does not hold {n} cells")
        if topology == "grid":
            edges = set()
            for r in range(rows):
                for c in range(cols):
                    if c + 1 < cols:
                        edges.add((r * cols + c, r * cols + c + 1))
                    if r + 1 < rows:
                        edges.add((r * cols + c, (r + 1) * cols + c))
        else:
            pos = (
                positions
                if positions is not None
                else np.array([(r, c) for r in range(rows) for c in range(cols)], float)
            )
            if not 0 < k < n:
                raise ValueError(f"astrocyte coupling: parameter 'k' must lie in 1..{n - 1}, got {k!r}")
            dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
            np.fill_diagonal(dist, np.inf)
            nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
            edges = {(min(a, b), max(a, b)) for a in range(n) for b in nearest[a]}
    else:
        raise ValueError(f"astrocyte coupling: unknown topology {topology!r} (choose ring, chain, grid, knn or none)")
    edges = sorted(edges)
    i = np.array([a for a, b in edges] + [b for a, b in edges], np.int32)
    j = np.array([b for a, b in edges] + [a for a, b in edges], np.int32)
    return i, j


def square_shape(n: int) -> tuple[int, int]:
    """The most nearly square (rows, cols) sheet of n cells."""
    rows = int(np.floor(np.sqrt(n)))
    while n % rows:
        rows -= 1
    return rows, n // rows
