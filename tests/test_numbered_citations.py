"""Numbered citation styles (Vancouver): each page numbers its references from 1, in order of
first citation, with its own reference list under it, as a paper does; the site's References
page lists every reference once, unnumbered. Author-date styles keep the site's citations."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import article, build_site, edit
from living_theories.citations.bibtex import load_bibliography
from living_theories.citations.formatting import Citer
from living_theories.citations.syntax import Cite
from living_theories.problems import Problems

BIB = Path(__file__).parent / "projects/minimal/references.bib"


def _citer(style: str) -> Citer:
    return Citer(load_bibliography(BIB, Problems(BIB.parent)), style)


def test_each_page_numbers_its_own_references_from_one():
    citer = _citer("vancouver")
    citer.prepare(["pawson1997", "senge2015", "kozlowska2020"])  # the site's order
    page = citer.format([((Cite("kozlowska2020"),), False),
                         ((Cite("senge2015"), Cite("kozlowska2020")), False),
                         ((Cite("kozlowska2020"),), True)])
    assert page.citations == ("[1]", "[1,2]", "Kozłowska et al. [1]")
    assert [(key, entry[:12]) for key, entry in page.references] == [
        ("kozlowska2020", "1. Kozłowska"), ("senge2015", "2. Senge P, ")]
    # another page: its own numbers, whatever was formatted before
    other = citer.format([((Cite("senge2015"),), False)])
    assert other.citations == ("[1]",) and other.references[0][1].startswith("1. Senge")


def test_author_date_citations_are_the_sites():
    citer = _citer("harvard-cite-them-right")
    citer.prepare(["pawson1997", "senge2015", "kozlowska2020"])
    page = citer.format([((Cite("senge2015"),), False), ((Cite("pawson1997"),), False)])
    assert page.citations == ("(Senge, Hamilton and Kania, 2015)", "(Pawson and Tilley, 1997)")
    assert [key for key, _ in page.references] == ["pawson1997", "senge2015"]  # alphabetical


def test_an_unknown_key_among_known_ones_is_shown_not_dropped():
    # (validate and a strict build report it with file and line; a page must not hide it)
    for style, shown in [("vancouver", "[1; ?nosuchkey]"),
                         ("harvard-cite-them-right",
                          "(Senge, Hamilton and Kania, 2015; ?nosuchkey)")]:
        citer = _citer(style)
        formatted = citer.format([((Cite("senge2015"), Cite("nosuchkey")), False)])
        assert formatted.citations == (shown,)


def test_a_numbered_site(project: Path, tmp_path: Path):
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      csl_style: vancouver\n")
    (project / "docs/about.md").write_text(
        "# About\n\nSee [@kozlowska2020], then [@senge2015; @kozlowska2020, p. 4].\n",
        encoding="utf-8")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    about = article(tmp_path / "site/about/index.html")
    cites = re.findall(r'<span class="lt-cite"><a href="([^"]*)"[^>]*>([^<]*)</a>', about)
    assert cites == [("#page-ref-kozlowska2020", "[1]"), ("#page-ref-senge2015", "[1,2]")]
    listed = re.findall(r'<li id="page-ref-(\w+)">(\d+)\. ', about)
    assert listed == [("kozlowska2020", "1"), ("senge2015", "2")]
    # every page that cites starts at 1
    for page in (tmp_path / "site").rglob("index.html"):
        numbers = re.findall(r'<li id="page-ref-\w+">(\d+)\. ', page.read_text(encoding="utf-8"))
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)], page
    # the site's list: each reference once, unnumbered, by first author
    references = article(tmp_path / "site/references/index.html")
    entries = re.findall(r'<p class="lt-reference" id="ref-(\w+)">([^<]{0,12})', references)
    assert [key for key, _ in entries] == ["kozlowska2020", "pawson1997", "senge2015"]
    assert not any(re.match(r"\[?\d", text) for _, text in entries), entries
