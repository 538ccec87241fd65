"""Middle-range theory at the mechanism level (issue 23, part 5): a CMOC's mechanism supports,
extends, contradicts or draws on a substantive theory; substantive theories then get pages
listing the mechanisms that use them, linked both ways.

The `middle-range` project: 'A clear vision' draws on systems leadership theory in version 1
(its reasoning) and extends it in version 2; 'Patient stories' (version 2) supports sensemaking.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest
from conftest import article, built_project, copied_project
from test_appraisal import plain, table_after


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "middle-range")


def links(page: str, text: str) -> list[str]:
    return [href for href, inner in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page, re.S)
            if re.sub(r"<[^>]+>", "", inner).strip() == text]


def resolves(site: Path, page: str, href: str) -> bool:
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), href.split("#")[0]))
    return (site / target / "index.html").is_file() or (site / target).is_file()


SL = "substantive-theories/systems-leadership/index.html"


def test_substantive_theory_page_lists_the_mechanisms_that_use_it(site):
    page = article(site / SL)
    assert table_after(page, "Mechanisms that use it") == [
        ["A clear vision", "Leading a shared vision", "Mechanism (reasoning)", "Draws on", "1"],
        ["A clear vision", "Leading a shared vision", "Mechanism (reasoning)", "Extends", "2"],
    ]
    text = plain(page)
    assert "A clear vision (extends): Inspiring, not only engaging, partners." in text
    assert "(Senge, Hamilton and Kania, 2015)" in text  # its reference, and the note's citation
    assert "Programme theories related to it Leading a shared vision" in text
    for href in links(page, "A clear vision"):
        assert resolves(site, SL, href) and "cmocs/lead-vision/" in href


def test_cmoc_page_and_version_pages_link_to_the_theory(site):
    cmoc = "cmocs/lead-vision/index.html"
    page = article(site / cmoc)
    assert "Mechanism (reasoning) extends Systems leadership theory: Inspiring, not only " \
        "engaging, partners." in plain(page)
    (href,) = links(page, "Systems leadership theory")
    assert resolves(site, cmoc, href) and href.endswith("substantive-theories/systems-leadership/")
    # each version shows its own relation
    v1 = plain(article(site / "theories" / "lead" / "v1" / "index.html"))
    v2 = plain(article(site / "theories" / "lead" / "v2" / "index.html"))
    assert "Substantive theory: Mechanism (reasoning) draws on Systems leadership theory" in v1
    assert "Substantive theory: Mechanism (reasoning) extends Systems leadership theory" in v2
    assert "Substantive theory: Mechanism supports Sensemaking" in v2


def test_contexts_and_theory_pages_link_to_the_theory_pages(site):
    contexts = article(site / "contexts" / "index.html")
    hrefs = links(contexts, "Its page: the mechanisms that use it")
    assert len(hrefs) == 3 and all(resolves(site, "contexts/index.html", h) for h in hrefs)
    theory = article(site / "theories" / "lead" / "index.html")
    hrefs = links(theory, "Systems leadership theory")  # its CMOC's mechanism, and the theory
    assert len(hrefs) == 2
    assert all(h.endswith("substantive-theories/systems-leadership/") for h in hrefs)
    unused = plain(article(site / "substantive-theories" / "unused-theory" / "index.html"))
    assert "No published mechanism names this theory yet." in unused


def test_references_name_the_theory_page_that_cites_them(site):
    refs = article(site / "references" / "index.html")
    hrefs = [h for h in links(refs, "Systems leadership theory")]
    assert len(hrefs) == 1 and resolves(site, "references/index.html", hrefs[0])
    assert len(links(refs, "Sensemaking")) == 1


def test_theory_json_carries_the_links(site):
    data = json.loads((site / "theories" / "lead" / "v2" / "theory.json").read_text("utf-8"))
    vision = next(c for c in data["cmocs"] if c["id"] == "lead-vision")
    assert vision["substantive_theories"] == [{
        "theory": "systems-leadership", "relation": "extends", "mechanism": "reasoning",
        "note": "Inspiring, not only engaging, partners."}]


def test_without_mechanism_links_substantive_theories_stay_on_the_contexts_page(tmp_path):
    # the minimal project names a substantive theory for its whole theory only
    site = built_project_at(tmp_path, "minimal")
    assert not (site / "substantive-theories").exists()
    theory = article(site / "theories" / "demo" / "index.html")
    (href,) = links(theory, "Systems leadership theory")
    assert href.endswith("contexts/#systems-leadership")


def built_project_at(tmp_path: Path, name: str) -> Path:
    from conftest import build_site
    project = copied_project(tmp_path, name)
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    return tmp_path / "site"


DRAFT = """stage: final
status: draft
cmocs:
  - id: lead-vision
    title: A clear vision
    mechanism_reasonings: [Stakeholders are inspired towards a shared vision]
    substantive_theories:
      - theory: systems-leadershp
        relation: draws-on
"""


def test_unknown_theory_is_reported_at_its_line_with_did_you_mean(tmp_path, cli):
    project = copied_project(tmp_path, "middle-range")
    (project / "theories" / "lead" / "v3.yaml").write_text(DRAFT, encoding="utf-8")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert ("theories/lead/v3.yaml:8: the substantive theory 'systems-leadershp' does not "
            "exist - did you mean 'systems-leadership'?") in err, err
    assert "1 problem found." in err


def test_unknown_relation_is_reported_at_its_line_with_did_you_mean(tmp_path, cli):
    project = copied_project(tmp_path, "middle-range")
    (project / "theories" / "lead" / "v3.yaml").write_text(
        DRAFT.replace("systems-leadershp", "systems-leadership").replace("draws-on", "draws on"),
        encoding="utf-8")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert ("theories/lead/v3.yaml:9: 'draws on' is not allowed (in CMOC 'lead-vision', field "
            "'substantive_theories: relation') - did you mean 'draws-on'?") in err, err
