"""Every citation complete (issue 19): a released version is cited with its authors (people or
an organisation), a year, its title with the version, a publisher, its address and DOI;
`release` refuses to freeze a version that would be cited without authors or an address, and
`validate` and the build warn about released versions that are."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import bibtexparser
import pytest
import yaml
from conftest import article, build_site, copied_project, edit
from living_theories.citations.bibtex import parse_names
from living_theories.problems import Problems
from living_theories.releases import load_lock

SITE_URL = "site_url: https://minimal.example.org/\n"
AUTHORS = """authors:  # who is credited when a version is cited
  - family: Rivera
    given: Ana
    orcid: 0000-0002-1825-0097
  - family: Demo Research Unit
"""


def state(root: Path) -> dict[str, bytes]:
    """Every file of a project, to show that a refused release wrote nothing."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".cache" not in p.parts}


@pytest.mark.parametrize("remove,expected", [
    ((SITE_URL, "mkdocs.yml"), r"error: the site has no web address, so the version would be "
     r"cited without one - set site_url in mkdocs\.yml \(e\.g\. site_url: https://[^)]+\), or "
     r"url in theories/project\.yaml.*'living-theories release demo --no-url'"),
    ((AUTHORS, "theories/project.yaml"), r"error: theories/project\.yaml names no authors, so "
     r"the version would be cited without them - add who to credit .*World Health Organization"),
])
def test_release_refuses_a_version_that_would_be_cited_incompletely(project, cli, remove,
                                                                    expected):
    text, file = remove
    edit(project / file, text, "")
    before = state(project)
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 1
    assert re.search(expected, err), err
    assert err.count("error:") == 1 and err.rstrip().endswith("Nothing was released.")
    assert "Traceback" not in err and not out
    assert state(project) == before  # nothing written: not the version, lock or snapshot


def test_release_without_an_address_with_no_url_says_so_in_the_cite_box(project, cli,
                                                                        tmp_path):
    edit(project / "mkdocs.yml", SITE_URL, "")
    code, out, err = cli("release", "demo", "--dir", str(project), "--no-url")
    assert code == 0, err
    lock = json.loads((project / "living-theories.lock").read_text())
    assert lock["versions"]["demo/v2"]["no_url"] is True
    run = build_site(project, tmp_path / "site")  # --strict: no warning for it
    assert run.returncode == 0, run.stderr
    page = article(tmp_path / "site/theories/demo/v2/index.html")
    assert "This version has no web address of its own" in page
    code, _, err = cli("validate", str(project))
    assert code == 0 and "web address" not in err


def test_validate_and_build_warn_when_released_versions_have_no_address(project, cli,
                                                                       tmp_path):
    edit(project / "mkdocs.yml", SITE_URL, "")
    code, out, err = cli("validate", str(project))
    assert code == 0
    assert re.search(r"^warning: mkdocs\.yml:1: the site has no web address, so 1 released "
                     r"version is cited without one - set site_url in mkdocs\.yml", err, re.M), err
    run = build_site(project, tmp_path / "site", strict=False)
    assert run.returncode == 0
    assert re.search(r"WARNING .*mkdocs\.yml:1: the site has no web address", run.stderr)
    strict = build_site(project, tmp_path / "strict")
    assert strict.returncode == 1 and "the site has no web address" in strict.stderr
    # With the address (or the project's url) there is nothing to warn about.
    edit(project / "theories/project.yaml", "authors:", "url: https://example.org/x/\nauthors:")
    code, out, err = cli("validate", str(project))
    assert code == 0 and "web address" not in err


def test_a_version_without_a_date_is_cited_with_its_release_date(project, cli, tmp_path):
    assert cli("release", "demo", "--dir", str(project))[0] == 0  # version 2
    (project / "theories/demo/v3.yaml").write_text(_v3_of(project), encoding="utf-8")
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    lock = json.loads((project / "living-theories.lock").read_text())
    released_on = lock["versions"]["demo/v3"]["date"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", released_on)
    assert "date:" not in (project / "theories/demo/v3.yaml").read_text()  # file as released
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "site/theories/demo/v3"
    year = released_on[:4]
    box = html.unescape(re.sub(r"<[^>]+>", "", article(folder / "index.html")))
    assert f"({year}) Relationships build trust, version 3" in box and "no date" not in box
    entry = bibtexparser.parse_string((folder / "cite.bib").read_text()).entries[0]
    assert entry["year"] == year
    assert f"PY  - {year}" in (folder / "cite.ris").read_text()
    (item,) = json.loads((folder / "cite.json").read_text())
    assert item["issued"]["date-parts"] == [[int(x) for x in released_on.split("-")]]


def _v3_of(project: Path) -> str:
    """A version 3 marked released without a date of its own (released by hand-editing the
    status, as older projects did): its CMOCs kept from version 2."""
    v2 = yaml.safe_load((project / "theories/demo/v2.yaml").read_text())
    cmocs = [{k: v for k, v in c.items() if k != "lineage"} for c in v2["cmocs"]]
    for c in cmocs:
        c["lineage"] = {"relation": "kept", "from": [c["id"]]}
    return yaml.safe_dump({"stage": "final", "status": "released",
                           "statement": "Leaders who meet partners often build trust.",
                           "cmocs": cmocs}, sort_keys=False)


def test_a_release_date_missing_from_an_older_lock_is_recorded_by_release(project, cli):
    assert cli("release", "demo", "--dir", str(project))[0] == 0  # version 2
    (project / "theories/demo/v3.yaml").write_text(_v3_of(project), encoding="utf-8")
    code, _, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    # As a lock written before release dates were kept: no date for version 3.
    lock = load_lock(project, Problems(project))
    hashes = {k: e["hash"] for k, e in lock.versions.items()}
    del lock.versions["demo/v3"]["date"]
    lock.save()
    code, _, err = cli("validate", str(project))
    assert code == 0
    assert re.search(r"warning: theories/demo/v3\.yaml:1: released version 3 of 'demo' has no "
                     r"date .* run 'living-theories release demo' to record today", err), err
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    assert re.search(r"recorded \d{4}-\d{2}-\d{2} as the release date of demo version 3", out)
    code, _, err = cli("validate", str(project))
    assert code == 0 and "has no date" not in err  # the lock is sealed and valid
    lock = load_lock(project, Problems(project))
    assert {k: e["hash"] for k, e in lock.versions.items()} == hashes


def test_people_and_organisations_are_cited_correctly_in_every_format(project, cli, tmp_path):
    code, _, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "site/theories/demo/v2"
    bib = (folder / "cite.bib").read_text()
    # The organisation is one brace group: BibTeX neither splits nor abbreviates it.
    assert "author = {Rivera, Ana and {Demo Research Unit}}" in bib
    entry = bibtexparser.parse_string(bib).entries[0]
    names = parse_names(entry["author"])
    assert [(n.family, n.given, n.literal) for n in names] == [
        ("Rivera", "Ana", False), ("Demo Research Unit", "", True)]
    ris = (folder / "cite.ris").read_bytes().decode()
    assert "AU  - Rivera, Ana\r\nAU  - Demo Research Unit\r\n" in ris
    (item,) = json.loads((folder / "cite.json").read_text())
    assert item["author"] == [{"family": "Rivera", "given": "Ana"},
                              {"literal": "Demo Research Unit"}]
    assert item["URL"] == "https://minimal.example.org/theories/demo/v2/"
    assert item["publisher"] == "Demo theories"  # the site's name: no publisher is set
    assert item["issued"] == {"date-parts": [[2024, 2, 1]]}
    cff = yaml.safe_load((tmp_path / "site/CITATION.cff").read_text())
    assert cff["authors"][:2] == [
        {"family-names": "Rivera", "given-names": "Ana",
         "orcid": "https://orcid.org/0000-0002-1825-0097"}, {"name": "Demo Research Unit"}]
    box = html.unescape(re.sub(r"<[^>]+>", "", article(folder / "index.html")))
    assert re.search(r"Rivera, A\. and Demo Research Unit \(2024\) Relationships build trust, "
                     r"version 2\. Refined "
                     r"programme theory\. Demo theories\. Available at: "
                     r"https://minimal\.example\.org/theories/demo/v2/", box), box


def test_bundled_site_cite_boxes_are_complete(bundled_site):
    """The bundled site: every released version is cited with authors, a year and the site
    that publishes it, and its address is stated to be absent, never left out silently."""
    for page in sorted(bundled_site.glob("theories/*/v*/index.html")):
        box = article(page).split("Cite this version", 1)[1]
        text = html.unescape(re.sub(r"<[^>]+>", "", box))
        assert "no date" not in text and "n.d." not in text, page
        assert re.search(r"Knight, L\., Neiva Ganga, R\. and Tucker, M\. \((2024|2026)\) "
                         r"[^.]+, version \d\. (Initial|Refined|Final) programme theory\. "
                         r"ICS leadership programme theories\.", text), text
        assert "This version has no web address of its own" in text
        entry = bibtexparser.parse_string((page.parent / "cite.bib").read_text()).entries[0]
        assert entry["year"] in ("2024", "2026") and entry["publisher"]
    # the RAMESES map, cited as a supplementary file, is dated like the version it covers
    for page in sorted(bundled_site.glob("theories/*/rameses/index.html")):
        text = html.unescape(re.sub(r"<[^>]+>", "", article(page).split("Cite this map")[1]))
        assert "no date" not in text and re.search(r"\((2024|2026)\)", text), page


def test_every_released_bundled_version_keeps_its_lock_valid(cli):
    """The bundled lock gained release dates (and 'no address') only: validate is clean."""
    repo = Path(__file__).parent.parent
    code, out, err = cli("validate", str(repo))
    assert code == 0, err
    assert "web address" not in err and "has no date" not in err


def test_a_site_without_released_versions_is_not_warned(tmp_path, cli):
    """Nothing is cited yet (a review project of drafts): no warning about an address."""
    root = copied_project(tmp_path, "unprinted")
    code, _, err = cli("validate", str(root))
    assert code == 0 and "web address" not in err
