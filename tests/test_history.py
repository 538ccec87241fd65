"""Version history and citable versions: diffs, lineage, cite files, and nothing lost."""

from __future__ import annotations

import filecmp
import html
import json
import re
import shutil
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import yaml
from conftest import REPO, article, build_site, copy_repo_project, edit
from living_theories.history import diff_versions, word_diff
from living_theories.project import load_project

DATA = Path(__file__).parent / "data"


def test_word_diff():
    assert word_diff("a clear vision", "a shared vision") == [
        ("equal", "a "), ("delete", "clear "), ("insert", "shared "), ("equal", "vision")]
    assert word_diff("histories", "histories; funding") == [
        ("equal", "histories"), ("insert", "; funding")]
    assert word_diff("same", "same") == [("equal", "same")]
    assert word_diff("", "new text") == [("insert", "new text")]


def test_diff_of_two_versions_cmoc_by_cmoc(project):
    loaded, problems = load_project(project)
    assert not problems
    theory = loaded.graph.theories["demo"]
    d = diff_versions(loaded.graph, theory, theory.versions[0], theory.versions[1])
    by_id = {c.id: c for c in d.cmocs}
    assert by_id["demo-trust"].relation == "refined"
    context = next(e for e in by_id["demo-trust"].elements if e.name == "Context")
    assert ("insert", "; funding and governance") in context.segments
    assert by_id["demo-visibility"].relation == "new"
    assert by_id["demo-data"].relation == "dropped"
    assert by_id["demo-data"].reason == "Lacked evidence."
    assert d.changes[0].summary.startswith("Context widened")


def test_cli_diff(project, cli):
    code, out, _ = cli("diff", "demo", "1", "2", "--dir", str(project), "--colour", "never")
    assert code == 0
    assert "version 1 (initial) -> version 2 (refined)" in out
    assert "CMOC demo-trust (CMOC 1): refined" in out
    assert "{+; funding and governance+}" in out
    assert "CMOC demo-data (CMOC 2): dropped" in out and "Why: Lacked evidence." in out
    assert "\x1b[" not in out
    code, out, _ = cli("diff", "demo", "2", "1", "--dir", str(project), "--colour", "always")
    assert code == 0 and "\x1b[32m" in out  # order does not matter; colour on request
    code, _, err = cli("diff", "demo", "1", "7", "--dir", str(project))
    assert code == 1 and "has no version 7" in err


@pytest.fixture(scope="module")
def review_site(tmp_path_factory) -> Path:
    from conftest import PROJECTS

    root = tmp_path_factory.mktemp("review")
    shutil.copytree(PROJECTS / "minimal", root / "project")
    run = build_site(root / "project", root / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    return root / "site"


def test_history_page(review_site):
    history = article(review_site / "theories/demo/history/index.html")
    assert "Timeline" in history and "5 key-informant interviews" in html.unescape(history)
    source = re.search(r'<pre class="lt-mermaid"[^>]*>(.*?)</pre>', history, re.S).group(1)
    assert "refined" in source and "dropped" in source and "new: " in source
    assert "<ins>" in history and "<del>" in history
    assert 'href="../compare/v1-v2/"' in history
    compare = article(review_site / "theories/demo/compare/v1-v2/index.html")
    assert "version 1 compared with version 2" in compare


def test_released_version_page_has_a_cite_box_and_files(bundled_site):
    page = article(bundled_site / "theories/being/v2/index.html")
    lock = json.loads((REPO / "living-theories.lock").read_text())
    assert lock["versions"]["being/v2"]["hash"] in page
    assert "Knight, L., Neiva Ganga, R. and Tucker, M. (2024) <i>Being, version 2</i>" in page
    assert "Superseded: this is version 2" in page
    for name in ("cite.bib", "cite.ris", "cite.json", "theory.json"):
        assert f'href="{name}"' in page
    folder = bundled_site / "theories/being/v2"
    bib = bibtexparser.parse_string((folder / "cite.bib").read_text())
    assert not bib.failed_blocks and bib.entries[0].key == "being-v2"
    assert bib.entries[0]["version"] == "2"
    ris = (folder / "cite.ris").read_text()
    assert ris.startswith("TY  - GEN") and "AU  - Neiva Ganga, Rafaela" in ris
    (csl,) = json.loads((folder / "cite.json").read_text())
    assert csl["type"] == "report" and csl["issued"] == {"date-parts": [[2024]]}
    data = json.loads((folder / "theory.json").read_text())
    assert data["format"] == "living-theories/theory-version/1"
    assert data["version"] == 2 and data["stage"] == "refined"
    assert data["content_hash"] == lock["versions"]["being/v2"]["hash"]
    assert [c["id"] for c in data["cmocs"]] == ["being-clear-vision"]
    assert data["cmocs"][0]["lineage"]["relation"] == "not-known"
    assert data["cmocs"][0]["page"] == "cmocs/being-clear-vision/"


def test_latest_version_is_not_superseded_and_index_shows_it(bundled_site):
    latest = article(bundled_site / "theories/being/v3/index.html")
    assert "Superseded" not in latest
    index = article(bundled_site / "theories/being/index.html")
    assert "Version 3" in index and "Cite this version" in index


def test_superseded_versions_name_the_latest_as_canonical(bundled_site):
    page = (bundled_site / "theories/being/v1/index.html").read_text()
    from urllib.parse import urljoin

    href = re.search(r'<link rel="canonical" href="([^"]*)"', page).group(1)
    assert urljoin("http://example.org/theories/being/v1/", href) == \
        "http://example.org/theories/being/v3/"


def test_citation_cff_is_valid(bundled_site):
    schema = json.loads((DATA / "citation-cff-1.2.0.schema.json").read_text())
    cff = yaml.safe_load((bundled_site / "CITATION.cff").read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(cff)]
    assert errors == []
    assert cff["cff-version"] == "1.2.0"
    assert [a["family-names"] for a in cff["authors"]] == ["Knight", "Neiva Ganga", "Tucker"]


def snapshot(site: Path, lock: dict) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every released version's files (bytes) and page articles."""
    files: dict[str, bytes] = {}
    articles: dict[str, str] = {}
    for key in lock["versions"]:
        theory, version = key.split("/")
        folder = site / "theories" / theory / version
        for f in folder.iterdir():
            if f.name == "index.html":
                articles[key] = article(f)
            else:
                files[str(f.relative_to(site))] = f.read_bytes()
    return files, articles


BANNER = re.compile(r'<div class="admonition info">\s*<p class="admonition-title">Superseded.*?'
                    r"</div>\s*", re.S)


def test_nothing_lost_when_a_new_version_is_released(tmp_path, cli):
    project = copy_repo_project(tmp_path / "project")
    run = build_site(project, tmp_path / "before")
    assert run.returncode == 0, run.stderr
    lock = json.loads((project / "living-theories.lock").read_text())
    urls_before = {p.relative_to(tmp_path / "before") for p in (tmp_path / "before").rglob("*")
                   if p.is_file() and p.name != "sitemap.xml.gz"}
    files_before, articles_before = snapshot(tmp_path / "before", lock)

    # A fourth version of Being: version 3 refined, then released.
    v4 = (project / "theories/being/v3.yaml").read_text()
    v4 = v4.replace("status: released", "status: draft").replace(
        "stage: final", "stage: refined-after-consultation")
    v4 = re.sub(r"(?m)^changes:\n(?:  .*\n|\n)*", "", v4)
    (project / "theories/being/v4.yaml").write_text(v4 + "changes:\n  - summary: Reworded "
                                                    "after stakeholder feedback.\n")
    code, out, err = cli("release", "being", "--dir", str(project), "--no-url")
    assert code == 0, err
    # Later still: the theory is renamed and the project gains an author. Released versions
    # keep the title and authors they were released (and cited) with.
    edit(project / "theories/being/theory.yaml", "title: \"Being\"", "title: Being a leader")
    edit(project / "theories/project.yaml", "  - family: Knight\n",
         "  - family: Newcomer\n  - family: Knight\n")
    run = build_site(project, tmp_path / "after")
    assert run.returncode == 0, run.stderr

    urls_after = {p.relative_to(tmp_path / "after") for p in (tmp_path / "after").rglob("*")
                  if p.is_file()}
    assert urls_before <= urls_after, sorted(urls_before - urls_after)[:5]
    files_after, articles_after = snapshot(tmp_path / "after", lock)
    assert files_after == files_before  # byte for byte
    for key, before in articles_before.items():
        after = articles_after[key]
        if key == "being/v3":  # now superseded: gains the banner and nothing else
            assert "Superseded: this is version 3" in after
            assert "Superseded" not in before
            after = BANNER.sub("", after)
        assert after == before, key
    assert (tmp_path / "after/theories/being/v4/index.html").exists()
    assert "Being a leader" in article(tmp_path / "after/theories/being/index.html")


def test_a_reference_cited_by_a_released_version_is_frozen(tmp_path, cli):
    project = copy_repo_project(tmp_path / "project")
    bib = project / "references.bib"
    text = bib.read_text(encoding="utf-8")
    start = text.index("@article{kozlowska2020")
    line = text.count("\n", 0, start) + 1
    # A field no style shows may change (Zotero adds abstracts and keywords).
    bib.write_text(text.replace("@article{kozlowska2020,\n",
                                "@article{kozlowska2020,\n  abstract = {New.},\n"),
                   encoding="utf-8")
    assert cli("validate", str(project))[0] == 0
    bib.write_text(text[:start] + text[start:].replace("title = {", "title = {Corrected ", 1),
                   encoding="utf-8")
    code, out, err = cli("validate", str(project))
    assert code == 1
    assert (f"references.bib:{line}: the reference 'kozlowska2020' has changed since it was "
            "cited by released version being/v2") in err
    assert "add the corrected entry under a new key" in err


def test_two_builds_of_the_same_input_are_identical(tmp_path):
    """Byte for byte, given SOURCE_DATE_EPOCH: the one date in a build is the sitemap's
    <lastmod>, the build date (with site_url set, as on every published site)."""
    project = copy_repo_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "site_url: https://theories.example.org/\n")
    for name, epoch in (("one", "1700000000"), ("two", "1700000000")):
        run = build_site(project, tmp_path / name, env={"SOURCE_DATE_EPOCH": epoch})
        assert run.returncode == 0, run.stderr
    assert "<lastmod>2023-11-14</lastmod>" in (tmp_path / "one/sitemap.xml").read_text()
    compare = filecmp.dircmp(tmp_path / "one", tmp_path / "two")

    def differing(c: filecmp.dircmp, prefix: str = "") -> list[str]:
        out = [prefix + f for f in c.diff_files + c.left_only + c.right_only]
        for name, sub in c.subdirs.items():
            out += differing(sub, prefix + name + "/")
        return out

    # filecmp compares sizes and times first: compare the bytes of every file instead.
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*")
           if p.is_file()}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*")
           if p.is_file()}
    assert one.keys() == two.keys(), differing(compare)
    assert [str(p) for p in one if one[p] != two[p]] == []


def test_a_diff_names_what_changed_and_only_that(project):
    # v2 keeps CMOC 1's elements but adds a narrative; CMOC 2 keeps its words but loses its
    # mechanism and turns negative. A version compared with itself has no change at all.
    (project / "theories/demo/v2.yaml").write_text("""\
stage: refined
status: draft
date: 2024-02-01
statement: Leaders who meet partners often build trust [@pawson1997].
cmocs:
  - id: demo-trust
    label: CMOC 1
    narrative: Meeting often, leaders come to trust each other.
    contexts: [Organisations with different histories]
    mechanism_resources: [Frequent face-to-face meetings]
    mechanism_reasonings: [Trust and understanding]
    outcomes: [Collaborative decisions]
    lineage: {relation: kept, from: [demo-trust]}
  - id: demo-data
    label: CMOC 2
    mechanism: absent
    outcome: negative
    contexts: [Population health management]
    mechanism_resources: [Shared digital intelligence]
    outcomes: [Better targeting]
    lineage: {relation: kept, from: [demo-data]}
  - id: demo-visibility
    title: Leadership visibility
    outcomes: [Lower morale]
    lineage: {relation: new}
""", encoding="utf-8")
    loaded, problems = load_project(project)
    assert not problems, problems.report()
    theory = loaded.graph.theories["demo"]
    v1, v2 = theory.versions
    d = diff_versions(loaded.graph, theory, v1, v2)
    assert d.statement == [("equal", "Leaders who meet partners often build trust "
                                     "[@pawson1997].")]
    by_id = {c.id: c for c in d.cmocs}
    trust, data = by_id["demo-trust"], by_id["demo-data"]
    assert trust.relation == "refined"  # "kept", but its wording differs
    assert [e.name for e in trust.changed_elements] == ["Narrative"]
    assert trust.changed_elements[0].segments == [
        ("insert", "Meeting often, leaders come to trust each other.")]
    # the shorthand now labels the elements: the change shows as their sign labels
    assert [e.name for e in data.changed_elements] == ["Mechanism (resource)", "Outcome"]
    assert [(op, text.strip()) for op, text in data.changed_elements[0].segments] == [
        ("insert", "(M\u2212)"), ("equal", "Shared digital intelligence")]
    same = diff_versions(loaded.graph, theory, v1, v1)
    assert same is not d and [c.relation for c in same.cmocs] == ["kept", "kept"]
    assert not any(c.changed or c.changed_elements for c in same.cmocs)
    assert not any(e.changed for c in same.cmocs for e in c.elements)
