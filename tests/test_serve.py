"""The authoring loop: `mkdocs serve` rebuilds on edits to theories/ and evidence/, and an
invalid edit prints the validation errors while the last good site keeps being served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import edit


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60,
             saved: Path | None = None) -> None:
    """Poll a condition against a deadline (the server works in its own time).

    MkDocs' file watcher takes its first snapshot in a thread of its own, some time after
    "Serving on": an edit made before that snapshot is never seen. So, as a person would,
    the edited file is saved again (its time bumped) every few seconds until the change shows.
    """
    deadline = time.monotonic() + timeout
    next_save = time.monotonic() + 3
    while time.monotonic() < deadline:
        if condition():
            return
        if saved is not None and time.monotonic() > next_save:
            os.utime(saved)
            next_save = time.monotonic() + 3
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


@contextmanager
def serve(project: Path, log: Path, *options: str) -> Iterator[str]:
    """`mkdocs serve` of a project, logging to `log`; yields the site's address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-f", str(project / "mkdocs.yml"),
             "-a", f"127.0.0.1:{port}", *options],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_rebuilds_and_keeps_the_last_good_site(project: Path, tmp_path: Path):
    log = tmp_path / "serve.log"
    with serve(project, log) as site:
        url = f"{site}/theories/demo/"
        wait_for(lambda: "Relationships build trust" in fetch(url), "the first build")
        edit(project / "theories/demo/theory.yaml", "title: Relationships build trust",
             "title: Relationships build deep trust")
        wait_for(lambda: "Relationships build deep trust" in fetch(url), "the rebuild",
                 saved=project / "theories/demo/theory.yaml")
        # A quote corrected: only the pages showing it are rendered again, and they show it.
        edit(project / "evidence/interviews.yaml", "because we meet every week",
             "because we meet every single week")
        source = f"{site}/sources/p1/"
        wait_for(lambda: "because we meet every single week" in fetch(source), "the quote",
                 saved=project / "evidence/interviews.yaml")
        assert "because we meet every single week" in fetch(f"{site}/cmocs/demo-trust/")
        assert "Relationships build deep trust" in fetch(url)  # kept from the last build
        edit(project / "evidence/interviews.yaml", "cmoc: demo-trust", "cmoc: nope")
        wait_for(lambda: "the CMOC 'nope' does not exist" in log.read_text(),
                 "the validation error", saved=project / "evidence/interviews.yaml")
        assert "evidence/interviews.yaml:7: the CMOC 'nope' does not exist" in log.read_text()
        assert "Relationships build deep trust" in fetch(url)  # the last good site
        assert "Traceback" not in log.read_text()


def test_serve_dirty_builds_only_the_pages_an_edit_changes(project: Path, tmp_path: Path):
    log = tmp_path / "serve.log"
    built = "Running `post_page` event from plugin 'living-theories'"  # once per page built
    with serve(project, log, "--dirty", "--verbose") as site:
        wait_for(lambda: "Documentation built in" in log.read_text(), "the first build")
        first = log.read_text().count(built)
        mark = len(log.read_text())
        edit(project / "evidence/interviews.yaml", "because we meet every week",
             "because we meet every single week")
        wait_for(lambda: "because we meet every single week" in fetch(f"{site}/sources/p1/"),
                 "the quote", saved=project / "evidence/interviews.yaml")
        assert "because we meet every single week" in fetch(f"{site}/cmocs/demo-trust/")
        wait_for(lambda: "Documentation built in" in log.read_text()[mark:], "the rebuild")
        # The pages showing the quote are built again; the rest are kept as they were.
        rebuilt = log.read_text()[mark:].count(built)
        assert 2 <= rebuilt < first / 2
        assert "Relationships build trust" in fetch(f"{site}/theories/demo/")
        assert "Traceback" not in log.read_text()
