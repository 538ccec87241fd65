"""Every citation group the bundled site renders, for the oracle (make-fixtures.mjs).

Builds the bundled site once, recording what the plugin asks its `Citer`: the keys it
prepares (in the site's order: numbers and disambiguation depend on them) and every group it
formats. Writes tests/oracle/site-citations.json. Run from the repository with the plugin on
PYTHONPATH:  PYTHONPATH=plugins python3 tests/oracle/site_citations.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from living_theories.citations.formatting import Citer, parse_locator
from mkdocs.commands.build import build
from mkdocs.config import load_config

HERE = Path(__file__).parent
REPO = HERE.parent.parent


def main() -> None:
    prepared: list[str] = []
    groups: dict[str, dict] = {}
    prepare, format_ = Citer.prepare, Citer.format

    def record_prepare(self: Citer, keys: list[str]) -> None:
        for key in keys:
            if key in self.bibliography and key not in prepared:
                prepared.append(key)
        prepare(self, keys)

    def record_format(self: Citer, wanted: list) -> object:
        for cites, in_text in wanted:
            if not all(c.key in self.bibliography for c in cites):
                continue
            items = []
            for c in cites:
                item: dict = {"key": c.key}
                located = parse_locator(c.locator) if c.locator else None
                if located:
                    item["label"], item["locator"] = located
                if c.suppress_author:
                    item["suppress"] = True
                items.append(item)
            group = {"cites": items, "mode": "narrative" if in_text else "parenthetical"}
            groups.setdefault(json.dumps(group, sort_keys=True), group)
        return format_(self, wanted)

    Citer.prepare, Citer.format = record_prepare, record_format
    os.environ["LIVING_THEORIES_WORKERS"] = "0"  # every page formatted in this process
    with tempfile.TemporaryDirectory() as site:
        config = load_config(str(REPO / "mkdocs.yml"), site_dir=site)
        config.plugins.on_startup(command="build", dirty=False)
        build(config)
    # A single key's plain citation is the bibliography's; only groups a page shows are kept.
    out = {"keys": prepared, "groups": sorted(groups.values(), key=json.dumps)}
    (HERE / "site-citations.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"{len(prepared)} keys, {len(groups)} groups")


if __name__ == "__main__":
    main()
