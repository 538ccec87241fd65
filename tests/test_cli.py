"""The command line: help texts, schemas, and the installed console script."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator  # shipped with the test environment
from living_theories.cli import build_parser, main


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


def commands() -> dict[str, tuple[str | None, argparse.ArgumentParser]]:
    """Each command: (its line in the overview, its own parser)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    lines = {a.dest: a.help for a in sub._choices_actions}
    return {name: (lines.get(name), parser) for name, parser in sub.choices.items()}


def flat(text: str) -> str:
    return " ".join(text.split())


def helped(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--help"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0 and err == ""
    return flat(out)


def test_help_texts(capsys):
    # The overview names every command with its one-line help; each command's own --help
    # says what it does and what each of its arguments is for.
    overview = helped(capsys)
    found = commands()
    assert {"validate", "schema", "release", "new", "diff"} <= set(found)
    for name, (line, parser) in found.items():
        assert line and f"{name} {flat(line)}" in overview, name
        out = helped(capsys, name)
        assert out.startswith(f"usage: living-theories {name}"), out
        assert parser.description and len(parser.description) > 40, name
        assert flat(parser.description) in out, name
        for action in parser._actions:
            if action.dest != "help":
                assert action.help, f"{name}: {action.dest} has no help"
                assert flat(action.help % vars(action) if "%" in action.help
                            else action.help) in out, (name, action.dest)


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
