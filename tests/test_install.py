"""An install that works today, on a fresh machine: the wheel of this checkout, installed in a
new virtual environment with its dependencies from the package index, makes a new site with
`living-theories new` and builds it `--strict`, run from a folder outside the checkout; and
the new site's own requirements.txt (the wheel that `new` put in wheels/) installs in its
place and builds the site again. Templates, assets (Mermaid) and page
templates must all come with the wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import REPO, fresh_environment, wheel_of_this_checkout
from living_theories import __version__
from living_theories.distribution import wheel_name

pytestmark = pytest.mark.install


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def built_pages(site: Path) -> None:
    for page in ["index.html", "theories/example/v2/index.html",
                 "theories/example/history/index.html", "cmocs/example-support/index.html",
                 "evidence-map/index.html", "assets/living-theories/mermaid-11.17.2.min.js",
                 "assets/living-theories/living-theories.js",
                 "assets/living-theories/living-theories.css"]:
        assert (site / page).is_file(), page
    version = (site / "theories/example/v2/index.html").read_text()
    # a diagram, drawn by the site's script with the Mermaid that came with the wheel
    assert "Cite this version" in version and "flowchart" in version
    assert "assets/living-theories/living-theories.js" in version


def test_a_fresh_machine_installs_the_wheel_makes_a_site_and_builds_it(tmp_path):
    wheel = wheel_of_this_checkout(tmp_path)
    assert wheel.name == wheel_name()
    away = tmp_path / "elsewhere"  # not inside the checkout: nothing may be found there
    away.mkdir()
    assert REPO not in away.parents
    env = fresh_environment(tmp_path / "venv")
    bin_dir = tmp_path / "venv" / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         str(wheel)], away, env)
    where = run([str(bin_dir / "python"), "-c",
                 "import living_theories; print(living_theories.__file__)"], away, env)
    assert where.startswith(str(tmp_path / "venv")), where
    assert __version__ in run([str(bin_dir / "living-theories"), "--version"], away, env)

    run([str(bin_dir / "living-theories"), "new", "nursing", "--author",
         "Smith, Jo, 0000-0002-1825-0097", "--url", "https://jo.example.org/nursing/"], away, env)
    site = away / "nursing"
    run([str(bin_dir / "living-theories"), "release", "example"], site, env)
    run([str(bin_dir / "mkdocs"), "build", "--strict", "-d", str(away / "out")], site, env)
    built_pages(away / "out")

    # The new site's own requirements.txt installs the wheel that `new` put in wheels/ (its
    # dependencies are already there: a second environment would only download them again).
    assert f"./wheels/{wheel_name()}" in (site / "requirements.txt").read_text()
    run([str(bin_dir / "python"), "-m", "pip", "uninstall", "-q", "-y", "living-theories"],
        site, env)
    installed = run([str(bin_dir / "python"), "-m", "pip", "install",
                     "--disable-pip-version-check", "-r", "requirements.txt"], site, env)
    assert f"Processing ./wheels/{wheel_name()}" in installed, installed
    run([str(bin_dir / "python"), "-m", "pip", "check"], site, env)
    run([str(bin_dir / "living-theories"), "validate"], site, env)
    run([str(bin_dir / "mkdocs"), "build", "--strict", "-d", str(away / "again")], site, env)
    built_pages(away / "again")


def test_the_wheel_is_packed_from_an_editable_installs_egg_info(tmp_path, monkeypatch):
    """`pip install -e .` leaves plugins/living_theories.egg-info, which Python finds first when
    the source folder is on the path: its PKG-INFO stands for METADATA (it was a KeyError)."""
    import zipfile
    from importlib import metadata

    from living_theories import distribution

    egg = tmp_path / "living_theories.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.4\nName: living-theories\nVersion: 0.0.1"
                                  "\nRequires-Dist: mkdocs<2,>=1.6\n")
    (egg / "entry_points.txt").write_text("[mkdocs.plugins]\nliving-theories = x:y\n")
    monkeypatch.setattr(distribution.metadata, "distribution",
                        lambda name: metadata.PathDistribution(egg))
    wheel = distribution.write_wheel(tmp_path / "wheels")
    with zipfile.ZipFile(wheel) as packed:
        info = f"living_theories-{__version__}.dist-info"
        text = packed.read(f"{info}/METADATA").decode()
        assert "Requires-Dist: mkdocs<2,>=1.6" in text and f"Version: {__version__}" in text
        assert "living-theories = x:y" in packed.read(f"{info}/entry_points.txt").decode()
