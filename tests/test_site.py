"""Real mini-site builds (`mkdocs build --strict`), asserting on the HTML."""

from __future__ import annotations

import contextlib
import html
import json
import re
from pathlib import Path

import pytest
from conftest import article, build_site, edit


@pytest.fixture
def site(minimal_site) -> Path:
    return minimal_site


def page(site: Path, path: str) -> str:
    return article(site / path / "index.html")


def test_every_kind_of_page_is_generated(site):
    for path in ["", "theories", "theories/demo", "theories/demo/v1", "cmocs/demo-trust",
                 "cmocs/demo-data", "sources", "sources/p1", "sources/meeting-2022-09",
                 "contexts", "evidence-map", "references", "about"]:
        assert (site / path / "index.html").exists(), path


def test_theory_links_to_cmocs_and_back(site):
    theory = page(site, "theories/demo")
    assert 'href="../../cmocs/demo-trust/"' in theory
    assert "Leaders who meet partners often build trust" in theory
    cmoc = page(site, "cmocs/demo-trust")
    assert 'href="../../theories/demo/"' in cmoc
    assert 'href="../../theories/demo/v1/"' in cmoc


def test_cmoc_links_to_evidence_and_source_links_back(site):
    cmoc = page(site, "cmocs/demo-trust")
    assert "We trust each other because we meet every week." in cmoc
    assert 'href="../../sources/p1/#p1-trust"' in cmoc
    assert "Context → mechanism" in cmoc  # grouped by the link it bears on
    assert "Supports (1)" in cmoc
    source = page(site, "sources/p1")
    assert 'id="p1-trust"' in source
    assert 'href="../../cmocs/demo-trust/"' in source


def test_cmoc_elements_are_shown(site):
    cmoc = page(site, "cmocs/demo-trust")
    for text in ["Organisations with different histories", "Frequent face-to-face meetings",
                 "Trust and understanding", "Collaborative decisions"]:
        assert text in cmoc


def test_context_page_and_back_links(site):
    contexts = page(site, "contexts")
    assert 'id="covid-legacy"' in contexts
    assert "Unprecedented levels of cooperation" in contexts
    assert 'id="systems-leadership"' in contexts


def test_citations_link_to_the_bibliography_which_links_back(site):
    theory = page(site, "theories/demo")
    assert "(Pawson and Tilley, 1997)" in theory
    assert 'href="../../references/#ref-pawson1997"' in theory
    assert 'class="lt-references"' in theory  # the page's own reference list
    refs = page(site, "references")
    assert 'id="ref-pawson1997"' in refs
    assert "Kozłowska, O." in refs  # decoded LaTeX accents
    assert 'href="../theories/demo/v1/"' in refs  # cited by
    assert 'href="../about/"' in refs  # hand-written pages are "cited by" too


def test_hand_written_page_cites_but_code_is_untouched(site):
    about = page(site, "about")
    assert "(Pawson and Tilley, 1997, p. 4)" in about
    assert "[@notakey]" in about and "[@alsonotakey]" in about
    assert "[@indentednotakey]" in about and "<!-- a comment: [@commentnotakey] -->" in about


def test_evidence_map(site):
    text = page(site, "evidence-map")
    assert "Only challenging evidence:" in text and "CMOC 2" in text  # demo-data
    tables = re.findall(r"<table>.*?</table>", text, re.S)
    assert len(tables) == 1  # one table per theory: the minimal project has one theory
    header, *rows = re.findall(r"<tr>.*?</tr>", tables[0], re.S)
    assert 'href="../cmocs/demo-trust/"' in header
    source_rows = [r for r in rows if 'href="../sources/' in r]
    assert source_rows and all("<td" in r for r in source_rows)
    assert re.search(r"<td[^>]*>✓1\s*</td>", tables[0])


# Text found only in the draft version 2 of the minimal project (its statement, a new CMOC,
# its changes and lineage reason).
DRAFT_TEXT = ["Leadership visibility", "Lower morale", "Leaders are visible to the workforce",
              "argued", "Context widened to funding", "stressed funding regimes",
              "Interviews added funding and governance"]
# Kinds of file a build writes that a leak could hide in; each must have been read.
WRITTEN = {".html", ".json", ".bib", ".ris", ".cff", ".xml", ".csv", ".txt", ".js"}


def every_text(site: Path) -> dict[str, str]:
    """The text of every file of a built site (compressed and zipped files opened), by path."""
    import gzip
    import zipfile

    texts = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zipped:
                data = b"".join(zipped.read(name) for name in zipped.namelist())
        texts[path.relative_to(site).as_posix()] = data.decode("utf-8", errors="ignore")
    kinds = {Path(p).suffix for p in texts}
    assert not WRITTEN - kinds, sorted(kinds)
    assert "search/search_index.json" in texts
    return texts


def leaks(site: Path, words: list[str]) -> dict[str, list[str]]:
    """Which of `words` each file of the site contains (as written, or escaped in HTML or
    JSON)."""
    found = {}
    for path, text in every_text(site).items():
        plain = html.unescape(text)
        with contextlib.suppress(ValueError):
            plain += json.dumps(json.loads(text), ensure_ascii=False)
        hits = [w for w in words if w in plain]
        if hits:
            found[path] = hits
    return found


def test_drafts_are_not_published(site):
    assert (site / "theories/demo/v1/cite.bib").exists()  # released: cite files are written
    assert not (site / "theories/demo/v2").exists()
    assert not (site / "cmocs/demo-visibility").exists()
    assert leaks(site, DRAFT_TEXT) == {}


def test_review_build_shows_drafts_with_a_banner(project, tmp_path):
    run = build_site(project, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    v2 = article(tmp_path / "site/theories/demo/v2/index.html")
    assert "Draft for consultation - not for citation" in v2
    assert (tmp_path / "site/cmocs/demo-visibility/index.html").exists()


# The participant P1 and their quote, made internal in the tests below.
INTERNAL_TEXT = ["ICB member Quokka", "trust each other Wombat"]


def make_internal(project: Path) -> None:
    edit(project / "evidence/sources.yaml", "    role: ICB member\n",
         "    role: ICB member Quokka\n    visibility: internal\n")
    edit(project / "evidence/interviews.yaml", "  - id: p1-trust\n",
         "  - id: p1-trust\n    visibility: internal\n")
    edit(project / "evidence/interviews.yaml", "We trust each other", "We trust each other Wombat")
    edit(project / "theories/demo/v2.yaml", "      evidence: [p1-trust]\n  - id",
         "  - id")
    edit(project / "theories/demo/v2.yaml", "    evidence: [p1-trust]\n", "")


def test_internal_records_are_not_published(project, tmp_path):
    make_internal(project)
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "site/sources/p1").exists()
    assert leaks(tmp_path / "site", INTERNAL_TEXT + DRAFT_TEXT) == {}


def test_review_build_shows_drafts_but_never_internal_records(project, tmp_path):
    make_internal(project)
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      include_drafts: true\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    found = leaks(tmp_path / "site", INTERNAL_TEXT + DRAFT_TEXT)
    assert not [(path, w) for path, words in found.items() for w in words
                if w in INTERNAL_TEXT]
    # the drafts are there, in the pages and the search index (so the scan does see them)
    shown = {w for words in found.values() for w in words}
    assert shown == set(DRAFT_TEXT), set(DRAFT_TEXT) - shown
    assert "Leadership visibility" in found["search/search_index.json"]
    assert "Lower morale" in found["cmocs/demo-visibility/index.html"]


@pytest.mark.parametrize("style,cite,entry", [
    ("harvard-cite-them-right", "(Pawson and Tilley, 1997)",
     "Pawson, R. and Tilley, N. (1997) <i>Realistic Evaluation</i>. London: SAGE."),
    ("apa", "(Pawson &amp; Tilley, 1997)",
     "Pawson, R., &amp; Tilley, N. (1997). <i>Realistic Evaluation</i>. SAGE."),
    ("vancouver", "[1]", "1. Pawson R, Tilley N. Realistic Evaluation. London: SAGE; 1997."),
])
def test_citation_styles(project, tmp_path, style, cite, entry):
    edit(project / "mkdocs.yml", "  - living-theories\n",
         f"  - living-theories:\n      csl_style: {style}\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    theory = article(tmp_path / "site/theories/demo/index.html")
    assert cite in theory
    assert entry in theory


def test_unknown_style_is_a_clear_error(project, tmp_path):
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      csl_style: harvardish\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 1
    assert "harvardish" in run.stderr and "Traceback" not in run.stderr


def test_a_broken_csl_file_is_a_clear_error(project, tmp_path):
    (project / "house.csl").write_text('<?xml version="1.0"?>\n<style xmlns="http://purl.org/'
                                       'net/xbiblio/csl" version="1.0">\n<citation>\n',
                                       encoding="utf-8")
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      csl_style: house.csl\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 1
    assert "csl_style: the CSL file 'house.csl' cannot be read" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_citation_in_a_hand_written_page_fails_the_strict_build(project, tmp_path):
    (project / "docs/about.md").write_text("# About\n\nLine two.\n\nSee [@nosuchkey2020].\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 1
    assert "docs/about.md:5: the citation @nosuchkey2020 is not in references.bib" in run.stderr


def test_invalid_yaml_stops_the_build_with_the_validate_errors(project, tmp_path):
    edit(project / "evidence/interviews.yaml", "cmoc: demo-trust", "cmoc: nope")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 1
    assert "evidence/interviews.yaml:7: the CMOC 'nope' does not exist" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "site").exists()  # nothing half-written


def test_pages_are_not_in_the_nav(site):
    # The nav lists indexes only: page size must not grow with the number of records.
    nav = (site / "index.html").read_text()
    start = nav.index('<nav class="md-nav md-nav--primary"')
    nav = nav[start:nav.index('<div class="md-content"', start)]
    assert "cmocs/demo-trust" not in nav and "sources/p1" not in nav
    assert "evidence-map" in nav


def test_assets_are_served_locally(site):
    assert (site / "assets/living-theories/mermaid-11.17.2.min.js").stat().st_size > 1_000_000
    html = (site / "theories/demo/index.html").read_text()
    assert not re.search(r"https?://(unpkg|cdn\.jsdelivr|fonts\.googleapis)", html)
    search = json.loads((site / "search/search_index.json").read_text())
    assert any("Relationships build trust" in d["title"] for d in search["docs"])


def test_no_citation_is_left_unformatted_in_the_bundled_site(bundled_site):
    for page in bundled_site.rglob("*.html"):
        text = re.sub(r"<code>.*?</code>|<pre.*?</pre>", "", page.read_text(), flags=re.S)
        assert not re.search(r"\[-?@\w", text), page.relative_to(bundled_site)


def test_every_internal_link_of_the_bundled_site_resolves(bundled_site):
    """Every relative href points at a page that exists, and at an id on it."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []
            self.ids: set[str] = set()

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if a.get("id"):
                self.ids.add(a["id"])
            if tag == "a" and a.get("href"):
                self.hrefs.append(a["href"])

    parsed: dict[Path, Links] = {}

    def parse(path: Path) -> Links:
        if path not in parsed:
            parsed[path] = Links()
            parsed[path].feed(path.read_text(encoding="utf-8"))
        return parsed[path]

    checked = 0
    for html_file in bundled_site.rglob("*.html"):
        if html_file.name == "404.html":  # MkDocs writes it with site-absolute links
            continue
        for href in parse(html_file).hrefs:
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                continue
            target, _, fragment = href.partition("#")
            dest = (html_file.parent / target).resolve() if target else html_file
            if dest.is_dir():
                dest = dest / "index.html"
            assert dest.exists(), f"{html_file.relative_to(bundled_site)}: {href}"
            if fragment and dest.suffix == ".html":
                assert fragment in parse(dest).ids, f"{html_file.relative_to(bundled_site)}: {href}"
            checked += 1
    assert checked > 1000


def test_every_cited_on_link_leads_to_a_page_that_cites_the_reference(bundled_site):
    """The references' back-links: each page named under "Cited on" shows that citation."""
    refs = bundled_site / "references" / "index.html"
    text = refs.read_text(encoding="utf-8")
    blocks = re.findall(r'<p class="lt-reference" id="(ref-[^"]+)">.*?</p>\s*'
                        r'<p class="lt-cited-by">(.*?)</p>', text, re.S)
    assert len(blocks) > 20
    for anchor, cited_by in blocks:
        for href, title in re.findall(r'<a href="([^"]+)">([^<]+)</a>', cited_by):
            target = (refs.parent / href / "index.html").resolve()
            assert f"#{anchor}" in article(target), (anchor, href)
            assert not re.fullmatch(r"[a-z0-9_.-]+", title), (anchor, title)  # a title, not a key


def test_a_cmoc_is_never_said_to_come_from_itself(bundled_site):
    # CMOC ids persist across versions: the predecessor is named as it was in that version
    page = article(bundled_site / "cmocs" / "being-clear-vision" / "index.html")
    origin = page[page.index("Where it comes from"):page.index("(version 2 → 3)")]
    assert "Clear leadership and vision" not in origin
    assert re.search(r'from <a href="\./">CMOC 1</a>', origin), origin
