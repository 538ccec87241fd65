"""Word diffs mark only what changed: in the diff command and on history pages; and the
feedback template keeps the meaning of a sign."""

from __future__ import annotations

import csv
import io

from conftest import article, build_site, edit
from living_theories.consultations import feedback_template
from living_theories.history import word_diff
from living_theories.project import load_project


def test_appended_prepended_and_inserted_words_alone_are_marked():
    old = "Collaborative decisions"
    assert word_diff(old, "Collaborative decisions and resolved tensions") == [
        ("equal", "Collaborative decisions "), ("insert", "and resolved tensions")]
    assert word_diff("decisions", "Collaborative decisions") == [
        ("insert", "Collaborative "), ("equal", "decisions")]
    assert word_diff(old, "Collaborative, shared decisions") == [
        ("equal", "Collaborative"), ("insert", ", shared "), ("equal", "decisions")]
    assert word_diff("Collaborative decisions and resolved tensions", old) == [
        ("equal", "Collaborative decisions "), ("delete", "and resolved tensions")]
    assert word_diff("A B", "A") == [("equal", "A "), ("delete", "B")]
    assert word_diff("a clear", "a shared") == [
        ("equal", "a "), ("delete", "clear "), ("insert", "shared")]


def test_new_text_is_exactly_the_equal_and_inserted_words():
    pairs = [("Leaders build trust", "Leaders quickly build trust"),
             ("histories here", "histories; funding here"),
             ("a clear vision", "a shared, clear vision for all")]
    for old, new in pairs:
        segments = word_diff(old, new)
        assert "".join(t for op, t in segments if op != "delete") == new


def test_cli_diff_and_history_page_mark_only_the_appended_words(project, cli, tmp_path):
    code, out, _ = cli("diff", "demo", "1", "2", "--dir", str(project), "--colour", "never")
    assert code == 0
    assert "Outcome: Collaborative decisions {+and resolved tensions+}" in out
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      include_drafts: true\n")  # v2 is a draft
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = article(tmp_path / "site/theories/demo/history/index.html")
    assert "<ins>and resolved tensions</ins>" in page
    assert "<del>decisions" not in page and "<ins>decisions" not in page


def test_feedback_template_keeps_the_meaning_of_an_absent_negative_cmoc(project):
    loaded, _ = load_project(project)
    text = feedback_template(loaded.graph, loaded.graph.corpus.sources["round-2"])
    rows = {r["cmoc"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["demo-visibility"]["cmoc_summary"] == (
        "M resource: (M−) Leaders are visible to the workforce; O: (O−) Lower morale")
    assert "−)" not in rows["demo-trust"]["cmoc_summary"]  # no sign stated: unmarked
    assert "+)" not in rows["demo-trust"]["cmoc_summary"]
