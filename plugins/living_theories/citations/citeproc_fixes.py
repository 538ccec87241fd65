"""Small corrections to citeproc-py 0.11, where it departs from the CSL specification and
from citeproc-js (the processor Zotero uses; tests/oracle measures the difference).

citeproc-py is the only maintained CSL processor for Python; these patches are applied once,
to its classes, when the first style is loaded (`apply`). What they correct:

- substitution: a variable printed in place of a missing author (a title, the editors) is
  not printed again (CSL 1.0.2 "Substitution"); citeproc-py printed "Title (n.d.) Title.".
- groups: suppressed when the variables they asked for in the branches taken are empty.
- page ranges: "753-753" and "1-108" kept whole in the minimal formats (citeproc-py printed
  "753–" and "1–08"); localised dates keep the locale's delimiter ("2024 Mar 23").
- quotes written in fields printed as citeproc-js prints them (`mark_quotes`, `requote`);
  no period after a title's own "?" (`tidy`); labels title-cased in the style's language.
- sorting: on plain text (no markup, quote marks, punctuation or accents), particles demoted
  where the style sorts so, cites in their written order unless the style sorts them.
- author-only and suppress-author cites (`AUTHOR_ONLY`, `SUPPRESS_AUTHOR` on a citation
  item), as citeproc-js prints Pandoc's `@key` and `[-@key]`; citeproc-py has neither.
- collapse="year" ("Pawson, 2006a, 2006c") and collapse="citation-number" ("[2–5]").
- disambiguation (`disambiguate`), which citeproc-py lacks: added names (`ADD_NAMES`),
  given-name initials (`GIVEN_NAMES`), year suffixes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

AUTHOR_ONLY = "_lt_author_only"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SUPPRESS_AUTHOR = "_lt_suppress_author"
# Quote marks written in a field, held as private-use characters until the quoting around
# them is known, then printed as citeproc-js prints them: straight quotes as the locale's
# quotes (the kind met first) and inner quotes (the other kind), curly ones as written; and
# all of them as the locale's inner quotes inside a quoted title.
OPEN_1, CLOSE_1, OPEN_2, CLOSE_2 = "\ue000", "\ue001", "\ue002", "\ue003"
CURLY = {"\ue004": "\u201c", "\ue005": "\u201d", "\ue006": "\u2018", "\ue007": "\u2019"}
_PAIR = r"""(?<!\w){open}(?=\w|\S\w)(.+?)(?<=[\w.?!)]){close}(?!\w)"""
_STRAIGHT = {'"': re.compile(_PAIR.format(open='"', close='"')),
             "'": re.compile(_PAIR.format(open="'", close="'"))}
_CURLY = [(re.compile(_PAIR.format(open="\u201c", close="\u201d")), "\ue004", "\ue005"),
          (re.compile(_PAIR.format(open="\u2018", close="\u2019")), "\ue006", "\ue007")]


def mark_quotes(text: str) -> str:
    """Quote pairs in a field's text replaced by the private-use marks."""
    if not any(q in text for q in "\"'\u201c\u2018"):
        return text
    for pattern, open_, close in _CURLY:
        text = pattern.sub(lambda m: open_ + m.group(1) + close, text)  # noqa: B023
    found = [(m.start(), kind) for kind, pattern in _STRAIGHT.items()
             for m in [pattern.search(text)] if m]
    for level, (_, kind) in enumerate(sorted(found)):
        open_, close = (OPEN_1, CLOSE_1) if level == 0 else (OPEN_2, CLOSE_2)
        text = _STRAIGHT[kind].sub(lambda m: open_ + m.group(1) + close, text)  # noqa: B023
    return text


def requote(text: Any, terms: dict[str, str], inside: bool) -> Any:
    """The marks replaced by the locale's quotes (inner ones `inside` a quoted element)."""
    inner = {OPEN_1: "open-inner-quote", CLOSE_1: "close-inner-quote",
             OPEN_2: "open-inner-quote", CLOSE_2: "close-inner-quote"}
    pairs = {mark: terms[term] for mark, term in inner.items()}
    if inside:
        pairs |= {"\ue004": terms["open-inner-quote"], "\ue006": terms["open-inner-quote"],
                  "\ue005": terms["close-inner-quote"], "\ue007": terms["close-inner-quote"]}
    else:
        pairs |= CURLY | {OPEN_1: terms["open-quote"], CLOSE_1: terms["close-quote"]}
    for mark, quote in pairs.items():
        if mark in str(text):
            text = text.replace(mark, quote)
    return text


# A reference's field: how many names its citations and entry show (disambiguation).
ADD_NAMES = "_lt_add_names"
# A reference's field: {position: name} of the names its citations print with initials
# ("T. Greenhalgh"; see disambiguate and the style's givenname-disambiguation-rule).
GIVEN_NAMES = "_lt_given_names"
_in_citation = [False]
_sorting = [False]  # sort keys are being rendered: names as the bibliography sorts them
_captured: list[Any] = [None]  # the names an AUTHOR_ONLY item rendered last
# Fields whose quote marks are not quotes.
_LITERAL = {"id", "URL", "DOI", "ISBN", "ISSN", "PMID", "PMCID"}


def mark_item(item: dict[str, Any]) -> dict[str, Any]:
    """A CSL-JSON item whose text fields have their quote marks marked (see mark_quotes)."""
    return {k: mark_quotes(v) if isinstance(v, str) and k not in _LITERAL else v
            for k, v in item.items()}


def tidy(text: str) -> str:
    """No period after a title's own ? ! or . (also behind a closing quote or italics), as
    citeproc-js prints it: "Achilles' heel?" not "Achilles' heel?."."""
    return re.sub(r"([?!]|\.\.\.|(?<!\.)\.)((?:</i>|</b>|[’”'\"])*)\.(?=\s|$|<)", r"\1\2",
                  text)


def collapse_numbers(text: str) -> str:
    """A numeric citation's runs of three or more numbers as a range: [2,3,4,5] -> [2–5]
    (collapse="citation-number"; citeproc-py does not collapse)."""
    def collapse(match: re.Match[str]) -> str:
        delimiter = re.search(r",\s*", match.group(0)).group(0)  # type: ignore[union-attr]
        numbers = [int(n) for n in re.findall(r"\d+", match.group(0))]
        runs: list[list[int]] = []
        for n in numbers:
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        return delimiter.join(f"{r[0]}\u2013{r[-1]}" if len(r) > 2 else
                              delimiter.join(map(str, r)) for r in runs)

    return re.sub(r"\d+(?:,\s*\d+){2,}", collapse, text)


def captured_author() -> Any:
    """The names the last AUTHOR_ONLY item rendered (None if it had none)."""
    text, _captured[0] = _captured[0], None
    return text


def author_text(names: Any, style_root: Any) -> str:
    """An author-only cite as citeproc-js prints it: plain text, no quotes around a title
    that stands for the author."""
    if names is None:
        return ""
    terms = quote_terms(style_root)
    text = re.sub(r"<[^>]+>", "", str(requote(names, terms, inside=False))).strip()
    if text.startswith(terms["open-quote"]) and text.endswith(terms["close-quote"]):
        text = text[len(terms["open-quote"]):-len(terms["close-quote"])]
    return text


def quote_terms(element: Any) -> dict[str, str]:
    return {name: str(element.get_single_term(name=name))
            for name in ("open-quote", "close-quote", "open-inner-quote", "close-inner-quote")}


def sort_text(value: str) -> str:
    """A sort key as citeproc-js compares it: no markup, quote marks, punctuation or
    accents, in any case."""
    value = html.unescape(re.sub(r"<[^>]+>", "", value))
    # Names are compared name by name, without "and", "et al." or punctuation between them.
    value = re.sub(r"\bet al\.|\band\b|&", " ", value)
    value = re.sub(r"[\ue000-\ue007\"'‘’“”`\[\]().,;:]", "", value)
    value = re.sub(r"\s+", " ", value)
    value = unicodedata.normalize("NFKD", value)
    return "".join(c for c in value if not unicodedata.combining(c)).lower().strip()


def join_texts(texts: list[Any], delimiter: str) -> Any:
    out = texts[0]
    for text in texts[1:]:
        out = out + delimiter + text
    return out


def apply() -> None:
    from citeproc import model

    if getattr(model, "_lt_fixed", False):
        return
    model._lt_fixed = True

    # Substitution: remember the variables the substitute printed, and print them nowhere
    # else (only those printed: a title macro names many more it does not print).
    printed: list[set[str]] = []
    called, rendered = [0], [0]  # variables asked for and printed so far (see Group below)

    def substitute(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        text = None
        for child in self.getchildren():
            printed.append(set())
            try:
                if isinstance(child, model.Names) and child.name is None:
                    names = self.xpath_search("./parent::cs:names[1]")[0]
                    text = child.render(item, names_context=names, context=context, **kwargs)
                else:
                    text = child.render(item, context=context, **kwargs)
            except model.VariableError:
                continue
            finally:
                used = printed.pop()
            if text:
                layout = (self if context is None else context).get_layout()
                layout.repressed.setdefault("_vars", set()).update(used)
                if printed:
                    printed[-1].update(used)
                break
        return text

    model.Substitute.render = substitute

    text_variable = model.Text._variable

    def _variable(self: Any, item: Any, context: Any) -> Any:
        variable = self.get("variable")
        if variable in context.get_layout().repressed.get("_vars", ()):
            return None
        if variable == "year-suffix" and _sorting[0]:
            return None  # citeproc-js sorts before it disambiguates: ties keep their order
        if variable != "year-suffix":  # (a generated variable: it calls none, in CSL)
            called[0] += 1
        text = text_variable(self, item, context)
        if text:
            rendered[0] += 1
            if printed:
                printed[-1].add(variable)
        return text

    model.Text._variable = _variable

    names_render = model.Names.render

    def render_names(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context")
        try:
            layout = (self if context is None else context).get_layout()
        except IndexError:  # a macro rendered for sorting, outside any layout
            return names_render(self, item, *args, **kwargs)
        state = layout.repressed
        roles = self.get("variable", "").split()
        left = [r for r in roles if r not in state.get("_vars", ())]
        if roles and not left:
            return None
        if left != roles:  # some of them were printed in place of the author: not again
            self.attrib["variable"] = " ".join(left)
            try:
                return render_names(self, item, *args, **kwargs)
            finally:
                self.attrib["variable"] = " ".join(roles)
        if printed:
            printed[-1].update(r for r in roles if r in item.reference)
        mode = None if kwargs.get("sort_options") else (
            AUTHOR_ONLY if item.get(AUTHOR_ONLY) else
            SUPPRESS_AUTHOR if item.get(SUPPRESS_AUTHOR) else None)
        if mode is None or state.get("_first_names_done") or state.get("_in_names"):
            return names_render(self, item, *args, **kwargs)
        state["_in_names"] = True  # (the names of its substitute are not the first ones)
        try:
            text = names_render(self, item, *args, **kwargs)
        finally:
            state["_in_names"] = False
        if not text:  # the first names *printed* are the author's (CSL's suppress-author)
            return text
        state["_first_names_done"] = True
        if mode == SUPPRESS_AUTHOR:
            state.setdefault("_vars", set()).update(roles)
            return None
        _captured[0] = text
        return text

    model.Names.render = render_names

    # Added names: a reference's et-al-use-first raised to its ADD_NAMES (see there).
    name_process, name_option = model.Name.process, model.Name.get_option
    shown = [0]

    def process_name(self: Any, item: Any, variable: Any, *args: Any, **kwargs: Any) -> Any:
        reference = item.reference
        shown[0] = 0 if _sorting[0] else reference.get(ADD_NAMES, 0)
        given = reference.get(GIVEN_NAMES)
        people = dict.get(reference, variable)
        swap = (given and _in_citation[0] and not _sorting[0] and people
                and variable == ("author" if "author" in reference else "editor"))
        if swap:  # names with their initials, as names with a family name only
            reference[variable] = [type(p)(family=given[i]) if i in given else p
                                   for i, p in enumerate(people)]
        try:
            return name_process(self, item, variable, *args, **kwargs)
        finally:
            shown[0] = 0
            if swap:
                reference[variable] = people

    def get_option(self: Any, name: str, context: Any = None, sort_options: Any = None) -> Any:
        value = name_option(self, name, context, sort_options)
        if shown[0] and name in ("et-al-use-first", "et-al-subsequent-use-first"):
            value = max(int(value), shown[0])
        elif shown[0] and name in ("et-al-min", "et-al-subsequent-min"):
            value = max(int(value), shown[0] + 1)  # all names shown: no "et al." after them
        elif name == "demote-non-dropping-particle" and value == "sort-only" and _sorting[0]:
            value = "display-and-sort"  # "van der Berg" sorts under B (citeproc-py: under V)
        return value

    model.Name.process, model.Name.get_option = process_name, get_option

    # Quote marks in fields: inner quotes inside a quoted element.
    def quote(self: Any, string: Any) -> Any:
        if self.get("quotes", "false").lower() == "true":
            terms = quote_terms(self)
            string = requote(string, terms, inside=True)
            return terms["open-quote"] + string + terms["close-quote"]
        return string

    model.Quoted.quote = quote

    # Page ranges: a last page that is not shorter is kept whole (citeproc-js).
    last_page = model.FormatNumber._format_last_page

    def _format_last_page(self: Any, first: str, last: str) -> str:
        if first == last or len(last) > len(first):
            return last
        return last_page(self, first, last)

    model.FormatNumber._format_last_page = _format_last_page

    # Citations: cites keep the order they were written in unless the style sorts them (a
    # stable sort: ties stay in that order), and with collapse="year" the works of one
    # author are cited together: "(Pawson, 2006a, 2006c)".
    def render_citation(self: Any, citation: Any, callback: Any) -> Any:
        _in_citation[0] = True
        try:
            return _render_citation(self, citation, callback)
        finally:
            _in_citation[0] = False

    def _render_citation(self: Any, citation: Any, callback: Any) -> Any:
        parent = self.getparent()
        good = [cite for cite in citation.cites if not cite.is_bad()]
        if parent.sort is not None:
            good = parent.sort.sort(good, self)
        collapse = parent.get("collapse") in ("year", "year-suffix", "year-suffix-ranged")
        groups: list[tuple[Any, list[Any]]] = []
        for item in good:
            prefix, suffix = item.get("prefix", ""), item.get("suffix", "")
            try:
                self.repressed = {}
                author = None
                if collapse and not item.get(SUPPRESS_AUTHOR) and not item.get(AUTHOR_ONLY):
                    item[AUTHOR_ONLY] = True
                    try:
                        output = self.render_children(item)
                    finally:
                        del item[AUTHOR_ONLY]
                    author = captured_author()
                    same = [g for g in groups if author and g[0] == author]
                    if same and output is not None:
                        self.repressed = {}
                        item[SUPPRESS_AUTHOR] = True
                        try:
                            output = self.render_children(item)
                        finally:
                            del item[SUPPRESS_AUTHOR]
                        same[0][1].append(prefix + output + suffix)
                        parent.cites.append(item)
                        continue
                else:
                    output = self.render_children(item)
                if output is not None:
                    groups.append((author, [prefix + output + suffix]))
                    parent.cites.append(item)
            except model.VariableError:
                pass
        joiner = parent.get("cite-group-delimiter", ", ")
        out = [texts[0] if len(texts) == 1 else join_texts(texts, joiner)
               for _, texts in groups]
        for item in citation.cites:
            if item.is_bad():
                out.append(callback(item) or f"{item.key}?")
        return self.format(self.wrap(self.join(out)))

    model.Layout.render_citation = render_citation

    # Groups: suppressed when the variables they asked for (in the branches of cs:choose
    # actually taken) are all empty (CSL 1.0.2); citeproc-py counted every branch, so a
    # group whose choose printed plain text ("Publication") and an empty number was shown.
    for element in (model.Names, model.Date, model.Number):
        def counted(self: Any, *args: Any, _render: Any = element.render, **kwargs: Any) -> Any:
            called[0] += 1
            text = _render(self, *args, **kwargs)
            if text:
                rendered[0] += 1
            return text

        element.render = counted

    def group_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        output = []
        asked, printed_before = called[0], rendered[0]
        delimiter = self.get("delimiter", "")
        for child in self.iterchildren():
            try:
                if isinstance(child, model.Choose):
                    text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, context=context, **kwargs)
            except model.VariableError:
                continue
            if text is not None:
                output.append(text)
        if output and (called[0] == asked or rendered[0] > printed_before):
            return self.join(output)
        raise model.VariableError

    model.Group.process = group_process

    # Text case of labels and terms ("Eds."): citeproc-py applies title case to English text
    # only, and calls this without a language; the style's locale is the language then.
    case = model.TextCased.case

    def text_case(self: Any, text: Any, language: Any = None) -> Any:
        if language is None:
            locales = getattr(self.get_root(), "locales", None) or [None]
            lang = locales[0].get(XML_LANG) if locales[0] is not None else None
            language = (lang or "en")[:2]
        return case(self, text, language)

    model.TextCased.case = text_case

    # Localised dates: the locale's date delimiter ("2024 Mar 23", not "2024Mar23").
    single_date = model.Date.render_single_date

    def render_single_date(self: Any, date: Any, show_parts: Any = None,
                           context: Any = None) -> Any:
        if context is not None and context is not self and context.get("delimiter") is None \
                and self.get("delimiter") is not None and self.is_locale_date():
            parts = self.parts(date, show_parts, context)
            return self.join(parts) if parts else None
        return single_date(self, date, show_parts, context)

    model.Date.render_single_date = render_single_date

    # Sorting on plain text.
    key_sort_keys = model.Key.sort_keys

    def plain_sort_keys(self: Any, items: Any, context: Any) -> Any:
        _sorting[0] = True
        try:
            keys = key_sort_keys(self, items, context)
        finally:
            _sorting[0] = False
        return [sort_text(str(k)) if isinstance(k, (str, list)) else k for k in keys]

    model.Key.sort_keys = plain_sort_keys


def _style_option(bib: Any, name: str) -> bool:
    citation = bib.style.root.find("{http://purl.org/net/xbiblio/csl}citation")
    return citation is not None and citation.get(name) == "true"


def disambiguate(bib: Any, ids: list[str]) -> None:
    """Make references whose citations print alike tell apart, as the style asks and as
    citeproc-js does it: first more names (disambiguate-add-names), then a letter after the
    year, in the bibliography's order (disambiguate-add-year-suffix: 2006a, 2006b).
    citeproc-py does neither; the results are set on its references, so citations and
    bibliography show them alike."""
    from citeproc import Citation, CitationItem

    add_names = _style_option(bib, "disambiguate-add-names")
    add_suffix = _style_option(bib, "disambiguate-add-year-suffix")
    if not (add_names or add_suffix or _style_option(bib, "disambiguate-add-givenname")):
        return
    order = {item.key: i for i, item in enumerate(bib.items)}
    references = {key: bib.source[key] for key in ids}

    def cite(key: str) -> str:
        citation = Citation([CitationItem(key)])
        bib.register(citation)
        return re.sub(r"<[^>]+>", "", str(bib.cite(citation, lambda item: None))).lower()

    def ambiguous(keys: list[str]) -> list[list[str]]:
        alike: dict[str, list[str]] = {}
        for key in keys:
            alike.setdefault(cite(key), []).append(key)
        return [group for group in alike.values() if len(group) > 1]

    citation = bib.style.root.find("{http://purl.org/net/xbiblio/csl}citation")
    rule = citation.get("givenname-disambiguation-rule", "by-cite") if citation is not None \
        else "by-cite"
    if _style_option(bib, "disambiguate-add-givenname") and rule != "by-cite":
        _first_names_with_initials(references)
    by_cite = _style_option(bib, "disambiguate-add-givenname") and rule == "by-cite"
    groups = ambiguous(ids)
    if add_names:
        unresolved = []
        for group in groups:
            most = max(len(references[k].get("author") or ()) for k in group)
            shown, split = 1, 0
            while len(group) > 1 and shown < most:
                shown += 1
                for key in group:
                    references[key][ADD_NAMES] = shown
                rest = [k for g in ambiguous(group) for k in g]
                split = shown if len(rest) < len(group) else split
                group = rest
            for key in group:  # more names did not tell these apart: they keep the names
                if split:      # that told them from the others (then get a year suffix)
                    references[key][ADD_NAMES] = split
                else:
                    references[key].pop(ADD_NAMES, None)
            if len(group) > 1 and not (by_cite and _names_and_initials(group, references,
                                                                        ambiguous)):
                unresolved.append(group)
        groups = unresolved
    if add_suffix:
        for group in groups:
            for i, key in enumerate(sorted(group, key=order.__getitem__)):
                references[key]["year_suffix"] = chr(ord("a") + i) if i < 26 else f"a{i}"


def initials(given: str) -> str:
    """'Trisha' -> 'T.', 'F. A.' -> 'F. A.', 'Anne-Marie' and 'A.-M.' -> 'A.-M.'."""
    words = [w for w in re.split(r"[\s.]+", given.replace(".-", "-")) if w]
    return " ".join("-".join(p[0] + "." for p in w.split("-") if p) for w in words)


def _first_names_with_initials(references: dict[str, Any]) -> None:
    """Global given-name disambiguation of first authors (CSL's primary-name and all-names
    rules; APA 8.20): where first authors of different references share a family name but
    not their initials, each of them is cited with initials ("T. Greenhalgh et al.")."""
    firsts: dict[str, tuple[str, str, str]] = {}
    for key, reference in references.items():
        people = dict.get(reference, "author") or dict.get(reference, "editor")
        if people and people[0].get("given") and people[0].get("family"):
            person = people[0]
            family = " ".join(p for p in (person.get("non-dropping-particle"),
                                          person["family"]) if p)
            firsts[key] = (family.lower(), initials(person["given"]), family)
    seen: dict[str, set[str]] = {}
    for family, inits, _ in firsts.values():
        seen.setdefault(family, set()).add(inits)
    for key, (family, inits, printed) in firsts.items():
        if len(seen[family]) > 1:
            references[key][GIVEN_NAMES] = {0: f"{inits} {printed}"}


def _person(person: Any) -> tuple[str, str, str]:
    family = " ".join(p for p in (person.get("non-dropping-particle"), person.get("family"))
                      if p)
    return family.lower(), initials(person.get("given") or ""), family


def _names_and_initials(group: list[str], references: dict[str, Any],
                        ambiguous: Any) -> bool:
    """Given-name disambiguation "by cite" (CSL's default rule, Harvard): works whose
    citations still print alike with all their names get, name by name, more names and the
    initials of those names that differ between them ("…, Mannion, A.-M. Rafferty, et al."),
    up to the fewest names that tell them apart. True if that did."""
    people = {k: dict.get(references[k], "author") or [] for k in group}
    most = max(len(p) for p in people.values())
    for shown in range(1, most + 1):
        for key in group:
            marks = {}
            for i, person in enumerate(people[key][:shown]):
                family, inits, printed = _person(person)
                others = [_person(people[k][i]) for k in group
                          if k != key and len(people[k]) > i]
                if inits and any(f == family and n != inits for f, n, _ in others):
                    marks[i] = f"{inits} {printed}"
            references[key][GIVEN_NAMES] = marks
            references[key][ADD_NAMES] = shown
        if not ambiguous(group):
            return True
    for key in group:
        references[key].pop(GIVEN_NAMES, None)
        references[key].pop(ADD_NAMES, None)
    return False
