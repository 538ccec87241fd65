"""Hostile text in every field: shown as text, never obeyed, in HTML and inside diagrams."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import PROJECTS, build_site
from hypothesis import given, settings
from hypothesis import strategies as st
from living_theories.diagrams import label

# Script tags, an event handler, a Mermaid label break-out with a click directive, a Mermaid
# init directive, a reserved word, a javascript: link, an attribute list, Markdown syntax.
HOSTILE = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> '
           '"]; click n1 call alert(1) %%{init: {"securityLevel": "loose"}}%% end '
           '[x](javascript:window.__pwned=3) {onclick="window.__pwned=4"} **bold** # '
           '</title><script>window.__pwned=5</script> '
           '&lt;/title&gt;&lt;script&gt;window.__pwned=6 ')


def hostile_project(dest: Path) -> Path:
    """The minimal project with hostile text in every free-text field."""
    import shutil

    shutil.copytree(PROJECTS / "minimal", dest)

    def rewrite(path: Path, change) -> None:
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))

    def project(d):
        d["title"] = HOSTILE
        d["description"] = HOSTILE
        d["framework"]["title"] = HOSTILE
        d["framework"]["domains"][0]["title"] = HOSTILE
        d["overarching_contexts"][0].update(title=HOSTILE, description=HOSTILE)
        d["substantive_theories"][0].update(title=HOSTILE, description=HOSTILE)

    def theory(d):
        d["title"] = HOSTILE
        d["summary"] = HOSTILE

    def version(d):
        d.update(statement=HOSTILE, evidence_base=HOSTILE, notes=HOSTILE)
        for c in d["cmocs"]:
            c.update(label=HOSTILE, title=HOSTILE, narrative=HOSTILE, contexts=[HOSTILE, "end"],
                     mechanism_resources=[HOSTILE], mechanism_reasonings=[HOSTILE],
                     outcomes=[HOSTILE], notes=HOSTILE,
                     # a mechanism's substantive theory: the theory then has a page of its own
                     substantive_theories=[{"theory": "systems-leadership",
                                            "relation": "draws-on", "note": HOSTILE}])
            if c.get("lineage", {}).get("reason"):
                c["lineage"]["reason"] = HOSTILE
        for ch in d.get("changes", []):
            ch.update(summary=HOSTILE, reason=HOSTILE)
        for dr in d.get("dropped", []):
            dr["reason"] = HOSTILE

    def sources(d):
        for s in d["sources"]:
            s["description"] = HOSTILE
            if s["kind"] != "participant":
                s["title"] = HOSTILE
            else:
                s.update(code=HOSTILE, role=HOSTILE)
            if s["kind"] == "study":
                s["appraisal"] = {"relevance": HOSTILE, "rigour": HOSTILE, "note": HOSTILE}

    def evidence(d):
        for e in d["evidence"]:
            e.update(quote=HOSTILE, summary=HOSTILE, cited_as=HOSTILE, locator=HOSTILE,
                     appraisal={"relevance": "high: " + HOSTILE, "rigour": HOSTILE,
                                "note": HOSTILE})

    rewrite(dest / "theories/project.yaml", project)
    rewrite(dest / "theories/demo/theory.yaml", theory)
    for v in ("v1", "v2"):
        rewrite(dest / f"theories/demo/{v}.yaml", version)
    rewrite(dest / "evidence/sources.yaml", sources)
    rewrite(dest / "evidence/interviews.yaml", evidence)
    (dest / "living-theories.lock").unlink()
    (dest / "theories/demo/v1.yaml").write_text(
        (dest / "theories/demo/v1.yaml").read_text().replace("status: released",
                                                             "status: draft"))
    return dest


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    project = hostile_project(root / "project")
    # A review build, so that drafts (every version here) are published too.
    # Not --strict: the javascript: link is dropped with a warning (test_links.py).
    run = build_site(project, root / "site", env={"LIVING_THEORIES_REVIEW": "1"}, strict=False)
    assert run.returncode == 0, run.stderr
    assert "the link to 'javascript:window.__pwned=3' is not shown as a link" in run.stderr
    return root / "site"


def pages(site: Path) -> list[Path]:
    return [p for p in site.rglob("*.html") if "assets" not in p.parts]


def test_the_hostile_text_reaches_the_pages(hostile_site):
    cmoc = (hostile_site / "cmocs/demo-trust/index.html").read_text()
    assert "window.__pwned=1" in cmoc  # shown as text...
    assert "&lt;script&gt;" in cmoc or "&#60;script" in cmoc
    # ... on the pages of appraisal and of middle-range theory too
    assert "Appraisal of the evidence" in cmoc and "Substantive theory" in cmoc
    theory = (hostile_site / "substantive-theories/systems-leadership/index.html").read_text()
    assert "window.__pwned=1" in theory


class Tags(HTMLParser):
    """What a browser would obey: tags, attribute names, scripts, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[str] = []
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.titles = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        self.hrefs += [v or "" for name, v in attrs if name in ("href", "src", "action")]
        self.images += [dict(attrs).get("src", "")] if tag == "img" else []
        self.titles += tag == "title"
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def test_no_markup_from_data_is_obeyed(hostile_site):
    for path in pages(hostile_site):
        tags = Tags()
        tags.feed(path.read_text())
        assert tags.handlers == [], path
        assert not [h for h in tags.hrefs if h.strip().lower().startswith("javascript:")], path
        assert not [s for s in tags.scripts if "__pwned" in s], path
        assert "x" not in tags.images, path
        assert tags.titles == 1, path


def test_titles_are_plain_text_but_narratives_keep_markdown(hostile_site):
    text = (hostile_site / "theories/demo/index.html").read_text()
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S).group(1)
    assert "<strong>" not in h1 and "bold" in h1  # a title is text
    assert "<strong>bold</strong>" in text  # the statement is Markdown


# Mermaid labels: the only raw characters left are text; anything Mermaid reads as syntax
# must be an entity code (#quot; #35; ...). `<br>` is the label's own line break.
LABEL_SYNTAX = set('"<>[]{}()|%`;\\*_~&#')
ENTITY = re.compile(r"#(?:[a-z]+|\d+);")
# A node or subgraph line: its one label is the only quoted thing on it.
NODE_LINE = re.compile(r'(?:n\d+(?:\[|\(\[|\{\{|\[/|\()"(?P<a>[^"]*)"(?:\]|\]\)|\}\}|/\]|\))'
                       r"(?::::\w+)?|subgraph (?:[gv]|oc)\d+\[\"(?P<b>[^\"]*)\"\])")


def label_text(label: str) -> str:
    """What a label says, decoded by hand (not with the code under test); fails on syntax."""
    raw = ENTITY.sub("", label.replace("<br>", " "))
    assert not LABEL_SYNTAX & set(raw), f"unescaped {sorted(LABEL_SYNTAX & set(raw))} in {label}"
    codes = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}
    return ENTITY.sub(lambda mt: codes.get(mt[0][1:-1]) or chr(int(mt[0][1:-1])),
                      label.replace("<br>", " "))


def test_diagram_sources_are_escaped(hostile_site):
    found = labels = 0
    hostile = "".join(HOSTILE.split())
    for path in pages(hostile_site):
        for source in re.findall(r'<pre class="lt-mermaid"[^>]*>(.*?)</pre>', path.read_text(),
                                 re.S):
            found += 1
            for line in html.unescape(source).splitlines():
                line = line.strip()
                assert not line.startswith("click"), line
                assert "%%" not in line
                if '"' not in line:
                    continue
                # one label per line, quoted, with nothing else quoted: a quote left raw
                # inside a label would end it early and the rest would not fit the line
                node = NODE_LINE.fullmatch(line)
                assert node, f"not a single quoted label: {line}"
                text = label_text(node["a"] if node["a"] is not None else node["b"])
                labels += 1
                if "pwned" in text:  # the hostile text, whole up to the label's cut, after
                    said = "".join(text.removesuffix("…").split())  # any prefix ("No: ")
                    start = said.find(hostile[:20])
                    # (a CMOC is named "label: title": then it is said twice, each whole)
                    assert start >= 0 and (said[start:].startswith(hostile)
                                           or hostile.startswith(said[start:])), text
    assert found >= 3 and labels >= 10


SPECIALS = "\"'<>[]{}()|%`;\\*_~&#:-=/!.,\n\t é→"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(SPECIALS) | st.characters(blacklist_characters="@"),
               max_size=150))
def test_any_text_makes_one_safe_label_that_says_it(text):
    quoted = label(text)
    assert quoted.startswith('"') and quoted.endswith('"') and quoted.count('"') == 2, quoted
    said = label_text(quoted[1:-1])
    assert "".join(said.split()) == ("".join(text.split()) or "(notext)")
