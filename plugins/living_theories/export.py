"""`living-theories export-markdown`: the site the plugin would generate, as plain files.

Every generated page is written as Markdown with its citations already formatted, beside the
hand-written pages, the downloads and the site's assets, with an mkdocs.yml that needs no
Living Theories plugin. It is the baseline of the benchmarks (plain MkDocs + Material building
the same content), and a way to take a site to another engine.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

import yaml

from .citations.formatting import Citer
from .citations.markdown import render_static
from .citations.syntax import find_citations
from .pages import REFERENCES, Options, page_title, page_url, site_files
from .project import Project

ASSETS = Path(__file__).parent / "assets"
ASSET_DIR = "assets/living-theories"
NEEDED_EXTENSIONS = ["attr_list", "tables", "toc", "admonition", "md_in_html"]
PLUGIN = "living-theories"


class _Tagged:
    """A YAML value with a tag PyYAML's safe loader does not know (e.g. !!python/name:...)."""

    def __init__(self, tag: str, value: Any):
        self.tag, self.value = tag, value


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Loader.add_multi_constructor("", lambda loader, suffix, node: _Tagged(
    node.tag, loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else
    loader.construct_object(node, deep=True)))
_Dumper.add_representer(_Tagged, lambda dumper, data: dumper.represent_scalar(data.tag,
                                                                              data.value))


def nav_paths(nav: Any) -> set[str]:
    """Every page path named in an explicit `nav:`."""
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(nav_paths(v) for v in nav.values()))
    if isinstance(nav, list):
        return set().union(*(nav_paths(v) for v in nav)) if nav else set()
    return set()


def read_config(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}


def plugin_options(config: dict[str, Any]) -> dict[str, Any]:
    for entry in config.get("plugins") or []:
        if isinstance(entry, dict) and PLUGIN in entry:
            return entry[PLUGIN] or {}
    return {}


def baseline_config(config: dict[str, Any]) -> dict[str, Any]:
    """The same site settings without the plugin, with the site's own assets."""
    out = dict(config)
    out["plugins"] = [p for p in config.get("plugins") or []
                      if p != PLUGIN and not (isinstance(p, dict) and PLUGIN in p)]
    out["docs_dir"] = "docs"
    out.pop("watch", None)
    extensions = list(config.get("markdown_extensions") or [])
    names = {e if isinstance(e, str) else next(iter(e)) for e in extensions}
    out["markdown_extensions"] = extensions + [e for e in NEEDED_EXTENSIONS if e not in names]
    out["extra_css"] = list(config.get("extra_css") or []) + [f"{ASSET_DIR}/living-theories.css",
                                                            f"{ASSET_DIR}/wayfinding.css"]
    out["extra_javascript"] = list(config.get("extra_javascript") or []) + [
        f"{ASSET_DIR}/living-theories.js"]
    return out


def export_markdown(project: Project, out: Path, config_file: Path,
                    review: bool = False) -> int:
    """Write the site as plain files into `out`; returns the number of pages."""
    config = read_config(config_file)
    options_in = plugin_options(config)
    docs = config_file.parent / config.get("docs_dir", "docs")
    theme = config.get("theme")
    citer = Citer(project.bibliography, options_in.get("csl_style", "harvard-cite-them-right"),
                  config_file.parent, locale=options_in.get("csl_locale"),
                  language=theme.get("language") if isinstance(theme, dict) else None)
    hand_written = {p.relative_to(docs).as_posix(): p for p in sorted(docs.rglob("*"))
                    if p.is_file()} if docs.is_dir() else {}
    extra = {}
    for path, f in hand_written.items():
        if path.endswith(".md"):
            text = f.read_text(encoding="utf-8")
            keys = [c.key for cit in find_citations(text) for c in cit.cites
                    if c.key in project.bibliography]
            if keys:
                extra[path] = (page_title(text, path), keys)
    options = Options(include_drafts=review or bool(options_in.get("include_drafts")),
                      home="index.md" not in hand_written,
                      base_url=project.graph.corpus.project.url or config.get("site_url"),
                      site_name=config.get("site_name") or None)
    generated = site_files(project, options, citer, extra, config.get("site_name", ""))
    pages, downloads = generated.pages, generated.downloads
    if out.exists():
        shutil.rmtree(out)
    target = out / "docs"

    def write(path: str, text: str) -> None:
        dest = target / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")

    def bibliography_url(path: str) -> str:
        here = page_url(path)
        return posixpath.relpath(page_url(REFERENCES), here or ".") + "/" \
            if path != REFERENCES else ""

    for path, source in hand_written.items():
        if path.endswith(".md"):
            write(path, render_static(source.read_text(encoding="utf-8"), citer,
                                      bibliography_url(path)))
        else:
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / path)
    for page in pages:
        write(page.path, render_static(page.markdown(), citer, bibliography_url(page.path)))
    for download in downloads:
        write(download.path, download.content)
    for asset in sorted(p for p in ASSETS.rglob("*") if p.is_file()):
        (target / ASSET_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset, target / ASSET_DIR / asset.name)
    settings = baseline_config(config)
    # Pages the plugin keeps off the nav, as folder patterns (cheap to match on big sites).
    listed = nav_paths(config["nav"]) if config.get("nav") else None
    in_nav = {p.path for p in pages if p.in_nav and (listed is None or p.path in listed)}
    off_nav = sorted({"/" + posixpath.dirname(p.path) + "/**" for p in pages
                      if p.path not in in_nav} | {"/" + p.path for p in pages
                                                   if p.path not in in_nav and "/" not in p.path})
    settings["not_in_nav"] = "\n".join(off_nav + ["!/" + path for path in sorted(in_nav)])
    (out / "mkdocs.yml").write_text(yaml.dump(settings, Dumper=_Dumper, allow_unicode=True,
                                              sort_keys=False))
    return len(pages) + sum(1 for p in hand_written if p.endswith(".md"))
