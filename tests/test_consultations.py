"""Stakeholder consultation rounds: round pages, feedback, review builds, templates, packs."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from conftest import PROJECTS, article, build_site, edit


@pytest.fixture
def public(minimal_site) -> Path:
    return minimal_site


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("review")
    shutil.copytree(PROJECTS / "minimal", root / "project")
    edit(root / "project/mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      include_drafts: true\n"
         "      feedback_mailto: review@example.org\n")
    run = build_site(root / "project", root / "site")
    assert run.returncode == 0, run.stderr
    return root / "site"


def test_round_page(public):
    page = html.unescape(article(public / "consultations/round-1/index.html"))
    assert "2023-06" in page and "ICB members, patients and carers" in page
    assert 'href="../../theories/demo/v1/"' in page
    assert "Does this explanation of trust ring true" in page
    assert "We never saw shared data used in our area." in page
    assert "patients and carers" in page
    assert "feedback-template.csv" in page and 'href="pack/"' in page


def test_round_reviewing_a_draft_in_the_public_build(public):
    page = html.unescape(article(public / "consultations/round-2/index.html"))
    assert "version 2 (a draft, not published on this site)" in page
    assert "Leadership visibility" not in page


def test_round_shows_what_changed_since_the_previous_round_and_because_of_it(review):
    page = html.unescape(article(review / "consultations/round-2/index.html"))
    assert "What changed in Relationships build trust since the previous round" in page
    assert "<ins>" in page  # the word-level diff, reused
    round_1 = html.unescape(article(review / "consultations/round-1/index.html"))
    assert "What changed because of it" in round_1
    assert "Dropped CMOC 2: Lacked evidence." in round_1  # named, never by its id


def test_feedback_appears_on_cmoc_pages_with_round_and_group(public):
    page = html.unescape(article(public / "cmocs/demo-trust/index.html"))
    said = page[page.index("What stakeholders said"):]
    assert "Meeting every week is what built trust between us." in said
    assert "ICB members" in said and 'href="../../consultations/round-1/"' in said
    evidence = page[page.index('id="evidence"'):page.index("What stakeholders said")]
    assert "Meeting every week" not in evidence  # shown once, in its own section


def test_review_build_is_noindex_with_banner_no_cite_box_and_comment_links(review, public):
    for path in ["index.html", "theories/demo/v2/index.html", "cmocs/demo-trust/index.html"]:
        assert '<meta name="robots" content="noindex, nofollow">' in (review / path).read_text()
    for path in ["index.html", "theories/demo/v1/index.html", "cmocs/demo-trust/index.html"]:
        assert "noindex" not in (public / path).read_text()
    v2 = article(review / "theories/demo/v2/index.html")
    assert "Draft for consultation - not for citation" in v2
    assert "Cite this version" not in v2 and not (review / "theories/demo/v2/cite.bib").exists()
    link = re.search(r'href="(mailto:[^"]+)"', (review / "cmocs/demo-visibility/index.html")
                     .read_text()).group(1)
    link = unquote(html.unescape(link))
    assert link.startswith("mailto:review@example.org?subject=Comment on demo version 2, "
                           "CMOC demo-visibility")
    assert "Round: round-2" in link
    assert "mailto:" not in (public / "cmocs/demo-trust/index.html").read_text()


def test_comment_links_can_go_to_a_form(project, tmp_path):
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      include_drafts: true\n      feedback_form: "
         "https://forms.example.org/r?t={theory}&v={version}&c={cmoc}\n")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "site/cmocs/demo-trust/index.html").read_text()
    assert 'href="https://forms.example.org/r?t=demo&amp;v=2&amp;c=demo-trust"' in page


def test_feedback_template(public):
    rows = list(csv.DictReader(io.StringIO(
        (public / "consultations/round-1/feedback-template.csv").read_text())))
    assert [(r["theory"], r["version"], r["cmoc"]) for r in rows] == [
        ("demo", "1", "demo-trust"), ("demo", "1", "demo-data")]
    assert all(r["agreement"] == "" and r["comments"] == "" for r in rows)
    assert "Frequent face-to-face meetings" in rows[0]["cmoc_summary"]


def filled_template(project: Path) -> str:
    from living_theories.consultations import feedback_template
    from living_theories.project import load_project

    loaded, _ = load_project(project)
    text = feedback_template(loaded.graph, loaded.graph.corpus.sources["round-1"])
    rows = list(csv.reader(io.StringIO(text)))
    rows[1][6:9] = ["ICB members", "Agree", "Weekly meetings made the difference."]
    rows[2][6:9] = ["patients and carers", "disagree", ""]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_import_feedback_writes_valid_records(project, cli, tmp_path):
    (tmp_path / "filled.csv").write_text(filled_template(project), encoding="utf-8-sig")
    code, out, err = cli("import-feedback", str(tmp_path / "filled.csv"), "--round", "round-1",
                         "--dir", str(project))
    assert code == 0, err
    assert "wrote 2 feedback records" in out
    data = yaml.safe_load((project / "evidence/feedback-round-1.yaml").read_text())
    first, second = data["evidence"]
    assert first["group"] == "ICB members" and first["quote"] == \
        "Weekly meetings made the difference."
    assert first["bears_on"] == [{"cmoc": "demo-trust", "role": "supports"}]
    assert second["bears_on"] == [{"cmoc": "demo-data", "role": "challenges"}]
    assert cli("validate", str(project))[0] == 0
    # importing the same round again does not overwrite
    code, _, err = cli("import-feedback", str(tmp_path / "filled.csv"), "--round", "round-1",
                       "--dir", str(project))
    assert code == 1 and "already exists" in err


def test_import_feedback_reports_bad_rows_and_writes_nothing(project, cli, tmp_path):
    text = filled_template(project)
    text = text.replace("Agree", "Yes please").replace("patients and carers", "Mrs Smith")
    text = text.replace("demo,1,demo-data", "demo,1,demo-nope")
    (tmp_path / "bad.csv").write_text(text)
    code, out, err = cli("import-feedback", str(tmp_path / "bad.csv"), "--round", "round-1",
                         "--dir", str(project))
    assert code == 1
    assert "bad.csv: row 2, column 'agreement': 'Yes please' is not an answer" in err
    assert "bad.csv: row 3, column 'cmoc': 'demo-nope' is not a CMOC of that version" in err
    assert "bad.csv: row 3, column 'stakeholder_group': 'Mrs Smith' is not one of" in err
    assert "nothing was written" in err and "Traceback" not in err
    assert not (project / "evidence/feedback-round-1.yaml").exists()


def test_import_feedback_for_an_unknown_round(project, cli, tmp_path):
    (tmp_path / "f.csv").write_text(filled_template(project))
    code, _, err = cli("import-feedback", str(tmp_path / "f.csv"), "--round", "round-9",
                       "--dir", str(project))
    assert code == 1 and "no consultation round 'round-9'" in err and "round-1" in err


def test_feedback_group_must_belong_to_the_round(project, cli):
    edit(project / "evidence/consultation.yaml", "group: ICB members\n    quote",
         "group: Dr Jones\n    quote")
    code, _, err = cli("validate", str(project))
    assert code == 1 and "'Dr Jones' is not one of the round's stakeholder groups" in err


@pytest.mark.browser
def test_consultation_pack_prints_to_a4_pdf(browser, serve, review, tmp_path):
    import pypdf

    base = serve(review)
    page = browser.new_page()
    page.goto(base + "consultations/round-2/pack/")
    page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
    assert page.locator(".lt-diagram svg").count() == 1
    page.pdf(path=str(tmp_path / "pack.pdf"), prefer_css_page_size=True)  # our @page: A4
    page.close()
    pdf = pypdf.PdfReader(str(tmp_path / "pack.pdf"))
    assert len(pdf.pages) >= 2
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points
    first = pdf.pages[0].extract_text()
    assert "consultation pack" in first and "Relationships build trust, version" not in first
    theory = "".join(p.extract_text() for p in pdf.pages[1:])
    assert "Relationships build trust, version 2" in theory  # a new page per theory
    assert "draft for consultation - not for citation" in theory
    assert "content hash" in theory
    assert "Frequent face-to-face" in theory  # the diagram's labels are printed
    assert base + "theories/demo/v2/" in theory  # links printed as addresses
    assert "Has visible leadership changed morale in your team?" in theory


def test_import_feedback_keeps_paraphrase_as_summary_and_no_answer_as_no_stance(project, cli,
                                                                               tmp_path):
    from living_theories.consultations import feedback_template
    from living_theories.project import load_project

    loaded, _ = load_project(project)
    rows = list(csv.reader(io.StringIO(feedback_template(
        loaded.graph, loaded.graph.corpus.sources["round-1"]))))
    assert rows[0][-1] == "paraphrased"
    rows[1][6:10] = ["ICB members", "", "Members said meetings mattered most.", "yes"]
    rows[2][6:10] = ["patients and carers", "", "We were never asked.", ""]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    (tmp_path / "filled.csv").write_text(out.getvalue(), encoding="utf-8")
    code, _, err = cli("import-feedback", str(tmp_path / "filled.csv"), "--round", "round-1",
                       "--dir", str(project))
    assert code == 0, err
    first, second = yaml.safe_load(
        (project / "evidence/feedback-round-1.yaml").read_text())["evidence"]
    # the team's paraphrase is a summary, never presented as the stakeholder's words
    assert first["summary"] == "Members said meetings mattered most." and "quote" not in first
    assert second["quote"] == "We were never asked." and "summary" not in second
    # no answer in the agreement column takes no stance
    assert [r["bears_on"][0]["role"] for r in (first, second)] == ["informs", "informs"]
    assert cli("validate", str(project))[0] == 0
