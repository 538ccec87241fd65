"""One click into reference managers (issue 19): a released version's page (and its theory's
page, which shows the current version) carries in its <head> the Highwire Press tags that
Zotero's connector and Google Scholar read, Dublin Core, and schema.org JSON-LD; drafts and
internal records never do."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PROJECTS, build_site
from pyld import jsonld

VENDOR = Path(__file__).parent / "vendor"
SCHEMA = "http://schema.org/"

# The <meta> names Zotero's "Embedded Metadata" translator reads: HIGHWIRE_MAPPINGS and the
# names addHighwireMetadata() handles itself, in zotero/translators "Embedded Metadata.js"
# (read at commit 2814370161d05d799086825fac8d499db3a33aa3, June 2026). Dublin Core it reads
# through the prefix a <link rel="schema.DC"> declares.
ZOTERO_READS = {
    "citation_title", "citation_publication_date", "citation_cover_date", "citation_date",
    "citation_journal_title", "citation_journal_abbrev", "citation_inbook_title",
    "citation_book_title", "citation_volume", "citation_issue", "citation_series_title",
    "citation_conference_title", "citation_conference", "citation_dissertation_institution",
    "citation_technical_report_institution", "citation_technical_report_number",
    "citation_publisher", "citation_isbn", "citation_abstract", "citation_doi",
    "citation_public_url", "citation_language",
    "citation_author", "citation_authors", "citation_firstpage", "citation_lastpage",
    "citation_issn", "citation_eIssn", "citation_pdf_url", "citation_abstract_html_url",
    "citation_fulltext_html_url", "citation_pmid", "citation_online_date", "citation_year",
    "citation_keywords",
}
DUBLIN_CORE = {"DC.title", "DC.creator", "DC.date", "DC.identifier", "DC.publisher", "DC.type",
               "DC.rights"}

PUBLISHER = 'Demo </script><!-- "unit" & <b>'
AUTHORS = """publisher: 'Demo </script><!-- "unit" & <b>'
authors:
  - family: "O'Brien </script>"
    given: 'Ana "Zé"'
    orcid: 0000-0002-1825-0097
  - family: Unit; A & B
license: CC-BY-4.0
"""


class Head(HTMLParser):
    """The <meta>, <link> and JSON-LD of a page's <head>, as a browser (and Zotero) reads them."""

    def __init__(self, text: str):
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.jsonld: list[str] = []
        self._script = False
        self._in_head = True
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and self._in_head and "name" in a:
            self.meta.append((a["name"], a.get("content", "")))
        elif tag == "link" and self._in_head:
            self.links.append(a)
        self._script = tag == "script" and a.get("type") == "application/ld+json"

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False
        self._script = False

    def handle_data(self, data):
        if self._script:
            self.jsonld.append(data)

    def values(self, name: str) -> list[str]:
        return [v for n, v in self.meta if n == name]


def zotero_creators(head: Head) -> list[tuple[str, str]]:
    """Authors as Zotero's processHighwireCreators splits them: each citation_author at ';',
    then "Last, First" at the comma (the comma heuristic for a single author node aside)."""
    out = []
    for value in head.values("citation_author"):
        for creator in re.split(r"\s*;\s*", value):
            last, _, first = creator.partition(",")
            out.append((last.strip(), first.strip()))
    return out


def schema_org_loader(url: str, options=None) -> dict:
    """schema.org's context from tests/vendor (no network in tests)."""
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise AssertionError(f"the JSON-LD asked for {url}: only schema.org's context is known")
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": json.loads((VENDOR / "schemaorg-context-30.0.jsonld").read_text())}


def expand(data: dict) -> dict:
    dropped: list = []
    (node,) = jsonld.expand(data, {"documentLoader": schema_org_loader},
                            on_property_dropped=dropped.append)
    assert not dropped, f"not schema.org terms: {dropped}"
    return node


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The minimal project with awkward names, version 2 released, built --strict."""
    from living_theories.cli import main

    root = tmp_path_factory.mktemp("metadata")
    project = root / "project"
    shutil.copytree(PROJECTS / "minimal", project)
    text = (project / "theories/project.yaml").read_text()
    text = re.sub(r"^authors:.*?(?=^framework:)", AUTHORS, text, flags=re.S | re.M)
    (project / "theories/project.yaml").write_text(text)
    assert main(["release", "demo", "--dir", str(project)]) == 0
    # A DOI minted after release (e.g. by Zenodo) is added to the released version.
    with (project / "theories/demo/v2.yaml").open("a") as f:
        f.write("doi: 10.5281/zenodo.1234567\n")
    run = build_site(project, root / "site")
    assert run.returncode == 0, run.stderr
    return root / "site"


def test_version_page_carries_what_zotero_and_google_scholar_read(site):
    head = Head((site / "theories/demo/v2/index.html").read_text())
    names = {n for n, _ in head.meta if n.startswith("citation_")}
    assert names <= ZOTERO_READS, names - ZOTERO_READS
    assert "citation_pdf_url" not in names  # there is no PDF
    assert head.values("citation_title") == ["Relationships build trust, version 2"]
    # One tag per author; Zotero gets each person as family and given names, the
    # organisation whole (its ';' cannot split it into two authors, nor a ',' into names).
    assert zotero_creators(head) == [("O'Brien </script>", 'Ana "Zé"'), ("Unit A & B", "")]
    assert head.values("citation_publication_date") == ["2024/02/01"]
    assert head.values("citation_date") == ["2024/02/01"]
    assert head.values("citation_technical_report_institution") == [PUBLISHER]  # -> a report
    assert head.values("citation_publisher") == [PUBLISHER]
    url = "https://minimal.example.org/theories/demo/v2/"
    assert head.values("citation_public_url") == [url]
    assert head.values("citation_abstract_html_url") == [url]
    assert head.values("citation_doi") == ["10.5281/zenodo.1234567"]
    assert head.values("citation_abstract") == ["Leaders who meet partners often build trust, "
                                                "as @senge2015 argued."]


def test_version_page_carries_dublin_core(site):
    head = Head((site / "theories/demo/v2/index.html").read_text())
    assert {"rel": "schema.DC", "href": "http://purl.org/dc/elements/1.1/"} in head.links
    assert {n for n, _ in head.meta if n.startswith("DC.")} <= DUBLIN_CORE
    assert head.values("DC.title") == ["Relationships build trust, version 2"]
    assert head.values("DC.creator") == ["O'Brien </script>, Ana \"Zé\"", "Unit A & B"]
    assert head.values("DC.date") == ["2024-02-01"]
    assert head.values("DC.identifier") == ["https://minimal.example.org/theories/demo/v2/",
                                            "https://doi.org/10.5281/zenodo.1234567"]
    assert head.values("DC.publisher") == [PUBLISHER]
    assert head.values("DC.type") == ["Text"]
    assert head.values("DC.rights") == ["CC-BY-4.0"]


def test_json_ld_is_a_schema_org_creative_work(site):
    page = (site / "theories/demo/v2/index.html").read_text()
    (script,) = Head(page).jsonld
    assert "</" not in script and "<!--" not in script  # nothing can end or change the script
    node = expand(json.loads(script))
    base = "https://minimal.example.org/theories/demo/"
    assert node["@id"] == base + "v2/"
    assert node["@type"] == [SCHEMA + "CreativeWork"]
    assert node[SCHEMA + "name"] == [{"@value": "Relationships build trust, version 2"}]
    assert node[SCHEMA + "version"] == [{"@value": "2"}]
    assert node[SCHEMA + "datePublished"] == [{"@type": SCHEMA + "Date", "@value": "2024-02-01"}]
    assert node[SCHEMA + "license"] == [{"@id": "https://spdx.org/licenses/CC-BY-4.0"}]
    person, org = node[SCHEMA + "author"]
    assert person["@id"] == "https://orcid.org/0000-0002-1825-0097"
    assert person["@type"] == [SCHEMA + "Person"]
    assert person[SCHEMA + "familyName"] == [{"@value": "O'Brien </script>"}]
    assert person[SCHEMA + "sameAs"] == [{"@id": "https://orcid.org/0000-0002-1825-0097"}]
    assert org["@type"] == [SCHEMA + "Organization"]
    assert org[SCHEMA + "name"] == [{"@value": "Unit; A & B"}]
    assert node[SCHEMA + "publisher"][0][SCHEMA + "name"] == [{"@value": PUBLISHER}]
    doi, content_hash = node[SCHEMA + "identifier"]
    assert doi == {"@value": "https://doi.org/10.5281/zenodo.1234567"}
    assert content_hash[SCHEMA + "propertyID"] == [{"@value": "sha256"}]
    assert node[SCHEMA + "isPartOf"][0]["@id"] == base
    assert node[SCHEMA + "isBasedOn"][0]["@id"] == base + "v1/"
    cited = node[SCHEMA + "citation"]
    titles = [c[SCHEMA + "name"][0]["@value"] for c in cited]
    assert titles and all(titles)
    from living_theories.citations.bibtex import load_bibliography
    from living_theories.problems import Problems

    bib = load_bibliography(PROJECTS / "minimal/references.bib", Problems(PROJECTS), None)
    assert bib["senge2015"].field("title").strip("{}") in titles


def test_theory_page_carries_the_current_versions_metadata(site):
    theory = Head((site / "theories/demo/index.html").read_text())
    version = Head((site / "theories/demo/v2/index.html").read_text())
    assert theory.meta == version.meta
    assert theory.jsonld == version.jsonld


def test_first_version_is_based_on_nothing(site):
    (script,) = Head((site / "theories/demo/v1/index.html").read_text()).jsonld
    node = expand(json.loads(script))
    assert SCHEMA + "isBasedOn" not in node
    assert node[SCHEMA + "version"] == [{"@value": "1"}]


def pages_with_metadata(site: Path) -> set[str]:
    return {p.relative_to(site).parent.as_posix() for p in site.rglob("*.html")
            if "citation_title" in p.read_text() or "application/ld+json" in p.read_text()}


@pytest.mark.parametrize("review", [False, True])
def test_drafts_and_internal_theories_never_carry_metadata(tmp_path, review):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "confidential", project)
    env = {"LIVING_THEORIES_REVIEW": "1"} if review else None
    run = build_site(project, tmp_path / "site", env=env)
    assert run.returncode == 0, run.stderr
    # demo v1 is released; demo v2 is a draft (shown in a review build, and then the
    # theory page shows it); the internal theory 'secret' is never built.
    expected = {"theories/demo/v1"} | (set() if review else {"theories/demo"})
    assert pages_with_metadata(tmp_path / "site") == expected
