"""Standalone build directories: reused per model structure, never shared by two runs at once."""
import pytest

from koo_spiking import backend


def test_same_structure_reuses_its_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path / "cache"))
    with backend.build_directory("net A") as first:
        pass
    with backend.build_directory("net A") as again, backend.build_directory("net B") as other:
        assert again == first
        assert other != first
    assert first.startswith(str(tmp_path / "cache"))


def test_a_directory_in_use_is_not_handed_out_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path / "cache"))
    with backend.build_directory("net A") as held, backend.build_directory("net A") as second:
        assert second != held and not second.startswith(str(tmp_path / "cache"))
    with backend.build_directory("net A") as after:
        assert after == held  # released again


@pytest.mark.parametrize("value", ["off"])
def test_cache_can_be_switched_off(tmp_path, monkeypatch, value):
    monkeypatch.setenv("KOO_BUILD_CACHE", value)
    with backend.build_directory("net A") as a, backend.build_directory("net A") as b:
        assert a != b
