"""A Python-Markdown extension for Pandoc citations: `[@key, p. 4]`, `@key`, `[-@key]`.

Being an inline pattern, it never touches code spans or code blocks. Each page's citations
are formatted together once the page is parsed (numbered styles need the whole page), and a
"References" list for the page is appended. Citations link to the site's bibliography.
"""

from __future__ import annotations

import html
import posixpath
import re
import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from .formatting import Citer
from .syntax import BRACKETED, IN_TEXT, Cite, parse_group

CLASS = "lt-cite"


def anchor(key: str) -> str:
    """An HTML id for a BibTeX key (keys may hold characters ids should not)."""
    return "ref-" + re.sub(r"[^A-Za-z0-9_-]", lambda mt: f"_{ord(mt.group(0)):x}", key)


class _State:
    def __init__(self) -> None:
        self.groups: list[tuple[tuple[Cite, ...], bool]] = []


class _CitationPattern(InlineProcessor):
    def __init__(self, pattern: str, in_text: bool, state: _State):
        super().__init__(pattern)
        self.in_text = in_text
        self.state = state

    def handleMatch(self, m: re.Match, data: str):  # noqa: N802 - Markdown's API
        if self.in_text:
            cites = (Cite(m["key"].strip("{}"), "", (m["loc"] or "").strip(),
                          bool(m["suppress"])),)
        else:
            cites = parse_group(m["body"])
            if not cites:
                return None, None, None
        el = etree.Element("span", {"class": CLASS, "data-n": str(len(self.state.groups))})
        self.state.groups.append((cites, self.in_text))
        return el, m.start(0), m.end(0)


class _Resolve(Treeprocessor):
    def __init__(self, md: Markdown, ext: CitationsExtension, state: _State):
        super().__init__(md)
        self.ext = ext
        self.state = state

    def run(self, root: etree.Element) -> None:
        if not self.state.groups:
            return
        # Inline patterns run one after another, so the groups were found out of order:
        # format them in document order (numbered styles number by first citation).
        spans = [el for el in root.iter("span")
                 if el.get("class") == CLASS and el.get("data-n") is not None]
        order = [int(el.attrib.pop("data-n")) for el in spans]
        groups = [self.state.groups[n] for n in order]
        formatted = self.ext.citer.format(groups)
        bib_url = self.ext.bibliography_link()
        # A numbered style's [1] is the page's own reference 1: it leads to the page's list.
        here = "#page-" if self.ext.citer.numeric and self.ext.page_references else None
        for i, el in enumerate(spans):
            cites, _ = groups[i]
            keys = [c.key for c in cites]
            known = [k for k in keys if k in self.ext.citer.bibliography]
            target = (here + anchor(known[0]) if here else f"{bib_url}#{anchor(known[0])}") \
                if known else "#"
            link = etree.SubElement(el, "a", {"href": target, "title": "; ".join(keys)})
            link.text = self.md.htmlStash.store(formatted.citations[i])
        if self.ext.page_references and formatted.references:
            section = etree.SubElement(root, "div", {"class": "lt-references"})
            heading = etree.SubElement(section, "h2", {"id": "references"})
            heading.text = "References"
            # Numbered styles print their own numbers: a plain list, not <ol>.
            lst = etree.SubElement(section, "ul", {"class": "lt-reference-list"})
            for key, entry in formatted.references:
                li = etree.SubElement(lst, "li", {"id": f"page-{anchor(key)}"})
                li.text = self.md.htmlStash.store(entry)
                if bib_url:
                    more = etree.SubElement(li, "a", {"href": f"{bib_url}#{anchor(key)}",
                                                      "class": "lt-cited-by"})
                    more.text = "↗"
                    more.set("title", "In the bibliography, with every page that cites it")


class CitationsExtension(Extension):
    """Register with `markdown.Markdown(extensions=[CitationsExtension(citer)])`.

    `bibliography_page` is the src path of the bibliography page; `current_page` (set per page
    by the caller) lets citations link to it relatively, as `.md` links MkDocs resolves.
    `current_text`, if the caller sets it too, is the page's Markdown: a page without '@'
    cites nothing, and its Markdown is converted without the citation patterns (two more
    patterns tried on every run of text cost a big site about a tenth of its inline work).
    """

    def __init__(self, citer: Citer, bibliography_page: str | None = None,
                 page_references: bool = True):
        super().__init__()
        self.citer = citer
        self.bibliography_page = bibliography_page
        self.page_references = page_references
        self.current_page: str | None = None
        self.current_text: str | None = None

    def bibliography_link(self) -> str:
        if not self.bibliography_page or self.current_page == self.bibliography_page:
            return ""
        here = posixpath.dirname(self.current_page or "")
        return posixpath.relpath(self.bibliography_page, here or ".")

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's API
        if self.current_text is not None and "@" not in self.current_text:
            return
        state = _State()
        # Above links (160) so `[@key]` is not read as a link text; below code spans (190).
        md.inlinePatterns.register(_CitationPattern(BRACKETED.pattern, False, state),
                                   "lt_citation", 175)
        md.inlinePatterns.register(_CitationPattern(IN_TEXT.pattern, True, state),
                                   "lt_citation_in_text", 174)
        # Before MkDocs' relative-link rewriting (priority 0), after everything else.
        md.treeprocessors.register(_Resolve(md, self, state), "lt_citations", 1)


def render_text(citer: Citer, text: str) -> str:
    """Markdown text with citations to HTML (for tests and plain-Python callers)."""
    md = Markdown(extensions=[CitationsExtension(citer)])
    return md.convert(html.escape(text, quote=False))


def _markdown_safe(html_text: str) -> str:
    """Formatted citation HTML whose text Markdown will not reinterpret (* _ [ ] `)."""
    table = str.maketrans({c: f"&#{ord(c)};" for c in "*_[]`"})
    return re.sub(r"(^|>)([^<]*)", lambda mt: mt.group(1) + mt.group(2).translate(table),
                  html_text)


def render_static(text: str, citer: Citer, bibliography_url: str | None,
                  page_references: bool = True) -> str:
    """Citations in a Markdown text replaced by their formatted HTML, as the extension would
    render them, for sites built without the plugin (export-markdown). `bibliography_url` is
    the bibliography page's address relative to this page."""
    from .syntax import find_citations

    citations = find_citations(text)
    if not citations:
        return text
    formatted = citer.format([(c.cites, c.in_text) for c in citations])
    out, last = [], 0
    for citation, rendered in zip(citations, formatted.citations, strict=True):
        keys = [c.key for c in citation.cites]
        known = [k for k in keys if k in citer.bibliography]
        here = citer.numeric and page_references
        href = ((f"#page-{anchor(known[0])}" if here else
                 f"{bibliography_url or ''}#{anchor(known[0])}") if known else "#")
        out += [text[last:citation.start],
                f'<span class="{CLASS}"><a href="{html.escape(href)}" '
                f'title="{html.escape("; ".join(keys))}">{_markdown_safe(rendered)}</a></span>']
        last = citation.end
    out.append(text[last:])
    if page_references and formatted.references:
        items = "".join(
            f'<li id="page-{anchor(key)}">{entry}'
            + (f'<a class="lt-cited-by" href="{html.escape(bibliography_url)}#{anchor(key)}" '
               'title="In the bibliography, with every page that cites it">↗</a>'
               if bibliography_url else "") + "</li>"
            for key, entry in formatted.references)
        out.append(f'\n\n<div class="lt-references"><h2 id="references">References</h2>'
                   f'<ul class="lt-reference-list">{items}</ul></div>\n')
    return "".join(out)
