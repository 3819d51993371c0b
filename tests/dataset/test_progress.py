"""The progress-bar wrapper: tqdm on stderr unless NOVA_FORGE_DISABLE_PROGRESS_BARS is set."""

from __future__ import annotations

from amzn_nova_forge.core._progress import _noop, progress


def test_disabled_by_env(monkeypatch):
    monkeypatch.setenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", "1")
    with progress(10, "x") as update:
        assert update is _noop


def test_enabled_draws_a_bar(monkeypatch, capsys):
    monkeypatch.delenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", raising=False)
    with progress(10, "Validating") as update:
        assert update is not _noop
        update.__self__.delay = 0  # show at once instead of after 1 s
        update(10)
        update.__self__.refresh()
    assert "Validating" in capsys.readouterr().err
