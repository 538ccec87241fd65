"""Stakeholder consultation rounds: what each round reviewed, the feedback template, turning a
filled template back into feedback records, and "Comment on this" links.

A round is a source of kind `consultation`; what stakeholders said is evidence from it, with
the stakeholder group (never a name). No MkDocs here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml

from . import files
from . import models as m
from .graph import TheoryGraph
from .spreadsheets import escape_cell, unescape_cell

COLUMNS = ["round", "theory", "version", "cmoc", "cmoc_label", "cmoc_summary",
           "stakeholder_group", "agreement", "comments", "paraphrased"]
# 'paraphrased' is for the team: yes when the comment is their paraphrase of what was said
# (kept as a summary), empty when it is the stakeholder's own words (kept as a quote).
PARAPHRASED = {"yes", "y", "true", "x", "1"}
# What an answer in the template's agreement column says about the CMOC.
AGREEMENT = {"agree": "supports", "partly agree": "refines", "disagree": "challenges",
             "not sure": "informs"}


def rounds(graph: TheoryGraph, public_only: bool = True) -> list[m.Source]:
    """Consultation rounds in date order."""
    found = [s for s in graph.corpus.sources.values() if s.kind == m.SourceKind.consultation.value
             and (not public_only or s.visibility == m.Visibility.public.value)]
    return sorted(found, key=lambda s: (s.date or "", s.id))


def previous_review(graph: TheoryGraph, round_: m.Source, theory_id: str) -> int | None:
    """The version of a theory that the latest earlier round reviewed, if any."""
    earlier = [r for r in rounds(graph) if (r.date or "", r.id) < (round_.date or "", round_.id)]
    for r in reversed(earlier):
        numbers = [v.version for v in r.reviewed if v.theory == theory_id]
        if numbers:
            return max(numbers)
    return None


def changes_citing(graph: TheoryGraph, evidence_ids: set[str],
                   name: Callable[[m.CMOC], str] | None = None
                   ) -> list[tuple[m.Theory, m.Version, str]]:
    """(theory, version, what changed) for every change that cites one of these evidence ids.
    `name` names a CMOC (pages name it as readers see it; by default its label or title)."""
    name = name or (lambda c: c.label or c.title or c.id)
    out = []
    for theory in graph.theories.values():
        for version in theory.versions:
            for change in version.changes:
                if evidence_ids & set(change.evidence):
                    out.append((theory, version, change.summary))
            previous = graph.previous(version)
            for drop in version.dropped:
                if evidence_ids & set(drop.evidence):
                    before = previous.cmoc(drop.cmoc) if previous else None
                    what = name(before) if before else f"a CMOC of version {version.number - 1}"
                    out.append((theory, version, f"Dropped {what}: {drop.reason}"))
            for cmoc in version.cmocs:
                if cmoc.lineage and evidence_ids & set(cmoc.lineage.evidence):
                    out.append((theory, version, f"{name(cmoc)}: {cmoc.lineage.relation}"))
    return out


def summary_of(cmoc: m.CMOC) -> str:
    """One line for a CMOC, each element with the sign label the study prints ("M−: ...")."""
    if cmoc.narrative:
        return " ".join(cmoc.narrative.split())
    names = {"contexts": "C", "mechanism_resources": "M resource",
             "mechanism_reasonings": "M reasoning", "outcomes": "O"}
    parts = []
    for field, _, _ in m.ELEMENTS:
        items = [f"({label}) {text}" if label else text for text, label in cmoc.labelled(field)]
        if items:
            parts.append(f"{names[field]}: {' / '.join(items)}")
    return "; ".join(parts)


def feedback_template(graph: TheoryGraph, round_: m.Source) -> str:
    """A CSV with one row per CMOC under review, for stakeholders to fill in."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for ref in round_.reviewed:
        version = graph.version(ref.theory, ref.version)
        if version is None:
            continue
        for cmoc in version.cmocs:
            writer.writerow([escape_cell(str(v)) for v in (
                round_.id, ref.theory, ref.version, cmoc.id, cmoc.label or cmoc.title or "",
                summary_of(cmoc), "", "", "", "")])
    return out.getvalue()


@dataclass
class RowProblem:
    row: int  # 1-based, the header is row 1
    column: str
    message: str
    hint: str

    def format(self, file: str) -> str:
        where = file + (f": row {self.row}" if self.row else "")
        where += f", column '{self.column}'" if self.column else ""
        return f"{where}: {self.message} - {self.hint}"


def read_feedback(text: str, graph: TheoryGraph, round_id: str,
                  existing_ids: set[str]) -> tuple[list[dict], list[RowProblem]]:
    """Feedback records (as YAML-ready dicts) from a filled template, or every problem."""
    problems: list[RowProblem] = []
    round_ = graph.corpus.sources.get(round_id)
    if round_ is None or round_.kind not in m.FEEDBACK_SOURCES:
        known = ", ".join(r.id for r in rounds(graph, public_only=False))
        hint = (f"use one of: {known}" if known else "this project has no consultation rounds "
                "yet: describe one as a source with 'kind: consultation' in evidence/*.yaml")
        return [], [RowProblem(0, "", f"there is no consultation round '{round_id}'", hint)]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("theory", "version", "cmoc", "stakeholder_group", "agreement",
                           "comments") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowProblem(1, "", f"the header lacks the column(s) {', '.join(missing)}",
                               "start from the template downloaded from the round's page")]
    records: list[dict] = []
    counts: dict[str, int] = {}
    groups = {g.lower(): g for g in round_.groups}
    for n, row in enumerate(reader, start=2):
        row = {k: unescape_cell(v or "").strip() for k, v in row.items() if k}
        agreement, comment = row.get("agreement", "").lower(), row.get("comments", "")
        if not agreement and not comment:
            continue  # a CMOC nobody commented on

        def bad(column: str, message: str, hint: str) -> None:
            problems.append(RowProblem(n, column, message, hint))  # noqa: B023

        if row.get("round") and row["round"] != round_id:
            bad("round", f"the row belongs to round '{row['round']}', not '{round_id}'",
                f"import it with --round {row['round']}, or correct the cell")
        version = None
        if not re.fullmatch(r"[1-9][0-9]*", row.get("version", "")):
            bad("version", f"'{row.get('version', '')}' is not a version number",
                "write the number, e.g. 2")
        else:
            version = graph.version(row.get("theory", ""), int(row["version"]))
            if version is None:
                bad("theory", f"there is no version {row['version']} of the theory "
                    f"'{row.get('theory', '')}'", "keep the theory and version the template gave")
        if version is not None and row.get("cmoc") not in {c.id for c in version.cmocs}:
            bad("cmoc", f"'{row.get('cmoc', '')}' is not a CMOC of that version",
                "keep the CMOC id the template gave")
        if agreement and agreement not in AGREEMENT:
            bad("agreement", f"'{row.get('agreement')}' is not an answer the template allows",
                "write one of: " + ", ".join(AGREEMENT) + " (or leave it empty)")
        group = row.get("stakeholder_group", "")
        if not group:
            bad("stakeholder_group", "the stakeholder group is empty",
                "write the group (e.g. " + (", ".join(round_.groups) or "patients") +
                "), never a name")
        elif groups and group.lower() not in groups:
            bad("stakeholder_group", f"'{group}' is not one of this round's groups",
                "use one of: " + ", ".join(round_.groups))
        if problems and problems[-1].row == n:
            continue
        cmoc = row["cmoc"]
        counts[cmoc] = counts.get(cmoc, 0) + 1
        rid = f"{round_id}-{cmoc}-{counts[cmoc]}"
        while rid in existing_ids:
            counts[cmoc] += 1
            rid = f"{round_id}-{cmoc}-{counts[cmoc]}"
        record: dict = {"id": rid, "source": round_id, "kind": "feedback",
                        "group": groups.get(group.lower(), group)}
        if comment and row.get("paraphrased", "").lower() in PARAPHRASED:
            record["summary"] = comment  # the team's words, not a verbatim quote
        elif comment:
            record["quote"] = comment  # the stakeholder's own words
        if agreement and "summary" not in record:
            record["summary"] = f"Answer: {agreement}."
        record["bears_on"] = [{"cmoc": cmoc, "role": AGREEMENT.get(agreement, "informs")}]
        records.append(record)
    return records, problems


def feedback_yaml(records: list[dict], round_id: str, source_file: str) -> str:
    header = (f"# Stakeholder feedback from consultation round '{round_id}', imported from "
              f"{source_file} by living-theories import-feedback.\n")
    return header + yaml.safe_dump({"evidence": records}, allow_unicode=True, sort_keys=False,
                                   width=100)


def comment_link(settings: dict[str, str], theory: str, version: int, cmoc: str,
                 round_id: str) -> str | None:
    """A "Comment on this" address: a mailto with subject and body, or a form URL."""
    values = {"theory": theory, "version": str(version), "cmoc": cmoc, "round": round_id}
    if settings.get("form"):
        form = settings["form"]
        for name, value in values.items():  # (other braces are the form's own business)
            form = form.replace("{" + name + "}", quote(value, safe=""))
        # Written into a Markdown link: spaces, brackets and parentheses percent-encoded.
        return quote(form, safe=_URL_SAFE)
    if settings.get("mailto"):
        subject = f"Comment on {theory} version {version}, CMOC {cmoc}"
        body = (f"Round: {round_id}\nTheory: {theory}\nVersion: {version}\nCMOC: {cmoc}\n"
                "Stakeholder group (not your name): \n\nMy comment:\n")
        return (f"mailto:{quote(settings['mailto'], safe='@')}?subject={quote(subject)}"
                f"&body={quote(body)}")
    return None


_URL_SAFE = "%:/?#@!$&'*+,;=~"  # RFC 3986 reserved characters but ( ) [ ], and '%' kept


def import_feedback(csv_path: Path, graph: TheoryGraph, round_id: str,
                    ) -> tuple[list[dict], list[RowProblem]]:
    try:
        text = csv_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = csv_path.read_bytes().decode("cp1252")  # Excel's default on Windows
        except UnicodeDecodeError:
            return [], [RowProblem(0, "", "the file is not readable text",
                                   "save it from the spreadsheet as CSV (UTF-8)")]
    if (bad := files.csv_problem(text)) is not None:
        return [], [RowProblem(bad[0], "", bad[1], bad[2])]
    return read_feedback(text, graph, round_id, set(graph.corpus.evidence))
