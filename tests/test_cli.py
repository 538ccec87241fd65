"""The command line: help texts, schemas, and the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator  # shipped with the test environment


def test_schema_is_generated_from_the_models_and_validates_the_example(tmp_path, cli):
    code, out, _ = cli("schema", str(tmp_path / "schema"))
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "schema").iterdir())
    assert names == ["evidence.schema.json", "project.schema.json", "theory.schema.json",
                     "version.schema.json"]
    version = json.loads((tmp_path / "schema/version.schema.json").read_text())
    Draft202012Validator.check_schema(version)
    cmoc = version["$defs"]["CMOC"]
    assert cmoc["additionalProperties"] is False
    assert "mechanism_resources" in cmoc["properties"]
    assert "Stable across versions" in cmoc["properties"]["id"]["description"]
    example = Path(__file__).parent / "projects/minimal/theories/demo/v2.yaml"
    data = yaml.safe_load(example.read_text())
    data["date"] = str(data["date"])
    assert not list(Draft202012Validator(version).iter_errors(data))
    bad = dict(data, statment="typo")
    assert list(Draft202012Validator(version).iter_errors(bad))


def test_help_texts(cli):
    for command in ("validate", "schema", "release"):
        try:
            cli(command, "--help")
        except SystemExit as exc:
            assert exc.code == 0


def test_no_command_prints_help(cli):
    code, out, _ = cli()
    assert code == 1 and "validate" in out  # a usage error, like any other


def test_installed_console_script_reports_without_traceback(project):
    exe = shutil.which("living-theories")
    assert exe, "the package must be installed (pip install -e .)"
    # It leaves without Python's clean-up at exit: what it printed must still arrive whole.
    run = subprocess.run([exe, "validate", str(project)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("ok: ") and run.stdout.endswith("\n")
    (project / "theories/demo/v2.yaml").write_text("stage: [broken\n")
    run = subprocess.run([exe, "validate", str(project)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "theories/demo/v2.yaml:1:" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "living_theories.cli", "validate",
                          str(project)], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
