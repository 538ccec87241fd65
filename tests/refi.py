"""Build REFI-QDA projects (.qdpx) in code, for tests, the guide's example and the benchmark.

Everything written follows the published Project.xsd (tests/data/refi-qda/): the tests
validate what this module writes.
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

NS = "urn:QDA-XML:project:1.0"


def guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "test:" + "/".join(parts)))


@dataclass
class Segment:
    start: int
    end: int
    codes: list[str]  # code paths, e.g. "Trust/Meetings"
    key: str = ""  # what its GUID is derived from (default: source, start, end)
    case: str | None = None  # a case it belongs to (a speaker in a focus group)


@dataclass
class Source:
    name: str
    text: str
    segments: list[Segment] = field(default_factory=list)
    case: str | None = None  # the case's name
    embedded: bool = False  # PlainTextContent instead of a file in sources/


def project_xml(name: str, sources: list[Source], extra_codes: tuple[str, ...] = ()) -> bytes:
    root = Element("Project", {"xmlns": NS, "name": name, "origin": "tests"})
    users = SubElement(root, "Users")
    SubElement(users, "User", {"guid": guid("user"), "name": "Dr Real Name"})
    paths = list(dict.fromkeys([*extra_codes, *(c for s in sources for g in s.segments
                                                 for c in g.codes)]))
    book = SubElement(SubElement(root, "CodeBook"), "Codes")
    made: dict[str, Element] = {}
    for path in paths:
        parts = path.split("/")
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub not in made:
                parent = made["/".join(parts[:i])] if i else book
                made[sub] = SubElement(parent, "Code", {"guid": guid("code", sub),
                                                        "name": parts[i], "isCodable": "true"})
    cases = sorted({s.case for s in sources if s.case} | {g.case for s in sources
                                                           for g in s.segments if g.case})
    if cases:
        holder = SubElement(root, "Cases")
        for case in cases:
            el = SubElement(holder, "Case", {"guid": guid("case", case), "name": case})
            for s in sources:
                if s.case == case:
                    SubElement(el, "SourceRef", {"targetGUID": guid("source", s.name)})
            for s in sources:
                for g in s.segments:
                    if g.case == case:
                        key = g.key or f"{s.name}/{g.start}/{g.end}"
                        SubElement(el, "SelectionRef", {"targetGUID": guid("selection", key)})
    holder = SubElement(root, "Sources")
    for s in sources:
        attrs = {"guid": guid("source", s.name), "name": s.name,
                 "creatingUser": guid("user")}
        if not s.embedded:
            attrs["plainTextPath"] = f"internal://{guid('source', s.name)}.txt"
        el = SubElement(holder, "TextSource", attrs)
        if s.embedded:
            SubElement(el, "PlainTextContent").text = s.text
        for g in s.segments:
            key = g.key or f"{s.name}/{g.start}/{g.end}"
            sel = SubElement(el, "PlainTextSelection", {
                "guid": guid("selection", key), "startPosition": str(g.start),
                "endPosition": str(g.end), "creatingUser": guid("user")})
            for code in g.codes:
                coding = SubElement(sel, "Coding", {"guid": guid("coding", key, code)})
                SubElement(coding, "CodeRef", {"targetGUID": guid("code", code)})
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="utf-8",
                                                                  xml_declaration=False)


def write_qdpx(path: Path, name: str, sources: list[Source],
               extra_codes: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", project_xml(name, sources, extra_codes))
        for s in sources:
            if not s.embedded:
                z.writestr(f"sources/{guid('source', s.name)}.txt", s.text.encode("utf-8"))
    return path


def segment(text: str, part: str, *codes: str, nth: int = 0) -> Segment:
    """The segment of `text` holding `part` (its nth occurrence), coded with `codes`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return Segment(start, start + len(part), list(codes))
