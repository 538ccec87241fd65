"""Synthetic corpora shaped like the seed corpus, for benchmarks.

    python benchmarks/generate.py --size M OUT

Theories with versions (initial -> refined -> final) of CMOCs whose ids stay stable, evidence
from participants, meetings and included studies, and a BibTeX file with accented names, all
cited from narratives. Deterministic: the same size always gives the same files.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

SIZES = {
    # theories, versions, CMOCs per version, evidence records, BibTeX entries
    "S": (4, 3, 5, 200, 100),
    "M": (25, 4, 8, 5_000, 1_250),
    "L": (100, 4, 8, 20_000, 5_000),
}
WORDS = [
    "leaders", "partners", "vision", "purpose", "trust", "accountability", "governance",
    "outcomes", "population", "health", "inequalities", "integration", "relationships",
    "collaboration", "shared", "culture", "learning", "innovation", "risk", "data",
    "intelligence", "decisions", "place", "system", "funding", "workforce", "morale",
    "visibility", "engagement", "community", "clinical", "care", "priorities", "strategy",
]
FAMILIES = ["Kozłowska", "Álvarez-Rosete", "Nuño-Solinís", "González-Ortiz", "Vallières",
            "Nguyễn", "Smith", "Aunger", "Sims", "Martin", "Bell", "Gordon", "O'Brien",
            "Müller", "Øvretveit"]
LATEX = {"Kozłowska": r"Koz{\l}owska", "Álvarez-Rosete": r"{\'A}lvarez-Rosete",
         "Nuño-Solinís": r"Nu{\~n}o-Solin{\'i}s", "González-Ortiz": r"Gonz{\'a}lez-Ortiz",
         "Vallières": r"Valli{\`e}res", "Nguyễn": r"Nguy{\~{\^e}}n", "Müller": r'M{\"u}ller',
         "Øvretveit": r"{\O}vretveit"}
DOMAINS = ["being", "leading-visioning", "relating-communicating", "delivering"]
STAGES = ["initial", "refined", "refined", "final"]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def generate(size: str, out: Path) -> Path:
    n_theories, n_versions, n_cmocs, n_evidence, n_refs = SIZES[size]
    rng = random.Random(f"living-theories-{size}")
    if out.exists():
        shutil.rmtree(out)
    (out / "theories").mkdir(parents=True)
    (out / "evidence").mkdir()
    (out / "docs").mkdir()
    keys = [f"ref{i:05d}" for i in range(n_refs)]

    def cite() -> str:
        return f"[@{rng.choice(keys)}, p. {rng.randint(1, 300)}]"

    bib = []
    for i, key in enumerate(keys):
        authors = " and ".join(f"{LATEX.get(f, f)}, {rng.choice('ABCDEFGH')}."
                               for f in rng.sample(FAMILIES, rng.randint(1, 4)))
        bib.append(f"@article{{{key},\n  author = {{{authors}}},\n"
                   f"  title = {{{words(rng, 8).capitalize()} in {{NHS}} systems}},\n"
                   f"  journal = {{Journal of Integrated Care}},\n  year = {{{2000 + i % 25}}},\n"
                   f"  volume = {{{rng.randint(1, 40)}}},\n  number = {{{rng.randint(1, 4)}}},\n"
                   f"  pages = {{{rng.randint(1, 200)}--{rng.randint(201, 400)}}},\n"
                   f"  doi = {{10.1000/lt.{i}}}\n}}\n")
    (out / "references.bib").write_text("\n".join(bib), encoding="utf-8")

    project = {
        "title": f"Synthetic corpus {size}",
        "framework": {"title": "Doing Things Differently",
                      "domains": [{"id": d, "title": d.replace("-", " & ").title()}
                                  for d in DOMAINS]},
        "overarching_contexts": [
            {"id": "post-covid-legacy", "title": "Post-COVID-19 legacy",
             "description": words(rng, 30) + " " + cite()},
            {"id": "regulatory-differences", "title": "Regulatory and financial differences",
             "description": words(rng, 30)}],
    }
    dump(out / "theories/project.yaml", project)

    cmoc_ids: list[str] = []
    for t in range(n_theories):
        tid = f"theory-{t:03d}"
        folder = out / "theories" / tid
        folder.mkdir()
        dump(folder / "theory.yaml", {"title": f"Theory {t}: {words(rng, 3)}",
                                      "domain": DOMAINS[t % 4]})
        ids = [f"{tid}-c{j}" for j in range(n_cmocs)]
        for v in range(1, n_versions + 1):
            cmocs = []
            for j, cid in enumerate(ids):
                cmoc = {"id": cid, "label": f"CMOC {j + 1}", "title": words(rng, 4).capitalize(),
                        "narrative": f"In the context of {words(rng, 6)} (C), {words(rng, 8)} "
                                     f"(M-Res) {words(rng, 6)} (M-Rea) {words(rng, 6)} (O) "
                                     + cite(),
                        "contexts": [words(rng, 6)], "mechanism_resources": [words(rng, 8)],
                        "mechanism_reasonings": [words(rng, 6)], "outcomes": [words(rng, 6)]}
                if j % 7 == 6:
                    cmoc.update(mechanism="absent", outcome="negative")
                if v > 1:
                    cmoc["lineage"] = {"relation": rng.choice(["kept", "refined", "not-known"]),
                                       "from": [cid]}
                cmocs.append(cmoc)
            if v > 1:  # a CMOC emerges in each new version
                new = f"{tid}-c{len(ids)}"
                ids.append(new)
                cmocs.append({"id": new, "title": words(rng, 3), "contexts": [words(rng, 5)],
                              "outcomes": [words(rng, 5)], "lineage": {"relation": "new"}})
            version = {"stage": STAGES[min(v - 1, 3)], "status": "released",
                       "date": f"{2015 + v}-0{1 + t % 9}-1{t % 10}",
                       "statement": words(rng, 40) + " " + cite(),
                       "evidence_base": f"{rng.randint(5, 30)} interviews", "cmocs": cmocs}
            if v > 1:
                version["changes"] = [{"summary": words(rng, 10), "reason": words(rng, 20),
                                       "cmocs": [ids[0]]}]
            dump(folder / f"v{v}.yaml", version)
        cmoc_ids += ids

    n_participants, n_meetings, n_studies = n_evidence // 20, 12, min(n_refs, n_evidence // 40)
    sources = ([{"id": f"p{i:05d}", "kind": "participant", "code": f"P2/{i}",
                 "role": rng.choice(["ICB member", "Place leader", "Clinician"])}
                for i in range(n_participants)]
               + [{"id": f"meeting-{i:02d}", "kind": "meeting", "code": f"Meeting {i}",
                   "title": f"ICB meeting {i}"} for i in range(n_meetings)]
               + [{"id": f"study-{keys[i]}", "kind": "study", "reference": keys[i]}
                  for i in range(n_studies)])
    dump(out / "evidence/sources.yaml", {"sources": sources})
    per_file = 2_000
    for start in range(0, n_evidence, per_file):
        records = []
        for i in range(start, min(start + per_file, n_evidence)):
            source = sources[i % len(sources)]
            record = {"id": f"ev-{i:06d}", "source": source["id"],
                      "quote": words(rng, 40).capitalize() + ".",
                      "cited_as": f"{source.get('code', source['id'])}/L{i % 900}",
                      "bears_on": [{"cmoc": rng.choice(cmoc_ids),
                                    "aspect": rng.choice(["whole", "C", "M-res", "C-O"]),
                                    "role": rng.choice(["supports", "supports", "refines",
                                                        "challenges"])}]}
            if i % 10 == 0:
                record["summary"] = words(rng, 15) + " " + cite()
            records.append(record)
        dump(out / f"evidence/records-{start // per_file:03d}.yaml", {"evidence": records})

    shutil.copy(Path(__file__).parent / "mkdocs.yml", out / "mkdocs.yml")
    (out / "docs/about.md").write_text(f"# About\n\nA synthetic corpus {cite()}.\n")
    from living_theories.project import load_project

    loaded, problems = load_project(out)
    for theory in loaded.graph.theories.values():
        for version in theory.versions:
            loaded.lock.record(version, theory, loaded.graph.corpus.project,
                               loaded.bibliography)
    loaded.lock.save()
    return out


def dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100),
                    encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    generate(args.size, args.out)
    print(f"wrote a size-{args.size} corpus to {args.out}")


if __name__ == "__main__":
    main()
