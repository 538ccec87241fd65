"""Benchmark: Living Theories against plain MkDocs + Material building the same pages.

    benchmarks/run [--size S|M|L] [--runs 3]

Generates a synthetic corpus (benchmarks/generate.py), then measures, min and median of
`--runs` runs each: `living-theories validate`; the full `mkdocs build`, warm (caches filled),
warm but with no page's HTML kept (as after an upgrade of MkDocs or Living Theories), cold
(nothing cached) and on one core (`LIVING_THEORIES_WORKERS=0`), in turns with the
baseline, a plain `mkdocs build` of `living-theories export-markdown` (same pages and theme, no
plugin); peak memory of a build; pages and site size; and in `living-theories serve` the time
from saving an edit to the browsers' reload signal, for an evidence edit and for a source
added and removed (and once in plain `mkdocs serve`). The last line is
`build/baseline ratio: <x.xx>` (warm, medians).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "LIVING_THEORIES_TIMINGS": "1"}


def timed(args: list[str], cwd: Path, env: dict[str, str] = ENV) -> tuple[float, int, str]:
    """Wall time, peak memory (KB) and output of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
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


class Serving:
    """A preview server (`living-theories serve` or plain `mkdocs serve`) of the corpus, and
    the time from saving a file to the browsers' reload signal: MkDocs' live-reload endpoint
    `/livereload/<epoch>/<request>`, which a page's script long-polls and which answers with a
    newer epoch once the rebuild is done (mkdocs/livereload/__init__.py)."""

    def __init__(self, command: list[str], corpus: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.site = f"http://127.0.0.1:{s.getsockname()[1]}/"
        self.corpus = corpus
        self.pauses = random.Random(1)  # (see `save_to_reload`)
        self.log = corpus / "serve.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([*command, "-a", self.site[7:-1]], cwd=corpus, env=ENV,
                                         stdout=out, stderr=subprocess.STDOUT)
        wait(lambda: "Serving on" in self.log.read_text(), 1800, self.proc)
        found = re.search(r"livereload\((\d+), \d+\)", fetch(self.site))
        if not found:
            sys.exit("no live-reload script on the served page")
        self.epoch = int(found[1])
        self.first_work = plugin_work(self.log.read_text())
        # MkDocs' watcher takes its first snapshot in its own thread, some time after "Serving
        # on": a save before it is never seen. Touch a file until a rebuild shows it looks.
        self.reloaded(again=corpus / "mkdocs.yml")

    def reloaded(self, again: Path | None = None) -> None:
        """Wait for the reload signal; `again`: touch that file until the watcher sees it
        (and only until then: a touch during the rebuild it started queues another, which
        would then answer the next edit's wait, as one evidence edit at L did in 0.95 s)."""
        deadline = time.monotonic() + 1800
        start = len(self.log.read_text())
        while time.monotonic() < deadline:
            if again is not None and "Detected file changes" not in self.log.read_text()[start:]:
                os.utime(again)
            if self.proc.poll() is not None:
                sys.exit(f"the server exited with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.site}livereload/{self.epoch}/1",
                                            timeout=3 if again else 120) as response:
                    epoch = int(response.read())
            except OSError:
                continue
            if epoch > self.epoch:
                self.epoch = epoch
                return
        sys.exit("timed out waiting for the reload signal")

    def save_to_reload(self, path: Path, text: str) -> float:
        """Seconds from saving `text` to `path` to the reload signal. A person saves at any
        moment, not the instant the last reload came: a pause drawn at random (seeded: the
        same in every run) first, so that the save falls anywhere between two of the file
        watcher's looks. (Saved at once after a reload, each save fell at the same point of
        the watcher's cycle: the figure was luck, 0.15 s over the rebuild in one setting and
        0.3 s in another.)"""
        time.sleep(self.pauses.uniform(0.0, 1.0))
        tmp = path.with_name(f".{path.name}.saving")
        tmp.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        os.replace(tmp, path)  # (saved at once, as editors do: never read half-written)
        self.reloaded()
        return time.perf_counter() - start

    def evidence_edit(self, n: int) -> float:
        record = sorted((self.corpus / "evidence").glob("records-*.yaml"))[0]
        text = re.sub(r"quote: (Edited \d+\. )?", f"quote: Edited {n}. ", record.read_text(),
                      count=1)
        return self.save_to_reload(record, text)

    def structural_edit(self, add: bool) -> float:
        """A source added (a new page, in the sources' index too), or taken away again."""
        sources = self.corpus / "evidence" / "sources.yaml"
        extra = "- id: p99999\n  kind: participant\n  code: P9/9\n  role: Clinician\n"
        text = sources.read_text()
        text = text.replace("sources:\n", "sources:\n" + extra, 1) if add \
            else text.replace(extra, "", 1)
        return self.save_to_reload(sources, text)

    def work(self) -> float:
        return plugin_work(self.log.read_text())

    def built(self) -> float:
        """The last rebuild's own time, as MkDocs logs it ("Documentation built in"): the
        save to reload less the file watcher's wait (it looks every half second, then waits
        for a tenth of a second without changes)."""
        return float(re.findall(r"Documentation built in ([\d.]+) seconds",
                                self.log.read_text())[-1])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # as Ctrl+C: it removes its temporary folder
        self.proc.wait(timeout=120)


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode()
    except OSError:
        return ""


def wait(condition, timeout: float, proc: subprocess.Popen) -> None:
    """Poll until condition() holds; stop if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            sys.exit(f"the server exited with code {proc.returncode}")
        time.sleep(0.2)
    sys.exit("timed out waiting for the server")


def stats(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def ratios(values: list[float], baseline: list[float]) -> str:
    """build / baseline, by medians and by minimums."""
    return (f"{statistics.median(values) / statistics.median(baseline):.2f} / "
            f"{min(values) / min(baseline):.2f}")


def forget(corpus: Path) -> None:
    """Nothing cached, as on a fresh clone or CI machine: the plugin's parse and citation
    caches and Jinja's compiled templates."""
    import jinja2

    shutil.rmtree(corpus / ".cache" / "living-theories", ignore_errors=True)
    cache = jinja2.FileSystemBytecodeCache()
    if cache.directory and Path(cache.directory).is_dir():
        for compiled in Path(cache.directory).glob("__jinja2_*.cache"):
            compiled.unlink(missing_ok=True)


def serve_only(corpus: Path, work: Path, lt: list[str], args: argparse.Namespace) -> None:
    """Save to reload in living-theories serve, against warm full builds (the first fills
    the caches)."""
    load_start = os.getloadavg()[0]
    build = [sys.executable, "-m", "mkdocs", "build", "-d", str(work / "site")]
    timed(build, corpus)
    warm = [timed(build, corpus)[0] for _ in range(args.runs)]
    print(f"warm full builds: {stats(warm)}", flush=True)
    served = Serving([*lt, "serve"], corpus)
    evidence = [served.evidence_edit(n) for n in range(max(5, args.runs))]
    print(f"evidence edits: {stats(evidence)}", flush=True)
    structural, rebuilt = [], []
    for add in (True, False):
        structural.append(served.structural_edit(add=add))
        rebuilt.append(served.built())
    served.stop()
    print(f"| size {args.size} ({os.cpu_count()} cores), serve only | |\n| --- | --- |\n"
          f"| full build, warm (s), min / median | {stats(warm)} |\n"
          f"| living-theories serve: save to reload, evidence edit (s) | {stats(evidence)} |\n"
          f"| living-theories serve: save to reload, source added/removed (s) | "
          f"{stats(structural)} |\n"
          f"|   structural reload / warm full build (medians) | "
          f"{statistics.median(structural) / statistics.median(warm):.2f} |\n"
          f"|   structural rebuild itself (MkDocs' 'built in', s) | {stats(rebuilt)} |\n"
          f"| load average (1 min), start / end | {load_start:.1f} / {os.getloadavg()[0]:.1f} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def compiled_code() -> None:
    """Living Theories' modules compiled to bytecode, as pip compiles a package it installs
    (and compiled those of MkDocs and Material, which the baseline uses): an editable install,
    or PYTHONDONTWRITEBYTECODE=1, would otherwise compile them again in every command
    (0.07 s each time)."""
    import compileall

    import living_theories

    compileall.compile_dir(Path(living_theories.__file__).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["S", "M", "L"], default="S")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--no-plain-serve", action="store_true",
                        help="skip plain `mkdocs serve` (two full builds)")
    parser.add_argument("--serve-only", action="store_true",
                        help="only living-theories serve, against --runs warm full builds")
    args = parser.parse_args()
    # The servers are stopped as Ctrl+C stops them. Started in the background by a shell,
    # this process ignores Ctrl+C, and so would they (an ignored signal is inherited): with a
    # handler of its own here, they start with the default again.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    load_start = os.getloadavg()[0]
    work = args.keep or Path(tempfile.mkdtemp(prefix=f"lt-bench-{args.size}-"))
    corpus, export = work / "corpus", work / "export"
    start = time.perf_counter()
    generate(args.size, corpus)
    print(f"generated size {args.size} in {time.perf_counter() - start:.1f} s: {corpus}",
          flush=True)
    # The command as pip installed it for this Python, not a wrapper found first on PATH
    # (pyenv's shims cost 0.1-0.2 s a call of their own).
    script = Path(sys.executable).with_name("living-theories")
    compiled_code()
    lt = [str(script)] if script.exists() else [sys.executable, "-m", "living_theories.cli"]
    if args.serve_only:
        return serve_only(corpus, work, lt, args)
    shutil.rmtree(corpus / ".cache", ignore_errors=True)  # the first validate parses all
    validate = [timed([*lt, "validate", "."], corpus)[0] for _ in range(args.runs)]
    builds: dict[str, list[float]] = {"warm": [], "unkept": [], "cold": [], "one core": []}
    rss, works, aheads = [], [], []
    baseline, baseline_rss = [], []
    one_core = {**ENV, "LIVING_THEORIES_WORKERS": "0"}

    def build(kind: str = "warm") -> None:
        if kind == "cold":
            forget(corpus)
        elif kind == "unkept":  # the parsed files and citations kept, but no page's HTML
            shutil.rmtree(corpus / ".cache" / "living-theories" / "html", ignore_errors=True)
        t, mem, out = timed([sys.executable, "-m", "mkdocs", "build", "-d", str(work / "site")],
                            corpus, env=one_core if kind == "one core" else ENV)
        builds[kind].append(t)
        if kind == "warm":
            rss.append(mem)
            works.append(plugin_work(out))
            aheads.append(rendered_ahead(out))

    def build_baseline() -> None:
        t, mem, _ = timed([sys.executable, "-m", "mkdocs", "build", "-f",
                           str(export / "mkdocs.yml"), "-d", str(work / "baseline-site")], work)
        baseline.append(t)
        baseline_rss.append(mem)

    # The first build formats the citations (export-markdown would cache them): it is shown on
    # its own; the warm runs are those of a project built before, its usual state.
    build()
    first_build = builds["warm"].pop()
    works.pop()
    aheads.pop()
    export_time = timed([*lt, "export-markdown", str(export), "--dir", "."], corpus)[0]
    kinds = [build_baseline, build, lambda: build("unkept"), lambda: build("cold"),
             lambda: build("one core")]
    for n in range(args.runs):  # in turns (each round starting one later), so that the
        for run in kinds[n % 5:] + kinds[:n % 5]:  # machine's ups and downs fall on all alike
            run()
    site = work / "site"
    pages = sum(1 for _ in site.rglob("index.html"))
    size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6

    served = Serving([*lt, "serve"], corpus)
    evidence = [served.evidence_edit(n) for n in range(max(5, args.runs))]
    rebuild_work, first_work = served.work(), served.first_work
    structural, rebuilt = [], []
    for add in (True, False):
        structural.append(served.structural_edit(add=add))
        rebuilt.append(served.built())
    served.stop()
    plain = None
    if not args.no_plain_serve:
        served = Serving([sys.executable, "-m", "mkdocs", "serve"], corpus)
        plain = served.evidence_edit(100)
        served.stop()
    warm = builds["warm"]
    ratio = statistics.median(warm) / statistics.median(baseline)
    rows = [
        ("validate (s), min / median", stats(validate)),
        ("  first validate, nothing cached yet (s)", f"{validate[0]:.2f}"),
        ("full build, warm (s), min / median", stats(warm)),
        ("  first build, before citations are cached (s)", f"{first_build:.2f}"),
        ("  of which the plugin's own work (s)", stats(works)),
        ("  pages rendered meanwhile on the other core (s)", stats(aheads)),
        ("full build, no page's HTML kept (s)", stats(builds["unkept"])),
        ("full build, cold: nothing cached (s)", stats(builds["cold"])),
        ("full build, one core (s)", stats(builds["one core"])),
        ("baseline build (s), min / median", stats(baseline)),
        ("  export-markdown, once (s)", f"{export_time:.2f}"),
        ("build / baseline, warm (medians / minimums)", ratios(warm, baseline)),
        ("build / baseline, no HTML kept (medians / minimums)",
         ratios(builds["unkept"], baseline)),
        ("build / baseline, cold (medians / minimums)", ratios(builds["cold"], baseline)),
        ("build / baseline, one core (medians / minimums)",
         ratios(builds["one core"], baseline)),
        ("peak RSS, build / baseline (MB)", f"{max(rss) / 1024:.0f} / "
                                             f"{max(baseline_rss) / 1024:.0f}"),
        ("pages", str(pages)),
        ("site (MB)", f"{size_mb:.1f}"),
        ("living-theories serve: save to reload, evidence edit (s)", stats(evidence)),
        ("living-theories serve: save to reload, source added/removed (s)", stats(structural)),
        ("  structural reload / warm full build (medians)",
         f"{statistics.median(structural) / statistics.median(warm):.2f}"),
        ("  structural rebuild itself, without the file watcher (s)", stats(rebuilt)),
        ("living-theories serve: plugin work, rebuild / first build (s)",
         f"{rebuild_work:.2f} / {first_work:.2f} ({100 * rebuild_work / first_work:.0f}%)"),
        ("mkdocs serve: save to reload, evidence edit, once (s)",
         f"{plain:.2f}" if plain is not None else "not run"),
        ("load average (1 min), start / end", f"{load_start:.1f} / {os.getloadavg()[0]:.1f}"),
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
