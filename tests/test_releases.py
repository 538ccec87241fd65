"""Frozen releases: the content hash and the lock file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import edit
from living_theories import models as m
from living_theories import snapshots
from living_theories.citations.bibtex import load_bibliography
from living_theories.problems import Problems
from living_theories.releases import content_hash, reference_hash


def version(text: str) -> m.Version:
    return m.VersionFile.model_validate(yaml.safe_load(text))


BASE = """
stage: refined
status: released
date: 2024-01-26
statement: Leaders build trust [@pawson1997].
cmocs:
  - id: c-1
    contexts: [A context]
    outcomes: [An outcome]
"""


def test_hash_ignores_key_order_quoting_whitespace_and_comments():
    reordered = """
# a comment
cmocs:
  - outcomes:    ["An outcome"]
    contexts:
      - 'A context'
    id: "c-1"
date: "2024-01-26"
statement: >-
  Leaders build
  trust [@pawson1997].
status: released
stage: refined
"""
    assert content_hash(version(BASE)) == content_hash(version(reordered))


def test_hash_ignores_explicit_defaults():
    explicit = BASE.replace("    outcomes: [An outcome]\n",
                            "    outcomes: [An outcome]\n    mechanism: present\n"
                            "    overarching_contexts: []\n")
    assert content_hash(version(BASE)) == content_hash(version(explicit))


def test_hash_changes_with_content():
    changed = BASE.replace("An outcome", "Another outcome")
    assert content_hash(version(BASE)) != content_hash(version(changed))
    absent = BASE.replace("    outcomes: [An outcome]\n",
                          "    outcomes: [An outcome]\n    mechanism: absent\n")
    assert content_hash(version(BASE)) != content_hash(version(absent))


STABLE = ("stage: initial\ndate: 2024-01-26\nstatement: Kozłowska – “trust”\ncmocs:\n"
          "  - id: c-1\n    contexts: [Zürich, A]\n    outcomes: [Ω]\n")
# The hash's input, as the lock files of released versions everywhere have it: canonical JSON,
# keys sorted, no spaces, text as UTF-8 (not \\u escapes), defaults left out.
STABLE_JSON = ('{"cmocs":[{"contexts":["Zürich","A"],"id":"c-1","outcomes":["Ω"]}],'
               '"date":"2024-01-26","stage":"initial","statement":"Kozłowska – “trust”"}')


def test_hash_is_stable_across_machines(tmp_path):
    expected = "sha256:" + hashlib.sha256(STABLE_JSON.encode("utf-8")).hexdigest()
    assert content_hash(version(STABLE)) == expected
    # Other processes, as on other machines: another hash seed, an ASCII locale, another
    # time zone; each reads the file itself.
    (tmp_path / "v1.yaml").write_text(STABLE, encoding="utf-8")
    code = ("import sys, yaml; from living_theories import models as m; "
            "from living_theories.releases import content_hash; "
            "data = yaml.safe_load(open(sys.argv[1], encoding='utf-8')); "
            "print(content_hash(m.VersionFile.model_validate(data)))")
    for seed, locale, tz in [("1", "C", "UTC"), ("4242", "C.UTF-8", "Pacific/Auckland")]:
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": locale, "LANG": locale,
               "PYTHONUTF8": "0", "TZ": tz}
        run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "v1.yaml")],
                             capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == expected, (seed, locale)


def test_release_freezes_a_draft(project: Path, cli):
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    assert "released demo version 2 (2024-02-01): it is now frozen and can be cited " \
        "(content hash sha256:" in out
    text = (project / "theories/demo/v2.yaml").read_text()
    assert "status: released" in text and "status: draft" not in text
    lock = json.loads((project / "living-theories.lock").read_text())
    assert set(lock["versions"]) == {"demo/v1", "demo/v2"}
    assert cli("validate", str(project))[0] == 0
    # a later edit to the released version is caught
    edit(project / "theories/demo/v2.yaml", "Lacked evidence.", "No evidence.")
    code, _, err = cli("validate", str(project))
    assert code == 1 and "version 2 of 'demo' was released and is frozen" in err


def test_release_dates_an_undated_draft(project: Path, cli):
    edit(project / "theories/demo/v2.yaml", "date: 2024-02-01\n", "")
    code, out, _ = cli("release", "demo", "--dir", str(project))
    assert code == 0
    assert "\ndate: " in (project / "theories/demo/v2.yaml").read_text()


def test_release_is_refused_when_the_project_is_invalid(project: Path, cli):
    edit(project / "evidence/interviews.yaml", "cmoc: demo-trust", "cmoc: nope")
    before = (project / "theories/demo/v2.yaml").read_text()
    lock_before = (project / "living-theories.lock").read_text()
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 1 and "nothing was released" in err and "nope" in err
    assert (project / "theories/demo/v2.yaml").read_text() == before
    assert (project / "living-theories.lock").read_text() == lock_before


def test_release_locks_versions_marked_released_by_hand(project: Path, cli):
    (project / "living-theories.lock").unlink()
    code, out, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    assert "released demo version 1" in out and "released demo version 2" in out


def test_release_of_unknown_theory(project: Path, cli):
    code, _, err = cli("release", "nope", "--dir", str(project))
    assert code == 1 and "no theory 'nope'" in err and "demo" in err


def test_damaged_lock_file(project: Path, cli):
    (project / "living-theories.lock").write_text("{not json")
    code, _, err = cli("validate", str(project))
    assert code == 1 and "living-theories.lock" in err and "damaged" in err


def test_the_lock_records_what_a_version_was_released_with(project: Path, cli):
    # The lock file is a contract kept in git: its entry for a release holds the content
    # hash, the date, what the version was shown and cited with, and the hash of each
    # reference it cites (only those in references.bib), under these names.
    (project / "theories/project.yaml").write_text(
        "title: Trust in systems\npublisher: Uni of Somewhere\n"
        "authors:\n  - family: Kozłowska\n    given: Olga\n    orcid: 0000-0002-1825-0097\n"
        + "framework:"  # (in place of the project's own authors)
        + (project / "theories/project.yaml").read_text(encoding="utf-8").split(
            "framework:", 1)[1], encoding="utf-8")
    edit(project / "theories/demo/v2.yaml", "as @senge2015 argued",
         "as @senge2015 argued [@nobody1999]")
    (project / "references.bib").write_text(
        (project / "references.bib").read_text(encoding="utf-8")
        + "\n@misc{nobody1999,\n  title = {Soon gone},\n}\n", encoding="utf-8")
    code, _, err = cli("release", "demo", "--dir", str(project))
    assert code == 0, err
    entry = json.loads((project / "living-theories.lock").read_text("utf-8"))["versions"][
        "demo/v2"]
    problems = Problems(project)
    bib = load_bibliography(project / "references.bib", problems)
    v2 = version((project / "theories/demo/v2.yaml").read_text(encoding="utf-8"))
    assert entry == {
        "hash": content_hash(v2),
        "date": "2024-02-01",
        "released_as": {"theory_title": "Relationships build trust", "theory_domain": "relating",
                        "authors": [{"family": "Kozłowska", "given": "Olga",
                                     "orcid": "0000-0002-1825-0097"}],
                        "publisher": "Uni of Somewhere", "project_title": "Trust in systems"},
        "references": {k: reference_hash(bib[k])
                       for k in ("nobody1999", "pawson1997", "senge2015")},
        # the hash of the snapshot of what the version shows (snapshots.py)
        "snapshot": snapshots.digest((project / "releases/demo/v2.json").read_text("utf-8")),
    }
