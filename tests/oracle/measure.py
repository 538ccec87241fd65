"""How many references and citations the plugin formats exactly as citeproc-js (Zotero) does.

Compares entry by entry with the fixtures make-fixtures.mjs wrote, with whitespace, HTML
entities, quote characters and wrapping <div>/<span> tags folded (italics and bold kept):

    PYTHONPATH=plugins python3 tests/oracle/measure.py [-v]

tests/test_citation_oracle.py uses the same functions.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

from living_theories.citations.bibtex import load_bibliography
from living_theories.citations.formatting import Citer
from living_theories.citations.syntax import Cite
from living_theories.problems import Problems

HERE = Path(__file__).parent
REPO = HERE.parent.parent
BIBS = {"references": REPO / "references.bib", "probe": HERE / "probe.bib"}
STYLES = ["harvard-cite-them-right", "apa", "vancouver"]
# Curly and straight forms of the same quote are one; single and double quotes stay apart.
QUOTES = str.maketrans({c: "'" for c in "‘’‛′"} | {c: '"' for c in "“”„″"})


def fold(text: str) -> str:
    """What differs without showing: whitespace, entities, quote characters, wrappers."""
    text = re.sub(r"</?(?:div|span)\b[^>]*>", " ", text)
    text = html.unescape(text).translate(QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def fixture(bib: str, style: str) -> dict:
    return json.loads((HERE / "fixtures" / f"{bib}-{style}.json").read_text(encoding="utf-8"))


def citer(bib: str, data: dict) -> Citer:
    problems = Problems(REPO)
    bibliography = load_bibliography(BIBS[bib], problems)
    try:
        return Citer(bibliography, data["style"], REPO, locale=data["locale"])
    except TypeError:  # a Citer from before `locale` (to measure the old code)
        return Citer(bibliography, data["style"], REPO)


def cites(group: dict) -> tuple[tuple[Cite, ...], bool]:
    out = []
    for c in group["cites"]:
        locator = c.get("locator", "")
        if locator and c.get("label", "page") != "page":
            locator = f"{c['label']} {locator}"
        out.append(Cite(c["key"], locator=locator, suppress_author=bool(c.get("suppress"))))
    return tuple(out), group["mode"] == "narrative"


def same_citation(ours: str, theirs: str, group: dict, numeric: bool) -> bool:
    if numeric and group["mode"] == "narrative":  # no author form in the style: see the fixture
        return fold(ours).endswith(fold(theirs))
    return fold(ours) == fold(theirs)


def bibliography_differences(bib: str, style: str) -> tuple[int, list[tuple[str, str, str]]]:
    """(entries compared, [(key, ours, citeproc-js's)] of those that differ)."""
    data = fixture(bib, style)
    c = citer(bib, data)
    keys = list(c.bibliography.entries)
    c.prepare(keys)
    ours = dict(c.format([((Cite(k),), False) for k in keys]).references)
    order = [k for k, _ in data["bibliography"]]
    differ = [(k, ours.get(k, ""), theirs) for k, theirs in data["bibliography"]
              if fold(ours.get(k, "")) != fold(theirs)]
    if list(ours) != order:  # the order is part of the bibliography too
        differ.append(("(order)", " ".join(ours), " ".join(order)))
    return len(data["bibliography"]), differ


def citation_differences(bib: str, style: str, site: bool = False
                         ) -> tuple[int, list[tuple[str, str, str]]]:
    """(citations compared, [(group, ours, citeproc-js's)] of those that differ); `site`: the
    bundled site's own citations, with the site's keys prepared in the site's order."""
    data = fixture(bib, style)
    c = citer(bib, data)
    part = data["site"] if site else data
    c.prepare(part["keys"] if site else list(c.bibliography.entries))
    groups = part["citations"]
    # The site's keys as citeproc-js's registry held them: a page numbering them in that order.
    ours = c.format([cites(g) for g in groups], tuple(part["keys"]) if site else ()).citations
    differ = [(json.dumps(g["cites"]) + " " + g["mode"], mine, g["html"])
              for g, mine in zip(groups, ours, strict=True)
              if not same_citation(mine, g["html"], g, c.numeric)]
    return len(groups), differ


def main() -> None:
    verbose = "-v" in sys.argv
    print("| bib | style | entries identical | citations identical | site citations identical |")
    print("| --- | --- | --- | --- | --- |")
    for bib in BIBS:
        for style in STYLES:
            n, differ = bibliography_differences(bib, style)
            m, cdiffer = citation_differences(bib, style)
            site = ""
            sdiffer: list = []
            if "site" in fixture(bib, style):
                s, sdiffer = citation_differences(bib, style, site=True)
                site = f"{s - len(sdiffer)} / {s}"
            print(f"| {bib} | {style} | {n - len([d for d in differ if d[0] != '(order)'])} / {n}"
                  f"{' (order differs)' if any(d[0] == '(order)' for d in differ) else ''}"
                  f" | {m - len(cdiffer)} / {m} | {site} |")
            if verbose:
                for key, mine, theirs in differ + cdiffer + sdiffer:
                    print(f"  {key}\n    ours:   {fold(mine)}\n    theirs: {fold(theirs)}")


if __name__ == "__main__":
    main()
