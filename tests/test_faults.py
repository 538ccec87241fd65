"""Hostile or careless input: what validate accepts, the build builds, and every failure is one
clear line (exit 1), never a traceback, an "internal error", a hang or a half-written file.

Each case is one small change to the minimal project (see conftest.py).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import article, build_site, edit

V2 = "theories/demo/v2.yaml"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def validate_apart(root: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`validate` in its own process, for cases that used to hang: a hang fails the test."""
    return subprocess.run([sys.executable, "-m", "living_theories.cli", "validate", str(root)],
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def one_clear_error(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err
    for word in words:
        assert word in err, err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder and its content (the tool's own .cache left out)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(folder).parts}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".tmp" in p.name or p.name.endswith(".old")]


# --- What validate accepts, the build builds --------------------------------------------------


def test_latex_pylatexenc_cannot_decode_is_built_as_plain_text(project, cli, tmp_path):
    # senge2015 is shown on the public site (a substantive theory's reference)
    edit(project / "references.bib", "title = {The Dawn of System Leadership}",
         "title = {The Dawn \\href{https://example.org}{of System} " + "{" * 400 + "Leadership"
         + "}" * 400 + "}")
    assert cli("validate", str(project))[0] == 0
    result = build_site(project, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "The Dawn" in article(tmp_path / "site/references/index.html")


@pytest.mark.parametrize("damage", ["{}", "[1]", '{"entries": 5, "groups": [[1]]}'])
def test_a_damaged_citations_cache_is_ignored(project, tmp_path, damage):
    assert build_site(project, tmp_path / "first").returncode == 0
    caches = list((project / ".cache/living-theories").glob("citations-*.json"))
    assert caches
    for cache in caches:
        cache.write_text(damage)
    result = build_site(project, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert article(tmp_path / "site/references/index.html") == \
        article(tmp_path / "first/references/index.html")


def test_an_id_too_long_for_a_file_name_is_an_error(project, cli):
    long_id = "p" * 5000
    edit(project / "evidence/sources.yaml", "id: p1\n", f"id: {long_id}\n")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "evidence/sources.yaml:2:", "5,000 characters long",
                    "at most 100")


def lock_entry(**change: object):
    def do(data: dict) -> None:
        data["versions"]["demo/v1"].update(change)
    return do


@pytest.mark.parametrize("damage", [
    lock_entry(references=[1]), lock_entry(references={"pawson1997": 5}),
    lock_entry(released_as=5), lock_entry(released_as={"theory_title": "T", "authors": [1]}),
    lock_entry(date=5), lock_entry(hash=None),
    lambda data: data["versions"].update({"nonsense": {"hash": "x"}}),
    lambda data: data.update(versions=[1]),
], ids=["references-list", "reference-hash-number", "released-as-number", "author-number",
        "date-number", "no-hash", "bad-key", "versions-list"])
def test_a_malformed_lock_entry_is_explained(project, cli, damage):
    lock = project / "living-theories.lock"
    data = json.loads(lock.read_text())
    damage(data)
    lock.write_text(json.dumps(data, indent=2))
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "living-theories.lock", "the lock file is damaged",
                    "git checkout living-theories.lock")


def test_the_build_reports_a_malformed_lock_in_one_line(project, tmp_path):
    lock = project / "living-theories.lock"
    data = json.loads(lock.read_text())
    data["versions"]["demo/v1"]["references"] = [1]
    lock.write_text(json.dumps(data, indent=2))
    result = build_site(project, tmp_path / "site")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "the lock file is damaged" in result.stderr


# --- A message, not an internal error ----------------------------------------------------------


@pytest.mark.parametrize("text, line", [
    ("sources: " + "[" * 3000 + "]" * 3000 + "\n", 1),
    ("sources:\n" + "".join("  " * i + "-\n" for i in range(1, 3000)), 101),
], ids=["flow", "block"])
def test_yaml_nested_thousands_deep_is_an_error_at_its_line(project, cli, text, line):
    (project / "evidence/deep.yaml").write_text(text)
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, f"evidence/deep.yaml:{line}:", "nested more than 100 levels")


def folder_instead(path: str):
    def do(root: Path) -> None:
        (root / path).unlink()
        (root / path).mkdir()
    return do


def file_instead(path: str):
    def do(root: Path) -> None:
        shutil.rmtree(root / path)
        (root / path).write_text("x")
    return do


@pytest.mark.parametrize("change, named, words", [
    (folder_instead("references.bib"), "references.bib: ", "this is a folder"),
    (folder_instead(V2), f"{V2}: ", "this is a folder"),
    (folder_instead("theories/demo/theory.yaml"), "theories/demo/theory.yaml: ",
     "this is a folder"),
    (folder_instead("living-theories.lock"), "living-theories.lock: ", "this is a folder"),
    (file_instead("evidence"), "evidence: ", "this is a file, but a folder belongs here"),
    (file_instead("theories"), "theories: ", "this is a file, but a folder belongs here"),
    (file_instead("theories/demo"), "theories/demo: ", "a theory's folder belongs here"),
], ids=["bib", "version", "theory", "lock", "evidence", "theories", "theory-folder"])
def test_a_folder_where_a_file_belongs_or_the_reverse_is_named(project, cli, change, named,
                                                                words):
    change(project)
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, named, words, "1 problem found")


def test_a_csv_cell_over_pythons_limit_is_reported_by_row(project, cli, tmp_path):
    table = tmp_path / "big.csv"
    table.write_text("theory,version,cmoc_id,context,mechanism_resource,mechanism_reasoning,"
                     "outcome\nnew,1,new-1,\"" + "x" * 140_000 + "\",r,m,o\n")
    before = snapshot(project)
    code, _, err = cli("import-cmocs", str(table), "--dir", str(project))
    one_clear_error(code, err, "big.csv: row 2:", "longer than 131,072 characters")
    assert snapshot(project) == before


# --- The file system fails while writing ------------------------------------------------------


class _Full(io.RawIOBase):
    """A file being written on a full disk: half of the first write lands, then ENOSPC."""

    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        self.handle.write(bytes(data)[: len(data) // 2] if not isinstance(data, str)
                          else data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def close(self):
        self.handle.close()


@pytest.fixture
def failing_disk(monkeypatch):
    """`arm(error, folder, names)`: from now on, writing a file in `folder` (whose name
    contains one of `names`, if given) fails with `error`: ENOSPC after half the data (a full
    disk), any other at once (EROFS, EACCES: a read-only folder, as the root user who runs
    the tests here cannot make one with chmod)."""
    real_open, real_os_open, real_mkdir = io.open, os.open, os.mkdir

    def arm(error: int, folder: Path, names: tuple[str, ...] = ()) -> None:
        base = str(folder.resolve())

        def ours(file) -> bool:
            name = os.readlink(f"/proc/self/fd/{file}") if isinstance(file, int) \
                else os.path.abspath(os.fspath(file))
            return (name.startswith(base + os.sep) and ".cache" not in name
                    and (not names or any(n in os.path.basename(name) for n in names)))

        def fail(file) -> OSError:
            return OSError(error, os.strerror(error), str(file))

        def fake_open(file, mode="r", *args, **kwargs):
            if any(c in mode for c in "wax+") and ours(file):
                if error != errno.ENOSPC:
                    raise fail(file)
                return _Full(real_open(file, mode, *args, **kwargs))
            return real_open(file, mode, *args, **kwargs)

        def fake_os_open(file, flags, *args, **kwargs):
            if flags & os.O_CREAT and error != errno.ENOSPC and ours(file):
                raise fail(file)
            return real_os_open(file, flags, *args, **kwargs)

        def fake_mkdir(file, *args, **kwargs):
            if error != errno.ENOSPC and ours(file):
                raise fail(file)
            return real_mkdir(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", fake_open)
        monkeypatch.setattr("builtins.open", fake_open)
        monkeypatch.setattr(os, "open", fake_os_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)

    return arm


ERRORS = [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"),
          (errno.EACCES, "permission")]
ERROR_IDS = ["disk-full", "read-only", "no-permission"]


@pytest.mark.parametrize("error, words", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("names", [(), ("living-theories.lock",)], ids=["first", "lock"])
def test_release_on_a_failing_disk_changes_nothing(project, cli, failing_disk, error, words,
                                                   names):
    before = snapshot(project)
    failing_disk(error, project, names)
    code, _, err = cli("release", "demo", "--dir", str(project))
    one_clear_error(code, err, words, "Nothing was released")
    assert snapshot(project) == before and leftovers(project) == []


# (openpyxl leaves its half-written zip file to the garbage collector, which warns)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("error, words", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_cmocs_on_a_failing_disk_leaves_the_old_file(project, cli, tmp_path,
                                                            failing_disk, error, words, suffix):
    out = tmp_path / "out" / f"cmocs{suffix}"
    out.parent.mkdir()
    out.write_bytes(b"the previous export")
    failing_disk(error, out.parent)
    code, _, err = cli("export-cmocs", str(out), "--dir", str(project))
    one_clear_error(code, err, words)
    assert out.read_bytes() == b"the previous export" and leftovers(out.parent) == []


@pytest.mark.parametrize("error, words", ERRORS, ids=ERROR_IDS)
def test_export_markdown_on_a_failing_disk_leaves_no_half_export(project, cli, tmp_path,
                                                                 failing_disk, error, words):
    out = tmp_path / "exports" / "site"
    assert cli("export-markdown", str(out), "--dir", str(project))[0] == 0
    before = snapshot(out)
    failing_disk(error, out.parent, () if error == errno.ENOSPC else ("tmp",))
    code, _, err = cli("export-markdown", str(out), "--dir", str(project))
    one_clear_error(code, err, words)
    assert snapshot(out) == before and leftovers(out.parent) == []


def cmoc_table(path: Path, theories: list[str]) -> Path:
    rows = [f"{t},1,{t}-one,a context,a resource,a reasoning,an outcome" for t in theories]
    path.write_text("theory,version,cmoc_id,context,mechanism_resource,mechanism_reasoning,"
                    "outcome\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("error, words", ERRORS, ids=ERROR_IDS)
def test_import_cmocs_is_all_or_nothing_when_a_later_file_fails(project, cli, tmp_path,
                                                                failing_disk, error, words):
    table = cmoc_table(tmp_path / "cmocs.csv", ["aaa", "bbb"])
    before = snapshot(project)
    failing_disk(error, project / "theories", ("v1.yaml",) if error == errno.ENOSPC
                 else ("bbb",))
    code, _, err = cli("import-cmocs", str(table), "--dir", str(project))
    one_clear_error(code, err, words, "Nothing was written")
    assert snapshot(project) == before and leftovers(project) == []
    assert not (project / "theories/aaa").exists()


def test_import_cmocs_refuses_when_a_file_stands_where_a_theory_folder_goes(project, cli,
                                                                          tmp_path):
    (project / "theories/bbb").write_text("in the way")
    table = cmoc_table(tmp_path / "cmocs.csv", ["aaa", "bbb"])
    code, _, err = cli("import-cmocs", str(table), "--dir", str(project))
    one_clear_error(code, err, "theories/bbb")
    assert not (project / "theories/aaa").exists()


# --- Hangs -------------------------------------------------------------------------------------


def alias_bomb(indent: str) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "".join(f"{indent}{line}\n" for line in lines)


@pytest.mark.parametrize("file, text, line", [
    ("evidence/bomb.yaml", "evidence:\n  - id: zz\n    unknown:\n" + alias_bomb(" " * 6), 8),
    ("evidence/bomb.yaml", "unknown:\n" + alias_bomb("  "), 6),
], ids=["in-a-record", "top-level"])
def test_an_alias_bomb_is_an_error_not_a_hang(project, file, text, line):
    (project / file).write_text(text)
    result = validate_apart(project, timeout=30)
    one_clear_error(result.returncode, result.stderr, f"{file}:{line}:", "aliases")


@pytest.mark.parametrize("make, words", [
    (lambda p: os.mkfifo(p / "evidence/pipe.yaml"), "evidence/pipe.yaml: this is not an "
     "ordinary file"),
    (lambda p: os.symlink("/dev/zero", p / "evidence/zero.yaml"),
     "evidence/zero.yaml: this is a link to '/dev/zero', outside the project"),
    (lambda p: ((p / "references.bib").unlink(), os.symlink("/dev/zero", p / "references.bib")),
     "references.bib: this is a link to '/dev/zero'"),
    (lambda p: ((p / V2).unlink(), os.mkfifo(p / V2)), f"{V2}: this is not an ordinary file"),
], ids=["fifo", "dev-zero", "bib-dev-zero", "version-fifo"])
def test_only_regular_files_are_read(project, make, words):
    make(project)
    result = validate_apart(project, timeout=30)
    one_clear_error(result.returncode, result.stderr, words)


def test_a_link_leading_outside_the_project_is_an_error(project, tmp_path, cli):
    secret = tmp_path / "elsewhere.yaml"
    secret.write_text((project / "evidence/sources.yaml").read_text())
    (project / "evidence/sources.yaml").unlink()
    os.symlink(secret, project / "evidence/sources.yaml")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "evidence/sources.yaml: this is a link to", "outside the project")


def test_a_folder_linked_from_outside_the_project_is_not_read(project, tmp_path, cli):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(project / "evidence", elsewhere)
    os.symlink(elsewhere, project / "evidence")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "evidence: this is a link to", "1 problem found")


def test_a_link_inside_the_project_is_read(project, cli):
    shared = project / "evidence/shared"
    shared.mkdir()
    (project / "evidence/sources.yaml").rename(shared / "sources.txt")
    os.symlink(shared / "sources.txt", project / "evidence/sources.yaml")
    assert cli("validate", str(project))[0] == 0


# --- BibTeX that was read wrongly ---------------------------------------------------------------


def test_a_bibtex_field_missing_its_comma_is_an_error(project, cli):
    edit(project / "references.bib", "title = {The Dawn of System Leadership},",
         "title = {The Dawn of System Leadership}")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "references.bib:11: a comma is missing after the field 'title' "
                    "of 'senge2015', so 'year' was read as part of it")


def test_a_bibtex_entry_without_a_key_is_an_error(project, cli):
    with (project / "references.bib").open("a") as bib:
        bib.write("\n@book{,\n  title = {No key},\n  year = {2000}\n}\n")
    text = (project / "references.bib").read_text()
    line = text[: text.index("@book{,")].count("\n") + 1
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, f"references.bib:{line}: this @book entry has no key")


# --- Messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x7f", "\x9b"])
def test_control_characters_get_a_line_and_no_follow_on_errors(project, cli, char):
    edit(project / "evidence/interviews.yaml", "source: p1", f"source: p{char}1")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "evidence/interviews.yaml:3: the file contains an invisible "
                    f"control character (U+{ord(char):04X}) at column 14", "1 problem found")


@pytest.mark.parametrize("tagged, words", [
    ("!!timestamp refined", "cannot be read as '!!timestamp'"),
    ("!!int refined", "cannot be read as '!!int'"),
    ("!!map [a]", "expected a mapping node"),
    ("!!set [a]", "expected a mapping node"),
])
def test_a_value_its_yaml_tag_cannot_make_is_an_error_at_its_line(project, cli, tagged,
                                                                  words):
    edit(project / V2, "stage: refined", f"stage: {tagged}")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, f"{V2}:1:", words)


def test_a_yaml_set_is_named_as_a_set(project, cli):
    edit(project / "theories/demo/theory.yaml", "title: Relationships build trust",
         "title: !!set {a, b}")
    code, _, err = cli("validate", str(project))
    one_clear_error(code, err, "theories/demo/theory.yaml:1: this should be text, but is a set",
                    "1 problem found")
    assert "but is text" not in err


# --- Workers die with their parent ----------------------------------------------------------------

# A parent whose workers block forever: it waits for them until it is killed.
_BLOCKED_PARENT = """
import sys, threading
from living_theories import ahead, reading
ahead.MIN_BYTES, ahead.MIN_PAGES = 0, 0
def block(*args):
    threading.Event().wait()
if sys.argv[1] == "parse":
    reading.parse_quietly = block
    from living_theories.cli import main
    main(["validate", sys.argv[2]])
else:
    rendered = ahead.rendering([("first", block), ("last", block)])  # (the worker's: the last)
    if rendered.result("first") is None:  # (this process makes it)
        block()
"""


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("kind", ["parse", "render"])
def test_workers_die_when_their_parent_is_killed(project, kind):
    parent = subprocess.Popen([sys.executable, "-c", _BLOCKED_PARENT, kind, str(project)],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: set[int] = set()
        while not workers and parent.poll() is None:  # until the workers are forked
            workers = children(parent.pid)
        assert workers, "no worker was started"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        pass  # (the kernel kills them at once; this only waits for it to be done)
    left = [w for w in workers if alive(w)]
    for worker in left:  # not to leave them running if the test fails
        os.kill(worker, signal.SIGKILL)
    assert left == [], "workers kept running after their parent was killed"
