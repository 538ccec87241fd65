"""Shared test helpers: small real projects copied into tmp_path, and the CLI run in-process."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from living_theories.cli import main

PROJECTS = Path(__file__).parent / "projects"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the minimal valid project (one theory, two versions, evidence, references)."""
    dest = tmp_path / "project"
    shutil.copytree(PROJECTS / "minimal", dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
