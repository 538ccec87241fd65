"""A printed consultation pack keeps its promise: one A4 page per theory (Chromium's own PDF
printing, pages counted with pypdf)."""

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
    page.close()
    starts = [p.extract_text().split("\n", 1)[0] for p in pdf.pages]
    # a first page with the pack's title and thanks, then each theory on its own page
    assert starts == ["Consultation round 1: consultation pack", "Being, version 3",
                      "Leading & Visioning, version 3", "Relating & Communicating, version 3",
                      "Delivering, version 3"], starts
