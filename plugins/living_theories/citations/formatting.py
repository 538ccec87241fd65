"""Formatting citations and reference lists in a CSL style, with citeproc-py.

citeproc-py does the real work (Harvard, APA, Vancouver, or any .csl file); this module turns
BibTeX entries into CSL-JSON, escapes every value (citeproc-py's HTML output does not), adds
what CSL 1.0 lacks (in-text `@key` and author-suppressed `[-@key]` forms), and caches results:
formatting is the most expensive step a large site has.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citeproc import Citation as CslCitation
    from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle

from . import citeproc_fixes as fixes
from .bibtex import Bibliography
from .csl import csl_item, escape_item
from .styles import DEFAULT_STYLE, load_style, resolve_locale, style_path
from .syntax import Cite

LOCATOR_TERMS = [
    (r"pp?\.?", "page"), (r"chaps?\.?|chapters?", "chapter"), (r"secs?\.?|sections?", "section"),
    (r"paras?\.?|¶", "paragraph"), (r"figs?\.?|figures?", "figure"), (r"ll?\.?|lines?", "line"),
    (r"vols?\.?", "volume"), (r"nos?\.?", "issue"),
]


@lru_cache(maxsize=1)
def _citeproc_version() -> str:
    """citeproc-py's version and our code that formats with it: a change to either makes
    the kept citations out of date (a development build must not show a stale cache)."""
    from importlib.metadata import version

    code = hashlib.sha256()
    for module in (fixes.__file__, __file__, *(Path(__file__).with_name(name)
                                               for name in ("csl.py", "styles.py"))):
        code.update(Path(module).read_bytes())
    return f"{version('citeproc-py')} {code.hexdigest()[:12]}"


# A formatted group is kept by (cites, in_text, page): `page` is the keys of the page it is
# on, in order of first citation, for a numbered style (its numbers are the page's), else ().
GroupKey = tuple[tuple[Cite, ...], bool, tuple[str, ...]]


def _group_json(group: GroupKey) -> list:
    cites, in_text, page = group
    return [[[c.key, c.prefix, c.locator, c.suppress_author] for c in cites], in_text,
            list(page)]


def _group_key(data: list) -> GroupKey:
    cites, in_text, page = data
    if not all(isinstance(k, str) for k in page):
        raise TypeError("not a list of keys")
    return tuple(Cite(*c) for c in cites), bool(in_text), tuple(page)


def _formatted_from(data: dict[str, Any]) -> tuple[dict[GroupKey, str],
                                                   dict[tuple[str, ...], tuple[str, ...]]]:
    """The groups and pages of `Citer._formatted_json`'s data."""
    groups = {_group_key(g): text for g, text in data["groups"]}
    pages = {tuple(page): tuple(order) for page, order in data.get("pages", ())}
    return groups, pages


def parse_locator(text: str) -> tuple[str, str] | None:
    """'p. 4' -> ('page', '4'); 'chap. 1' -> ('chapter', '1'); a bare '4' is a page."""
    text = text.strip()
    for pattern, term in LOCATOR_TERMS:
        match = re.match(rf"^(?:{pattern})\s*(\S.*)$", text, re.I)
        if match and re.match(r"^[\dIVXLivxl]", match.group(1)):
            return term, match.group(1).replace("--", "-")
    if re.match(r"^\d[\d\-–, ]*$", text):
        return "page", text
    return None


# The number a numbered style prints before a reference list entry: "1. ", "[1] ".
_NUMBER = re.compile(r"^(\[?)\d+([.\]])\s*")


@dataclass(frozen=True)
class Formatted:
    citations: tuple[str, ...]  # HTML of each citation, in order
    references: tuple[tuple[str, str], ...]  # (key, HTML of its reference list entry)


class Citer:
    """Formats a page's citations (together, so numbering and disambiguation are right)."""

    def __init__(self, bibliography: Bibliography, style: str = DEFAULT_STYLE,
                 base: Path | None = None, cache_dir: Path | None = None,
                 locale: str | None = None, language: str | None = None):
        self.bibliography = bibliography
        self.style_name = style
        self._style_path = style_path(style, base)
        # Without a locale citeproc-py formats every style in US English: a British style
        # such as Harvard then gets double quotes and "eds." (see resolve_locale).
        self.locale = resolve_locale(self._style_path, locale, language)
        self.locale_asked = (locale, language)
        if style.endswith(".csl"):
            load_style(self._style_path, self.locale)  # the project's own file: problems show now
        # Formatting is the costliest step of a big site: results are kept on disk, keyed by
        # the style and the content of every cited entry, so an unchanged bibliography is
        # formatted once, not once per build.
        self.cache_dir = cache_dir
        self._cache_file: Path | None = None
        self._items: dict[str, dict[str, Any]] = {}
        self._cache: dict[tuple, Formatted] = {}
        self.seconds = 0.0  # time spent formatting, for the benchmarks
        self.formatted = 0  # citations formatted here (not found in a cache), for the same
        self.entries_formatted = 0  # and reference list entries
        self._keys: list[str] = []
        self._global: CitationStylesBibliography | None = None
        self._global_items: dict[str, CitationItem] = {}  # its items by (lower-case) key
        self._entries: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self._group_cache: dict[GroupKey, str] = {}
        self._page_orders: dict[tuple[str, ...], tuple[str, ...]] = {}  # reference list order
        self._item_cache: dict[str, str] = {}
        self._new: list[GroupKey] = []  # groups formatted since `learned` was last asked
        self._new_entries: list[str] = []  # and reference list entries
        self._prepared = 0  # how many times the keys were registered (see `learned`)
        self._fingerprint = (-1, "")  # (after how many registrations, what)

    @property
    def style(self) -> CitationStylesStyle:
        return load_style(self._style_path, self.locale)

    @cached_property
    def numeric(self) -> bool:
        category = self.style.root.find(".//{http://purl.org/net/xbiblio/csl}category"
                                        "[@citation-format]")
        return category is not None and category.get("citation-format") == "numeric"

    def item(self, key: str) -> dict[str, Any]:
        if key not in self._items:
            self._items[key] = fixes.mark_item(csl_item(self.bibliography[key]))
        return self._items[key]

    @cached_property
    def _finish(self) -> Callable[[str], str]:
        """What every formatted text goes through: quote marks in fields as the locale's
        quotes, and no doubled punctuation (see citeproc_fixes)."""
        terms = fixes.quote_terms(self.style.root)
        return lambda text: fixes.tidy(str(fixes.requote(text, terms, inside=False)))

    def format(self, groups: list[tuple[tuple[Cite, ...], bool]],
               registered: tuple[str, ...] = ()) -> Formatted:
        """Format citation groups ((cites, in_text), ...) of one page, and its reference list.

        A numbered style numbers each page from 1, in order of first citation (as a paper
        does); `registered` are keys counted as cited before the page's first citation (as
        citeproc-js's registry would hold them). Unknown keys are shown as `?key`
        (validation reports them with file and line).
        """
        cache_key = (tuple(groups), registered)
        found = self._cache.get(cache_key)
        if found is None:
            start = time.perf_counter()
            found = self._cache[cache_key] = self._format(groups, registered)
            self.seconds += time.perf_counter() - start
        return found

    def bibliography_list(self, keys: list[str]) -> list[tuple[str, str]]:
        """The site's reference list of these keys: (key, HTML) in the style's order. A
        numbered style's numbers belong to each page's own list, so the site's list is
        unnumbered and alphabetical (as a bibliography is)."""
        keys = self._known(keys)
        keys.sort(key=self._order.__getitem__)  # (no citation is formatted: none is shown)
        if not self.numeric:
            return [(key, self._entry(key)) for key in keys]
        def by_author(key: str) -> tuple[str, ...]:
            ref = self.bibliography[key]
            names = ref.names("author") or ref.names("editor")
            first = [n.family for n in names] or [ref.field("title") or key]
            return (*(n.casefold() for n in first), ref.field("year") or "")

        return [(key, self.entry(key)) for key in sorted(keys, key=by_author)]

    def entry(self, key: str) -> str:
        """A cited key's reference list entry without a numbered style's number (a full
        reference shown on its own)."""
        if key not in self._order:
            self.prepare([*self._keys, key])
        return _NUMBER.sub("", self._entry(key), count=1) if self.numeric \
            else self._entry(key)

    def _numbered(self, key: str, number: int) -> str:
        """A numbered style's entry with this page's number instead of the site's."""
        return _NUMBER.sub(lambda mt: f"{mt.group(1)}{number}{mt.group(2)} ",
                           self._entry(key), count=1)

    def _entry(self, key: str) -> str:
        """A prepared key's reference list entry, formatted when first asked for: a page
        shows a few, and the whole list is made once, on whichever core renders the
        references page (citeproc-py formats each entry on its own)."""
        found = self._entries.get(key)
        if found is None:
            bib = self._global_bibliography()
            (text,) = bib.style.render_bibliography([self._global_items[key.lower()]])
            found = self._entries[key] = self._finish(
                re.sub(r"^(\[?\d+[.\]])(?=\S)", r"\1 ", str(text)))
            self._new_entries.append(key)
            self.entries_formatted += 1
        return found

    def prepare(self, keys: list[str]) -> None:
        """Register every key the site cites, in order of first citation, in one bibliography:
        each reference is then formatted once for the whole site (not once per page), and
        numbers and disambiguation ("2020a") are the same on every page."""
        keys = [k for k in dict.fromkeys(keys) if k in self.bibliography]
        if keys == self._keys:
            return
        self._keys = keys
        self._prepared += 1
        self._new.clear()
        self._new_entries.clear()
        self._global = None
        self._cache.clear()
        self._group_cache.clear()
        self._page_orders.clear()
        if self._load_cache():
            return
        by_id = {k.lower(): k for k in keys}
        self._entries = {}  # (formatted when first asked for, see `_entry`)
        self._order = {by_id.get(item.key, item.key): i
                       for i, item in enumerate(self._global_bibliography().items)}

    def _global_bibliography(self) -> CitationStylesBibliography:
        """citeproc-py's bibliography of every prepared key, built when first needed."""
        from citeproc import Citation as CslCitation
        from citeproc import CitationItem, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        if self._global is None:
            self._global = CitationStylesBibliography(
                self.style, CiteProcJSON([self.item(k) for k in self._keys]), formatter.html)
            for key in self._keys:
                self._global.register(CslCitation([CitationItem(key.lower())]))
            self._global.sort()  # the style's order: alphabetical (Harvard), first cite (Vancouver)
            fixes.disambiguate(self._global, [k.lower() for k in self._keys])
            self._global_items = {item.key: item for item in self._global.items}
        return self._global

    @property
    def fingerprint(self) -> str:
        """What every citation is formatted from: the code, the locale, the style and the
        references registered (see `prepare`; worked out again only after it changed them)."""
        if self._fingerprint[0] == self._prepared:
            return self._fingerprint[1]
        from .. import __version__

        digest = hashlib.sha256(f"{__version__} {_citeproc_version()} {self.locale}".encode())
        digest.update(self._style_path.read_bytes())
        for key in self._keys:
            digest.update(repr((key, sorted(self.bibliography[key].raw.items()))).encode())
        self._fingerprint = (self._prepared, digest.hexdigest()[:24])
        return self._fingerprint[1]

    def _load_cache(self) -> bool:
        if self.cache_dir is None:
            return False
        self._cache_file = self.cache_dir / f"citations-{self.fingerprint}.json"
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
            entries, order = dict(data["entries"]), data["order"]
            groups, pages = _formatted_from(data)
            if not all(isinstance(k, str) for kv in pages.items() for ks in kv for k in ks):
                raise TypeError("not lists of keys")
            items = dict(data.get("items", ()))
            texts = [*entries, *entries.values(), *groups.values(), *items, *items.values(),
                     *order]
            if not all(isinstance(t, str) for t in texts) or set(order) != set(self._keys) \
                    or len(order) != len(self._keys) or not set(entries) <= set(order):
                raise TypeError("not a cache of these references")
        except (OSError, ValueError, LookupError, TypeError, AttributeError, RecursionError):
            return False  # damaged, or not ours: formatted again (and saved) as if not there
        self._entries = entries
        self._order = {key: i for i, key in enumerate(order)}
        self._group_cache = groups
        self._page_orders = pages
        self._item_cache.update(items)
        return True

    def release(self) -> int:
        """Let go of citeproc-py's bibliography (a big project's largest object after the
        pages); what it formatted is kept, and it is built again if more is asked. How many
        references it held (0: there was none)."""
        held = len(self._global_items) if self._global is not None else 0
        self._global, self._global_items = None, {}
        return held

    def save(self) -> None:
        """Keep what was formatted for the next build (see `cache_dir`)."""
        if self._cache_file is None:
            return
        data = {"entries": list(self._entries.items()), "order": list(self._order),
                **self._formatted_json(self._group_cache, self._page_orders),
                "items": list(self._item_cache.items())}
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            for old in self._cache_file.parent.glob("citations-*.json"):
                old.unlink()  # one cache per project: the previous one is out of date
            tmp = self._cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self._cache_file)
        except OSError:
            pass  # a read-only checkout: just no cache

    def learned(self) -> str:
        """The citations formatted since this was last asked (and, for a numbered style, the
        order of their pages' reference lists), as `learn` takes them: a worker rendering
        pages ahead formats their citations and hands them on (see ahead.py)."""
        new, self._new = self._new, []
        entries, self._new_entries = self._new_entries, []
        if not new and not entries:
            return ""
        pages = {key[2] for key in new if key[2] in self._page_orders}
        return json.dumps({"prepared": self._prepared, **self._formatted_json(new, pages),
                           "entries": [[k, self._entries[k]] for k in entries]},
                          ensure_ascii=False)

    def learn(self, data: str) -> None:
        """Citations formatted by another process for this bibliography (see `learned`):
        taken if both registered the same keys (one forked from the other, and neither
        registered keys again since)."""
        found = json.loads(data)
        if found["prepared"] != self._prepared:
            return
        groups, pages = _formatted_from(found)
        for group, text in groups.items():  # (what is here already stays)
            self._group_cache.setdefault(group, text)
        for page, order in pages.items():
            self._page_orders.setdefault(page, order)
        for key, text in found.get("entries", ()):
            self._entries.setdefault(key, text)

    def _formatted_json(self, groups: Iterable[GroupKey],
                        pages: Iterable[tuple[str, ...]]) -> dict[str, list]:
        """Formatted citation groups and pages' reference list orders as JSON data (the
        cache on disk, and what a worker hands on)."""
        return {"groups": [[_group_json(k), self._group_cache[k]] for k in groups],
                "pages": [[list(p), list(self._page_orders[p])] for p in pages]}

    def _known(self, keys: list[str]) -> list[str]:
        """The keys in the bibliography, once each, in order; registered if one is not yet
        (a key nobody prepared for)."""
        known = [k for k in dict.fromkeys(keys) if k in self.bibliography]
        if any(k not in self._order for k in known):
            self.prepare(self._keys + known)
        return known

    def _format(self, groups: list[tuple[tuple[Cite, ...], bool]],
                registered: tuple[str, ...]) -> Formatted:
        wanted = self._known([*registered, *(c.key for cites, _ in groups for c in cites)])
        # A numbered style numbers the page's own references; an author-date style's
        # citations are the site's (the same "2020a" on every page).
        page = tuple(wanted) if self.numeric else ()
        bib: CitationStylesBibliography | None = None
        texts = []
        for cites, in_text in groups:
            key = (cites, in_text, page)
            if key not in self._group_cache:
                from citeproc import Citation as CslCitation

                items = [self._citation_item(c) for c in cites if c.key in self.bibliography]
                csl = CslCitation(items) if items else None
                if bib is None:
                    bib = self._page_bibliography(page) if page else self._global_bibliography()
                self._group_cache[key] = self._render(cites, in_text, csl, bib)
                self._new.append(key)
                self.formatted += 1
            texts.append(self._group_cache[key])
        if not page:
            keys = sorted(wanted, key=self._order.__getitem__)
            return Formatted(tuple(texts), tuple((k, self._entry(k)) for k in keys))
        if page not in self._page_orders:
            by_id = {k.lower(): k for k in page}
            bib = bib or self._page_bibliography(page)
            self._page_orders[page] = tuple(by_id[item.key] for item in bib.items)
        return Formatted(tuple(texts), tuple((k, self._numbered(k, n)) for n, k in
                                             enumerate(self._page_orders[page], 1)))

    def _page_bibliography(self, keys: tuple[str, ...]) -> CitationStylesBibliography:
        """citeproc-py's bibliography of one page's keys, registered in order of first
        citation and sorted as the style sorts: its numbers are the page's. (Its entries
        are not formatted again: the site's are renumbered, see `_numbered`.)"""
        from citeproc import Citation as CslCitation
        from citeproc import CitationItem, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        bib = CitationStylesBibliography(
            self.style, CiteProcJSON([self.item(k) for k in keys]), formatter.html)
        for key in keys:
            bib.register(CslCitation([CitationItem(key.lower())]))
        bib.sort()
        return bib

    def format_item(self, item: dict[str, Any]) -> str:
        """One reference list entry for a CSL-JSON item outside the bibliography (a theory
        version being cited)."""
        key = repr(sorted(item.items()))
        if key not in self._item_cache:
            self._item_cache[key] = self._format_item(item)
        return self._item_cache[key]

    def _format_item(self, item: dict[str, Any]) -> str:
        from citeproc import Citation as CslCitation
        from citeproc import CitationItem, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        escaped = fixes.mark_item(escape_item(item))
        bib = CitationStylesBibliography(self.style, CiteProcJSON([escaped]), formatter.html)
        bib.register(CslCitation([CitationItem(escaped["id"])]))
        (entry,) = bib.bibliography()
        return self._finish(re.sub(r"^(\[?\d+[.\]])\s*", "", str(entry)))  # no number alone

    @staticmethod
    def _citation_item(cite: Cite, mode: str | None = None) -> CitationItem:
        """citeproc-py's item for a cite; `mode` is fixes.AUTHOR_ONLY or SUPPRESS_AUTHOR."""
        from citeproc import CitationItem, Locator

        args: dict[str, Any] = {}
        locator = parse_locator(cite.locator) if cite.locator and mode != fixes.AUTHOR_ONLY \
            else None
        if locator:
            args["locator"] = Locator(*locator)
        item = CitationItem(cite.key.lower(), **args)
        mode = mode or (fixes.SUPPRESS_AUTHOR if cite.suppress_author else None)
        if mode:
            item[mode] = True  # (read by citeproc_fixes)
        return item

    def _cite(self, items: list[CitationItem], bib: CitationStylesBibliography) -> str:
        from citeproc import Citation as CslCitation

        csl = CslCitation(items)
        bib.register(csl)  # every key is there already: the order is unchanged
        text = self._finish(str(bib.cite(csl, lambda item: None)))
        return fixes.collapse_numbers(text) if self._collapses else text

    @cached_property
    def _collapses(self) -> bool:
        citation = self.style.root.find("{http://purl.org/net/xbiblio/csl}citation")
        return citation is not None and citation.get("collapse") == "citation-number"

    def _render(self, cites: tuple[Cite, ...], in_text: bool, csl: CslCitation | None,
                bib: CitationStylesBibliography) -> str:
        unknown = [c for c in cites if c.key not in self.bibliography]
        if csl is None:
            return "; ".join(f"?{html.escape(c.key)}" for c in unknown)
        known = [c for c in cites if c.key in self.bibliography]
        if in_text:
            # `@key` as Pandoc prints it with citeproc: the citation's author alone, then the
            # citation without it ("Knight, Neiva Ganga and Tucker (2024)"), by the style's
            # own name rules. A numeric style's citation has no author: ours is put first.
            cite = known[0]
            self._cite([self._citation_item(cite, fixes.AUTHOR_ONLY)], bib)
            author = fixes.author_text(fixes.captured_author(), self.style.root)
            if self.numeric or not author:
                author = self._authors(cite)
            rest = self._cite([self._citation_item(cite, fixes.SUPPRESS_AUTHOR)], bib)
            text = f"{author} {rest}"
        else:
            text = self._cite([self._citation_item(c) for c in known], bib)
        prefix = cites[0].prefix
        if prefix and not in_text:
            text = re.sub(r"^([(\[]?)", lambda mt: mt.group(1) + html.escape(prefix) + " ", text,
                          count=1)
        # Locators the style cannot express ("emphasis added") are kept as written.
        extra = [c.locator for c in cites if c.locator and not parse_locator(c.locator)]
        if extra:
            text = re.sub(r"([)\]]?)$", lambda mt: ", " + html.escape("; ".join(extra))
                          + mt.group(1), text, count=1)
        if unknown:  # never silently left out (validation reports it with file and line)
            text = re.sub(r"([)\]]?)$", lambda mt: "; " + "; ".join(
                f"?{html.escape(c.key)}" for c in unknown) + mt.group(1), text, count=1)
        return text

    def _authors(self, cite: Cite) -> str:
        """A numeric style's `@key`: the authors' family names before the number."""
        ref = self.bibliography[cite.key]
        names = ref.names("author") or ref.names("editor")
        families = [html.escape(n.family) for n in names]
        if not families:
            return html.escape(ref.field("title") or cite.key)
        if len(families) == 1:
            return families[0]
        if len(families) == 2:
            return f"{families[0]} and {families[1]}"
        return f"{families[0]} et al."
