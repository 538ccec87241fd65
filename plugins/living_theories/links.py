"""One URL policy for every link the site shows: http, https, mailto, relative links and
anchors; anything else (javascript:, vbscript:, data:, ...) is dropped and reported.

The policy looks at a link as a browser will: after the HTML parser decodes entities
(`&#106;avascript:`), and after the URL parser strips leading and trailing C0 controls and
spaces, removes tabs and newlines and folds the scheme's case (WHATWG URL Standard). The
scheme itself is read by the standard library's `urllib.parse.urlsplit`, which follows that
standard; the stripping is done here as well, as Pythons before 3.11.4 did not.

It is applied to parsed documents, never to source text: a Python-Markdown treeprocessor sees
every link, image, autolink and reference-style link as the page's own Markdown produced it,
and the reference definitions it read (used or not). Three places use it:

- `unsafe(source)`: the links one Markdown field would make on its own (validate's check,
  reported at file:line, and `md()` in pages/markup.py, which disarms such a field);
- `LinkPolicyExtension`: the MkDocs build's last line, on whole generated pages;
- `allowed(url)`: the site's own address and the `feedback_form` setting.
"""

from __future__ import annotations

import functools
import html
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
RULE = "only http, https and mailto addresses, relative links and anchors are allowed"
# Extensions that change what counts as a link are the site's own (export.NEEDED_EXTENSIONS).
FIELD_EXTENSIONS = ["attr_list", "tables", "toc", "admonition", "md_in_html"]
_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))
_TAB_OR_NEWLINE = {9: None, 10: None, 13: None}


def browser_url(url: str) -> str:
    """The URL a browser follows for this attribute value (entities decoded, C0 controls and
    spaces stripped at both ends, tabs and newlines removed)."""
    return html.unescape(url).strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)


def allowed(url: str) -> bool:
    """True for http, https and mailto addresses, relative links and anchors."""
    try:
        scheme = urlsplit(browser_url(url)).scheme  # lower-cased; "" when relative
    except ValueError:  # e.g. "http://[::1": no browser would follow it either
        return False
    return scheme == "" or scheme in ALLOWED_SCHEMES


def shown(url: str, limit: int = 60) -> str:
    """A URL as a message may print it: control characters made visible, cut short."""
    text = url.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Policy(Treeprocessor):
    """Drops every href and src the policy does not allow: a link becomes its text, an image
    its alt text. Reference definitions with such an address are reported even if unused."""

    def __init__(self, md: markdown.Markdown, ext: LinkPolicyExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        if not self.ext.active():
            return
        dropped = [url for url, _title in self.md.references.values() if not allowed(url)]
        for el in root.iter():
            for attr in ("href", "src"):
                url = el.get(attr)
                if url is not None and not allowed(url):
                    dropped.append(url)
                    _disarm(el)
                    break
        for url in dict.fromkeys(dropped):  # each once, in order
            self.ext.on_drop(url)


def _disarm(el: etree.Element) -> None:
    alt = el.get("alt") if el.tag == "img" else None
    el.attrib.clear()
    el.tag = "span"
    if alt:
        el.text = alt


class LinkPolicyExtension(Extension):
    """The policy as a Python-Markdown extension. `on_drop(url)` hears of each dropped
    address; `active()` says whether the page being converted is one to police."""

    def __init__(self, on_drop: Callable[[str], None] = lambda url: None,
                 active: Callable[[], bool] = lambda: True, **kwargs):
        super().__init__(**kwargs)
        self.on_drop, self.active = on_drop, active

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # Last: after links, references, images and autolinks are made, and after MkDocs'
        # own link rewriting (its "relpath" and Markdown's "unescape" have priority 0).
        md.treeprocessors.register(_Policy(md, self), "living_theories_links", -10)


# --- One Markdown field on its own -----------------------------------------------------------

_local = threading.local()


def _field_parser() -> tuple[markdown.Markdown, list[str]]:
    parser = getattr(_local, "parser", None)
    if parser is None:
        found: list[str] = []
        parser = (markdown.Markdown(extensions=[*FIELD_EXTENSIONS,
                                                LinkPolicyExtension(found.append)]), found)
        _local.parser = parser
    return parser


def may_link(source: str) -> bool:
    """Whether Markdown text could make a link at all: an inline link or image needs '](',
    a reference-style one a definition '...]:', an autolink or HTML '<'. Most fields have
    none of them and are never parsed (tests/test_links.py checks this against the parser)."""
    return "](" in source or "]:" in source or "<" in source


def unsafe(source: str) -> list[str]:
    """The addresses the policy drops from the links this Markdown text makes on its own
    (as the page will hold them), and from its reference definitions."""
    if not may_link(source):
        return []
    parser, found = _field_parser()
    found.clear()
    parser.reset().convert(source)
    return list(found)


def field_source(value: str) -> str:
    """A Markdown field as pages write it: formatting and citations kept; raw HTML and
    attribute lists shown as text (see pages.md)."""
    return html.escape(value, quote=False).replace("{", "&#123;").replace("}", "&#125;")


@functools.lru_cache(maxsize=256)  # a field is shown on several pages; this parses repeatedly
def disarmed(source: str) -> str | None:
    """A field whose links the policy drops, with those links shown as text: each '](' or
    ']:' whose escaping makes a dropped address go is escaped ('\\(' and '&#58;' show as
    '(' and ':'), the field's other links kept. None if that does not make it safe (the
    caller then shows the field as plain text). Checked by parsing, as `unsafe` does."""
    bad = set(unsafe(source))
    if not bad:
        return source
    for token, escaped in (("](", "]\\("), ("]:", "]&#58;")):
        start = 0
        while bad and (i := source.find(token, start)) >= 0:
            trial = source[:i] + escaped + source[i + len(token):]
            left = set(unsafe(trial))
            if left < bad:
                source, bad = trial, left
            start = i + 1
    return None if bad else source
