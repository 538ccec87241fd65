"""Frozen snapshots of released versions: what a cited version showed, kept as it was.

A released version's own file is frozen by its content hash (releases.py), but its pages also
show what lives elsewhere: the evidence on its CMOCs (quotes, summaries, sources, locators,
codes), the names of those sources, and the address it is cited at. `living-theories release`
writes all of that to `releases/<theory>/v<N>.json`, and the lock keeps the snapshot's hash.

`check` compares the live files with every snapshot and reports, at the live record's line,
anything a released page would show differently; the pages of a released version show only
the evidence its snapshot holds (evidence added later appears on CMOC pages and later
versions, never on the cited version). `correct` is the one way to change a released version:
a dated correction with its reason, shown on the version's page and in its cite files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import files
from . import models as m
from .graph import TheoryGraph, cited_evidence
from .problems import Problems
from .releases import FOLDER

FORMAT = 1
# What a page shows of an evidence record and of a source: a change to any of these would
# change a released version's page.
EVIDENCE_SHOWN = ("quote", "summary", "group", "codes", "kind")
SOURCE_SHOWN = ("kind", "title", "code", "role", "reference", "site", "mode")


@dataclass
class Snapshot:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def evidence_ids(self) -> set[str]:
        return set(self.data.get("evidence", {}))

    @property
    def corrections(self) -> list[dict[str, str]]:
        return list(self.data.get("corrections", []))


def path_of(root: Path, theory_id: str, number: int) -> Path:
    return root / FOLDER / theory_id / f"v{number}.json"


def shown_evidence(graph: TheoryGraph, version: m.Version) -> list[m.Evidence]:
    """The evidence a version's own pages show: on its CMOCs (for this version) and cited for
    its lineage, changes, drops and incorporations."""
    ids: dict[str, m.Evidence] = {}
    for cmoc in version.cmocs:
        for ev, target in graph.evidence_on_cmoc.get(cmoc.id, []):
            if target.version in (None, version.number):
                ids[ev.id] = ev
    for eid in cited_evidence(version):
        if eid in graph.corpus.evidence:
            ids[eid] = graph.corpus.evidence[eid]
    return [ids[k] for k in sorted(ids)]


def evidence_record(ev: m.Evidence, version: m.Version) -> dict[str, Any]:
    """An evidence record as a version's pages show it."""
    data = {k: getattr(ev, k) for k in EVIDENCE_SHOWN if getattr(ev, k)}
    data["sources"] = [r.model_dump(exclude_none=True) for r in ev.refs]
    cmocs = {c.id for c in version.cmocs}
    data["bears_on"] = [t.model_dump(exclude_defaults=True) for t in ev.bears_on
                        if t.cmoc in cmocs]
    return data


def source_record(source: m.Source) -> dict[str, Any]:
    return {k: getattr(source, k) for k in SOURCE_SHOWN if getattr(source, k)}


def take(graph: TheoryGraph, theory: m.Theory, version: m.Version, address: str | None,
         content_hash: str, corrections: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A version's snapshot, as `release` (or `correct`) writes it."""
    evidence = shown_evidence(graph, version)
    source_ids = sorted({r.source for ev in evidence for r in ev.refs})
    return {
        "format": FORMAT,
        "theory": theory.id,
        "version": version.number,
        "content_hash": content_hash,
        "address": address,
        "evidence": {ev.id: evidence_record(ev, version) for ev in evidence},
        "sources": {sid: source_record(graph.corpus.sources[sid]) for sid in source_ids
                    if sid in graph.corpus.sources},
        "corrections": corrections or [],
    }


def site_address(root: Path, project: m.ProjectFile) -> str | None:
    """Where the site is published: the project's url, else site_url in mkdocs.yml."""
    if project.url:
        return project.url
    import yaml

    class _Lenient(yaml.SafeLoader):  # mkdocs.yml may hold !!python/name tags
        pass

    _Lenient.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        config = yaml.load(files.read_bytes(root / "mkdocs.yml", root), Loader=_Lenient)
    except (OSError, files.FileProblem, yaml.YAMLError):
        return None
    url = config.get("site_url") if isinstance(config, dict) else None
    return url if isinstance(url, str) and url.strip() else None


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(root: Path, lock_versions: dict[str, dict[str, Any]],
         problems: Problems) -> dict[tuple[str, int], Snapshot]:
    """The snapshots the lock names, each checked against the hash the lock keeps."""
    out: dict[tuple[str, int], Snapshot] = {}
    for key, entry in lock_versions.items():
        expected = entry.get("snapshot") if isinstance(entry, dict) else None
        if not expected:
            continue  # released before snapshots existed: its file alone is frozen
        theory_id, _, number = key.partition("/v")
        path = path_of(root, theory_id, int(number)) if number.isdigit() else None
        if path is None:
            continue
        fix = ("restore it from version control (git checkout " f"{FOLDER}/{theory_id}/"
               f"v{number}.json); it is written by the tool, never by hand")
        try:
            text = files.read_bytes(path, root).decode("utf-8") if path.exists() else None
        except (files.FileProblem, UnicodeDecodeError):
            text = None
        if text is None:
            problems.add(path, f"the snapshot of released version {number} of '{theory_id}' "
                         "is missing or unreadable", fix)
            continue
        if digest(text) != expected:
            problems.add(path, f"the snapshot of released version {number} of '{theory_id}' "
                         "was edited since release", fix + "; to correct a released version, "
                         f"run 'living-theories correct {theory_id} {number} --reason ...'")
            continue
        try:
            out[(theory_id, int(number))] = Snapshot(path, json.loads(text))
        except ValueError:
            problems.add(path, "the snapshot is not valid JSON", fix)
    return out


def check(graph: TheoryGraph, snapshots: dict[tuple[str, int], Snapshot],
          problems: Problems) -> None:
    """What a released version's pages show must still be what they showed at release."""
    corpus = graph.corpus
    url = corpus.project.url
    for (theory_id, number), snap in sorted(snapshots.items()):
        was = snap.data.get("address")
        if was and url and url != was and corpus.project_file:  # one set later is fine
            problems.add(corpus.project_file, f"released version {number} of '{theory_id}' is "
                         f"cited at {was}, but the project's url is now {url or 'not set'}",
                         "put the url back: a cited address must keep working (serve the old "
                         "address too, e.g. with a redirect, before moving a site)",
                         path=("url",), code=f"frozen:{theory_id}/v{number}")
        version = graph.version(theory_id, number)
        if version is None:
            continue  # a missing released file is reported by releases.check_frozen
        fix = (f"put it back as it was; to correct released version {number} of "
               f"'{theory_id}' itself, run 'living-theories correct {theory_id} {number} "
               "--reason \"...\"'")
        for eid, shown in sorted(snap.data.get("evidence", {}).items()):
            ev = corpus.evidence.get(eid)
            if ev is None:
                problems.add(snap.path, f"the evidence '{eid}' shown by released version "
                             f"{number} of '{theory_id}' no longer exists", "restore it (git "
                             "checkout evidence/); released pages must not change")
                continue
            now = evidence_record(ev, version)
            changed = [k for k in sorted(set(shown) | set(now)) if shown.get(k) != now.get(k)]
            if changed:
                where = ev._where or (snap.path, ())
                key = changed[0]
                yaml_key = {"sources": "source" if ev.source else "sources"}.get(key, key)
                if key == "sources" and ev.source:  # one source: point at the changed line
                    was, now_ref = (shown.get("sources") or [{}])[0], now["sources"][0]
                    yaml_key = next((k for k in ("source", "locator", "cited_as")
                                     if was.get(k) != now_ref.get(k)), "source")
                problems.add(where[0], f"the evidence '{eid}' is shown by released version "
                             f"{number} of '{theory_id}', but its {', '.join(changed)} "
                             "changed since release", fix, path=where[1] + (yaml_key,),
                             code=f"frozen:{theory_id}/v{number}")
        for sid, shown in sorted(snap.data.get("sources", {}).items()):
            source = corpus.sources.get(sid)
            if source is None:
                continue  # reported with the evidence that names it
            now = source_record(source)
            changed = [k for k in sorted(set(shown) | set(now)) if shown.get(k) != now.get(k)]
            if changed and source._where:
                problems.add(source._where[0], f"the source '{sid}' is shown by released "
                             f"version {number} of '{theory_id}', but its "
                             f"{', '.join(changed)} changed since release", fix,
                             path=source._where[1] + (changed[0],),
                             code=f"frozen:{theory_id}/v{number}")


def correction(reason: str) -> dict[str, str]:
    return {"date": dt.date.today().isoformat(), "reason": " ".join(reason.split())}
