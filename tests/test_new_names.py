"""`new` with any study name (names that mean something in YAML, colons in folder names),
and `new` failing halfway or where folders cannot be made."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import yaml
from conftest import article, build_site


@pytest.mark.parametrize("name", ["Leadership: a realist review", "Smith study #2",
                                  '"ICS" study \\ 2024', "yes", "- a list?"])
def test_new_keeps_any_name_exactly(tmp_path, cli, name):
    root = tmp_path / "site-src"
    code, _, err = cli("new", str(root), "--name", name)
    assert code == 0, err
    assert yaml.safe_load((root / "mkdocs.yml").read_text())["site_name"] == name
    assert yaml.safe_load((root / "theories/project.yaml").read_text())["title"] == name
    assert cli("validate", str(root))[0] == 0


def test_new_site_with_a_tricky_name_builds_and_shows_it(tmp_path, cli):
    name = 'Leadership: the "ICS" review #2 \\ draft'
    root = tmp_path / "site-src"
    assert cli("new", str(root), "--name", name)[0] == 0
    run = build_site(root, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    page = html.unescape((tmp_path / "out/index.html").read_text())
    assert f"<title>Home - {name}</title>" in page
    assert name in html.unescape(article(tmp_path / "out/index.html"))


def test_new_in_a_folder_whose_name_has_a_colon(tmp_path, cli):
    root = tmp_path / "Leadership: review"
    code, _, err = cli("new", str(root))
    assert code == 0, err
    assert yaml.safe_load((root / "mkdocs.yml").read_text())["site_name"] == "Leadership: review"
    assert cli("validate", str(root))[0] == 0


def test_new_site_ignores_review_builds(tmp_path, cli):
    assert cli("new", str(tmp_path / "s"))[0] == 0
    ignored = (tmp_path / "s/.gitignore").read_text().split()
    guide = (Path(__file__).parent.parent / "docs/guide/consultation.md").read_text()
    assert "-d review-site" in guide and "review-site/" in ignored and "site/" in ignored


def test_new_failing_halfway_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    import living_theories.scaffold as scaffold

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scaffold, "write_table", disk_full)
    code, _, err = cli("new", str(tmp_path / "site"))
    assert code == 1 and "the disk is full" in err and "internal error" not in err
    assert not (tmp_path / "site").exists()
    (tmp_path / "empty").mkdir()
    assert cli("new", str(tmp_path / "empty"))[0] == 1
    assert list((tmp_path / "empty").iterdir()) == []


def test_new_in_a_place_where_folders_cannot_be_made(cli):
    if not Path("/proc/self").exists():
        pytest.fail("this test needs Linux's /proc")
    code, _, err = cli("new", "/proc/living-theories-test")
    assert code == 1 and "internal error" not in err
    assert "cannot write to '/proc/living-theories-test'" in err
