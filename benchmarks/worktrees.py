"""Earlier commits checked out beside this one, for benchmarks that measure them in the same run."""

import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git(*args, check=True):
    """``git -C ROOT ARGS``; its standard output, stripped."""
    return subprocess.run(
        ["git", "-C", ROOT, *args], capture_output=True, text=True, check=check, timeout=120
    ).stdout.strip()


def remove(trees, work, keep=False):
    """Remove the temporary worktrees ``trees`` and the benchmark's folder ``work`` (unless ``keep``)."""
    for tree in trees:
        git("worktree", "remove", "--force", tree, check=False)
    git("worktree", "prune", check=False)
    if keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
