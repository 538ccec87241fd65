"""A wheel of the running Living Theories, for a new site to install from.

Living Theories is not on PyPI yet, so `pip install living-theories` fails on a fresh machine
and in a new site's GitHub workflow. `living-theories new` therefore puts this wheel in the
site's `wheels/` folder and points `requirements.txt` at it: the site then installs on any
machine with Python and pip (no index, no git), and always with the Living Theories that made
it. The wheel is packed from the installed package itself (its files and its metadata, e.g.
the dependencies and the MkDocs plugin entry point), byte for byte the same on every run.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from importlib import metadata
from pathlib import Path

from . import __version__

DIST = "living-theories"
PACKAGE = Path(__file__).parent
_EPOCH = (1980, 1, 1, 0, 0, 0)  # a fixed time stamp: the same wheel bytes on every run


def wheel_name(version: str = __version__) -> str:
    """The wheel's file name (PEP 427: the name with '_' for '-')."""
    return f"{DIST.replace('-', '_')}-{version}-py3-none-any.whl"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _metadata_files(dist: metadata.Distribution) -> dict[str, bytes]:
    """The distribution's own metadata files (METADATA, entry_points.txt, licences...)."""
    out: dict[str, bytes] = {}
    for name in ("METADATA", "entry_points.txt", "top_level.txt"):
        text = dist.read_text(name)
        if text is not None:
            out[name] = text.encode("utf-8")
    # An editable install leaves an .egg-info beside the package, which Python may find first
    # (when the source folder is on the path): its PKG-INFO is the same core metadata.
    if "METADATA" not in out and (text := dist.read_text("PKG-INFO")) is not None:
        out["METADATA"] = text.encode("utf-8")
    if "METADATA" not in out:
        raise LookupError("Living Theories' package metadata cannot be read")
    for file in dist.files or []:
        parts = file.parts
        if len(parts) >= 3 and parts[0].endswith(".dist-info") and parts[1] == "licenses":
            out["/".join(parts[1:])] = Path(file.locate()).read_bytes()
    return out


def write_wheel(folder: Path) -> Path:
    """Write the wheel into `folder` (created if needed); returns its path.

    Raises LookupError if Living Theories runs without being installed (no metadata to
    say its dependencies)."""
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError as exc:
        raise LookupError("Living Theories is not installed (no package metadata)") from exc
    info = f"{DIST.replace('-', '_')}-{__version__}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        entries.append((f"{PACKAGE.name}/{rel.as_posix()}", path.read_bytes()))
    meta = _metadata_files(dist)
    # The running code's version, whatever an older editable install's metadata says.
    meta["METADATA"] = re.sub(rb"(?m)^Version: .*$", f"Version: {__version__}".encode(),
                              meta["METADATA"], count=1)
    meta["WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: living-theories " +
                     __version__.encode() + b"\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    entries += [(f"{info}/{name}", data) for name, data in sorted(meta.items())]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries)
    entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / wheel_name()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            item = zipfile.ZipInfo(name, _EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(item, data)
    return target
