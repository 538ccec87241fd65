"""Benchmark: Living Theories against plain MkDocs + Material building the same pages.

    benchmarks/run [--size S|M|L] [--runs 3]

Generates a synthetic corpus (benchmarks/generate.py), then measures, min and median of
`--runs` runs each: `living-theories validate`; the full `mkdocs build`; the baseline, a plain
`mkdocs build` of `living-theories export-markdown` (same pages and theme, no plugin); peak
memory of a build; pages and site size; and, in `mkdocs serve`, the rebuild after one evidence
record changes, with the plugin's own share of the work (and with `--dirty`). The last line is
`build/baseline ratio: <x.xx>`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "LIVING_THEORIES_TIMINGS": "1"}


def timed(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall time, peak memory (KB) and output of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{out[-3000:]}")
    return elapsed, usage.ru_maxrss, out


def plugin_work(output: str) -> float:
    found = re.findall(r"plugin work ([\d.]+) s", output)
    return float(found[-1]) if found else float("nan")


def rendered_ahead(output: str) -> float:
    found = re.findall(r"rendered ahead on another core ([\d.]+) s", output)
    return float(found[-1]) if found else float("nan")


def serve_rebuild(corpus: Path, dirty: bool = False) -> tuple[float, float, float]:
    """(whole rebuild s, plugin work in the rebuild s, plugin work in the first build s);
    `dirty`: with `mkdocs serve --dirty`, which builds only the pages that changed."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = corpus / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a",
                                 f"127.0.0.1:{port}"] + (["--dirty"] if dirty else []),
                                cwd=corpus, env=ENV, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait(lambda: "Serving on" in log.read_text(), 1800, proc)
        first = plugin_work(log.read_text())
        record = sorted((corpus / "evidence").glob("records-*.yaml"))[0]
        text = record.read_text()
        record.write_text(text.replace("quote: ", "quote: Edited. ", 1))
        # MkDocs' watcher takes its first snapshot in its own thread, some time after
        # "Serving on": an edit made before it is never seen. Save again until it is.
        wait(lambda: "Detected file changes" in log.read_text(), 600, proc,
             again=lambda: os.utime(record))
        wait(lambda: log.read_text().count("Documentation built in") >= 2, 1800, proc)
        out_text = log.read_text()
        whole = float(re.findall(r"Documentation built in ([\d.]+) seconds", out_text)[-1])
        return whole, plugin_work(out_text), first
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def wait(condition, timeout: float, proc: subprocess.Popen, again=None) -> None:
    """Poll until condition() holds; call again() every 3 s meanwhile; stop if serve exits."""
    deadline = time.monotonic() + timeout
    next_again = time.monotonic() + 3
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            sys.exit(f"mkdocs serve exited with code {proc.returncode}")
        if again and time.monotonic() > next_again:
            again()
            next_again = time.monotonic() + 3
        time.sleep(0.2)
    sys.exit("timed out waiting for mkdocs serve")


def stats(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["S", "M", "L"], default="S")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix=f"lt-bench-{args.size}-"))
    corpus, export = work / "corpus", work / "export"
    start = time.perf_counter()
    generate(args.size, corpus)
    print(f"generated size {args.size} in {time.perf_counter() - start:.1f} s: {corpus}",
          flush=True)
    # The command as pip installed it for this Python, not a wrapper found first on PATH
    # (pyenv's shims cost 0.1-0.2 s a call of their own).
    script = Path(sys.executable).with_name("living-theories")
    lt = [str(script)] if script.exists() else [sys.executable, "-m", "living_theories.cli"]
    shutil.rmtree(corpus / ".cache", ignore_errors=True)  # the first validate parses all
    validate = [timed([*lt, "validate", "."], corpus)[0] for _ in range(args.runs)]
    builds, rss, works, aheads = [], [], [], []
    baseline, baseline_rss = [], []

    def build() -> None:
        t, mem, out = timed([sys.executable, "-m", "mkdocs", "build", "-d", str(work / "site")],
                            corpus)
        builds.append(t)
        rss.append(mem)
        works.append(plugin_work(out))
        aheads.append(rendered_ahead(out))

    def build_baseline() -> None:
        t, mem, _ = timed([sys.executable, "-m", "mkdocs", "build", "-f",
                           str(export / "mkdocs.yml"), "-d", str(work / "baseline-site")], work)
        baseline.append(t)
        baseline_rss.append(mem)

    # The first build formats the citations (export-markdown would cache them): it is shown on
    # its own; the runs compared are those of a project built before, its usual state.
    build()
    first_build = builds.pop()
    works.pop()
    aheads.pop()
    export_time = timed([*lt, "export-markdown", str(export), "--dir", "."], corpus)[0]
    for _ in range(args.runs):  # in turns: the machine's ups and downs fall on both alike
        build_baseline()
        build()
    site = work / "site"
    pages = sum(1 for _ in site.rglob("index.html"))
    size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
    rebuild, rebuild_work, first_work = serve_rebuild(corpus)
    dirty_rebuild = serve_rebuild(corpus, dirty=True)[0]
    ratio = statistics.median(builds) / statistics.median(baseline)
    rows = [
        ("validate (s), min / median", stats(validate)),
        ("  first validate, nothing cached yet (s)", f"{validate[0]:.2f}"),
        ("full build (s), min / median", stats(builds)),
        ("  first build, before citations are cached (s)", f"{first_build:.2f}"),
        ("  of which the plugin's own work (s)", stats(works)),
        ("  pages rendered meanwhile on the other core (s)", stats(aheads)),
        ("baseline build (s), min / median", stats(baseline)),
        ("  export-markdown, once (s)", f"{export_time:.2f}"),
        ("build / baseline (medians)", f"{ratio:.2f}"),
        ("peak RSS, build / baseline (MB)", f"{max(rss) / 1024:.0f} / "
                                             f"{max(baseline_rss) / 1024:.0f}"),
        ("pages", str(pages)),
        ("site (MB)", f"{size_mb:.1f}"),
        ("serve: rebuild after one evidence edit (s)", f"{rebuild:.2f}"),
        ("serve: plugin work, rebuild / first build (s)",
         f"{rebuild_work:.2f} / {first_work:.2f} ({100 * rebuild_work / first_work:.0f}%)"),
        ("serve --dirty: rebuild after one evidence edit (s)", f"{dirty_rebuild:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n| size {args.size} ({os.cpu_count()} cores) | |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"build/baseline ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
