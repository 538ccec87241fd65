"""The Jinja2 environment of the page templates (`templates/pages/`) and the renderer that
fills them: every {{ value }} is escaped as literal text unless marked safe."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from markupsafe import Markup

from .. import consultations
from .. import models as m
from ..citations.markdown import anchor as ref_anchor
from ..diagrams import Diagram, legend_html
from ..history import changed
from ..wayfinding import (
    has_elements,
    linked,
    stated,
)
from .appraisal import judged, rollup
from .markup import cite, md, md_inline, quote_lines, segments, text
from .middle_range import has_pages, theories_relating, uses
from .paths import (
    CONSULTATIONS,
    CONTEXTS,
    EVIDENCE_MAP,
    REFERENCES,
    SOURCES,
    THEORIES,
    cmoc_path,
    compare_path,
    evidence_path,
    history_path,
    pack_path,
    rameses_path,
    refinement_path,
    relative,
    round_path,
    source_path,
    substantive_path,
    template_path,
    theory_path,
    version_path,
)
from .refinement import confidence_rank, confidence_rows, moved, records_reasoning
from .site import Site
from .triangulation import triangulation
from .words import (
    ASPECT_NAMES,
    EVIDENCE_KINDS,
    MECHANISM_PARTS,
    MODES,
    RELATIONS,
    ROLE_SYMBOL,
    SOURCE_KINDS,
    THEORY_RELATIONS,
    evidence_kind,
    source_details,
)

TEMPLATES = Path(__file__).parent.parent / "templates" / "pages"


# --- Rendering ---------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    # Compiled templates are kept between runs, in Jinja2's own per-user folder (it checks
    # them against the source): it saves half a second on every build.
    try:
        bytecode_cache: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        bytecode_cache = None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache,
        extensions=["jinja2.ext.do"],
        # Every {{ value }} goes through `text` (finalize): HTML and Markdown escaped. Values
        # already safe (filters `md`, `safe`, macro output) are Markup and pass unchanged.
        autoescape=True,
        finalize=text,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # package files: no need to look at them again for every page
    )
    env.filters.update(md=md, md_inline=md_inline, text=text, quote_lines=quote_lines,
                       cite=cite, segments=segments,
                       linked=linked, has_elements=has_elements, source_details=source_details,
                       evidence_count=lambda cid, site: len(site.evidence_on(cid)),
                       appraisal_of=lambda ev, site: judged(ev, site.sources))
    env.tests.update(stated=stated)
    env.globals.update(ROLE_SYMBOL=ROLE_SYMBOL, ASPECT_NAMES=ASPECT_NAMES, ELEMENTS=m.ELEMENTS,
                       MODES=MODES,
                       EVIDENCE_KINDS=EVIDENCE_KINDS, evidence_kind=evidence_kind,
                       SOURCE_KINDS=SOURCE_KINDS, RELATIONS=RELATIONS,
                       # the reasoning behind changes, and confidence (pages/refinement.py)
                       inference_meaning=m.inference_meaning, confidence_rank=confidence_rank,
                       confidence_moved=moved, confidence_rows=confidence_rows,
                       records_reasoning=records_reasoning, refinement_path=refinement_path,
                       THEORY_RELATIONS=THEORY_RELATIONS, MECHANISM_PARTS=MECHANISM_PARTS)
    return env


_ENV = _environment()


def keep_compiled_templates(folder: Path) -> None:
    """Keep the compiled templates in this folder (the project's cache) rather than Jinja2's
    temporary one: a publishing workflow that keeps the project's cache between runs keeps
    them too. Nothing changes if the folder cannot be made (a read-only checkout)."""
    cache = compiled_cache(_ENV, folder)
    if cache is not None:
        _ENV.bytecode_cache = cache


def compiled_cache(env: jinja2.Environment, folder: Path) -> jinja2.BytecodeCache | None:
    """A cache of `env`'s compiled templates, in a subfolder of `folder` named by the
    settings that shape compiled code (extensions, syntax, escaping): code compiled under
    other settings is never used, and Jinja2 compiles a template again when its source
    changed. None if the folder cannot be made or the settings cannot be told apart."""
    if callable(env.autoescape):
        return None  # (decided per template name by code we cannot compare)
    settings = repr((jinja2.__version__, sorted(env.extensions), env.autoescape,
                     env.optimized, env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
                     env.keep_trailing_newline, env.block_start_string, env.block_end_string,
                     env.variable_start_string, env.variable_end_string,
                     env.comment_start_string, env.comment_end_string,
                     env.line_statement_prefix, env.line_comment_prefix))
    sub = folder / hashlib.sha256(settings.encode()).hexdigest()[:16]
    try:
        sub.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(sub))


def uncompiled_templates(env: jinja2.Environment = _ENV,
                         used_from: list[str] | None = None) -> list[str]:
    """The templates that have no compiled copy in the cache (a first build, or edited):
    every one, or those that these templates use by name (extends, include, import), and
    they themselves."""
    cache = env.bytecode_cache
    if cache is None or env.loader is None:
        return []
    todo = list(used_from) if used_from is not None else env.list_templates()
    seen, out = set(todo), []
    while todo:
        name = todo.pop(0)
        try:
            source, filename, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            continue
        if cache.get_bucket(env, name, filename, source).code is not None:
            continue
        out.append(name)
        if used_from is not None:
            with contextlib.suppress(jinja2.TemplateSyntaxError):
                used = {n for n in meta.find_referenced_templates(env.parse(source)) if n}
                todo += sorted(used - seen)
                seen |= used
    return out


def compile_templates(names: list[str], env: jinja2.Environment = _ENV) -> None:
    """Compile these templates into the cache (see `keep_compiled_templates`); one that
    does not compile is left to fail where it is used."""
    for name in names:
        with contextlib.suppress(jinja2.TemplateError):
            env.get_template(name)


class Deferred(functools.partial):
    """A value for a page that is worked out only if the page is rendered."""


class Renderer:
    def __init__(self, site: Site):
        self.site = site

    @functools.cached_property
    def _substantive_pages(self) -> dict[str, str]:
        """Substantive theory id -> its page, once some mechanism links to one."""
        if not has_pages(self.site):
            return {}
        return {s.id: substantive_path(s.id) for s in self.site.substantive_theories}

    def substantive_page(self, sid: str) -> str | None:
        return self._substantive_pages.get(sid)

    def later(self, template: str, path: str, **context: Any) -> Callable[[], str]:
        """The page's rendering, to run when its Markdown is needed; values given as
        `Deferred(...)` (diagrams, diffs) are worked out then too."""
        def render() -> str:
            return self.render(template, path, **{
                k: v() if isinstance(v, Deferred) else v for k, v in context.items()})
        return render

    def render(self, template: str, path: str, **context: Any) -> str:
        def url(target: str) -> Markup:
            return Markup(relative(path, target))

        def diagram(d: Diagram | None) -> Markup:
            if d is None:
                return Markup("")
            source = html.escape(d.source, quote=False)
            links = " ".join(f"[{nid}]({relative(path, target)})" for nid, target in
                             d.links.items())
            narrow = f' data-lt-narrow="{d.narrow}"' if d.narrow else ""
            out = f'<pre class="lt-mermaid"{narrow}>{source}</pre>\n'
            if links:
                out += f"\n{links}\n{{: .lt-diagram-links }}\n"
            return Markup(out + "\n" + legend_html(d) + "\n")

        return _ENV.get_template(template).render(
            site=self.site, g=self.site.g, url=url, diagram=diagram, page_path=path,
            source_name=self.site.source_name, history_path=history_path,
            compare_path=compare_path, changed=changed, round_path=round_path,
            pack_path=pack_path, template_path=template_path, CONSULTATIONS=CONSULTATIONS,
            summary_of=consultations.summary_of,
            cmoc_path=cmoc_path, source_path=source_path, evidence_path=evidence_path,
            theory_path=theory_path, rameses_path=rameses_path,
            version_path=version_path, ref_anchor=ref_anchor, CONTEXTS=CONTEXTS,
            SOURCES=SOURCES, REFERENCES=REFERENCES, EVIDENCE_MAP=EVIDENCE_MAP,
            THEORIES=THEORIES, substantive_page=self.substantive_page,
            triangulation=lambda items: triangulation(items, self.site.sources),
            rollup=lambda items: rollup(items, self.site.sources),
            uses=lambda sid: uses(self.site, sid),
            theories_relating=lambda sid: theories_relating(self.site, sid), **context,
        )
