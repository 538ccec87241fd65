"""Pages rendered ahead by a forked worker while MkDocs converts the ones before (ahead.py)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import build_site, copy_repo_project, edit, files_of
from living_theories import ahead
from living_theories.citations.syntax import find_citations
from living_theories.pages import compiled_cache, generate, render, uncompiled_templates
from living_theories.project import load_project
from mkdocs.commands.build import build
from mkdocs.config import load_config


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whatever the number of texts."""
    if ahead.cores() < 2:
        pytest.fail("these tests need a machine with two cores or more")
    monkeypatch.setattr(ahead, "MIN_PAGES", 0)
    monkeypatch.delenv("LIVING_THEORIES_WORKERS", raising=False)


def job(n: int, log: Path | None = None):
    def make() -> str:
        if log is not None:  # whoever makes the text says so, across processes
            with log.open("a") as out:
                out.write(f"p{n} {os.getpid()}\n")
        if n == 5:
            raise ValueError("a bug in a template")
        return f"page {n}: ünïcode " * n * 1000  # several pipe-fulls for the larger ones

    return make


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def event() -> Any:
    """A flag both processes see (shared memory: the worker keeps no file of ours open)."""
    return multiprocessing.get_context("fork").Event()


def made_by(log: Path) -> dict[str, int]:
    made = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    assert len({key for key, _ in made}) == len(made)  # each text made once
    return {key: int(pid) for key, pid in made}


def test_this_process_makes_texts_from_the_first_and_the_worker_from_the_last(worker,
                                                                              tmp_path):
    """Here the worker's first text (the last) waits until this process has asked for all the
    others: it makes none of those, and this process waits for none of them."""
    log, started, go = tmp_path / "made.log", event(), event()

    def make(n: int) -> Callable[[], str]:
        def text() -> str:
            if n == 7:
                started.set()
                assert go.wait(60)
            return job(n, log)()
        return text

    rendered = ahead.rendering([(f"p{n}", make(n)) for n in range(8)])
    assert rendered is not None
    pid = rendered.pid
    assert pid != os.getpid()
    assert [rendered.result(f"p{n}") for n in range(7)] == [None] * 7  # the caller makes them
    assert started.wait(60)
    go.set()
    assert rendered.result("p7") == job(7)()
    assert rendered.result("p7") is None  # asked again: the caller makes it itself
    assert rendered.made_here == 7 and rendered.handed == {"p7"}
    rendered.close()
    assert rendered.pid is None and gone(pid)
    assert made_by(log) == {"p7": pid}


def test_the_worker_makes_what_nobody_has_started_until_one_fails(worker, tmp_path):
    """Asked for nothing until its job p5 failed, the worker made p7, p6 and p5, then
    stopped: the caller makes p5 again (and reports its error), and the rest."""
    log, failed = tmp_path / "made.log", event()

    def make(n: int) -> Callable[[], str]:
        def text() -> str:
            if n == 5:
                failed.set()
            return job(n, log)()
        return text

    rendered = ahead.rendering([(f"p{n}", make(n)) for n in range(8)])
    assert rendered is not None
    pid = rendered.pid
    assert failed.wait(60)
    assert [rendered.result(f"p{n}") for n in range(7, -1, -1)] == [
        job(7)(), job(6)(), None, None, None, None, None, None]
    rendered.close()
    assert gone(pid)
    assert made_by(log) == {"p7": pid, "p6": pid, "p5": pid}


def test_closing_stops_a_worker_whose_texts_nobody_asks_for(worker):
    started, go = event(), event()

    def held() -> str:
        started.set()
        assert go.wait(60)
        return "never asked for"

    rendered = ahead.rendering([*((f"p{n}", job(n + 10)) for n in range(49)), ("p49", held)])
    assert rendered is not None
    pid = rendered.pid
    assert rendered.result("p0") is None
    assert started.wait(60)
    rendered.close()  # the worker is still making p49: it is stopped, not waited for
    assert gone(pid)


def test_no_worker_when_it_is_not_worth_it_or_not_wanted(worker, monkeypatch):
    jobs = [(f"p{n}", job(n)) for n in range(3)]
    monkeypatch.setattr(ahead, "MIN_PAGES", 4)
    assert ahead.rendering(jobs) is None
    monkeypatch.setattr(ahead, "MIN_PAGES", 0)
    monkeypatch.setenv("LIVING_THEORIES_WORKERS", "0")
    assert ahead.rendering(jobs) is None


def test_the_worker_keeps_no_file_of_the_parents_and_writes_nothing(worker, tmp_path, capfd):
    held = (tmp_path / "held.txt").open("w")  # as the server's connections are

    def make() -> str:
        print("printed by a page")
        print("written to stderr", file=sys.stderr)
        logging.getLogger("mkdocs").error("logged by a page")
        try:
            os.fstat(held.fileno())
        except OSError:
            return "closed"
        return "open"

    made = event()

    def made_then_said() -> str:
        text = make()
        made.set()
        return text

    rendered = ahead.rendering([("p", made_then_said)])
    assert rendered is not None
    assert made.wait(60)  # (by the worker: asked for, it waits for the worker's text)
    assert rendered.result("p") == "closed"
    rendered.close()
    held.close()
    assert capfd.readouterr() == ("", "")


BLOCKED_STDERR = """
import fcntl, io, os, sys, termios, threading
from living_theories import ahead
from living_theories.citations.syntax import find_citations
ahead.MIN_PAGES = 0
read, write = os.pipe()  # a stream nobody reads: a thread's write to it blocks, holding its lock
sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(write, "w")), write_through=True)
threading.Thread(target=lambda: sys.stderr.write("x" * 1_000_000), daemon=True).start()
waiting = bytearray(4)
while int.from_bytes(waiting, sys.byteorder) < 4096:  # until the pipe is full
    fcntl.ioctl(read, termios.FIONREAD, waiting)
import multiprocessing
made = multiprocessing.get_context("fork").Event()
rendered = ahead.rendering([("p", lambda: print("a page's warning", file=sys.stderr)
                                        or made.set() or "made")])
made.wait(60)
print(rendered.result("p"), file=sys.__stdout__, flush=True)
rendered.close()
os._exit(0)  # (Python's exit would wait for the stream the thread holds)
"""


def test_a_worker_forked_while_a_thread_holds_a_streams_lock_still_renders(worker):
    """`mkdocs serve` forks the worker beside its threads: one may be writing to the log."""
    run = subprocess.run([sys.executable, "-c", BLOCKED_STDERR], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "LIVING_THEORIES_WORKERS": "2"})
    assert run.stdout == "made\n", run.stderr


def test_a_job_done_meanwhile_runs_in_another_process(worker, tmp_path):
    done = tmp_path / "done"
    child = ahead.meanwhile(lambda: done.write_text(str(os.getpid())))
    assert child is not None
    child.wait()
    assert child.pid is None and int(done.read_text()) != os.getpid()


def test_a_first_build_compiles_every_template_on_the_other_core(project, tmp_path):
    """Ours and the theme's, so that the worker rendering pages finds ours compiled, and no
    build compiles the theme's again (a first build, or a fresh clone, has none)."""
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    folder = project / ".cache/living-theories/templates"
    ours = render._ENV.overlay(bytecode_cache=compiled_cache(render._ENV, folder))
    assert uncompiled_templates(ours) == []
    config = load_config(str(project / "mkdocs.yml"))
    theme, used = config.theme.get_env(), ["main.html", *config.theme.static_templates]
    theme.bytecode_cache = compiled_cache(theme, tmp_path / "nothing yet")
    assert len(uncompiled_templates(theme, used)) > 20  # main.html and what it includes
    theme.bytecode_cache = compiled_cache(theme, folder)
    left = uncompiled_templates(theme, used)
    assert [name for name in left if compiles(theme, name)] == []


def test_a_build_compiles_no_template_an_earlier_build_compiled(project, tmp_path,
                                                                 monkeypatch):
    assert build_site(project, tmp_path / "first").returncode == 0
    compiled = []
    original = jinja2.Environment.compile

    def compile(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    monkeypatch.setattr(render._ENV, "bytecode_cache", render._ENV.bytecode_cache)
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(tmp_path / "second"))
    config.plugins.on_startup(command="build", dirty=False)
    build(config)
    assert (tmp_path / "second" / "index.html").is_file()
    # (but Material's search plugin reads its translations with environments of its own)
    assert [name for name in compiled if not name.startswith("partials/language")] == []


def compiles(env: jinja2.Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except jinja2.TemplateError:
        return False
    return True


def test_a_theme_template_edited_between_builds_shows_in_the_next(project, tmp_path):
    """Compiled templates are kept between builds, never in place of their source."""
    overrides = project / "overrides"
    overrides.mkdir()
    main = overrides / "main.html"
    main.write_text('{% extends "base.html" %}{% block announce %}Alpha notice{% endblock %}')
    edit(project / "mkdocs.yml", "  font: false\n", "  font: false\n  custom_dir: overrides\n")
    for now, before in (("Alpha notice", "Beta notice"), ("Beta notice", "Alpha notice")):
        main.write_text(main.read_text().replace(before, now))
        run = build_site(project, tmp_path / "site")
        assert run.returncode == 0, run.stderr
        page = (tmp_path / "site" / "index.html").read_text()
        assert now in page and before not in page


def test_a_build_renders_its_pages_ahead_and_makes_the_same_site(tmp_path):
    """A first build (nothing cached), with the pages rendered on another core and without:
    the worker also formats the pages' citations, and hands them on."""
    project = copy_repo_project(tmp_path / "project")
    timings = {"LIVING_THEORIES_TIMINGS": "1"}
    ahead_run = build_site(project, tmp_path / "ahead", env=timings)
    shutil.rmtree(project / ".cache")
    alone_run = build_site(project, tmp_path / "alone",
                           env={**timings, "LIVING_THEORIES_WORKERS": "0"})
    assert ahead_run.returncode == 0 and alone_run.returncode == 0, ahead_run.stderr
    found = re.compile(r"rendered ahead on another core [\d.]+ s \((\d+) pages; (\d+) "
                       "rendered here")
    loaded, _ = load_project(project)
    ((worker, mine),) = found.findall(ahead_run.stderr)
    assert int(worker) > 0 and int(worker) + int(mine) == len(generate(loaded))
    assert found.findall(alone_run.stderr) == [("0", "0")]
    # the worker converted the pages it rendered to HTML too, for this process to use
    converted = re.compile(r"HTML for (\d+) of (\d+) pages .*, and for (\d+) on another core")
    ((here, pages, there),) = converted.findall(ahead_run.stderr)
    assert int(there) == int(worker) and int(here) + int(there) == int(pages)
    assert converted.findall(alone_run.stderr) == [(pages, pages, "0")]
    assert files_of(tmp_path / "ahead") == files_of(tmp_path / "alone")
    # and what it converted is as this process would have kept it: the next build converts
    # nothing, here or there
    again = build_site(project, tmp_path / "again", env=timings)
    assert converted.findall(again.stderr) == [("0", pages, "0")], again.stderr
    # Here, only the citations of the hand-written pages were formatted (one by one, as
    # every page cites in its own way; the style is author-date), and of the pages this
    # process rendered rather than wait, if any.
    by_hand = {(c.cites, c.in_text) for page in (project / "docs").rglob("*.md")
               for c in find_citations(page.read_text(encoding="utf-8"))}
    formatted = re.compile(r"citations in pages [\d.]+: (\d+) formatted, (\d+) reference")
    (here,), (alone,) = formatted.findall(ahead_run.stderr), formatted.findall(alone_run.stderr)
    keys = {cite.key for cites, _ in by_hand for cite in cites if cite.key in loaded.bibliography}
    if mine == "0":
        assert int(here[0]) == len(by_hand) < int(alone[0])
        # and of the reference list, only their entries (the references page's: the worker's)
        assert int(here[1]) == len(keys) < int(alone[1])
    else:
        assert len(by_hand) <= int(here[0]) < int(alone[0])


def test_what_the_worker_converts_says_what_it_says_once_in_every_build(tmp_path):
    """A generated page whose conversion warns (a source's description links to a page that
    is not there): the worker keeps nothing it said, so this process converts the page again,
    and warns once, in every build."""
    project = copy_repo_project(tmp_path / "project")
    edit(project / "evidence" / "review-studies.yaml",
         "reference: urtaranlaresgoiti2018\n    description: One of the 18 empirical papers "
         "included in the rapid realist review [@knight2024].",
         "reference: urtaranlaresgoiti2018\n    description: One of the 18 empirical papers "
         "included in the rapid realist review [@knight2024]; see [the notes](nowhere.md).")
    for n in range(2):
        run = build_site(project, tmp_path / f"site-{n}", env={"LIVING_THEORIES_TIMINGS": "1"})
        assert run.returncode == 1, n
        assert run.stderr.count("contains a link 'nowhere.md'") == 1, run.stderr
        assert re.search(r"HTML for \d+ of \d+ pages .*, and for [1-9]\d* on another core",
                         run.stderr) or n == 1, run.stderr


def test_notes_made_with_each_text_arrive_with_it(worker):
    done: list[str] = []  # (the worker's own copy)
    last = event()

    def make(n: int) -> Callable[[], str]:
        return lambda: done.append(f"p{n}") or (n == 0 and last.set()) or f"text {n}"

    def notes() -> str:
        taken = ",".join(done)
        done.clear()
        return taken

    learned: list[str] = []
    rendered = ahead.rendering([(f"p{n}", make(n)) for n in range(6)], (notes, learned.append))
    assert rendered is not None
    assert last.wait(60)  # the worker made them all, from the last
    assert rendered.result("p3") == "text 3"
    assert learned[:3] == ["p5", "p4", "p3"]  # those of texts made before it too
    assert [rendered.result(f"p{n}") for n in (0, 5)] == ["text 0", "text 5"]
    assert learned == [f"p{n}" for n in range(5, -1, -1)]
    rendered.close()
    assert done == []  # nothing made here
