"""`living-theories new`: a ready theory site in an empty folder.

The files come from `templates/new/` (an example theory with two released versions, evidence,
references, a GitHub Pages workflow and a README), plus what is generated: the lock file, the
JSON Schemas with editor settings, and a CMOC table template.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import yaml

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


def yaml_string(text: str) -> str:
    """`text` as a YAML value on one line that reads back as exactly `text`: as it is when
    that is safe (easier to edit), otherwise double-quoted, so that ': ', '#', quotes,
    backslashes or 'yes' cannot change the YAML's meaning."""
    try:
        if yaml.safe_load(f"value: {text}\n") == {"value": text}:
            return text
    except yaml.YAMLError:
        pass
    return yaml.safe_dump(text, default_style='"', allow_unicode=True,
                          width=float("inf")).strip()


def new_project(dest: Path, site_name: str | None = None) -> list[Path]:
    """Create a project in `dest` (which must be empty or not exist); returns the files.

    On failure (OSError included, e.g. a folder that cannot be written) nothing is left
    behind: whatever this call created is removed again."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} is not an empty folder - choose a new folder name, so "
                            "that none of your files are overwritten")
    if site_name is not None and not site_name.strip():
        raise ScaffoldError("the name given with --name is empty - give the site a name, e.g. "
                            "--name 'Leadership in ICSs'")
    name = site_name or dest.resolve().name.replace("-", " ").replace("_", " ")
    if not site_name and name == name.lower():  # "my-theories" -> "My theories"; a --name
        name = name.capitalize()  # and "My Study" stay exactly as they are
    name = " ".join(name.split())  # a title is one line (also the README's heading)
    existed = dest.exists()
    try:
        return _fill(dest, name)
    except BaseException:
        with contextlib.suppress(OSError):  # the first error is the one to report
            if existed:  # it was empty: empty it again
                for child in dest.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            elif dest.exists():
                shutil.rmtree(dest)
        raise


def _fill(dest: Path, name: str) -> list[Path]:
    values = {"__SITE_NAME__": name, "__VERSION__": __version__}
    in_yaml = {k: yaml_string(v) for k, v in values.items()}
    written: list[Path] = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir():
            continue
        parts = [RENAMES.get(p, p) for p in source.relative_to(TEMPLATE).parts]
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        # In YAML files a placeholder is a whole value: quoted there when it must be.
        for key, value in (in_yaml if source.suffix in (".yml", ".yaml") else values).items():
            text = text.replace(key, value)
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
        # a bug in the template (new_project removes what was written)
        raise ScaffoldError("the example project does not validate:\n" + problems.report())
    for theory in project.graph.theories.values():  # the example's versions are released
        for version in theory.versions:
            project.lock.record(version, theory, project.graph.corpus.project,
                                project.bibliography)
    project.lock.save()
    written.append(project.lock.path)
    return written
