"""The site's generated pages, as Markdown, from the theory graph. No MkDocs here.

The package, by concept: `site` (the published view the templates ask for), `generate` (every
page and download), `evidence_map`, `rameses` (the RAMESES reporting map), `refinement` (the
reasoning behind each refinement, and confidence), `triangulation` (sources and kinds of data
per element or link), `appraisal` (relevance and rigour rolled up per CMOC), `middle_range`
(mechanisms and substantive theory pages), `render` (the Jinja2 environment), `markup`
(escaping), `paths`, `page`, `words`.

Every page is a Jinja2 template in `templates/pages/`. Text from YAML is escaped by default
(see `text`): HTML and Markdown syntax in a title or quote is shown, never obeyed. Narrative
fields go through `md`, which keeps Markdown and citations but escapes raw HTML and shows links
the URL policy drops (links.py: only http, https, mailto, relative links and anchors) as
text. Links between pages are relative `.md` paths that MkDocs checks.
"""

from .evidence_map import evidence_map
from .generate import Generated, downloads, generate, site_files
from .markup import md, text
from .page import Download, Options, Page
from .paths import (
    CONSULTATIONS,
    CONTEXTS,
    EVIDENCE_MAP,
    REFERENCES,
    SOURCES,
    THEORIES,
    cmoc_path,
    compare_path,
    history_path,
    pack_path,
    page_title,
    page_url,
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
from .render import (
    TEMPLATES,
    Renderer,
    compile_templates,
    compiled_cache,
    keep_compiled_templates,
    uncompiled_templates,
)
from .site import Site

__all__ = [
    "CONSULTATIONS", "CONTEXTS", "EVIDENCE_MAP", "REFERENCES", "SOURCES", "TEMPLATES", "THEORIES",
    "Download", "Generated", "Options", "Page", "Renderer", "Site", "cmoc_path",
    "compare_path", "compile_templates", "compiled_cache",
    "downloads", "evidence_map", "generate", "history_path", "keep_compiled_templates", "md",
    "pack_path", "page_title", "page_url", "rameses_path", "refinement_path", "relative",
    "round_path", "site_files", "source_path", "substantive_path", "template_path", "text",
    "theory_path", "uncompiled_templates", "version_path",
]
