"""DOIs per version: a new site's authors and address, the example left unreleased, and what
Zenodo's GitHub integration reads (.zenodo.json in step with CITATION.cff, a workflow that
makes a GitHub release of each released version), checked against the published schemas."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import article, build_site, edit

DATA = Path(__file__).parent / "data"
AUTHORS = ["--author", "Smith, Jo, 0000-0002-1825-0097", "--author", "Ngũyen, Thi Mai",
           "--url", "https://jo.example.org/nursing/"]


def zenodo_schema() -> dict:
    schema = json.loads((DATA / "zenodo-deposit-legacyrecord.schema.json").read_text())
    # Documented by Zenodo's API and read by its GitHub integration, newer than this schema
    # (tests/data/README.md): the one field added.
    schema["properties"]["version"] = {"type": "string"}
    return schema


def schema_errors(schema: dict, data: object) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(
        schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]


def new_site(tmp_path: Path, cli, *args: str) -> Path:
    root = tmp_path / "nursing"
    code, out, err = cli("new", str(root), "--name", "Nursing theories", *args)
    assert code == 0, err
    return root


def test_new_site_has_authors_and_address_and_an_unreleased_example(tmp_path, cli):
    root = new_site(tmp_path, cli, *AUTHORS)
    project = yaml.safe_load((root / "theories/project.yaml").read_text())
    assert project["authors"] == [
        {"family": "Smith", "given": "Jo", "orcid": "0000-0002-1825-0097"},
        {"family": "Ngũyen", "given": "Thi Mai"}]
    assert yaml.safe_load((root / "mkdocs.yml").read_text())["site_url"] == \
        "https://jo.example.org/nursing/"
    for n in (1, 2):
        assert yaml.safe_load((root / f"theories/example/v{n}.yaml").read_text())["status"] \
            == "draft"
    assert json.loads((root / "living-theories.lock").read_text())["versions"] == {}
    # The example can be deleted: nothing about it is frozen.
    shutil.rmtree(root / "theories/example")
    (root / "evidence/interviews.yaml").unlink()
    assert cli("validate", str(root))[0] == 0


def test_a_new_site_never_cites_its_own_name_as_author(tmp_path, cli):
    root = new_site(tmp_path, cli)
    code, out, _ = cli("new", str(tmp_path / "other"))
    assert "Before your first release, add who to credit" in out
    assert "theories/project.yaml" in out and "site_url" in out
    assert not (root / ".zenodo.json").exists() and not (root / "CITATION.cff").exists()
    public = build_site(root, tmp_path / "site")
    assert public.returncode == 0, public.stderr
    assert not list((tmp_path / "site").rglob("cite.bib"))  # nothing released: nothing cited
    review = build_site(root, tmp_path / "review", env={"LIVING_THEORIES_REVIEW": "1"})
    assert review.returncode == 0, review.stderr
    page = article(tmp_path / "review/theories/example/v2/index.html")
    assert "Draft for consultation" in page and "Cite this version" not in page


def test_released_example_is_cited_with_the_authors_given(tmp_path, cli):
    root = new_site(tmp_path, cli, *AUTHORS)
    code, out, err = cli("release", "example", "--dir", str(root))
    assert code == 0, err
    run = build_site(root, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    bib = (tmp_path / "site/theories/example/v2/cite.bib").read_text()
    assert "author = {Smith, Jo and Ngũyen, Thi Mai}" in bib
    assert "Nursing theories}" not in bib.split("series")[0]  # the site's name is no author
    assert "url = {https://jo.example.org/nursing/theories/example/v2/}" in bib


@pytest.mark.parametrize("author, says", [
    ("Smith, Jo, 0000-0002-1825-009", "is not an ORCID iD"),
    ("Smith, Jo, Extra", "is not a name"),
    (", Jo", "is not a name"),
])
def test_new_refuses_an_author_it_cannot_read(tmp_path, cli, author, says):
    code, _, err = cli("new", str(tmp_path / "s"), "--author", author)
    assert code == 1 and says in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_new_refuses_an_address_that_is_not_one(tmp_path, cli):
    code, _, err = cli("new", str(tmp_path / "s"), "--url", "jo.example.org")
    assert code == 1 and "is not a web address" in err
    assert not (tmp_path / "s").exists()


def test_an_orcid_address_is_kept_as_the_id(tmp_path, cli):
    root = new_site(tmp_path, cli, "--author", "Smith, Jo, https://orcid.org/0000-0002-1825-0097")
    assert yaml.safe_load((root / "theories/project.yaml").read_text())["authors"][0][
        "orcid"] == "0000-0002-1825-0097"


def licensed_site(tmp_path: Path, cli) -> Path:
    root = new_site(tmp_path, cli, *AUTHORS)
    edit(root / "theories/project.yaml", "# license: CC-BY-4.0", "license: CC-BY-4.0")
    edit(root / "theories/project.yaml", "    orcid: 0000-0002-1825-0097",
         "    orcid: 0000-0002-1825-0097\n    affiliation: University of Liverpool")
    return root


def test_release_writes_zenodo_json_and_citation_cff_in_step(tmp_path, cli):
    root = licensed_site(tmp_path, cli)
    # the files a new site starts with are valid too
    assert schema_errors(zenodo_schema(), json.loads((root / ".zenodo.json").read_text())) == []
    cff_schema = json.loads((DATA / "citation-cff-1.2.0.schema.json").read_text())
    assert schema_errors(cff_schema, yaml.safe_load((root / "CITATION.cff").read_text())) == []

    code, out, err = cli("release", "example", "--dir", str(root))
    assert code == 0, err
    assert "wrote .zenodo.json and CITATION.cff for example-v2" in out
    zenodo = json.loads((root / ".zenodo.json").read_text())
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert schema_errors(zenodo_schema(), zenodo) == []
    assert schema_errors(cff_schema, cff) == []
    title = "Example: peer mentoring for newly qualified nurses, version 2"
    assert zenodo["title"] == cff["title"] == title
    assert zenodo["version"] == cff["version"] == "example-v2"
    assert zenodo["license"] == cff["license"] == "CC-BY-4.0"
    assert zenodo["publication_date"] == cff["date-released"] == \
        yaml.safe_load((root / "theories/example/v2.yaml").read_text())["date"].isoformat()
    assert zenodo["creators"] == [
        {"name": "Smith, Jo", "orcid": "0000-0002-1825-0097",
         "affiliation": "University of Liverpool"},
        {"name": "Ngũyen, Thi Mai"}]
    assert [(a["family-names"], a["given-names"], a.get("orcid")) for a in cff["authors"]] == [
        ("Smith", "Jo", "https://orcid.org/0000-0002-1825-0097"), ("Ngũyen", "Thi Mai", None)]
    assert zenodo["upload_type"] == "publication" and zenodo["publication_type"] == "report"
    page = "https://jo.example.org/nursing/theories/example/v2/"
    assert cff["url"] == page
    assert {"identifier": page, "relation": "isIdenticalTo", "scheme": "url"} in \
        zenodo["related_identifiers"]
    assert "Without protected time, meetings lapse" in zenodo["description"]


def test_zenodo_description_escapes_html(tmp_path, cli):
    root = new_site(tmp_path, cli, *AUTHORS)
    edit(root / "theories/example/v2.yaml", "Without protected time,",
         "Without <script>alert(1)</script> & protected time,")
    assert cli("release", "example", "--dir", str(root))[0] == 0
    description = json.loads((root / ".zenodo.json").read_text())["description"]
    assert "<script>" not in description
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; protected" in description


def test_a_hand_written_citation_cff_is_left_alone(tmp_path, cli):
    root = new_site(tmp_path, cli, *AUTHORS)
    (root / "CITATION.cff").write_text("cff-version: 1.2.0\n# mine\n")
    code, out, _ = cli("release", "example", "--dir", str(root))
    assert code == 0
    assert (root / "CITATION.cff").read_text() == "cff-version: 1.2.0\n# mine\n"
    assert "note: CITATION.cff was not written by Living Theories" in out
    assert json.loads((root / ".zenodo.json").read_text())["version"] == "example-v2"


def add_version_3(root: Path) -> None:
    """A draft version 3: version 2's content, as the final theory."""
    v3 = (root / "theories/example/v2.yaml").read_text().replace(
        "stage: refined", "stage: final").replace("status: released", "status: draft")
    (root / "theories/example/v3.yaml").write_text(re.sub(r"(?m)^(doi|date): .*\n", "", v3))


def test_a_doi_added_later_is_shown_and_linked_from_the_next_version(tmp_path, cli):
    root = new_site(tmp_path, cli, *AUTHORS)
    assert cli("release", "example", "--dir", str(root))[0] == 0
    # Zenodo minted a DOI for example-v2: the researcher copies it into the version's file.
    edit(root / "theories/example/v2.yaml", "status: released",
         "status: released\ndoi: 10.5281/zenodo.1234567")
    code, _, err = cli("validate", str(root))
    assert code == 0, err
    run = build_site(root, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = article(tmp_path / "site/theories/example/v2/index.html")
    assert "10.5281/zenodo.1234567" in page and "DOI added after the release" in page
    assert "doi = {10.5281/zenodo.1234567}" in \
        (tmp_path / "site/theories/example/v2/cite.bib").read_text()
    add_version_3(root)
    code, out, err = cli("release", "example", "--dir", str(root))
    assert code == 0, err
    zenodo = json.loads((root / ".zenodo.json").read_text())
    assert zenodo["version"] == "example-v3"
    assert {"identifier": "10.5281/zenodo.1234567", "relation": "isNewVersionOf",
            "scheme": "doi"} in zenodo["related_identifiers"]
    assert schema_errors(zenodo_schema(), zenodo) == []


def test_new_sites_workflows_match_the_github_workflow_schema(tmp_path, cli):
    root = new_site(tmp_path, cli)
    schema = json.loads((DATA / "github-workflow.schema.json").read_text())
    names = sorted(p.name for p in (root / ".github/workflows").iterdir())
    assert names == ["publish.yml", "zenodo-release.yml"]
    for name in names:
        assert schema_errors(schema, workflow(root / ".github/workflows" / name)) == [], name
    release = workflow(root / ".github/workflows/zenodo-release.yml")
    assert release["on"]["push"] == {"branches": ["main"], "paths": [".zenodo.json"]}
    assert release["permissions"] == {"contents": "write"}


class WorkflowLoader(yaml.SafeLoader):
    """YAML as GitHub reads a workflow (YAML 1.2 booleans): `on:` is a key, not True."""


WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
WorkflowLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                                     list("tf"))


def workflow(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=WorkflowLoader)


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Jo", "GIT_AUTHOR_EMAIL": "jo@example.org",
           "GIT_COMMITTER_NAME": "Jo", "GIT_COMMITTER_EMAIL": "jo@example.org"}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_release_workflow_makes_one_github_release_per_released_version(tmp_path, cli):
    """The workflow's own script, run on a real git history with a stand-in for `gh` that
    records what it was asked and tags as GitHub would."""
    root = new_site(tmp_path, cli, *AUTHORS)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "new site")  # .zenodo.json without a version: no release
    assert cli("release", "example", "--dir", str(root))[0] == 0  # versions 1 and 2
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "release v2")
    first = git(root, "rev-parse", "HEAD")
    add_version_3(root)
    assert cli("release", "example", "--dir", str(root))[0] == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "release v3")
    second = git(root, "rev-parse", "HEAD")

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(
        "#!/usr/bin/env bash\n"
        f"printf '%s\\n' \"$*\" >> '{log}'\n"
        'git tag "$3" "$5"\n')  # gh release create TAG --target COMMIT ...
    (bin_dir / "gh").chmod(0o755)
    steps = workflow(root / ".github/workflows/zenodo-release.yml")["jobs"]["release"]["steps"]
    script = steps[-1]["run"]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "GH_TOKEN": "test"}
    for _ in range(2):  # the second run finds both tags and makes nothing
        run = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
    calls = log.read_text().splitlines()
    title = "Example: peer mentoring for newly qualified nurses, version {}"
    notes = ". Released with Living Theories; its metadata is in .zenodo.json."
    assert calls == [
        f"release create example-v2 --target {first} --title {title.format(2)} "
        f"--notes {title.format(2)}{notes}",
        f"release create example-v3 --target {second} --title {title.format(3)} "
        f"--notes {title.format(3)}{notes}"]
    # each tag's .zenodo.json describes its own version (what Zenodo reads at the tag)
    for tag in ("example-v2", "example-v3"):
        assert json.loads(git(root, "show", f"{tag}:.zenodo.json"))["version"] == tag
