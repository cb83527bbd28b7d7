"""The shipped specs are reachable by name from any folder (the README's example worked from the root only)."""

import os

import pytest

from koo_spiking import KooEncoder
from koo_spiking.encoder.spec import load_spec, shipped_specs, spec_path


def test_shipped_specs_by_name_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert {"koo_encoder", "koo_small", "koo_fashion", "koo_no_glia"} <= set(shipped_specs())
    small = load_spec("koo_small")
    assert small["network"]["n_h1"] == 24 and small["learning"]["epochs"] == 2
    assert load_spec("koo_small.toml") == small
    assert KooEncoder("koo_small")._resolved_spec()["network"]["n_h1"] == 24
    assert os.path.isabs(spec_path("koo_encoder"))


def test_a_local_file_wins_and_unknown_names_are_listed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "koo_small.toml").write_text('name = "mine"\n[network]\nn_h1 = 12\n')
    assert load_spec("koo_small.toml")["network"]["n_h1"] == 12  # the user's file in the folder
    assert load_spec("koo_small")["network"]["n_h1"] == 24  # the name: the shipped spec
    with pytest.raises(FileNotFoundError, match="koo_encoder, .*koo_small"):
        load_spec("koo_tiny")
    with pytest.raises(FileNotFoundError, match="no such file: sub/koo_small"):
        load_spec(os.path.join("sub", "koo_small"))
