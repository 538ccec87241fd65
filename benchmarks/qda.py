"""How long `living-theories import-qdpx` takes for a realistic evaluation: 50 interview
transcripts (about 4,000 words each, one case per participant) with 2,000 coded segments,
imported into a copy of the minimal test project with the map export-codebook writes.

    PYTHONPATH=plugins python3 benchmarks/qda.py

Prints the seconds of the whole command (read the .qdpx, plan, write, validate the project
again) and of the plan alone. Not a timed test: figures depend on the machine.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from living_theories.cli import main  # noqa: E402
from refi import Segment, Source, write_qdpx  # noqa: E402

WORDS = ["mentor", "support", "time", "ward", "staff", "trust", "meeting", "leaders",
         "partners", "confidence", "weeks", "protected", "shortage", "felt", "alone", "team",
         "nurse", "très", "été", "ça", "😀", "שלום"]
CODES = ["CMOC 1", "CMOC 1/M-res: Frequent face-to-face meetings", "CMOC 1/O: Collaborative "
         "decisions and resolved tensions", "Leadership visibility", "Own/Emotion"]


def transcripts(n: int = 50, segments: int = 2_000) -> list[Source]:
    rng = random.Random(20)
    out = []
    for i in range(n):
        lines = [f"{'Interviewer' if j % 2 == 0 else f'P{i:02d}'}: " +
                 " ".join(rng.choice(WORDS) for _ in range(20)) for j in range(200)]
        out.append(Source(f"Interview {i:02d}", "\n".join(lines), case=f"P{i:02d}"))
    for k in range(segments):
        src = out[k % n]
        start = rng.randrange(0, len(src.text) - 400)
        src.segments.append(Segment(start, start + rng.randrange(40, 400),
                                    rng.sample(CODES, rng.randrange(1, 3)), key=f"seg-{k}"))
    return out


def quiet(*args: str) -> int:
    with redirect_stdout(StringIO()), redirect_stderr(StringIO()):
        return main(list(args))


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "project"
        shutil.copytree(ROOT / "tests" / "projects" / "minimal", site)
        qdpx = write_qdpx(Path(tmp) / "evaluation.qdpx", "Evaluation", transcripts())
        assert quiet("export-codebook", "demo", str(Path(tmp) / "demo.qdc"), "--dir",
                     str(site)) == 0
        started = time.perf_counter()
        code = quiet("import-qdpx", str(qdpx), "--map", str(Path(tmp) / "demo-map.yaml"),
                     "--dir", str(site), "--dry-run")
        dry = time.perf_counter() - started
        started = time.perf_counter()
        code |= quiet("import-qdpx", str(qdpx), "--map", str(Path(tmp) / "demo-map.yaml"),
                      "--dir", str(site))
        full = time.perf_counter() - started
        written = (site / "evidence" / "qda-evaluation.yaml").read_text(encoding="utf-8")
        records = written.count("\n- id: qda-")
        assert code == 0 and records > 1_500, (code, records)
        print(f"50 transcripts, 2,000 coded segments ({records} mapped, "
              f"{qdpx.stat().st_size / 1e6:.1f} MB .qdpx): import {full:.2f} s "
              f"(a dry run, which writes and re-validates nothing: {dry:.2f} s)")


if __name__ == "__main__":
    run()
