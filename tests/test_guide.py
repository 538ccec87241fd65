"""The user guide, run as written: every command in docs/guide/, in order, in a fresh folder.

It runs in a fresh virtual environment (no system site-packages), so the install page's
`python3 -m pip install living_theories-<version>-py3-none-any.whl` really installs the
package, from a wheel built from this checkout and put in the folder as if downloaded there,
with its dependencies from the package index; the developer's editable install cannot
satisfy it.

Fenced `bash` blocks are run; a block preceded by `<!-- file: PATH -->` is written to PATH
first, so the guide's YAML examples are checked too. `living-theories serve` (or `mkdocs serve`)
is started, answered and stopped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import REPO, fresh_environment, wheel_of_this_checkout

GUIDE = REPO / "docs" / "guide"
ORDER = ["install", "first-theory", "evidence", "citations", "releasing", "consultation",
         "qda", "editor", "publishing", "study-designs", "appraisal"]
FENCE = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```",
                   re.S)

SERVE_CHECK = r'''
serve_check() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])')
  command="$1"; shift
  "$command" serve "$@" -a "127.0.0.1:$port" > serve.log 2>&1 &
  pid=$!
  if ! python3 - "$port" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5)
        sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit(1)
PY
  then kill "$pid"; cat serve.log; return 1; fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
'''


def steps(page: Path) -> list[tuple[str, str]]:
    """("file", path + text) or ("bash", commands) for each runnable block of a page."""
    out = []
    for match in FENCE.finditer(page.read_text(encoding="utf-8")):
        if match["file"]:
            out.append(("file", (match["file"], match["body"])))
        elif match["lang"] == "bash":
            out.append(("bash", match["body"]))
    return out


def script() -> str:
    lines = ["set -euo pipefail", SERVE_CHECK]
    for name in ORDER:
        page_steps = steps(GUIDE / f"{name}.md")
        assert any(kind == "bash" for kind, _ in page_steps), f"{name}.md runs no command"
        lines.append(f"echo '### {name}.md'")
        for kind, content in page_steps:
            if kind == "file":
                path, text = content
                lines += [f"mkdir -p \"$(dirname '{path}')\"", f"cat > '{path}' <<'GUIDE_EOF'",
                          text.rstrip("\n"), "GUIDE_EOF"]
            else:
                for command in content.splitlines():
                    command = command.split("  #")[0].rstrip()
                    serve = re.match(r"((?:\w+=\S+ )*)(mkdocs|living-theories) serve\b(.*)",
                                     command)
                    if serve:  # e.g. living-theories serve --drafts
                        command = f"{serve[1]}serve_check {serve[2]}{serve[3]}"
                    if command:
                        lines += [f"echo '$ {command}'", command]
    return "\n".join(lines) + "\n"


def test_every_page_of_the_guide_is_run():
    pages = {p.stem for p in GUIDE.glob("*.md")} - {"index"}
    assert pages == set(ORDER)


def guide_environment(tmp_path: Path, work: Path) -> dict[str, str]:
    """A new virtual environment first on PATH, and in `work` the wheel of this checkout
    that the install page has the reader install (as if downloaded there)."""
    wheel = wheel_of_this_checkout(tmp_path)
    shutil.copy(wheel, work / wheel.name)
    return fresh_environment(tmp_path / "venv")


def test_the_guide_works_as_written(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    env = guide_environment(tmp_path, work)
    run = subprocess.run(["bash", "-c", script()], cwd=work, capture_output=True,
                         text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    out = run.stdout
    assert "created a theory site in my-theories" in out
    assert "imported 2 CMOCs" in out
    assert "released leadership version 1" in out
    assert "wrote 2 feedback records" in out
    # the guide's own install step installed the package into the fresh environment
    assert re.search(r"Successfully installed .*living-theories-\d", out), out[:4000]
    installed = "lib/python*/site-packages/living_theories/cli/__init__.py"
    assert list((tmp_path / "venv").glob(installed))
    site = work / "my-theories"
    assert (site / "site/theories/leadership/v1/cite.bib").exists()
    assert (site / "review-site/consultations/round-1/index.html").exists()
    assert (site / "evidence/feedback-round-1.yaml").exists()
    assert "wrote evidence/qda-mentoring-interviews.yaml: 2 new" in out
    assert "released participation version 2" in out
    # the RAMESES reporting map the releasing page describes, with its honest gaps
    rameses = (site / "site/theories/leadership/rameses/index.html").read_text(encoding="utf-8")
    assert "RAMESES II reporting standards for realist evaluations" in rameses
    assert "Not recorded in this site" in rameses
    box = (site / "site/cmocs/part-box-1/index.html").read_text(encoding="utf-8")
    assert "Leader asks for suggestions" in box and "M\u2212" in box
    # the reasoning behind a refinement, and confidence, reach the reporting page
    report = (site / "site/theories/participation/refinement/index.html").read_text()
    assert "<strong>Inference:</strong> retroductive" in report
    assert "<strong>Confidence:</strong> moderate" in report
    version = (site / "site/theories/participation/v3/index.html").read_text()
    assert "Confidence: moderate</span> The audit and the survey agree" in version
    assert "released participation version 4" in out
    voice = (site / "site/cmocs/part-voice/index.html").read_text(encoding="utf-8")
    assert "Appraisal of the evidence" in voice and "Sources and kinds of data" in voice
    assert "../../substantive-theories/self-determination/" in voice
    assert (site / "site/substantive-theories/self-determination/index.html").exists()
