"""The parse cache in `.cache/living-theories/`: unchanged files are not parsed again, and
everything else (an edit, a damaged cache, a file with problems) is read as if it were not there.

Each "run" below forgets what the process kept in memory, like a new `living-theories validate`.
Project files are dated in the past: a file modified just before the cache was written is not
trusted (see cache.py), which is also tested.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import build_site
from living_theories import ahead, reading
from living_theories import cache as cache_module
from living_theories.cache import ParseCache
from living_theories.citations import bibtex
from living_theories.problems import Problems
from living_theories.project import CACHE, load_project

EV = "evidence/interviews.yaml"
V2 = "theories/demo/v2.yaml"


def backdate(root: Path, seconds: int = 600) -> None:
    """Date every project file `seconds` ago (older than any cache written from now on)."""
    when = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file() and CACHE.parts[0] not in path.relative_to(root).parts:
            os.utime(path, (when, when))


def run(root: Path) -> tuple[str, list[str]]:
    """A new process's `validate`: nothing kept in memory, only what is on disk."""
    reading._PARSED.clear()
    bibtex._READ.clear()
    project, problems = load_project(root)
    return project.summary(), [p.format() for p in problems.resolved()]


@pytest.fixture
def project(project: Path) -> Path:
    """The minimal project, without any cache copied along, dated in the past."""
    cache_dir = project / CACHE
    for old in cache_dir.glob("*") if cache_dir.is_dir() else []:
        old.unlink()
    backdate(project)
    return project


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch):
    """After this, any YAML or BibTeX file that is really parsed fails the test."""
    def forbid():
        def fail(path, *args, **kwargs):
            raise AssertionError(f"{path} was parsed again")
        monkeypatch.setattr(reading, "_parse_yaml", fail)
        monkeypatch.setattr(bibtex, "_load_bibliography", fail)
    return forbid


def cache_file(root: Path) -> Path:
    return root / CACHE / ParseCache.NAME


def test_unchanged_files_are_read_from_the_cache(project, no_parsing):
    first = run(project)
    assert first[1] == [] and cache_file(project).is_file()
    no_parsing()
    assert run(project) == first


def test_an_edited_file_is_parsed_again(project, no_parsing):
    run(project)
    path = project / EV
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("We trust each other", "We trust one another"),
                    encoding="utf-8")
    summary, problems = run(project)
    assert problems == []
    assert "We trust one another" in str(reading._PARSED[str(path)][1])
    backdate(project)
    run(project)  # the edit is kept in the cache once it is old enough to be trusted
    no_parsing()
    run(project)
    assert "We trust one another" in str(reading._PARSED[str(path)][1])


def test_an_edit_of_the_same_size_and_time_is_seen(project):
    run(project)
    path = project / EV
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("every week", "every wEEk"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as if the editor kept it
    assert path.stat().st_size == before.st_size
    run(project)
    assert "every wEEk" in str(reading._PARSED[str(path)][1])


def test_a_file_modified_just_now_is_checked_by_its_content(project, monkeypatch):
    run(project)
    path = project / EV
    text = path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")  # mtime: now
    run(project)  # kept, but its time stamp too recent to be trusted by the next run
    kept = reading.stamp(path)
    path.write_text(text.replace("every week", "every wEEk"), encoding="utf-8")
    # An edit within the same tick of the clock: the same size and time stamp as the kept one.
    same = {str(path): kept}
    for module in (reading, cache_module):
        real_stamp = module.stamp
        monkeypatch.setattr(module, "stamp",
                            lambda p, real=real_stamp: same.get(str(p)) or real(p))
    run(project)
    assert "every wEEk" in str(reading._PARSED[str(path)][1])


def test_a_fresh_checkout_is_recognised_by_content(project, no_parsing):
    """Every file's times are new (a clone, or a publishing workflow that keeps the cache
    between runs), their content is not: nothing is parsed again."""
    first = run(project)
    backdate(project, seconds=300)
    no_parsing()
    assert run(project) == first
    run(project)  # (and their new times are kept: the content is not read again)


@pytest.mark.parametrize("damage", [
    lambda blob: b"",
    lambda blob: blob[: len(blob) // 2],
    lambda blob: blob[:-40] + bytes(40),
    lambda blob: blob[:100] + bytes([blob[100] ^ 1]) + blob[101:],
    lambda blob: b"not a cache at all",
])
def test_a_damaged_cache_is_ignored_and_rewritten(project, damage):
    first = run(project)
    file = cache_file(project)
    file.write_bytes(damage(file.read_bytes()))
    assert run(project) == first
    assert ParseCache(project / CACHE, project)._load()  # readable again


def test_what_a_run_killed_while_writing_the_cache_left_is_removed(project, no_parsing):
    first = run(project)
    left = project / CACHE / f".{cache_file(project).name}.dead0bad.tmp"  # (files.py's name)
    left.write_bytes(cache_file(project).read_bytes()[:50])
    no_parsing()
    assert run(project) == first  # (nothing to write again)
    assert not left.exists() and cache_file(project).is_file()


def test_a_cache_from_other_readers_is_ignored(project, monkeypatch):
    run(project)
    parsed: list[Path] = []
    real = reading._parse_yaml
    monkeypatch.setattr(reading, "_parse_yaml",
                        lambda p, problems: parsed.append(p) or real(p, problems))
    monkeypatch.setattr(cache_module, "_salt", lambda: b"another version of PyYAML")
    run(project)
    assert project / EV in parsed


def break_two_files(project: Path) -> None:
    """A key twice in v2.yaml, an entry twice in references.bib."""
    path = project / V2
    path.write_text(path.read_text(encoding="utf-8").replace(
        "stage: refined", "stage: refined\nstage: final"), encoding="utf-8")
    with (project / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n@book{pawson1997,\n  title = {Twice},\n  year = {1997}\n}\n")
    backdate(project)


def test_a_file_with_problems_is_not_cached_and_its_problems_show_every_time(project):
    break_two_files(project)
    first = run(project)
    assert any("v2.yaml:2: the key 'stage' appears twice" in p for p in first[1])
    assert any("references.bib" in p and "pawson1997" in p for p in first[1])
    assert run(project) == first
    entries = ParseCache(project / CACHE, project)._load()
    assert "yaml:evidence/interviews.yaml" in entries
    assert "yaml:theories/demo/v2.yaml" not in entries
    assert not any(key.startswith("bib:") for key in entries)


def test_validation_errors_of_a_cached_file_keep_their_line(project, no_parsing):
    path = project / V2
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    label: CMOC 1\n", "    lable: CMOC 1\n"), encoding="utf-8")
    backdate(project)
    first = run(project)
    assert any("v2.yaml:" in p and "unknown field 'lable'" in p for p in first[1])
    no_parsing()  # the YAML is clean, so it is cached; only the model rejects it
    assert run(project) == first


def test_deleted_files_drop_out_of_the_cache(project):
    run(project)
    (project / "evidence/consultation.yaml").unlink()
    run(project)
    entries = ParseCache(project / CACHE, project)._load()
    assert "yaml:evidence/consultation.yaml" not in entries
    assert "yaml:evidence/interviews.yaml" in entries


def test_nothing_is_written_outside_a_project(tmp_path):
    (tmp_path / "references.bib").write_text("@book{a, title = {A}, year = {2000}}\n")
    load_project(tmp_path)
    assert not (tmp_path / ".cache").exists()


TRICKY = """\
anchors:
  base: &base {a: 1, b: [x, y]}
  merged: {<<: *base, b: 2, c: 3}
  again: *base
scalars: [yes, No, on, off, ~, null, '', 0x1F, 0o17, 017, 0b101, 1_000, 1:30, -1:30:00,
          1.5e3, .inf, -.Inf, .NaN, 2024-01-26, 2024-01-26 10:00:00, '007', 1e3, +12, 3.]
text: |
  a block
  of text
folded: >
  folded
  text
set: !!set {a, b}
binary: !!binary aGVsbG8=
keys: {1: int, 1.5: float, true: bool, null: none}
pairs: !!pairs [a: 1, b: 2]
omap: !!omap [a: 1, b: 2]
str: !!str 123
unicode: "caf\\u00e9 \\U0001F600"
"""


def same(a, b) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_cached_yaml_is_the_same_data_as_parsed_yaml(tmp_path):
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    backdate(tmp_path)
    expected = yaml.load(TRICKY, Loader=reading._Loader)
    assert expected["scalars"][18] == "2024-01-26"  # dates stay text
    store = ParseCache(tmp_path / "cache", tmp_path)
    parsed = reading.parse_yaml(path, Problems(tmp_path), store)
    assert same(parsed, expected)
    store.save()
    reading._PARSED.clear()
    again = ParseCache(tmp_path / "cache", tmp_path)
    cached = reading.parse_yaml(path, Problems(tmp_path), again)
    assert again.hits == 1
    assert same(cached, expected)
    assert cached["anchors"]["again"] is cached["anchors"]["base"]  # an alias stays one object


def test_data_marshal_cannot_keep_is_just_not_cached(tmp_path):
    path = tmp_path / "dated.yaml"
    path.write_text("when: !!timestamp 2024-01-26\n", encoding="utf-8")
    backdate(tmp_path)
    store = ParseCache(tmp_path / "cache", tmp_path)
    data = reading.parse_yaml(path, Problems(tmp_path), store)
    assert str(data["when"]) == "2024-01-26"
    store.save()
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("text", [
    "a: 1\nb: [1, 2.5, true, null, ~]\nc: {x: y}\nd: 2024-01-26\ne: 'yes'\nf: yes\n",
    "a: &x [1]\nb: *x\n",                       # an alias
    "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",  # a merge key
    "a: !!str 12\nb: !!int '3'\n",              # explicit tags
    "a: &r\n  b: *r\n",                         # an anchor inside itself
    "- a\n- b: c\n",
    "",
    "a:\nb: ''\nc: 0o17\nd: 0x1F\ne: 1_000\nf: .inf\ng: -.5\nh: No\ni: \"true\"\n",
    "1: a\n1: b\nx: !!map {y: 1}\nz: !!seq [1]\n",  # duplicate numbers; explicit tags
    "a: ! 12\nb: !!float 1\n",                # non-specific and other explicit tags
    "--- a\n...\n",
])
def test_the_fast_yaml_path_gives_pyyamls_data(text):
    loader = reading._Loader(text)
    try:
        expected = repr(loader.get_single_data()), [key for key, _ in loader.duplicates]
    finally:
        loader.dispose()
    data, duplicates = reading._plain_data(text)
    assert (repr(data), [key for key, _ in duplicates]) == expected


@pytest.mark.parametrize("text", ["--- a\n--- b\n", "? [a, b]\n: c\n", "a: =\n",
                                  "a: [1\n", "a: *nowhere\n"])
def test_the_fast_yaml_path_fails_as_pyyaml_does(text):
    loader = reading._Loader(text)
    try:
        with pytest.raises(yaml.YAMLError) as expected:
            loader.get_single_data()
    finally:
        loader.dispose()
    with pytest.raises(yaml.YAMLError) as found:
        reading._plain_data(text)
    assert str(found.value) == str(expected.value)


def test_the_fast_yaml_path_still_finds_duplicate_keys():
    data, duplicates = reading._plain_data("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert data == {"a": 1, "b": {"c": 2}}
    assert [(key, mark.line) for key, mark in duplicates] == [("c", 3)]


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch):
    """Parse ahead in worker processes whatever the project's size (see ahead.py)."""
    if ahead.cores() < 2:
        pytest.fail("these tests need a machine with two cores or more")
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    monkeypatch.setattr(ahead, "hits", 0)
    # The browser tests' session keeps a Playwright thread; the workers touch nothing of it.
    monkeypatch.setattr(ahead, "only_thread", lambda: True)


def parsed_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files this process parses itself from now on."""
    names: list[str] = []
    def recording(real):
        def record(path, *args, **kwargs):
            names.append(Path(path).name)
            return real(path, *args, **kwargs)
        return record

    monkeypatch.setattr(reading, "_parse_yaml", recording(reading._parse_yaml))
    monkeypatch.setattr(bibtex, "_load_bibliography", recording(bibtex._load_bibliography))
    return names


def test_workers_parse_a_first_run_with_the_same_results(project, workers, monkeypatch):
    monkeypatch.setattr(ahead, "MIN_BYTES", 10**12)  # no workers
    alone = run(project)
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    shutil.rmtree(project / CACHE)
    here = parsed_here(monkeypatch)
    assert run(project) == alone
    files = len(list(project.rglob("*.yaml"))) + 1  # and the .bib
    assert here == [] and ahead.hits == files
    assert run(project) == alone and ahead.hits == files  # all from the cache now


def test_files_with_problems_are_parsed_again_and_reported_as_without_workers(
        project, workers, monkeypatch):
    break_two_files(project)
    monkeypatch.setattr(ahead, "MIN_BYTES", 10**12)  # no workers
    alone = run(project)
    assert any("the key 'stage' appears twice" in p for p in alone[1])
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    shutil.rmtree(project / CACHE)
    here = parsed_here(monkeypatch)
    assert run(project) == alone
    assert sorted(here) == ["references.bib", "v2.yaml"]  # the rest came from the workers
    assert ahead.hits == len(list(project.rglob("*.yaml"))) - 1


def test_no_workers_while_another_thread_runs(project, monkeypatch):
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    monkeypatch.setattr(ahead, "hits", 0)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        here = parsed_here(monkeypatch)
        run(project)
    finally:
        stop.set()
        other.join()
    assert ahead.hits == 0 and "v2.yaml" in here


def test_the_new_sites_publishing_workflow_keeps_the_cache():
    """The workflow `living-theories new` writes restores the last run's cache before it
    validates and builds (the first, cold build is what every push would run otherwise)."""
    from living_theories.scaffold import TEMPLATE

    workflow = yaml.safe_load((TEMPLATE / "dot-github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    kept = [n for n, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache@")
            and s["with"]["path"] == CACHE.as_posix()]
    validate = next(n for n, s in enumerate(steps) if s.get("run") == "living-theories validate")
    assert kept and kept[0] < validate
    assert steps[kept[0]]["with"]["restore-keys"]  # (the latest cache, whatever its commit)


def test_a_build_keeps_its_compiled_templates_in_the_projects_cache(project, tmp_path):
    """(so that a publishing workflow keeping the cache keeps them too)"""
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    assert list((project / CACHE / "templates").rglob("__jinja2_*.cache"))
