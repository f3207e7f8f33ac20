"""Choosing a backend: the refusals that keep a run off a real account, in one clear line."""

from __future__ import annotations

import pytest

from model.entrypoints import verify
from model.harness import backends


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "set QUEUECHECK_REAL_AWS=1 to confirm"),
        ({"QUEUECHECK_REAL_AWS": "yes"}, "set QUEUECHECK_REAL_AWS=1 to confirm"),
        ({"QUEUECHECK_REAL_AWS": "1", "CI": "true"}, "never runs under CI"),
        ({"CI": "1"}, "never runs under CI"),
    ],
)
def test_aws_is_refused_without_the_variable_and_under_ci(
    environment, expected, monkeypatch, capsys
):
    """Exit 2, one line on stderr naming what to do; nothing started."""
    for name in ("CI", "QUEUECHECK_REAL_AWS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(backends.ENV, backends.current())  # restored after the test

    assert 2 == verify.main(["--backend", "aws", "--max-examples", "1"])

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("queuecheck verify: --backend aws")
    assert expected in err[0]


def test_an_unknown_backend_names_the_choices(monkeypatch):
    """A backend the harness does not know is refused with the list of those it does."""
    monkeypatch.setenv(backends.ENV, "localstack")
    with pytest.raises(backends.BackendError, match="moto, moto-server, dynalite, aws"):
        backends.current()


def test_dynalite_without_node_says_so(monkeypatch):
    """Without node on PATH, dynalite is refused with the reason: it needs node."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "needs node" in (backends.refused("dynalite") or "")
