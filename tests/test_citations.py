"""Pandoc citation syntax and the BibTeX bibliography."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from living_theories.citations.bibtex import decode, load_bibliography, parse_names
from living_theories.citations.syntax import Cite, cited_keys, find_citations
from living_theories.problems import Problems


@pytest.mark.parametrize("text,cites,in_text", [
    ("[@key]", [Cite("key")], False),
    ("[@key, p. 4]", [Cite("key", locator="p. 4")], False),
    ("As @sims2021 argues", [Cite("sims2021")], True),
    ("@sims2021 [p. 33] says", [Cite("sims2021", locator="p. 33")], True),
    ("[-@key]", [Cite("key", suppress_author=True)], False),
    ("[see @a; @b, pp. 3-5]", [Cite("a", prefix="see"), Cite("b", locator="pp. 3-5")], False),
    ("[@{odd key}]", [Cite("odd key")], False),
])
def test_pandoc_citations(text, cites, in_text):
    (found,) = find_citations(text)
    assert list(found.cites) == cites and found.in_text is in_text


@pytest.mark.parametrize("text", [
    "write to someone@example.org", "`@code` span", "```\n[@fenced]\n```",
    "[a link](http://x.org/@user)", "no citation here", "a trailing @ sign",
    "Text.\n\n    [@indented_code]\n", "<!-- [@in_a_comment] -->", "- x\n\n  ```\n  [@f]\n  ```",
])
def test_not_citations(text):
    assert cited_keys(text) == []


def test_indented_content_that_is_not_code_still_cites():
    text = ("- a list item\n\n    its second paragraph [@a]\n\n!!! note\n    admonition [@b]\n\n"
            "A paragraph\n    lazily continued [@c]\n")
    assert cited_keys(text) == ["a", "b", "c"]


def test_citation_before_a_colon():
    assert cited_keys("the review [@knight2024]: nine CMOCs") == ["knight2024"]


def test_key_ends_before_trailing_punctuation():
    assert cited_keys("As @pawson1997. And @a:b.") == ["pawson1997", "a:b"]


def test_accented_names_survive(tmp_path: Path):
    bib = tmp_path / "r.bib"
    bib.write_text(r"""@article{k,
  author = {Koz{\l}owska, Olga and {\'A}lvarez-Rosete, Arturo and
            Nu{\~n}o-Solin{\'i}s, Roberto and {World Health Organization} and
            Nguy{\~{\^e}}n, An},
  title = {Care in {NHS} \& social care},
  pages = {302--314},
}
@article{u, author = {González-Ortiz, Laura and Vallières, F.}, title = {Unicode as is}}
""", encoding="utf-8")
    problems = Problems(tmp_path)
    lib = load_bibliography(bib, problems)
    assert not problems.items
    names = lib["k"].names()
    assert [n.family for n in names] == ["Kozłowska", "Álvarez-Rosete", "Nuño-Solinís",
                                         "World Health Organization", "Nguyễn"]
    assert names[3].literal and not names[0].literal
    assert lib["k"].field("title") == "Care in NHS & social care"
    assert lib["k"].field("pages") == "302–314"
    assert [n.family for n in lib["u"].names()] == ["González-Ortiz", "Vallières"]


def test_decode_leaves_plain_text_alone():
    assert decode("Plain title") == "Plain title"


def test_corporate_author_is_not_split():
    (name,) = parse_names("{NHS England and NHS Improvement}")
    assert name.family == "NHS England and NHS Improvement" and name.literal


def test_missing_bib_file_is_an_empty_bibliography(tmp_path: Path):
    problems = Problems(tmp_path)
    assert load_bibliography(tmp_path / "none.bib", problems).entries == {}


def test_the_markdown_extension_cites_in_document_order_and_links_the_bibliography():
    # In-process (the site builds test it too, but in a subprocess): a numbered style
    # numbers by first citation in the page, whatever order Markdown's patterns ran in.
    from living_theories.citations.formatting import Citer
    from living_theories.citations.markdown import CitationsExtension
    from markdown import Markdown

    bib = load_bibliography(Path(__file__).parent / "projects/minimal/references.bib",
                            Problems(Path(__file__).parent))
    ext = CitationsExtension(Citer(bib, "vancouver"), bibliography_page="references/index.md")
    text = ("First [@senge2015]. *Then* @pawson1997 [p. 4] and [see @kozlowska2020]. "
            "`[@code]` and a@b.org")

    def convert(page: str) -> str:
        ext.current_page = page
        return Markdown(extensions=[ext]).convert(text)

    html = convert("theories/demo/index.md")
    links = re.findall(r'<a href="([^"]*)" title="([^"]*)">([^<]*)</a>', html)
    # A number is the page's own: it leads to the page's list, whose entry leads on to the
    # bibliography.
    assert links == [("#page-ref-senge2015", "senge2015", "[1]"),
                     ("#page-ref-pawson1997", "pawson1997", "Pawson and Tilley [2]"),
                     ("#page-ref-kozlowska2020", "kozlowska2020", "[see 3]")]
    assert "<code>[@code]</code> and a@b.org" in html
    assert re.findall(r'<li id="page-ref-(\w+)">(\d)\. ', html) == [
        ("senge2015", "1"), ("pawson1997", "2"), ("kozlowska2020", "3")]
    assert 'class="lt-cited-by" href="../../references/index.md#ref-senge2015"' in html
    assert '<h2 id="references">References</h2>' in html
    # on the bibliography page itself: no link back to it
    here = convert("references/index.md")
    assert 'href="#page-ref-senge2015"' in here and "lt-cited-by" not in here


def test_in_text_citations_and_cited_versions_in_an_author_date_style():
    # "Author (year, locator)" is built from the style's own name rules (Harvard does not
    # italicise et al.), and a theory version being cited (not in references.bib) is
    # formatted from its own data, escaped.
    from living_theories.citations.formatting import Citer

    bib = load_bibliography(Path(__file__).parent / "projects/minimal/references.bib",
                            Problems(Path(__file__).parent))
    citer = Citer(bib, "harvard-cite-them-right")
    formatted = citer.format([((Cite("pawson1997", locator="p. 4"),), True),
                              ((Cite("senge2015", suppress_author=True),), False),
                              ((Cite("kozlowska2020"),), True)])
    assert formatted.citations == ("Pawson and Tilley (1997, p. 4)", "(2015)",
                                   "Kozłowska et al. (2020)")
    entry = citer.format_item({"id": "v<1>", "type": "report",
                               "title": "<script>x</script> & Co",
                               "author": [{"family": "O'Brien <b>", "given": "A"}],
                               "issued": {"date-parts": [[2024]]}})
    assert entry == ("O'Brien &lt;b&gt;, A. (2024) <i>&lt;script&gt;x&lt;/script&gt; "
                     "&amp; Co</i>.")
