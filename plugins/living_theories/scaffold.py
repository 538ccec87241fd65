"""`living-theories new`: a ready theory site in an empty folder.

The files come from `templates/new/` (an example theory with two draft versions, evidence,
references, GitHub workflows that publish the site and make a GitHub release of each released
version for Zenodo, and a README), plus what is generated: the lock file, the JSON Schemas
with editor settings, a CMOC table template, the wheel of Living Theories that
`requirements.txt` installs (distribution.py), and, when authors are given, `.zenodo.json`
and CITATION.cff.

The example's versions are drafts: a released version can never be deleted, and the example
is there to be replaced. Authors (`--author`) and the site's address (`--url`) go into
theories/project.yaml and mkdocs.yml, ready for the first release.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import yaml

from . import __version__
from . import models as m
from .citing import citation_cff
from .distribution import wheel_name, write_wheel
from .project import load_project
from .schema import write_schemas
from .spreadsheets import template_rows, write_table
from .zenodo import CITATION_CFF, ZENODO_JSON, zenodo_metadata

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


ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")
URL = re.compile(r"^https?://\S+$")


def parse_author(text: str) -> m.Person:
    """An --author: "Family, Given" (or an organisation's name), then, optionally, ", " and
    an ORCID iD (0000-0002-1825-0097 or its https://orcid.org/ address)."""
    parts = [p.strip() for p in text.split(",")]
    orcid = None
    if len(parts) > 1 and (found := ORCID.match(parts[-1])):
        orcid, parts = found[1], parts[:-1]
    elif parts and re.search(r"\d{4}-\d{4}", parts[-1]):
        raise ScaffoldError(f"--author '{text}': '{parts[-1]}' is not an ORCID iD - write it "
                            "as 0000-0002-1825-0097 (four groups of four digits; the last may "
                            "be X)")
    if not parts[0] or len(parts) > 2 or (len(parts) == 2 and not parts[1]):
        raise ScaffoldError(f"--author '{text}' is not a name - write it as \"Family, Given\" "
                            "(e.g. --author \"Smith, Jo\"), an organisation as its name, and "
                            "add an ORCID iD after another comma: \"Smith, Jo, "
                            "0000-0002-1825-0097\"")
    return m.Person(family=parts[0], given=parts[1] if len(parts) == 2 else None, orcid=orcid)


def _authors_yaml(authors: list[m.Person]) -> str:
    if not authors:
        return ("# authors:                 # who to credit when a version is cited\n"
                "#   - family: Smith\n#     given: Jo\n#     orcid: 0000-0002-1825-0097")
    lines = ["authors:                   # who to credit when a version is cited"]
    for person in authors:
        lines.append(f"  - family: {yaml_string(person.family)}")
        if person.given:
            lines.append(f"    given: {yaml_string(person.given)}")
        if person.orcid:
            lines.append(f"    orcid: {person.orcid}")
    return "\n".join(lines)


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


def new_project(dest: Path, site_name: str | None = None,
                authors: list[m.Person] | None = None, url: str | None = None) -> list[Path]:
    """Create a project in `dest` (which must be empty or not exist); returns the files.

    On failure (OSError included, e.g. a folder that cannot be written) nothing is left
    behind: whatever this call created is removed again."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} is not an empty folder - choose a new folder name, so "
                            "that none of your files are overwritten")
    if site_name is not None and not site_name.strip():
        raise ScaffoldError("the name given with --name is empty - give the site a name, e.g. "
                            "--name 'Leadership in ICSs'")
    if url is not None and not URL.match(url):
        raise ScaffoldError(f"--url '{url}' is not a web address - give the address the site "
                            "will have, e.g. --url https://your-name.github.io/your-repository/")
    name = site_name or dest.resolve().name.replace("-", " ").replace("_", " ")
    if not site_name and name == name.lower():  # "my-theories" -> "My theories"; a --name
        name = name.capitalize()  # and "My Study" stay exactly as they are
    name = " ".join(name.split())  # a title is one line (also the README's heading)
    existed = dest.exists()
    try:
        return _fill(dest, name, authors or [], url)
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


def _fill(dest: Path, name: str, authors: list[m.Person], url: str | None) -> list[Path]:
    values = {"__SITE_NAME__": name, "__VERSION__": __version__, "__WHEEL__": wheel_name()}
    in_yaml = {k: yaml_string(v) for k, v in values.items()}
    # Whole lines of YAML, made here (quoted where they must be).
    in_yaml["__AUTHORS__"] = _authors_yaml(authors)
    in_yaml["__SITE_URL__"] = (
        f"site_url: {yaml_string(url)}" if url else
        "# site_url: https://your-name.github.io/your-repository/   # set it when you publish")
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
    try:
        written.append(write_wheel(dest / "wheels"))
    except LookupError as exc:  # only when run from a source folder without installing
        raise ScaffoldError(f"{exc} - install it (python3 -m pip install .) and run "
                            "'living-theories new' again") from exc
    project, problems = load_project(dest)
    if problems.errors:  # a bug in the template (new_project removes what was written)
        raise ScaffoldError("the example project does not validate:\n" + problems.report())
    project.lock.save()  # no version is released yet: an empty lock, sealed
    written.append(project.lock.path)
    if authors:  # else a citation would credit the site's name: `release` writes them later
        corpus = project.graph.corpus.project
        for file, text in ((ZENODO_JSON, json.dumps(zenodo_metadata(corpus, site=url),
                                                    indent=2, ensure_ascii=False) + "\n"),
                           (CITATION_CFF, citation_cff(corpus, name, url, []))):
            (dest / file).write_text(text, encoding="utf-8")
            written.append(dest / file)
    return written
