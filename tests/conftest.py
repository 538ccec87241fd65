"""Shared test helpers: small real projects copied into tmp_path, and the CLI run in-process."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from living_theories.cli import main

PROJECTS = Path(__file__).parent / "projects"

# Preview servers are stopped as Ctrl+C stops them. A test run started in the background by a
# shell ignores Ctrl+C, and so would the servers (an ignored signal is inherited): with a
# handler of its own here, they start with the default again.
signal.signal(signal.SIGINT, signal.default_int_handler)


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


def build_site(project: Path, dest: Path, *, env: dict[str, str] | None = None,
               strict: bool = True) -> subprocess.CompletedProcess[str]:
    """A real `mkdocs build` of a project folder into dest."""
    import os

    args = [sys.executable, "-m", "mkdocs", "build", "-f", str(project / "mkdocs.yml"),
            "-d", str(dest)]
    if strict:
        args.append("--strict")
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    return subprocess.run(args, capture_output=True, text=True, env=full_env)


def files_of(site: Path) -> dict[str, bytes]:
    """A built site's files by path (but the sitemap's gzip copy, which gzip stamps with the
    time), to compare two builds."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and p.name != "sitemap.xml.gz"}


def article(html_file: Path) -> str:
    """The page's own content (inside <article>), without the site's navigation (the
    breadcrumb trail of a generated page included)."""
    text = html_file.read_text(encoding="utf-8")
    start = text.index("<article")
    text = text[start: text.index("</article>", start)]
    return re.sub(r'<nav aria-label="Breadcrumb" class="lt-breadcrumbs">.*?</nav>\n?', "", text,
                  count=1, flags=re.S)


def built_project(tmp_path_factory, name: str) -> Path:
    """One of tests/projects/ built `--strict` into a fresh folder: the site (for fixtures
    shared by a module's tests, which only read it)."""
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(PROJECTS / name, root / "project")
    run = build_site(root / "project", root / "site")
    assert run.returncode == 0, run.stderr
    return root / "site"


def copied_project(tmp_path: Path, name: str) -> Path:
    """A copy of one of tests/projects/ to change in a test."""
    dest = tmp_path / name
    shutil.copytree(PROJECTS / name, dest)
    return dest


REPO = Path(__file__).parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def copy_repo_project(dest: Path) -> Path:
    """A copy of the bundled site's project (theories, evidence, pages, releases)."""
    for name in ("theories", "evidence", "docs", "releases"):
        shutil.copytree(REPO / name, dest / name)
    for name in ("mkdocs.yml", "references.bib", "living-theories.lock"):
        shutil.copy(REPO / name, dest / name)
    return dest


def wheel_of_this_checkout(tmp_path: Path) -> Path:
    """A wheel built from a copy of this checkout (as `pip wheel` builds it for a release),
    in tmp_path/wheels; the copy is removed again, so nothing can rely on it."""
    # From a copy without build outputs: setuptools would pack a stale build/lib into it.
    source = shutil.copytree(REPO, tmp_path / "source", ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "site", "*.egg-info", ".cache", ".mutation", ".venv",
        "__pycache__", ".pytest_cache", ".ruff_cache"))
    wheels = tmp_path / "wheels"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(wheels), str(source)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    shutil.rmtree(source)
    (wheel,) = wheels.glob("living_theories-*.whl")
    return wheel


def fresh_environment(venv: Path) -> dict[str, str]:
    """A new virtual environment (no system site-packages: not the developer's editable
    install), first on PATH; the environment variables to run in it."""
    import os

    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "LIVING_THEORIES_REVIEW")}
    return {**env, "NO_MKDOCS_2_WARNING": "1", "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}


@pytest.fixture(scope="session")
def minimal_site(tmp_path_factory) -> Path:
    """The minimal project's public site, built once per test session (tests only read it)."""
    root = tmp_path_factory.mktemp("minimal")
    shutil.copytree(PROJECTS / "minimal", root / "project")
    run = build_site(root / "project", root / "site")
    assert run.returncode == 0, run.stderr
    return root / "site"


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory) -> Path:
    """The repository's own site, built once per test session."""
    dest = tmp_path_factory.mktemp("bundled") / "site"
    run = build_site(REPO, dest)
    assert run.returncode == 0, run.stderr
    return dest


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium at /usr/bin/chromium: "
                    "run ./scripts/test, or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class StaticServer:
    """Serves a folder on 127.0.0.1 (a site must work from any sub-path; root here)."""

    def __init__(self, root: Path):
        import functools
        import http.server
        import threading

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers: list[StaticServer] = []

    def start(root: Path) -> str:
        servers.append(StaticServer(root))
        return servers[-1].url

    yield start
    for s in servers:
        s.close()
