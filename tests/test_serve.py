"""The authoring loop: `mkdocs serve` rebuilds on edits to theories/ and evidence/, and an
invalid edit prints the validation errors while the last good site keeps being served."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import build_site, copy_repo_project, edit
from living_theories.serving import stale


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
        # and the downloads beside them, the same as before, are not written again
        assert "Copying media file: 'CITATION.cff'" in log.read_text()[:mark]
        assert "Skip copying unmodified file: 'CITATION.cff'" in log.read_text()[mark:]
        assert "Relationships build trust" in fetch(f"{site}/theories/demo/")
        assert "Traceback" not in log.read_text()


# `living-theories serve`: after every kind of edit, the served folder is the full build.

SITE_URL = "http://127.0.0.1:{port}/"


def save(path: Path, text: str) -> None:
    """Write a file at once, as editors save (the server never reads it half-written)."""
    tmp = path.with_name(f".{path.name}.saving")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def change(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    save(path, text.replace(old, new, 1))


class Served:
    """`living-theories serve` of a project: its folder of built files, and its browsers'
    live-reload signal (MkDocs' `/livereload/<epoch>/<request>` long poll, answered with a
    newer epoch once a rebuild is done)."""

    def __init__(self, project: Path, tmp: Path, log: Path, site: str) -> None:
        self.project, self.tmp, self.log, self.site = project, tmp, log, site
        self.epoch = 0

    @property
    def folder(self) -> Path:
        # mkdocs serve builds into a temporary folder of its own: the one in our TMPDIR.
        found = list(self.tmp.glob("mkdocs_*"))
        assert len(found) == 1, found
        return found[0]

    def started(self) -> None:
        wait_for(lambda: "Serving on" in self.log.read_text(), "the first build", timeout=120)
        page = fetch(self.site)
        found = re.search(r"livereload\((\d+), \d+\)", page)
        assert found, page[-500:]
        self.epoch = int(found[1])
        # The file watcher starts in a thread of its own after "Serving on" and misses a save
        # made before it looks: touch a file until a (no-op) rebuild shows it is looking.
        self.reloaded(again=self.project / "mkdocs.yml")

    def reloaded(self, again: Path | None = None, timeout: float = 120) -> None:
        """Wait for the browsers' reload signal after a save."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if again is not None:
                os.utime(again)
            try:
                with urllib.request.urlopen(f"{self.site}livereload/{self.epoch}/1",
                                            timeout=3 if again else 70) as response:
                    epoch = int(response.read())
            except OSError:  # (our own time-out: touch the file again)
                continue
            if epoch > self.epoch:
                self.epoch = epoch
                return
        raise AssertionError("timed out waiting for the reload signal")


@contextmanager
def living_theories_serve(project: Path, tmp_path: Path, env: dict[str, str]) -> Iterator[Served]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "living_theories.cli", "serve", "-f",
             str(project / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env={**env, "TMPDIR": str(tmp)})
    served = Served(project, tmp, log, SITE_URL.format(port=port))
    try:
        served.started()
        yield served
    finally:
        server.send_signal(signal.SIGINT)  # as Ctrl+C: it removes its folder
        server.wait(timeout=30)


def differences(served: Path, full: Path) -> list[str]:
    """Files that differ, or are in one folder only."""
    def files(root: Path) -> dict[str, Path]:
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}

    a, b = files(served), files(full)
    return sorted(name for name in a.keys() | b.keys()
                  if name not in a or name not in b or a[name].read_bytes() != b[name].read_bytes())


VERSION_3 = """stage: refined
status: draft
cmocs:
  - id: demo-trust
    label: CMOC 1
    contexts: [Organisations with different histories]
    mechanism_resources: [Frequent face-to-face meetings]
    outcomes: [Collaborative decisions]
    lineage:
      relation: refined
      from: [demo-trust]
      reason: Fewer words.
  - id: demo-visibility
    title: Leadership visibility
    mechanism_resources: [Leaders are visible to the workforce]
    outcomes: [Lower morale]
    lineage:
      relation: kept
      from: [demo-visibility]
"""


def test_serve_gives_the_full_build_after_every_kind_of_edit(project: Path, tmp_path: Path):
    # Draft versions shown, so that a CMOC or theory added adds pages; the menu made from the
    # pages' own titles (no nav: in mkdocs.yml), so that a page's title shows on every page;
    # dates fixed, so that the sitemap of a build at another second (or day) is the same; a
    # link to a page not there is no warning, so that one can wait for the page.
    settings = (project / "mkdocs.yml").read_text(encoding="utf-8")
    save(project / "mkdocs.yml", settings.partition("nav:")[0].replace(
        "  - living-theories\n", "  - living-theories:\n      include_drafts: true\n")
        + "validation:\n  links:\n    not_found: info\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1700000000"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def new_theory() -> Path:
        folder = elsewhere / "budgets"
        folder.mkdir()
        save(folder / "theory.yaml", "title: Shared budgets\ndomain: relating\n")
        save(folder / "v1.yaml", "stage: initial\nstatus: draft\ncmocs:\n  - id: budgets-pool\n"
             "    contexts: [Pooled budgets]\n    outcomes: [Joint spending]\n")
        return folder

    def new_pages() -> Path:
        folder = elsewhere / "notes"
        folder.mkdir()
        save(folder / "index.md", "# Notes\n\nA figure: ![the map](map.svg)\n")
        save(folder / "map.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>\n')
        return folder

    ev, docs, v2 = project / "evidence", project / "docs", project / "theories/demo/v2.yaml"
    edits: list[tuple[str, Callable[[], object]]] = [
        ("a quote corrected", lambda: change(ev / "interviews.yaml", "because we meet every week",
                                             "because we meet every single week")),
        ("a page's text", lambda: change(docs / "about.md", "This demo follows",
                                         "This small demo follows")),
        ("a page and an image added", lambda: os.replace(new_pages(), docs / "notes")),
        ("a page's title", lambda: change(docs / "notes/index.md", "# Notes", "# Field notes")),
        ("a CMOC added", lambda: change(v2, "  - id: demo-visibility\n",
                                        "  - id: demo-extra\n    contexts: [Small places]\n"
                                        "    outcomes: [Quick decisions]\n    lineage:\n"
                                        "      relation: new\n  - id: demo-visibility\n")),
        ("a theory's title", lambda: change(project / "theories/demo/theory.yaml",
                                            "title: Relationships build trust",
                                            "title: Relationships build lasting trust")),
        ("a theory added", lambda: os.replace(new_theory(), project / "theories/budgets")),
        ("a theory renamed", lambda: os.replace(project / "theories/budgets",
                                                project / "theories/pooling")),
        ("a theory removed", lambda: os.replace(project / "theories/pooling",
                                                elsewhere / "pooling")),
        ("a version added", lambda: save(v2.with_name("v3.yaml"), VERSION_3)),
        ("a link to a page to come", lambda: change(
            project / "theories/project.yaml", "description: Staff", "description: As [P2 said]"
            "(../sources/p2.md), staff")),
        ("a page's link to a page to come", lambda: change(
            docs / "about.md", "This small demo follows", "This small demo, [as P2 says]"
            "(sources/p2.md), follows")),
        ("a source added", lambda: change(ev / "sources.yaml", "  - id: study-pawson1997\n",
                                          "  - id: p2\n    kind: participant\n    code: P2/1\n"
                                          "    role: GP\n  - id: study-pawson1997\n")),
        ("a reference corrected", lambda: change(project / "references.bib",
                                                 "{The Dawn of System Leadership}",
                                                 "{The Dawn of Systems Leadership}")),
        ("mkdocs.yml", lambda: change(project / "mkdocs.yml", "site_name: Demo theories",
                                      "site_name: Demo theories site")),
        ("a page and an image removed", lambda: os.replace(docs / "notes", elsewhere / "gone")),
        ("a source removed", lambda: change(ev / "sources.yaml", "  - id: p2\n    kind: "
                                            "participant\n    code: P2/1\n    role: GP\n", "")),
        ("a version removed", lambda: os.replace(v2.with_name("v3.yaml"), elsewhere / "v3.yaml")),
    ]
    # Edits that change what every page may show (the menu, the references, the settings):
    # every page is built again, and converted again only if its Markdown changed (unless the
    # references changed: any page's citations may show them).
    everywhere = {"a page and an image added", "a page's title", "a reference corrected",
                  "mkdocs.yml", "a page and an image removed"}
    # Those that show on a few pages whose every record is known: only they are rendered.
    few = {"a quote corrected", "a page's text", "a page's link to a page to come"}
    with living_theories_serve(project, tmp_path, env) as served:
        # (the full builds' address is the one the preview is served at)
        change(project / "mkdocs.yml", "site_url: https://minimal.example.org/\n",
               f"site_url: {served.site}\n")
        served.reloaded()
        for n, (what, make_edit) in enumerate(edits):
            mark = len(served.log.read_text())
            make_edit()
            served.reloaded()
            full = tmp_path / f"full-{n}"
            run = build_site(project, full, env=env)
            assert run.returncode == 0, run.stderr
            assert differences(served.folder, full) == [], what
            said = served.log.read_text()[mark:]
            # (MkDocs' watcher may see one save twice: the second rebuild finds nothing to do)
            rebuilt = [found for found in re.findall(r"rebuilt (\d+) of (\d+) pages", said)
                       if found[0] != "0"]
            if what in few:
                assert rebuilt and 0 < int(rebuilt[-1][0]) <= int(rebuilt[-1][1]) / 3, what
            elif what not in everywhere:  # every page rendered, only those that changed built
                assert rebuilt and 0 < int(rebuilt[-1][0]) < int(rebuilt[-1][1]), what
                if what in ("a source added", "a source removed"):  # (the link's page too)
                    for page in ("contexts/index.html", "about/index.html"):
                        html = (served.folder / page).read_text(encoding="utf-8")
                        assert ('href="../sources/p2/"' in html) == (what == "a source added")
            else:
                assert not rebuilt, what
                counts = re.findall(r"rebuilt all (\d+) pages \((\d+) converted again\)", said)
                assert counts, what
                pages, converted = map(int, counts[-1])
                if what == "a reference corrected":
                    assert converted == pages, what
                else:
                    assert converted <= pages / 2, what
        assert "Traceback" not in served.log.read_text()
        assert "A 'dirty' build" not in served.log.read_text()


def test_a_rebuild_of_every_page_removes_what_the_last_build_wrote_and_this_one_does_not(
        tmp_path: Path):
    site = tmp_path / "site"
    for name in ("index.html", "sources/p1/index.html", "sources/p2/index.html",
                 "notes/map.svg", "notes/index.html", "kept-by-hand.txt"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x", encoding="utf-8")
    before = ["index.html", "sources/p1/index.html", "sources/p2/index.html", "notes/map.svg",
              "notes/index.html", "gone-already.html"]
    assert stale(site, before, ["index.html", "sources/p2/index.html"])
    left = sorted(p.relative_to(site).as_posix() for p in site.rglob("*"))
    assert left == ["index.html", "kept-by-hand.txt", "sources", "sources/p2",
                    "sources/p2/index.html"]
    # a folder where a page was: the caller clears the site folder instead
    (site / "sources" / "p2" / "index.html").unlink()
    (site / "sources" / "p2" / "index.html").mkdir()
    assert not stale(site, ["sources/p2/index.html"], [])


def test_an_edit_that_may_show_anywhere_renders_pages_on_the_other_core(tmp_path: Path):
    """As a build does, so that a structural edit costs less than a full build: the bundled
    site (enough pages for a worker to pay), with a source added. Every generated page is
    rendered again; only those that changed are written."""
    project = copy_repo_project(tmp_path / "project")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1700000000",
           "LIVING_THEORIES_TIMINGS": "1"}
    env.pop("LIVING_THEORIES_WORKERS", None)
    ahead = re.compile(r"rendered ahead on another core [\d.]+ s \((\d+) pages; (\d+) "
                       "rendered here")
    sources = project / "evidence/evaluation-sources.yaml"
    with living_theories_serve(project, tmp_path, env) as served:
        settings = (project / "mkdocs.yml").read_text(encoding="utf-8")
        save(project / "mkdocs.yml", f"site_url: {served.site}\n{settings}")
        served.reloaded()
        mark = len(served.log.read_text())
        change(sources, "sources:\n", "sources:\n  - id: p9-9\n    kind: participant\n"
                                       "    code: P9/9\n")
        served.reloaded()
        full = tmp_path / "full"
        run = build_site(project, full, env=env)
        assert run.returncode == 0, run.stderr
        assert differences(served.folder, full) == []
        log = served.log.read_text()[mark:]
        ((rebuilt, pages),) = re.findall(r"rebuilt (\d+) of (\d+) pages", log)
        # its page, the sources' and the home page, and the hand-written pages (their links)
        hand_written = len(list((project / "docs").rglob("*.md")))
        assert 0 < int(rebuilt) <= hand_written + 3 < int(pages) / 2
        # the generated pages (as many as the full build's) on both cores
        ((served_ahead, served_here),) = ahead.findall(log)
        ((built_ahead, built_here),) = ahead.findall(run.stderr)
        assert int(served_ahead) + int(served_here) == int(built_ahead) + int(built_here) > 50
        assert int(served_ahead) > 0
        assert "Traceback" not in served.log.read_text()


def test_serve_says_what_to_do_without_settings(cli, capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("serve")
    assert code == 1
    assert "there is no mkdocs.yml here - run this in your site's folder" in err
    code, _, err = cli("serve", "-f", "elsewhere.yml")
    assert code == 1 and "'elsewhere.yml' does not exist" in err
    with pytest.raises(SystemExit) as exit:  # (only serve passes options on)
        cli("validate", "--no-such-option")
    assert exit.value.code == 1
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_serve_passes_other_options_on_to_mkdocs(cli, project: Path):
    code, _, err = cli("serve", "-f", str(project / "mkdocs.yml"), "--no-such-option")
    assert code == 1 and "No such option '--no-such-option'" in err


@pytest.mark.parametrize("drafts", [False, True])
def test_serve_shows_draft_versions_only_when_asked(project: Path, tmp_path: Path, drafts: bool):
    """A new site's example is drafts: `serve --drafts` previews them (a review build); plain
    `serve` is the site as published, without them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "living_theories.cli", "serve", "-f",
               str(project / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"]
    with (tmp_path / "serve.log").open("w") as out:
        server = subprocess.Popen(command + (["--drafts"] if drafts else []), stdout=out,
                                  stderr=subprocess.STDOUT,
                                  env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    try:
        site = f"http://127.0.0.1:{port}"
        wait_for(lambda: "Relationships build trust" in fetch(f"{site}/theories/demo/"),
                 "the first build")
        draft = fetch(f"{site}/theories/demo/v2/")
        assert ("Relationships build trust" in draft) is drafts
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_each_rebuild_lets_the_pages_of_the_one_before_go(project: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    """An author's preview runs for hours: what a rebuild replaces must be freed (the pages of
    a build hold cycles, which only Python's collector frees; it must not be kept from them)."""
    import gc
    import weakref

    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.structure.pages import Page

    made: list[weakref.ref] = []  # (weak references: the test must not keep them)
    init = Page.__init__
    monkeypatch.setattr(Page, "__init__", lambda page, *args, **kwargs: (
        init(page, *args, **kwargs), made.append(weakref.ref(page)))[0])

    def rebuild(first: bool = False) -> weakref.ref:
        config = load_config(str(project / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
        if first:  # (as `mkdocs serve` does; the plugin is kept for every rebuild after)
            config.plugins.on_startup(command="serve", dirty=True)
        made.clear()
        build(config, dirty=True)
        return made[0]

    gone = [rebuild(first=True)]
    for n in range(3):
        edit(project / "evidence" / "interviews.yaml", "every week", f"every week ({n})")
        gone.append(rebuild())
    gc.disable()  # (only the plugin may have collected them)
    try:
        assert [page() is None for page in gone[:-2]] == [True, True]
    finally:
        gc.enable()


def test_serve_holds_no_more_objects_however_many_rebuilds(project: Path, tmp_path: Path):
    """What a rebuild replaces is freed, whatever the kind of edit: after more rounds of the
    same edits, Python holds no more objects (frozen ones, out of the collector's sight,
    included) than after one."""
    import gc

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    sources = project / "evidence" / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    added = text.replace("sources:\n", "sources:\n  - id: p9\n    kind: participant\n"
                         "    code: P9/1\n", 1)

    def rebuild(first: bool = False) -> None:
        config = load_config(str(project / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
        if first:  # (as `mkdocs serve` does; the plugin is kept for every rebuild after)
            config.plugins.on_startup(command="serve", dirty=True)
        build(config, dirty=True)

    def held() -> int:
        gc.collect()  # (what the collector may free, without unfreezing anything)
        return len(gc.get_objects()) + gc.get_freeze_count()

    def round_of_edits(n: int) -> None:  # a quote, a source added, a quote, the source removed
        for state in (added, text):
            edit(project / "evidence" / "interviews.yaml", "every week", f"every week ({n})")
            rebuild()
            sources.write_text(state, encoding="utf-8")
            rebuild()

    rebuild(first=True)
    round_of_edits(0)
    after_one = held()
    for n in range(1, 4):
        round_of_edits(n)
    assert held() <= after_one * 1.01


def test_a_rebuild_keeps_the_html_of_pages_only_where_it_would_not_change(
        project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch):
    """A structural edit builds every page again, but converts again only the pages whose
    HTML may change: a page's links are looked up again (a link to a page that was missing
    finds it once it is added), and a page that warned warns again."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    settings = project / "mkdocs.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + "validation:\n  links:\n"
                        "    not_found: ignore\n    absolute_links: warn\n", encoding="utf-8")
    about = project / "docs" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\n[Later notes](later.md)\n",
                     encoding="utf-8")
    (project / "docs" / "away.md").write_text("# Away\n\n[Elsewhere](/elsewhere/)\n",
                                              encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # (the same sitemap as a full build)
    monkeypatch.setattr(logging.getLogger("mkdocs"), "propagate", True)  # (as a CLI test left it)

    def rebuild(first: bool = False) -> str:
        config = load_config(str(settings), site_dir=str(tmp_path / "site"))
        if first:  # (as `mkdocs serve` does; the plugin is kept for every rebuild after)
            config.plugins.on_startup(command="serve", dirty=True)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            build(config, dirty=True)
        return caplog.text

    rebuild(first=True)
    (project / "docs" / "later.md").write_text("# Later notes\n", encoding="utf-8")
    said = rebuild()
    html = (tmp_path / "site" / "about" / "index.html").read_text(encoding="utf-8")
    assert 'href="../later/"' in html  # the link finds the page added
    assert "contains an absolute link '/elsewhere/'" in said  # and warns again
    counts = re.search(r"rebuilt all (\d+) pages \((\d+) converted again\)", said)
    assert counts, said
    # about.md (its link now finds a page), away.md (it warned) and the new later.md: every
    # other page keeps its HTML
    assert int(counts[2]) == 3 < int(counts[1])
    full = tmp_path / "full"  # and the site is the full build's
    run = build_site(project, full, env=dict(os.environ), strict=False)
    assert run.returncode == 0, run.stderr
    assert differences(tmp_path / "site", full) == []
