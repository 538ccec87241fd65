"""CMOC tables: the spreadsheets researchers keep today, to and from the YAML files.

One row per CMOC: theory, version, CMOC id, context, mechanism resource, mechanism reasoning,
outcome, evidence ids (and a few optional columns). A cell holding several contexts or
outcomes puts each on its own line (Alt+Enter in Excel); a line may start with the sign the
study prints beside that element, "(M−) text" or "(O+) text". Reading reports every bad cell by
sheet, row and column; `plan_import` returns the files to write, and writes nothing itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import files
from . import models as m
from .graph import TheoryGraph
from .links import RULE, field_source, shown, unsafe

TEMPLATE_CSV = Path(__file__).parent / "templates" / "cmoc-table.csv"
COLUMNS = ["theory", "version", "cmoc_id", "label", "title", "context", "mechanism_resource",
           "mechanism_reasoning", "outcome", "mechanism", "outcome_direction", "evidence_ids"]
REQUIRED = ["theory", "version", "cmoc_id", "context", "mechanism_resource",
            "mechanism_reasoning", "outcome"]
ELEMENT_COLUMNS = {"context": "contexts", "mechanism_resource": "mechanism_resources",
                   "mechanism_reasoning": "mechanism_reasonings", "outcome": "outcomes"}
SLUG = re.compile(m.ID_PATTERN)


@dataclass
class CellProblem:
    sheet: str
    row: int
    column: str
    message: str
    hint: str

    def format(self, file: str) -> str:
        where = file + (f": sheet '{self.sheet}'" if self.sheet else "") + \
            (f", row {self.row}" if self.sheet and self.row else f": row {self.row}"
             if self.row else "")
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message} - {self.hint}"


@dataclass
class Row:
    sheet: str
    number: int
    cells: dict[str, str]


@dataclass
class Plan:
    """What an import would write: file path -> new text (and the old text, to undo)."""

    files: dict[Path, str] = field(default_factory=dict)
    cmocs: int = 0
    # Cells imported as they are, with a link the site will not show (see links.py).
    warnings: list[CellProblem] = field(default_factory=list)


# --- Cells that cannot carry formulas out (OWASP "CSV injection") ---------------------------
#
# A cell that begins with = + - @ tab or CR is a formula to Excel, LibreOffice and Google
# Sheets. In .xlsx every cell is written as a text cell, and a risky one also gets Excel's
# "quote prefix" style (what typing a leading apostrophe does): it stays text even when edited;
# its value is unchanged. CSV has no cell types, so there a risky cell is written with a
# leading apostrophe - and so is a cell that itself begins with an apostrophe, so that reading
# back is unambiguous: `unescape_cell` removes a leading apostrophe only when the next
# character is one of these, which is exactly when `escape_cell` added it.
FORMULA_START = frozenset("=+-@\t\r")
_ESCAPED_START = FORMULA_START | {"'"}


def escape_cell(value: str) -> str:
    """A CSV cell's text that no spreadsheet program reads as a formula."""
    return "'" + value if value[:1] in _ESCAPED_START else value


def unescape_cell(value: str) -> str:
    """The text `escape_cell` was given (CSV files only: .xlsx cells are typed)."""
    return value[1:] if value[:1] == "'" and value[1:2] in _ESCAPED_START else value


def _normalise(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name or "").strip().lower())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):  # Excel stores dates as date-times
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def _formula(value: Any) -> str | None:
    """The text of a formula as openpyxl gives it (a string, or an array formula)."""
    text = getattr(value, "text", value)
    return text if isinstance(text, str) and text.startswith("=") else None


def _read_workbook(path: Path) -> tuple[list[tuple[str, list[list[Any]], dict]], str | None]:
    """(sheet, rows, {(row, column): formula}) per sheet, or why the file cannot be opened.

    Values are the ones Excel saved with each formula; a formula with no saved value (a file
    written by a program that does not calculate) is listed, so it is reported and not read
    as an empty cell."""
    import openpyxl

    try:
        values = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return [], str(exc)
    tables = []
    for sheet, raw in zip(values.worksheets, formulas.worksheets, strict=True):
        cells = [list(r) for r in sheet.iter_rows()]
        rows = [[cell.value for cell in r] for r in cells]
        unsaved: dict[tuple[int, int], str] = {}
        for r, raw_row in enumerate(raw.iter_rows(values_only=True)):
            for c, value in enumerate(raw_row):
                formula = _formula(value)
                saved = r < len(cells) and c < len(cells[r]) and (
                    cells[r][c].value is not None or cells[r][c].data_type == "str")
                if formula and not saved:  # type "str" and no value: the formula gave ""
                    unsaved[(r, c)] = formula
        tables.append((sheet.title, rows, unsaved))
    values.close()
    formulas.close()
    return tables, None


def _letter(index: int) -> str:
    """The spreadsheet column letter of a 0-based index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _delimiter(text: str) -> str:
    """',' - or ';' / tab when the header only makes sense split on it (Excel writes ';' in
    countries where ',' is the decimal mark)."""
    first = text.split("\n", 1)[0]
    known = {d: sum(_normalise(h) in COLUMNS for h in next(csv.reader([first], delimiter=d), []))
             for d in (",", ";", "\t")}
    best = max(known, key=lambda d: known[d])  # ties go to ',' (first)
    return best if known[best] else ","


def read_rows(path: Path) -> tuple[list[Row], list[CellProblem]]:
    """The rows of a CMOC table (.csv or .xlsx), with normalised column names."""
    tables: list[tuple[str, list[list[Any]], dict]] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        tables, error = _read_workbook(path)
        if error is not None:
            return [], [CellProblem("", 0, "", f"the workbook cannot be opened ({error})",
                                    "save it again from Excel as .xlsx, or as CSV")]
    elif path.suffix.lower() == ".csv":
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")  # Excel's CSV on Windows
        if (bad := files.csv_problem(text, _delimiter(text))) is not None:
            return [], [CellProblem("", bad[0], "", bad[1], bad[2])]
        table = [[unescape_cell(v) for v in row]
                 for row in csv.reader(io.StringIO(text), delimiter=_delimiter(text))]
        tables.append(("", table, {}))
    else:
        return [], [CellProblem("", 0, "", f"'{path.suffix}' files cannot be read",
                                "use an Excel workbook (.xlsx) or a CSV file")]
    rows: list[Row] = []
    problems: list[CellProblem] = []
    found_header = False
    for sheet, table, unsaved in tables:
        if not table:
            continue
        header = [_normalise(h) for h in table[0]]
        if "cmoc_id" not in header and "theory" not in header:
            continue  # a sheet of notes, not a CMOC table
        found_header = True
        for (r, c), formula in sorted(unsaved.items()):
            column = header[c] if c < len(header) and header[c] else _letter(c)
            problems.append(CellProblem(sheet, r + 1, column, f"this cell holds a formula "
                                        f"({formula}) with no saved value", "open the file in "
                                        "Excel and save it, or type the value"))
        missing = [c for c in REQUIRED if c not in header]
        unknown = [h for h in header if h and h not in COLUMNS]
        for c in missing:
            problems.append(CellProblem(sheet, 1, c, "this column is missing",
                                        "add it to the header row (see the template)"))
        for c in unknown:
            close = [k for k in COLUMNS if k.startswith(c[:4])]
            problems.append(CellProblem(sheet, 1, c, "this column is not known",
                                        f"did you mean '{close[0]}'?" if close else
                                        "the columns are: " + ", ".join(COLUMNS)))
        for n, values in enumerate(table[1:], start=2):
            cells = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
            if any(cells.values()):
                rows.append(Row(sheet, n, cells))
    if not found_header and not problems:
        problems.append(CellProblem("", 1, "", "no sheet has a header row with 'theory' and "
                                    "'cmoc_id'", "start from the template: living-theories "
                                    "export-cmocs --template cmocs.xlsx"))
    return rows, problems


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def plan_import(rows: list[Row], graph: TheoryGraph, root: Path,
                locked: set[tuple[str, int]]) -> tuple[Plan, list[CellProblem]]:
    """Check every row and work out the version files to write."""
    problems: list[CellProblem] = []
    link_warnings: list[CellProblem] = []
    groups: dict[tuple[str, int], list[tuple[Row, dict[str, Any]]]] = {}
    seen: dict[tuple[str, int, str], int] = {}
    for row in rows:
        c = row.cells

        def bad(column: str, message: str, hint: str, row: Row = row) -> None:
            problems.append(CellProblem(row.sheet, row.number, column, message, hint))

        theory, cid = c.get("theory", ""), c.get("cmoc_id", "")
        if not theory:
            bad("theory", "the cell is empty", "write the theory's id, e.g. 'my-theory'")
        elif not SLUG.match(theory):
            bad("theory", f"'{theory}' is not a theory id", m.ID_HINT)
        if not cid:
            bad("cmoc_id", "the cell is empty", "give the CMOC an id, e.g. 'my-theory-vision'")
        elif not SLUG.match(cid):
            bad("cmoc_id", f"'{cid}' is not a CMOC id", m.ID_HINT)
        version = c.get("version", "")
        number = int(version) if re.fullmatch(r"[1-9][0-9]*", version) else None
        if number is None:
            bad("version", f"'{version}' is not a version number", "write 1, 2, 3, ...")
        elif (theory, number) in locked:
            latest = max(n for t, n in locked if t == theory)
            existing = graph.theories.get(theory)
            latest = max([latest] + [v.number for v in existing.versions] if existing else [])
            bad("version", f"version {number} of '{theory}' is released and frozen",
                f"put these rows under a new version, {latest + 1}")
        key = (theory, number or 0, cid)
        if key in seen:
            bad("cmoc_id", f"'{cid}' appears twice in version {version} of '{theory}'",
                f"the other is on row {seen[key]}")
        seen[key] = row.number
        cmoc: dict[str, Any] = {"id": cid}
        for column in ("label", "title"):
            if c.get(column):
                cmoc[column] = c[column]
        for column, name in ELEMENT_COLUMNS.items():
            if _lines(c.get(column, "")):
                cmoc[name] = [_element(line, name) for line in _lines(c[column])]
                for url in (u for line in _lines(c[column]) for u in unsafe(field_source(line))):
                    link_warnings.append(CellProblem(
                        row.sheet, row.number, column, f"the link to '{shown(url)}' will not "
                        f"be shown as a link: {RULE}", "write a web address starting with "
                        "https://"))
        if not any(k in cmoc for k in ("label", "title", *ELEMENT_COLUMNS.values())):
            bad("context", "the row has no context, mechanism or outcome",
                "fill in at least one of them, or delete the row")
        for column, name, allowed in (("mechanism", "mechanism", ("present", "absent")),
                                      ("outcome_direction", "outcome", ("positive",
                                                                        "negative"))):
            value = c.get(column, "").lower()
            if value and value not in allowed:
                bad(column, f"'{c[column]}' is not allowed", "write " + " or ".join(allowed)
                    + ", or leave it empty")
            elif value and value != allowed[0]:
                cmoc[name] = value
        evidence = [e for e in re.split(r"[\s,;]+", c.get("evidence_ids", "")) if e]
        for eid in evidence:
            if eid not in graph.corpus.evidence:
                bad("evidence_ids", f"there is no evidence record '{eid}'",
                    "add it to evidence/*.yaml first, or correct the id")
        if evidence:
            cmoc["evidence"] = evidence
        if number is not None:
            groups.setdefault((theory, number), []).append((row, cmoc))
    plan = Plan(warnings=link_warnings)
    if problems:
        return plan, problems
    for (theory, number), items in groups.items():
        folder = root / "theories" / theory
        if not (folder / "theory.yaml").exists():
            plan.files[folder / "theory.yaml"] = yaml.safe_dump(
                {"title": theory.replace("-", " ").capitalize()}, allow_unicode=True)
        path = folder / f"v{number}.yaml"
        data: dict[str, Any] = {}
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        old = {c["id"]: c for c in data.get("cmocs", []) if isinstance(c, dict) and "id" in c}
        cmocs = []
        for _, cmoc in items:
            merged = dict(old.get(cmoc["id"], {}))  # keep lineage, notes, narrative ...
            for name in ("label", "title", "mechanism", "outcome", "evidence",
                         *ELEMENT_COLUMNS.values()):
                merged.pop(name, None)
            merged.update(cmoc)
            cmocs.append(merged)
        data.setdefault("stage", "initial" if number == 1 else "refined")
        data.setdefault("status", "draft")
        data["cmocs"] = cmocs
        plan.files[path] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
        plan.cmocs += len(cmocs)
    return plan, problems


# An element's own sign is written before its text, as papers print it: "(M−) text".
_SIGNED_LINE = re.compile(r"^\(([CMO])([+−-])\)\s+(.+)$", re.S)
_LETTERS = {name: letter for name, letter, _ in m.ELEMENTS}


def _cell_line(element: m.Element, letter: str) -> str:
    label = m.sign_label(letter, element.sign)
    return f"({label}) {element}" if label else element


def _element(line: str, name: str) -> str | dict[str, str]:
    signed = _SIGNED_LINE.match(line)
    if not signed or signed.group(1) != _LETTERS[name]:
        return line
    return {"text": signed.group(3),
            "sign": "positive" if signed.group(2) == "+" else "negative"}


def table_rows(graph: TheoryGraph) -> list[list[str]]:
    """Every CMOC of every version, in the table layout."""
    rows = []
    for theory in graph.theories.values():
        for version in theory.versions:
            for cmoc in version.cmocs:
                rows.append([theory.id, str(version.number), cmoc.id, cmoc.label or "",
                             cmoc.title or "",
                             *("\n".join(_cell_line(e, letter) for e in getattr(cmoc, name))
                               for name, letter, _ in m.ELEMENTS),
                             cmoc.mechanism or "", cmoc.outcome or "", " ".join(cmoc.evidence)])
    return rows


def write_table(path: Path, rows: list[list[str]]) -> None:
    if path.suffix.lower() == ".xlsx":
        import openpyxl
        from openpyxl.styles import Alignment, Font

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "CMOCs"
        sheet.append(COLUMNS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):  # text, never a formula (openpyxl's guess)
                    cell.data_type = "s"
                    cell.quotePrefix = cell.value[:1] in FORMULA_START
        for col, width in zip("ABCDEFGHIJKL", (16, 8, 22, 10, 24, 40, 40, 40, 40, 10, 12, 24),
                              strict=True):
            sheet.column_dimensions[col].width = width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            writer.writerows([escape_cell(v) for v in row] for row in rows)


def template_rows() -> list[list[str]]:
    """The example rows of the shipped template."""
    with TEMPLATE_CSV.open(encoding="utf-8") as f:
        return list(csv.reader(f))[1:]
