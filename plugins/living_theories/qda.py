"""REFI-QDA exchange: coded segments of a QDA project (.qdpx) become evidence records, and a
theory version becomes a codebook (.qdc) to code new data against.

A .qdpx is a zip holding `project.qde` (XML, namespace urn:QDA-XML:project:1.0) and the text
of its sources under `sources/`. Every coded PlainTextSelection whose code the map names
becomes one evidence record, its id derived from the selection's GUID, so importing a newer
export of the same project updates records in place. No MkDocs here.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import yaml

# defusedxml (PyPI, maintained by a CPython core developer, the library Python's own XML
# documentation points to) parses with the standard library's expat but refuses DTDs and
# entity declarations: a project.qde from elsewhere cannot expand entities ("billion laughs")
# or reach files and URLs through external entities. REFI-QDA files never need a DTD.
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from . import models as m
from .graph import TheoryGraph

NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_Q = "{" + NS + "}"

# Limits against zip bombs: the member count, and what is read (declared and actual sizes).
MAX_MEMBERS = 20_000
MAX_READ = 512 * 1024 * 1024  # bytes of project.qde and text sources read, in all
GUID = re.compile(r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12})\}?")
# Element fields of a CMOC and the aspect their evidence bears on.
ASPECT_OF = {"contexts": "C", "mechanism_resources": "M-res",
             "mechanism_reasonings": "M-rea", "outcomes": "O"}
# Stable GUIDs for exported codes: uuid5 of the CMOC id (and element) in this namespace.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://living-theories/refi-qda")


class QdaError(Exception):
    """A file that cannot be imported; the message says what is wrong and what to do."""


# --- Reading a .qdpx ---------------------------------------------------------------------


@dataclass
class Code:
    guid: str
    path: str  # names from the top of the codebook, joined by '/'


@dataclass
class Selection:
    guid: str
    source: str  # TextSource GUID
    start: int
    end: int
    codes: list[str]  # code GUIDs, in the order applied


@dataclass
class TextSource:
    guid: str
    name: str
    text: str
    selections: list[Selection] = field(default_factory=list)


@dataclass
class QdaProject:
    name: str
    codes: dict[str, Code]
    sources: dict[str, TextSource]
    cases: dict[str, str]  # case GUID -> name
    source_cases: dict[str, list[str]]  # source GUID -> case GUIDs
    selection_case: dict[str, str]  # selection GUID -> case GUID


def _safe_member(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    if re.match(r"[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """A member's bytes, stopping once the read budget is spent (sizes in the header can
    lie)."""
    if info.file_size > budget[0]:
        raise QdaError(f"'{info.filename}' would unpack to {info.file_size:,} bytes, more "
                       f"than this importer reads ({MAX_READ:,} bytes): the file looks like a "
                       "zip bomb - export the project again from your QDA program")
    try:
        with archive.open(info) as stream:
            data = stream.read(budget[0] + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # a damaged member, an encrypted one, or a compression method Python cannot unpack
        raise QdaError(f"'{info.filename}' cannot be unpacked ({exc}) - export the project "
                       "again from your QDA program, without a password") from None
    if len(data) > budget[0]:
        raise QdaError(f"'{info.filename}' unpacks to more than this importer reads "
                       f"({MAX_READ:,} bytes): the file looks like a zip bomb - export the "
                       "project again from your QDA program")
    budget[0] -= len(data)
    return data


def read_qdpx(path: Path) -> QdaProject:
    """The project in a .qdpx, or QdaError saying why it cannot be read."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise QdaError(f"{path.name} is not a REFI-QDA project (.qdpx is a zip file: {exc}) - "
                       "export the project from your QDA program as a REFI-QDA project") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise QdaError(f"{path.name} holds {len(infos):,} files, more than this importer "
                           f"accepts ({MAX_MEMBERS:,}): the file looks like a zip bomb")
        unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
        if unsafe:
            raise QdaError(f"{path.name} holds files with unsafe paths ({', '.join(unsafe[:3])})"
                           ": a REFI-QDA export never does - do not import this file")
        members = {i.filename: i for i in infos}
        qde = members.get("project.qde") or next(
            (i for n, i in members.items() if n.lower() == "project.qde"), None)
        if qde is None:
            raise QdaError(f"{path.name} has no project.qde, so it is not a REFI-QDA project - "
                           "export the whole project (.qdpx), not a codebook (.qdc)")
        budget = [MAX_READ]
        root = _parse(_read_member(archive, qde, budget), path.name)

        def text_of(src: Element, label: str) -> str:
            content = src.find(_Q + "PlainTextContent")
            if content is not None:
                return content.text or ""
            where = src.get("plainTextPath", "")
            if not where.startswith("internal://"):
                raise QdaError(f"{path.name}: the text of the source '{label}' is not inside "
                               f"the file (plainTextPath '{where}') - export the project with "
                               "its sources included")
            info = members.get("sources/" + where[len("internal://"):])
            if info is None:
                raise QdaError(f"{path.name}: the text of the source '{label}' "
                               f"('{where}') is missing from the file - export it again")
            try:
                return _read_member(archive, info, budget).decode("utf-8").removeprefix(
                    "\ufeff")
            except UnicodeDecodeError:
                raise QdaError(f"{path.name}: the text of the source '{label}' is not "
                               "UTF-8, as REFI-QDA requires - export it again") from None

        return _project(root, path.name, text_of)


def _parse(data: bytes, file: str) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise QdaError(f"{file}: project.qde declares a DTD or entities, which REFI-QDA never "
                       "uses; it is refused as unsafe") from None
    except ParseError as exc:
        line, column = exc.position
        raise QdaError(f"{file}: project.qde:{line}:{column + 1}: not well-formed XML - "
                       "export the project again from your QDA program") from None
    if root.tag != _Q + "Project":
        raise QdaError(f"{file}: project.qde is not a REFI-QDA project (its root is "
                       f"'{root.tag}', expected Project in {NS}) - export it again")
    return root


def _schema_error(file: str, what: str) -> QdaError:
    return QdaError(f"{file}: project.qde breaks the REFI-QDA schema: {what} - export the "
                    "project again, or report the problem to the program that wrote it")


def _guid(el: Element, file: str, attr: str = "guid") -> str:
    value = el.get(attr)
    match = GUID.fullmatch(value or "")
    if not match:
        tag = el.tag.replace(_Q, "")
        what = f"no {attr}" if value is None else f"the {attr} {value!r}, not a GUID"
        raise _schema_error(file, f"a {tag} has {what}")
    return match.group(1).lower()


def _int(el: Element, attr: str, file: str) -> int:
    value = el.get(attr)
    if value is None or not re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        raise _schema_error(file, f"a selection's {attr} is {value!r}, not an integer")
    return int(value)


def _project(root: Element, file: str, text_of: Any) -> QdaProject:
    name = root.get("name")
    if name is None:
        raise _schema_error(file, "the Project has no name")
    codes: dict[str, Code] = {}

    def walk(parent: Element, prefix: str) -> None:
        for code in parent.findall(_Q + "Code"):
            if code.get("name") is None or code.get("isCodable") not in (
                    "true", "false", "1", "0"):
                raise _schema_error(file, "a Code lacks its name or isCodable")
            path = prefix + code.get("name", "")
            codes[_guid(code, file)] = Code(_guid(code, file), path)
            walk(code, path + "/")

    book = root.find(_Q + "CodeBook")
    found = book.find(_Q + "Codes") if book is not None else None
    if found is not None:
        walk(found, "")
    cases: dict[str, str] = {}
    source_cases: dict[str, list[str]] = {}
    selection_case: dict[str, str] = {}
    for case in root.iterfind(f"{_Q}Cases/{_Q}Case"):
        cid = _guid(case, file)
        cases[cid] = case.get("name") or ""
        for ref in case.findall(_Q + "SourceRef"):
            source_cases.setdefault(_guid(ref, file, "targetGUID"), []).append(cid)
        for ref in case.findall(_Q + "SelectionRef"):
            selection_case[_guid(ref, file, "targetGUID")] = cid
    sources: dict[str, TextSource] = {}
    for src in root.iterfind(f"{_Q}Sources/{_Q}TextSource"):
        sid = _guid(src, file)
        label = src.get("name") or sid
        source = TextSource(sid, src.get("name") or "", text_of(src, label))
        for sel in src.findall(_Q + "PlainTextSelection"):
            gid = _guid(sel, file)
            start, end = _int(sel, "startPosition", file), _int(sel, "endPosition", file)
            if not 0 <= start <= end <= len(source.text):
                raise QdaError(f"{file}: the selection {gid} in the source '{label}' runs from "
                               f"character {start} to {end}, outside the source's "
                               f"{len(source.text):,} characters - the export is damaged; "
                               "export the project again")
            if start == end:
                continue  # an empty selection quotes nothing
            applied = [_guid(ref, file, "targetGUID")
                       for coding in sel.findall(_Q + "Coding")
                       for ref in coding.findall(_Q + "CodeRef")]
            source.selections.append(Selection(gid, sid, start, end, applied))
        sources[sid] = source
    return QdaProject(name, codes, sources, cases, source_cases, selection_case)


# --- The map ------------------------------------------------------------------------------


@dataclass
class Target:
    cmoc: str
    aspect: str = "whole"
    role: str = "supports"
    version: int | None = None

    def bears_on(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cmoc": self.cmoc}
        if self.aspect != "whole":
            out["aspect"] = self.aspect
        out["role"] = self.role
        if self.version is not None:
            out["version"] = self.version
        return out


@dataclass
class QdaMap:
    codes: dict[str, list[Target]] = field(default_factory=dict)  # path or GUID -> targets
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # name or GUID -> fields


SOURCE_FIELDS = {"id", "kind", "code", "title", "role", "site", "mode", "date", "description"}


def read_map(path: Path, graph: TheoryGraph) -> tuple[QdaMap, list[str]]:
    """The map, and every problem in it as 'file: what - how to fix'."""
    problems: list[str] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return QdaMap(), [f"{path}: cannot be read as YAML ({exc}) - check the file"]
    if not isinstance(data, dict) or set(data) - {"codes", "sources"}:
        return QdaMap(), [f"{path}: a map has a 'codes:' block (and optionally 'sources:') - "
                          "start from the map export-codebook writes"]
    out = QdaMap()
    aspects = {a.value for a in m.Aspect}
    roles = {r.value for r in m.Role}
    for key, value in (data.get("codes") or {}).items():
        items = value if isinstance(value, list) else [value]
        targets = []
        for item in items:
            where = f"{path}: code '{key}'"
            if not isinstance(item, dict) or "cmoc" not in item:
                problems.append(f"{where}: give the CMOC it bears on - write 'cmoc: ID' under it")
                continue
            unknown = set(item) - {"cmoc", "aspect", "role", "version"}
            if unknown:
                problems.append(f"{where}: unknown field '{sorted(unknown)[0]}' - use cmoc, "
                                "aspect, role and version")
            if str(item["cmoc"]) not in graph.cmocs:
                problems.append(f"{where}: there is no CMOC '{item['cmoc']}' - use the id of a "
                                "CMOC of one of your theories")
            aspect, role = str(item.get("aspect", "whole")), str(item.get("role", "supports"))
            if aspect not in aspects:
                problems.append(f"{where}: the aspect '{aspect}' is not allowed - use one of "
                                + ", ".join(sorted(aspects)))
            if role not in roles:
                problems.append(f"{where}: the role '{role}' is not allowed - use one of "
                                + ", ".join(sorted(roles)))
            version = item.get("version")
            if version is not None and not (isinstance(version, int) and version >= 1):
                problems.append(f"{where}: the version '{version}' is not a version number")
            targets.append(Target(str(item["cmoc"]), aspect, role, version))
        out.codes[str(key)] = targets
    for key, value in (data.get("sources") or {}).items():
        if not isinstance(value, dict) or set(value) - SOURCE_FIELDS:
            problems.append(f"{path}: source '{key}': write fields among "
                            + ", ".join(sorted(SOURCE_FIELDS)))
            continue
        out.sources[str(key)] = value
    return out, problems


# --- Planning an import --------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def locator(text: str, start: int, end: int) -> str:
    """'L12-14' (1-based lines) where the text has line breaks, else 'chars 10-42'."""
    if "\n" not in text:
        return f"chars {start + 1}-{end}"
    first = text.count("\n", 0, start) + 1
    last = first + text.count("\n", start, max(start, end - 1))
    return f"L{first}" if first == last else f"L{first}-{last}"


# libyaml's C dumper and loader where present: the pure-Python ones took 3 s for 2,000 records.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Plan:
    file: Path
    header: str
    body: dict[str, list[dict]]  # the new evidence file's sources and records
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # 'id: why' left as they were
    unmapped: dict[str, int] = field(default_factory=dict)  # code path -> segments

    def text(self) -> str:
        """The whole new evidence file."""
        return self.header + yaml.dump(self.body, Dumper=_DUMPER, allow_unicode=True,
                                       sort_keys=False, width=100)


def citing_versions(graph: TheoryGraph, only: set[tuple[str, int]] | None = None,
                    ) -> dict[str, str]:
    """Evidence id -> the first version (of those in `only`, if given) that cites it by id."""
    out: dict[str, str] = {}
    for theory in graph.theories.values():
        for v in theory.versions:
            if only is not None and (theory.id, v.number) not in only:
                continue
            ids = [e for c in v.cmocs for e in c.evidence]
            ids += [e for c in v.cmocs if c.lineage for e in c.lineage.evidence]
            ids += [e for x in (*v.changes, *v.dropped, *v.incorporated) for e in x.evidence]
            for eid in ids:
                out.setdefault(eid, f"{theory.id} version {v.number}")
    return out


def _source_records(project: QdaProject, qmap: QdaMap, existing: set[str],
                    ) -> tuple[dict[str, str], dict[str, str], list[dict]]:
    """Which Living Theories source each QDA source (or case) stands for: by the map, else
    derived - a case is a participant known by the case's name (its anonymised code), a
    source in no single case a document known by its name. Returns the source id of each
    case and each text source, and the source records to write."""
    records: dict[str, dict] = {}
    owner: dict[str, str] = {}  # derived id -> the GUID it was derived for

    def define(guid: str, name: str, default: dict[str, Any]) -> str:
        given = qmap.sources.get(guid) or qmap.sources.get(name) or {}
        fields = {**default, **given}
        if "id" in given:  # the map may give several QDA items one source on purpose
            sid = str(given["id"])
        else:  # two names with one slug: the second also gets its GUID's start
            sid = "qda-" + (slug(name) or guid[:8])
            if owner.setdefault(sid, guid) != guid:
                sid = f"{sid}-{guid[:8]}"
        if sid not in existing and sid not in records:
            records[sid] = {"id": sid, **{k: v for k, v in fields.items() if k != "id"}}
        return sid

    case_ids = {cid: define(cid, name or cid[:8], {"kind": "participant", "code": name or
                                                   cid[:8], "mode": "interview"})
                for cid, name in project.cases.items()}
    source_ids = {}
    for sid, src in project.sources.items():
        in_cases = project.source_cases.get(sid, [])
        if len(in_cases) == 1 and not qmap.sources.get(sid) and not qmap.sources.get(src.name):
            source_ids[sid] = case_ids[in_cases[0]]
        else:
            source_ids[sid] = define(sid, src.name or sid[:8],
                                     {"kind": "document", "title": src.name or sid[:8],
                                      "mode": "document"})
    return case_ids, source_ids, list(records.values())


def plan_import(project: QdaProject, qmap: QdaMap, graph: TheoryGraph, root: Path,
                locked: set[tuple[str, int]], shown: dict[str, str] | None = None,
                out: Path | None = None) -> Plan:
    file = out or root / "evidence" / f"qda-{slug(project.name) or 'project'}.yaml"
    old_records: dict[str, dict] = {}
    old_sources: dict[str, dict] = {}
    if file.exists():
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        old_records = {r["id"]: r for r in data.get("evidence") or [] if isinstance(r, dict)}
        old_sources = {s["id"]: s for s in data.get("sources") or [] if isinstance(s, dict)}
    mine = str(file.resolve())
    elsewhere_sources = {sid for sid, s in graph.corpus.sources.items()
                         if s._where and str(Path(s._where[0]).resolve()) != mine}
    elsewhere_evidence = {eid for eid, e in graph.corpus.evidence.items()
                          if e._where and str(Path(e._where[0]).resolve()) != mine}
    # Frozen: records released versions cite by id, or show (their snapshots, `shown`).
    released = {**(shown or {}), **citing_versions(graph, locked)}
    cited = citing_versions(graph)
    case_ids, source_ids, source_records = _source_records(project, qmap, elsewhere_sources)

    def targets_of(code: Code) -> list[Target]:
        found = qmap.codes.get(code.guid) or qmap.codes.get("{" + code.guid + "}") or []
        for key, targets in qmap.codes.items():
            if key == code.path or code.path.endswith("/" + key):
                found = found + targets
        return found

    plan = Plan(file, "", {})
    new_records: list[dict] = []
    texts_of = Counter(source_ids.values())  # a participant with several transcripts
    for src in project.sources.values():
        for sel in sorted(src.selections, key=lambda s: (s.start, s.end, s.guid)):
            codes = [project.codes[c] for c in sel.codes if c in project.codes]
            bears: list[dict] = []
            for code in codes:
                targets = targets_of(code)
                if not targets:
                    plan.unmapped[code.path] = plan.unmapped.get(code.path, 0) + 1
                for t in targets:
                    if t.bears_on() not in bears:
                        bears.append(t.bears_on())
            if not bears:
                continue
            case = project.selection_case.get(sel.guid)  # e.g. a speaker in a focus group
            source_id = case_ids[case] if case else source_ids[src.guid]
            where = locator(src.text, sel.start, sel.end)
            if case or texts_of[source_id] > 1:  # say which text the lines are in
                where = f"{src.name or src.guid[:8]}, {where}"
            new_records.append({"id": f"qda-{sel.guid}", "source": source_id,
                                "quote": src.text[sel.start:sel.end], "locator": where,
                                "codes": list(dict.fromkeys(c.path for c in codes)),
                                "bears_on": bears})
    final: list[dict] = []
    seen: set[str] = set()
    for record in new_records:
        rid = record["id"]
        seen.add(rid)
        if rid in elsewhere_evidence:
            plan.kept.append(f"{rid}: it is defined in another file, which this import leaves "
                             "alone")
            continue
        old = old_records.get(rid)
        if old is not None and rid in released and old != record:
            plan.kept.append(f"{rid}: cited by the released {released[rid]}, so it keeps its "
                             "released wording")
            final.append(old)
            continue
        (plan.unchanged if old == record else plan.updated if old else plan.added).append(rid)
        final.append(record)
    for rid, old in old_records.items():
        if rid in seen:
            continue
        if rid in cited or rid in released:
            plan.kept.append(f"{rid}: no longer in the export, but cited by "
                             f"{cited.get(rid) or released[rid]}")
            final.append(old)
        else:
            plan.removed.append(rid)
    used = {r["source"] for r in final}
    sources = [s for s in source_records if s["id"] in used]
    sources += [s for sid, s in old_sources.items() if sid in used and sid not in
                {x["id"] for x in sources}]
    plan.header = (f"# Coded segments of the QDA project '{project.name}', imported by "
              "living-theories import-qdpx.\n# Import a newer export to update them; edits "
              "made here are replaced by the next import.\n")
    plan.body = {"sources": sources, "evidence": final} if sources else {"evidence": final}
    return plan


# --- Exporting a codebook ------------------------------------------------------------------


def code_guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(parts)))


def _short(text: str, limit: int = 63) -> str:
    """One line of at most `limit` characters: some programs cut longer code names (MAXQDA
    does at 63 when reading codes from a table), and a cut name no longer matches the map."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def codebook(version: m.Version, theory: m.Theory, origin: str) -> tuple[str, str]:
    """The REFI-QDA codebook of a version (XML text), and the qdpx map that brings codings of
    it back (YAML text)."""
    from xml.etree.ElementTree import SubElement, indent, tostring

    root = Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": origin})
    codes = SubElement(root, "Codes")
    lines = [f"# Map for 'living-theories import-qdpx': codes of the codebook of {theory.id} "
             f"version {version.number}.", "# Edit role (supports, challenges, refines, "
             "informs) per code as you see fit.", "codes:"]
    parents: set[str] = set()
    for cmoc in version.cmocs:
        name = _short(cmoc.label or cmoc.title or cmoc.id)
        if name in parents:
            name = f"{name} ({cmoc.id})"
        parents.add(name)
        parent = SubElement(codes, "Code", {"guid": code_guid(cmoc.id), "name": name,
                                            "isCodable": "true"})
        about = cmoc.narrative or cmoc.title or ""
        SubElement(parent, "Description").text = (
            f"{about}\n\nLiving Theories: CMOC {cmoc.id} of {theory.id} version "
            f"{version.number}.".strip())
        lines += [f"  {_yaml_key(name)}:", f"    cmoc: {cmoc.id}"]
        children: set[str] = set()
        for fname, aspect in ASPECT_OF.items():
            for i, (text, label) in enumerate(cmoc.labelled(fname)):
                child_name = _short(f"{label or aspect}: {text}")
                while child_name in children:
                    child_name += " ·"
                children.add(child_name)
                child = SubElement(parent, "Code", {
                    "guid": code_guid(cmoc.id, fname, str(i)), "name": child_name,
                    "isCodable": "true"})
                SubElement(child, "Description").text = str(text)
                lines += [f"  {_yaml_key(name + '/' + child_name)}:", f"    cmoc: {cmoc.id}",
                          f"    aspect: {aspect}"]
    indent(root)  # one code a line: readable, and Description texts are left as they are
    xml = tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml + "\n", "\n".join(lines) + "\n"


def _yaml_key(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
