"""`release` under stress: ten at once all land, and a release killed at any moment leaves the
lock and the version file each either as they were or as they were to be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PROJECTS

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "LIVING_THEORIES_WORKERS": "0"}
COMMAND = [sys.executable, "-m", "living_theories.cli"]


def add_theories(root: Path, count: int) -> list[str]:
    """`count` more theories, each with one draft version to release."""
    ids = [f"t{i}" for i in range(count)]
    for tid in ids:
        folder = root / "theories" / tid
        folder.mkdir()
        (folder / "theory.yaml").write_text(f"title: Theory {tid}\n")
        (folder / "v1.yaml").write_text(
            "stage: initial\nstatus: draft\nstatement: A statement.\ncmocs:\n"
            f"  - id: {tid}-one\n    contexts: [A context]\n    outcomes: [An outcome]\n")
    return ids


def lock_keys(root: Path) -> set[str]:
    return set(json.loads((root / "living-theories.lock").read_text())["versions"])


def test_ten_releases_at_once_all_land(project):
    ids = add_theories(project, 10)
    before = lock_keys(project)
    runs = [subprocess.Popen([*COMMAND, "release", tid, "--dir", str(project)], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for tid in ids]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _ in results] == [0] * 10, results
    lost = {f"{tid}/v1" for tid in ids} - lock_keys(project)
    assert lost == set(), f"{len(lost)} of 10 parallel releases lost: {sorted(lost)}"
    assert lock_keys(project) == before | {f"{tid}/v1" for tid in ids}
    check = subprocess.run([*COMMAND, "validate", str(project)], env=ENV, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[bytes, bytes]:
    """The lock and v2.yaml as a completed release of the minimal project's draft v2 leaves
    them."""
    project = tmp_path_factory.mktemp("released") / "project"
    shutil.copytree(PROJECTS / "minimal", project)
    subprocess.run([*COMMAND, "release", "demo", "--dir", str(project)], env=ENV, check=True,
                   capture_output=True)
    return (project / "living-theories.lock").read_bytes(), \
        (project / "theories/demo/v2.yaml").read_bytes()


def wait_for(run: subprocess.Popen, seen: Callable[[], bool], limit: float = 60) -> None:
    """Until `seen()` or the run ends (busy: the moments to hit last milliseconds)."""
    end = time.monotonic() + limit
    while run.poll() is None and not seen() and time.monotonic() < end:
        pass


@pytest.mark.parametrize("moment", range(9))
def test_a_release_killed_at_any_moment_leaves_old_or_new_files(project, released, cli,
                                                                moment):
    old = ((project / "living-theories.lock").read_bytes(),
           (project / "theories/demo/v2.yaml").read_bytes())
    new = released
    v2, lock = project / "theories/demo/v2.yaml", project / "living-theories.lock"
    run = subprocess.Popen([*COMMAND, "release", "demo", "--dir", str(project)], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The moments: as the version file's temporary file appears, as the version file is
    # replaced, as the lock's temporary file appears, as the lock is replaced; then at
    # times spread over the whole run (0.5-1 s here, most of it starting Python).
    if moment == 0:
        wait_for(run, lambda: any(v2.parent.glob(".v2.yaml.*")))
    elif moment == 1:
        wait_for(run, lambda: v2.read_bytes() != old[1])
    elif moment == 2:
        wait_for(run, lambda: any(project.glob(".living-theories.lock.*")))
    elif moment == 3:
        wait_for(run, lambda: lock.read_bytes() != old[0])
    else:
        start = time.monotonic()
        wait_for(run, lambda: time.monotonic() - start > (moment - 4) * 0.15)
    run.kill()
    run.wait()
    assert lock.read_bytes() in (old[0], new[0]), "the lock file is half-written"
    assert v2.read_bytes() in (old[1], new[1]), "the version file is half-written"
    code, _, err = cli("validate", str(project))
    if code != 0:  # killed between the two files: validate says what to do
        assert code == 1 and "Traceback" not in err
        assert "run 'living-theories release demo' to freeze it" in err, err
    code, _, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    assert (lock.read_bytes(), v2.read_bytes()) == new
    # a temporary file the kill left (hidden, and no reader takes it for a project file) is
    # swept away by the next command that writes
    assert [p.name for p in project.rglob("*") if ".tmp" in p.name] == []
