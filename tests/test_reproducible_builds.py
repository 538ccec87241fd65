"""The same files give the same site, byte for byte, whatever Python's hash seed: a site is
compared between builds and versions, and a diff must show only what changed."""

from __future__ import annotations

from pathlib import Path

from conftest import build_site, files_of


def alike_studies(project: Path, n: int) -> None:
    """n studies whose short names are the same ("Gordon et al. (2012)"), each supporting a
    CMOC: rows of the evidence map that sort alike."""
    with (project / "references.bib").open("a", encoding="utf-8") as bib:
        for i in range(n):
            bib.write(f"\n@article{{gordon2012{'abcdefgh'[i]},\n"
                      f"  author = {{Gordon, A{i}. and Other{i}, B. and Third{i}, C.}},\n"
                      f"  title = {{Study number {i}}},\n  journal = {{Journal}},\n"
                      "  year = {2012}\n}\n")
    with (project / "evidence" / "sources.yaml").open("a", encoding="utf-8") as sources:
        for i in range(n):
            sources.write(f"  - id: study-gordon-{i}\n    kind: study\n"
                          f"    reference: gordon2012{'abcdefgh'[i]}\n")
    (project / "evidence" / "studies.yaml").write_text("evidence:\n" + "".join(
        f"  - id: gordon-{i}\n    source: study-gordon-{i}\n    summary: Finding {i}.\n"
        "    bears_on:\n      - cmoc: demo-trust\n        role: supports\n"
        for i in range(n)), encoding="utf-8")


def test_two_builds_are_the_same_whatever_the_hash_seed(project, tmp_path):
    alike_studies(project, 6)
    sites = []
    for seed in ("1", "2", "3"):
        run = build_site(project, tmp_path / seed, env={"PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        sites.append(files_of(tmp_path / seed))
    assert "Gordon et al. (2012)" in sites[0]["evidence-map/index.html"].decode()
    for other in sites[1:]:
        assert other.keys() == sites[0].keys()
        assert [path for path in other if other[path] != sites[0][path]] == []
