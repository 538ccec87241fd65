"""A printed consultation pack keeps its promise: one A4 page per theory, then its diagram on
pages of its own at a size that can be read (Chromium's own PDF printing, pages counted with
pypdf)."""

from __future__ import annotations

import io
import shutil

import pytest
from conftest import REPO, build_site

pytestmark = pytest.mark.browser

ROUND = """sources:
  - id: round-1
    kind: consultation
    title: Consultation round 1
    date: 2024-05
    groups: [ICB members]
    reviewed:
"""


def test_the_pack_prints_one_a4_page_per_theory(browser, serve, tmp_path):
    from pypdf import PdfReader

    project = tmp_path / "project"
    project.mkdir()
    for name in ("theories", "evidence", "docs", "releases"):
        shutil.copytree(REPO / name, project / name)
    for name in ("references.bib", "mkdocs.yml", "living-theories.lock"):
        shutil.copy(REPO / name, project / name)
    theories = ["being", "leading-visioning", "relating-communicating", "delivering"]
    (project / "evidence/round.yaml").write_text(ROUND + "".join(
        f"      - {{theory: {t}, version: 3}}\n" for t in theories))
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = browser.new_page()
    page.goto(serve(tmp_path / "site") + "consultations/round-1/pack/")
    page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
    # As printed (A4 less its margins is about 690 CSS px wide): node text of each diagram.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 690, "height": 1000})
    smallest = page.evaluate("""() => [...document.querySelectorAll('.lt-diagram svg')]
        .map(svg => Math.min(...[...svg.querySelectorAll('g.node .nodeLabel')].map(t =>
          parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width
          / svg.viewBox.baseVal.width)))""")
    page.close()
    starts = [p.extract_text().split("\n", 1)[0] for p in pdf.pages]
    # a first page with the pack's title and thanks, then each theory on its own page, then
    # its diagram from a new page (a tall one continues on the next)
    names = ["Being", "Leading & Visioning", "Relating & Communicating", "Delivering"]
    assert starts[0] == "Consultation round 1: consultation pack"
    theory_pages = [i for i, s in enumerate(starts) if s in [f"{n}, version 3" for n in names]]
    assert [starts[i] for i in theory_pages] == [f"{n}, version 3" for n in names], starts
    for i in theory_pages:
        assert starts[i + 1] == f"Diagram: {starts[i]}", starts
    # 8 CSS px is 6 pt on paper: small print, still read (48 mm high, it was 1 px)
    assert len(smallest) == 4 and min(smallest) >= 8, smallest
