"""Links cannot run script: one URL policy (links.py) for every link, reference definition,
autolink and image in every Markdown field, after the normalisation browsers apply. Checked on
a payload corpus in the built HTML, in Chromium (on load and on clicking every link), in
validate's and the build's warnings (file:line), and through import-cmocs."""

from __future__ import annotations

import csv
import html
import itertools
import random
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
import yaml
from conftest import PROJECTS, build_site
from living_theories import links

# Addresses a browser would run or open as a document, as an author or a spreadsheet could
# write them. Each calls alert(), so a script that runs shows as a dialog in Chromium.
PAYLOADS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "vbscript:msgbox(3)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(5)>",
    "\x01javascript:alert(6)",
    "\x1f\x0b javascript:alert(7)",
    "java\tscript:alert(8)",
    "java\nscript:alert(9)",
    "&#106;avascript:alert(10)",
    "&#x6A;avascript:alert(11)",
    "&#0000106avascript:alert(12)",
    "javascript&colon;alert(13)",
    "jav&#x09;ascript:alert(14)",
    "javascript://%0aalert(15)",
    "  javascript:alert(16)",
]
# Ways Markdown makes a link or an image from an address.
FORMS = {
    "inline": "[inline {n}]({url})",
    "angle": "[angle {n}](<{url}>)",
    "titled": '[titled {n}]({url} "t")',
    "image": "![image {n}]({url})",
    "image-in-link": "[![nested {n}](x.png)]({url})",
    "reference": "[reference {n}][ref{n}]\n\n[ref{n}]: {url}",
    "shortcut": "[short{n}]\n\n[short{n}]: {url}",
    "autolink": "<{url}>",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def corpus() -> list[str]:
    """Every payload in every form: a Markdown snippet each."""
    return [form.format(n=f"{i}x{j}", url=url) for (i, url), (j, form)
            in itertools.product(enumerate(PAYLOADS), enumerate(FORMS.values()))]


def link_project(dest: Path) -> tuple[Path, int]:
    """The minimal project with the corpus spread over ten Markdown fields of every kind of
    record (each snippet in two of them), all versions drafts; and a reference definition in
    one field used by a link in another. Returns the project and the number of placements."""
    shutil.copytree(PROJECTS / "minimal", dest)
    snippets = corpus()
    fields = 10
    share = [[s for k, s in enumerate(snippets) if k % fields in (f, (f + 1) % fields)]
             for f in range(fields)]
    block = ["\n\n".join(s) for s in share]
    inline = [" ".join(s) for s in share]

    def rewrite(path: Path, change) -> None:
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))

    def project(d):
        d["url"] = "https://site.example/a)[y](javascript:alert(17)"  # URL fields too
        d["description"] = block[0]
        d["overarching_contexts"][0]["description"] = block[1]
        d["substantive_theories"][0]["description"] = block[2]

    def version(d):
        d["doi"] = "10.1234/x)[y](javascript:alert(18)"
        d["statement"] = block[3] + "\n\nA [cross-field link][elsewhere]."
        d["notes"] = "[elsewhere]: \x01javascript:alert(99)"
        for c in d["cmocs"]:
            c.update(narrative=block[4], contexts=[inline[5], "A plain context"],
                     outcomes=[inline[6]])
        for ch in d.get("changes", []):
            ch["reason"] = inline[7]

    def sources(d):
        for s in d["sources"]:
            s["description"] = block[8]

    def evidence(d):
        for e in d["evidence"]:
            e["summary"] = block[9]

    rewrite(dest / "theories/project.yaml", project)
    for v in ("v1", "v2"):
        rewrite(dest / f"theories/demo/{v}.yaml", version)
    rewrite(dest / "evidence/sources.yaml", sources)
    rewrite(dest / "evidence/interviews.yaml", evidence)
    (dest / "living-theories.lock").unlink()
    v1 = dest / "theories/demo/v1.yaml"
    v1.write_text(v1.read_text().replace("status: released", "status: draft"))
    return dest, sum(len(s) for s in share) + 1


@pytest.fixture(scope="module")
def link_site(tmp_path_factory) -> tuple[Path, Path, str]:
    """The payload project's review site (drafts shown), built without --strict: the
    warnings are the point (see test_a_strict_build_fails_on_a_dropped_link)."""
    root = tmp_path_factory.mktemp("links")
    project, _ = link_project(root / "project")
    run = build_site(project, root / "site", env={"LIVING_THEORIES_REVIEW": "1"}, strict=False)
    assert run.returncode == 0, run.stderr
    return project, root / "site", run.stderr


class Addresses(HTMLParser):
    """Every address an HTML page holds in an attribute a browser follows or loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "xlink:href", "poster",
                        "data", "srcset") and value is not None:
                self.found.append((f"{tag} {name}", value))


def browser_view(value: str) -> str:
    """The test's own reading of an attribute as a browser: (entities already decoded by the
    HTML parser) C0 controls and spaces gone from the ends, tabs and newlines removed."""
    return re.sub(r"[\t\n\r]", "", value.strip("".join(map(chr, range(0x21))))).lower()


def test_the_policy_reads_an_address_as_a_browser_does():
    for url in PAYLOADS:
        assert not links.allowed(url), repr(url)
    for url in ("https://example.org/x?y=1#z", "HTTP://EXAMPLE.ORG", "mailto:a@example.org",
                "../sources/p1/", "#ref-pawson1997", "page.md", "?q=1", "//example.org/x",
                "java script:alert(1)", "%6Aavascript:alert(1)"):
        assert links.allowed(url), url
    # Entities are decoded once, as the HTML parser does: a double-encoded one stays text.
    assert links.allowed("&amp;#106;avascript:alert(1)")


def test_every_payload_is_dropped_from_the_parsed_field():
    snippets = corpus()
    assert len(snippets) == len(PAYLOADS) * len(FORMS)
    for snippet in snippets:
        source = links.field_source(snippet)
        safe = links.disarmed(source)
        assert safe is not None and links.unsafe(safe) == [], repr(snippet)


def test_may_link_never_skips_a_field_that_makes_a_link():
    """The cheap test that spares most fields a parse must never say "no link" for a text
    the parser turns into one: every kind of link, with random characters put between its
    own (spaces, line breaks, tabs, backslashes, brackets, entities)."""
    parser = markdown.Markdown(extensions=links.FIELD_EXTENSIONS)
    rng = random.Random(16)
    skeletons = ["[x](a:b)", "![x](a:b)", "[x][r]\n\n[r]: a:b", "[r]\n\n[r]: a:b", "<a:b>",
                 "[x](<a:b>)", "[x] [r]\n[r]:a:b", "[![i](c)](a:b)"]
    noise = [" ", "\n", "\t", "\\", "<", ">", "[", "]", "(", ")", ":", "!", "&#58;", "\n\n",
             "    "]
    made = 0
    for _ in range(6000):
        skeleton = rng.choice(skeletons)
        text = "".join(c + (rng.choice(noise) if rng.random() < 0.15 else "")
                       for c in skeleton)
        out = parser.reset().convert(text)
        if "href=" in out or "src=" in out or parser.references:
            made += 1
            assert links.may_link(text), repr(text)
    assert made > 2000  # most variants still make a link


def test_no_address_in_the_built_html_has_a_scheme_that_runs(link_site):
    _, site, _ = link_site
    pages = [p for p in site.rglob("*.html")]
    checked = 0
    for path in pages:
        parser = Addresses()
        parser.feed(path.read_text(encoding="utf-8"))
        for where, value in parser.found:
            checked += 1
            assert not browser_view(value).startswith(BAD_SCHEMES), (path, where, value)
            assert links.allowed(value), (path, where, value)
    assert checked > 500
    # The payloads did reach the pages, as text.
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "inline 0x0" in home and "javascript:alert(1)" in home


def addresses_that_run(site: Path) -> list[tuple[Path, str, str]]:
    found = []
    for path in site.rglob("*.html"):
        parser = Addresses()
        parser.feed(path.read_text(encoding="utf-8"))
        found += [(path, where, value) for where, value in parser.found
                  if browser_view(value).startswith(BAD_SCHEMES) or not links.allowed(value)]
    return found


def test_each_layer_alone_drops_every_payload(tmp_path, cli):
    """The pages' Markdown itself is safe (export-markdown's site, built by plain MkDocs with
    no plugin), and the build's treeprocessor alone drops whatever a page's Markdown makes."""
    project, _ = link_project(tmp_path / "project")
    code, _, err = cli("export-markdown", str(tmp_path / "export"), "--dir", str(project),
                       "--review")
    assert code == 0, err
    assert "theories/demo/v2.yaml:" in err and "is not shown as a link" in err
    run = build_site(tmp_path / "export", tmp_path / "plain", strict=False)
    assert run.returncode == 0, run.stderr
    assert addresses_that_run(tmp_path / "plain") == []
    # The treeprocessor on raw snippets (no escaping by md()), in one document.
    dropped: list[str] = []
    out = markdown.markdown("\n\n".join(corpus()), extensions=[
        *links.FIELD_EXTENSIONS, links.LinkPolicyExtension(dropped.append)])
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw/page.html").write_text(out, encoding="utf-8")
    assert addresses_that_run(tmp_path / "raw") == []
    assert len(dropped) >= len(PAYLOADS) - 2  # (the same address is reported once)


def test_validate_and_the_build_warn_at_file_and_line(link_site, cli):
    project, _, stderr = link_site
    code, out, err = cli("validate", str(project))
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warnings and all(re.match(r"warning: [\w/.-]+\.yaml:\d+: the link to '", w)
                            for w in warnings), warnings[:3]
    places = {w.split(": ")[1] for w in warnings}
    for place in ("theories/project.yaml", "theories/demo/v2.yaml",
                  "evidence/sources.yaml", "evidence/interviews.yaml"):
        assert any(p.startswith(place + ":") for p in places), place
    assert any("\\x01javascript:alert(99)" in w for w in warnings)
    # The build says the same, once per place (its last line on pages reports nothing new).
    built = [line for line in stderr.splitlines() if line.startswith("WARNING")]
    assert len(built) == len(warnings), built[:5]


def test_a_strict_build_fails_on_a_dropped_link(project, tmp_path):
    path = project / "theories/demo/v2.yaml"
    path.write_text(path.read_text().replace(
        "as @senge2015 argued.", "as @senge2015 argued ([more](JaVaScRiPt:alert(1)))."))
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 1
    assert "theories/demo/v2.yaml:4: the link to 'JaVaScRiPt:alert(1)' is not shown" \
        in run.stderr


def test_feedback_form_must_be_a_web_address(project, tmp_path):
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "  - living-theories\n",
        "  - living-theories:\n      feedback_form: "
        "\"\\x01javascript:alert(document.domain)//{cmoc}\"\n"))
    run = build_site(project, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"},
                     strict=False)
    assert run.returncode == 0, run.stderr
    assert "feedback_form: '\\x01javascript:alert(document.domain)//{cmoc}' is not used" \
        in run.stderr
    cmoc = (tmp_path / "site/cmocs/demo-trust/index.html").read_text(encoding="utf-8")
    assert "alert(document.domain)" not in cmoc and "Comment on this" not in cmoc


def test_a_form_address_stays_one_link(project, tmp_path):
    # Spaces and parentheses would end a Markdown link early: they are percent-encoded.
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "  - living-theories\n", "  - living-theories:\n      feedback_form: "
        "\"https://forms.example.org/r?cmoc={cmoc}&x=a b)[y](javascript:alert(1)\"\n"))
    run = build_site(project, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    cmoc = (tmp_path / "site/cmocs/demo-trust/index.html").read_text(encoding="utf-8")
    assert 'href="https://forms.example.org/r?cmoc=demo-trust&amp;x=a%20b%29%5By%5D%28' \
        'javascript:alert%281%29"' in cmoc


def test_import_cmocs_warns_at_sheet_row_and_column(project, cli, tmp_path):
    table = tmp_path / "cmocs.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["theory", "version", "cmoc_id", "context", "mechanism_resource",
                    "mechanism_reasoning", "outcome"])
        w.writerow(["imported", "1", "imported-a", "[x](\x01javascript:alert(1))", "r",
                    "[y][b]\n[b]: JaVaScRiPt:alert(2)", "o"])
    code, _, err = cli("import-cmocs", str(table), "--dir", str(project))
    assert code == 0, err
    assert "row 2, column 'context': the link to '\\x01javascript:alert(1)' will not be shown" \
        in err
    assert "row 2, column 'mechanism_reasoning': the link to 'JaVaScRiPt:alert(2)'" in err
    code, _, err = cli("validate", str(project))
    assert code == 0 and "theories/imported/v1.yaml:" in err


@pytest.mark.browser
def test_no_script_runs_on_load_or_on_clicking_any_link(link_site, browser, serve):
    _, site, _ = link_site
    base = serve(site)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html")
                   if "assets" not in p.parts)
    assert len(pages) > 10
    context = browser.new_context()
    # Clicks on ordinary links are stopped here so that every link of a page is clicked in
    # turn; a javascript: or data: link is left to the browser (it would run or open).
    context.add_init_script("""
        window.__ran = 0;
        document.addEventListener('click', e => {
            const a = e.target.closest('a');
            if (a && ['http:', 'https:', 'mailto:', 'file:'].includes(a.protocol))
                e.preventDefault();
        }, true);""")
    dialogs: list[str] = []
    page = context.new_page()
    context.on("page", lambda p: dialogs.append(f"popup {p.url}"))  # (a link opened a window)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    clicked = 0
    for path in pages:
        page.goto(base + path.removesuffix("index.html"))
        # Every address as the browser itself parsed it.
        schemes = page.eval_on_selector_all(
            "a[href], img[src], iframe[src], form[action]",
            "els => els.map(e => new URL(e.href || e.src || e.action, location.href).protocol)")
        assert set(schemes) <= {"http:", "https:", "mailto:"}, (path, set(schemes))
        count = page.locator("article a").count()
        for i in range(count):
            link = page.locator("article a").nth(i)
            if link.is_visible():
                link.click(no_wait_after=True, timeout=2000)
            else:  # (a permalink shown on hover): clicked as a script would
                link.evaluate("a => a.click()")
            clicked += 1
        assert page.url.startswith(base + path.removesuffix("index.html")), path
    context.close()
    assert clicked > 100
    assert dialogs == []


def test_markdown_escapes_used_by_the_test_are_what_html_parser_decodes():
    # (guards the Addresses parser: entities in attributes are decoded before the check)
    parser = Addresses()
    parser.feed('<a href="&#106;avascript:x">')
    assert parser.found == [("a href", "javascript:x")]
    assert html.unescape("&#0000106avascript") == "javascript"
