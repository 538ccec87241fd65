"""`living-theories new`: a ready theory site in an empty folder.

The files come from `templates/new/` (an example theory with two released versions, evidence,
references, a GitHub Pages workflow and a README), plus what is generated: the lock file, the
JSON Schemas with editor settings, and a CMOC table template.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import __version__
from .project import load_project
from .schema import write_schemas
from .spreadsheets import template_rows, write_table

TEMPLATE = Path(__file__).parent / "templates" / "new"
# Dot-files are stored without their dot, so that packaging keeps them.
RENAMES = {"dot-github": ".github", "dot-gitignore": ".gitignore"}
VSCODE = {
    "yaml.schemas": {
        "./schema/project.schema.json": "theories/project.yaml",
        "./schema/theory.schema.json": "theories/*/theory.yaml",
        "./schema/version.schema.json": "theories/*/v*.yaml",
        "./schema/evidence.schema.json": "evidence/**/*.yaml",
    }
}


class ScaffoldError(Exception):
    pass


def new_project(dest: Path, site_name: str | None = None) -> list[Path]:
    """Create a project in `dest` (which must be empty or not exist); returns the files."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} is not an empty folder - choose a new folder name, so "
                            "that none of your files are overwritten")
    name = site_name or dest.resolve().name.replace("-", " ").replace("_", " ")
    if name == name.lower():  # "my-theories" -> "My theories"; "My Study" stays as it is
        name = name.capitalize()
    written: list[Path] = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir():
            continue
        parts = [RENAMES.get(p, p) for p in source.relative_to(TEMPLATE).parts]
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        text = text.replace("__SITE_NAME__", name).replace("__VERSION__", __version__)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    written += write_schemas(dest / "schema")
    (dest / ".vscode").mkdir()
    (dest / ".vscode/settings.json").write_text(json.dumps(VSCODE, indent=2) + "\n")
    written.append(dest / ".vscode/settings.json")
    write_table(dest / "cmoc-table.xlsx", template_rows())
    written.append(dest / "cmoc-table.xlsx")
    project, problems = load_project(dest)
    if problems.errors and not all(p.code.startswith("unlocked:") for p in problems.errors):
        shutil.rmtree(dest)  # a bug in the template: leave nothing half-made
        raise ScaffoldError("the example project does not validate:\n" + problems.report())
    for theory in project.graph.theories.values():  # the example's versions are released
        for version in theory.versions:
            project.lock.record(version)
    project.lock.save()
    written.append(project.lock.path)
    return written
