"""JSON Schemas for the YAML files, generated from the models (the single source of truth).

An editor with a YAML language server (VS Code's YAML extension) uses them to complete field
names, show each field's description on hover, and flag mistakes while typing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import FILE_MODELS

TITLES = {
    "project": "Living Theories: theories/project.yaml",
    "theory": "Living Theories: theories/<theory>/theory.yaml",
    "version": "Living Theories: theories/<theory>/v<N>.yaml",
    "evidence": "Living Theories: evidence/*.yaml",
}


def schema_for(kind: str) -> dict[str, Any]:
    schema = FILE_MODELS[kind].model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = TITLES[kind]
    return schema


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in FILE_MODELS:
        path = out / f"{kind}.schema.json"
        path.write_text(json.dumps(schema_for(kind), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written
