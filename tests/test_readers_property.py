"""Property-based tests of the readers (Hypothesis): whatever a version file, an evidence file
or references.bib holds - any bytes, any YAML structure, any edit of a valid file - `validate`
gives either a valid project (exit 0) or clear `path:line: what - how` errors (exit 1), never
a traceback, an internal error or a hang; and a bibliography it accepts can be formatted.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from conftest import PROJECTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from living_theories.cli import main

VERSION, EVIDENCE, BIB = "theories/demo/v2.yaml", "evidence/interviews.yaml", "references.bib"
SECONDS = 10  # for one example: a hang fails the test
# A problem: "file:line: what is wrong - how to fix it" (a whole-file problem has no line)
PROBLEM = re.compile(r"^(warning: )?(?P<file>[^\s:][^:]*?)(:(?P<line>\d+))?: \S.* - \S.*$")
SUMMARY = re.compile(r"^(\d+ problems? found\.|Some files could not be read at all: .*)$")
FILES_WITHOUT_LINES = ("this is a folder", "released, but its file is missing")

# (more for a longer campaign: LIVING_THEORIES_EXAMPLES=2000 python3 -m pytest this file)
EXAMPLES = int(os.environ.get("LIVING_THEORIES_EXAMPLES", "150"))
RUNS = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=SECONDS), derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Hang(f"validate took more than {SECONDS} s")


def validate_with(rel: str, content: bytes) -> tuple[int, str]:
    """`validate` of a copy of the minimal project whose file `rel` holds `content` (a new
    folder each time: the readers' in-memory caches key files by path and time stamps)."""
    root = Path(tempfile.mkdtemp(prefix="lt-prop-")) / "project"
    shutil.copytree(PROJECTS / "minimal", root)
    (root / rel).write_bytes(content)
    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["validate", str(root)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(root.parent, ignore_errors=True)
    return code, err.getvalue()


OUTCOMES: dict[int, int] = {}  # exit code -> examples, for the figures of a campaign


def assert_clear(rel: str, code: int, err: str) -> None:
    OUTCOMES[code] = OUTCOMES.get(code, 0) + 1
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        return
    lines = [line for line in err.splitlines() if line.strip()]
    problems = [line for line in lines if not SUMMARY.match(line)]
    assert problems and SUMMARY.match(lines[-1]) or SUMMARY.match(lines[-2]), err
    for line in problems:
        match = PROBLEM.match(line)
        assert match, f"not a 'file:line: what - how' line: {line!r}"
        if match["file"] == rel and not any(words in line for words in FILES_WITHOUT_LINES):
            assert match["line"], f"no line number: {line!r}"


# --- Inputs ---------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT


def yaml_structures(fields: list[str]) -> st.SearchStrategy[bytes]:
    """Any YAML structure, with the file's own field names as likely keys."""
    keys = st.sampled_from(fields) | TEXT
    data = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(keys, inner, max_size=5), max_leaves=25)
    top = st.dictionaries(keys, data, max_size=6) | data
    return st.builds(lambda value, flow: yaml.safe_dump(value, default_flow_style=flow,
                                                        allow_unicode=True).encode(),
                     top, st.booleans())


# Bits of YAML that change how a file is read, and control characters.
YAML_BITS = ["&a ", "*a", "!!set ", "!!binary ", "!!timestamp ", "!!python/object ", "? ",
             "!!int ", "!!float ", "!!bool ", "!!map ", "!!omap ", "!!pairs ", "!x ",
             "<<: *a\n", "---\n", "...\n", "%YAML 1.1\n", ": ", "- ", "[", "]", "{", "}",
             ",", "'", '"', "#", "|\n", ">\n", "\t", "\n", "  ", "\x00", "\x1b", "\ufeff"]
BIB_BITS = ["@book{", "@article{k2,", "@string{s = {x}}", "@comment{", "@preamble{", "title",
            " = ", "{", "}", ",", '"', " # ", "\\", "\\href{a}{b}", "\\'{e}", "$x^2$", "\n",
            "author = {A and {B C} and von D, Jr, E}", "year = 2015", "%", "@", "="]


def edits(original: bytes, bits: list[str]) -> st.SearchStrategy[bytes]:
    """A valid file with a few places changed: text cut out, or YAML/BibTeX bits put in."""
    @st.composite
    def edited(draw: st.DrawFn) -> bytes:
        text = original.decode()
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 12))
            put = "".join(draw(st.lists(st.sampled_from(bits) | TEXT, max_size=3)))
            text = text[:at] + put + text[at + cut:]
        return text.encode("utf-8", "surrogatepass")
    return edited()


def inputs(rel: str, fields: list[str], bits: list[str]) -> st.SearchStrategy[bytes]:
    original = (PROJECTS / "minimal" / rel).read_bytes()
    return st.one_of(st.binary(max_size=2000), yaml_structures(fields), edits(original, bits))


VERSION_FIELDS = ["stage", "status", "date", "statement", "cmocs", "changes", "dropped", "id",
                  "contexts", "outcomes", "lineage", "from", "relation", "evidence"]
EVIDENCE_FIELDS = ["sources", "evidence", "id", "source", "cmoc", "role", "quote", "kind",
                   "reference", "theory", "context"]


# --- Properties --------------------------------------------------------------------------------


@RUNS
@given(content=inputs(VERSION, VERSION_FIELDS, YAML_BITS))
def test_any_version_file_gives_a_valid_project_or_clear_errors(content):
    assert_clear(VERSION, *validate_with(VERSION, content))


@RUNS
@given(content=inputs(EVIDENCE, EVIDENCE_FIELDS, YAML_BITS))
def test_any_evidence_file_gives_a_valid_project_or_clear_errors(content):
    assert_clear(EVIDENCE, *validate_with(EVIDENCE, content))


@RUNS
@given(content=st.one_of(st.binary(max_size=2000),
                         st.lists(st.sampled_from(BIB_BITS) | TEXT, max_size=40).map(
                             lambda bits: "".join(bits).encode("utf-8", "surrogatepass")),
                         edits((PROJECTS / "minimal" / BIB).read_bytes(), BIB_BITS)))
def test_any_bibliography_gives_a_valid_project_or_clear_errors(content):
    assert_clear(BIB, *validate_with(BIB, content))


@settings(max_examples=200, deadline=timedelta(seconds=SECONDS), derandomize=True,
          database=None)
@given(value=st.lists(st.sampled_from(BIB_BITS) | TEXT, max_size=30).map("".join))
def test_any_bibtex_field_can_be_shown(value):
    """What validate accepts, the build shows: decoding LaTeX and splitting names of any
    field value never fails (pylatexenc fails on some; they are shown plain)."""
    from living_theories.citations.bibtex import Reference
    from living_theories.citations.formatting import csl_item

    ref = Reference("k", "article", {"title": value, "author": value, "editor": value,
                                     "year": value, "pages": value, "journal": value}, 1)
    assert isinstance(ref.field("title"), str)
    ref.names("author")
    csl_item(ref)


def test_the_properties_see_errors_and_valid_projects():
    """The inputs reach both outcomes (a check of the test itself, not of the readers)."""
    original = (PROJECTS / "minimal" / VERSION).read_bytes()
    assert validate_with(VERSION, original)[0] == 0
    code, err = validate_with(VERSION, original.replace(b"stage: refined", b"stage: [x"))
    assert code == 1
    assert_clear(VERSION, code, err)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
