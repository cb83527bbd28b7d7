"""The package as a user installs it: the wheel and sdist build and pass ``twine check``; the wheel installed in a
fresh virtual environment runs ``koo-spiking --version``, a library model, and finds the shipped specs by name.

The environment sees this machine's packages (``--system-site-packages``: brian2, numpy, ... as installed by the
test extra) but not this checkout: the wheel is installed into it without dependencies, and the test checks that
``koo_spiking`` is imported from the environment, not from the source tree.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import koo_spiking

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "koo_spiking"
    # build from a copy of the tracked files: nothing is written into the checkout
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def test_wheel_and_sdist_build_and_pass_twine_check(dist):
    version = koo_spiking.__version__
    wheel, sdist = dist / f"koo_spiking-{version}-py3-none-any.whl", dist / f"koo_spiking-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", str(wheel), str(sdist)], capture_output=True, text=True
    )
    assert check.returncode == 0 and "PASSED" in check.stdout, check.stdout + check.stderr
    names = zipfile.ZipFile(wheel).namelist()
    assert f"koo_spiking-{version}.data/data/share/koo_spiking/models/koo_small.toml" in names
    assert "koo_spiking/encoder/network.py" in names and not any(n.startswith("tests/") for n in names)


def test_the_wheel_installs_and_runs_in_a_fresh_environment(dist, tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True)
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "koo-spiking"
    wheel = next(dist.glob("koo_spiking-*.whl"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, env=clean, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.split() == ["koo-spiking", koo_spiking.__version__], (
        version.stdout + version.stderr
    )
    code = """
import brian2, koo_spiking
from koo_spiking import neuron
from koo_spiking.encoder.spec import load_spec
brian2.prefs.codegen.target = "numpy"
brian2.defaultclock.dt = 0.1 * brian2.ms
group = neuron.if_group(1, drive="1.5*v_th/(10*ms)")  # the library's IF cell, driven above threshold
mon = brian2.SpikeMonitor(group)
brian2.run(100 * brian2.ms)
print(koo_spiking.__file__)
print(load_spec("koo_small")["network"]["n_h1"], mon.num_spikes)
"""
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=clean, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    where, numbers = run.stdout.split("\n")[-3:-1]
    assert where.startswith(str(env_dir)), f"imported from {where}, not from the installed wheel"
    n_h1, spikes = map(int, numbers.split())
    assert n_h1 == 24  # the shipped spec, found by name in the environment's share/ folder
    assert spikes > 0
