"""The `living-theories` command.

Every sub-command prints what went wrong as `file:line: what is wrong - how to fix it`, all
problems at once, and exits with 1; it never shows a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from .. import __version__
from .qda import cmd_export_codebook, cmd_import_qdpx
from .releasing import cmd_correct, cmd_release
from .site import cmd_diff, cmd_export_markdown, cmd_new, cmd_schema, cmd_serve, cmd_validate
from .tables import cmd_export_cmocs, cmd_import_cmocs, cmd_import_feedback

EPILOG = "Run 'living-theories COMMAND --help' for more about one command."


class _Parser(argparse.ArgumentParser):
    """argparse's messages, but exit 1 for a usage error: every mistake a user can make
    exits 1; 2 is kept for bugs. Sub-command parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="living-theories",
        description="Publish realist programme theories - their CMOCs, evidence and version "
        "history - as a website. Start with 'living-theories new FOLDER'; check your files "
        "with 'living-theories validate'.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str,
            description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.set_defaults(func=func)
        return p

    p = add("new", cmd_new, "create a new theory site in a new folder",
            "Create a ready-to-use theory site: its settings (mkdocs.yml), an example theory "
            "with two draft versions and evidence, references.bib, a CMOC spreadsheet template, "
            "editor settings, GitHub workflows (publishing, releases for Zenodo DOIs), the "
            "Living Theories wheel it installs and a README. Preview it straight away with "
            "'living-theories serve --drafts'.")
    p.add_argument("dir", metavar="FOLDER",
                   help="the folder to create (it must not exist yet, or be empty)")
    p.add_argument("--name", help="the site's name (default: from the folder name)")
    p.add_argument("--author", action="append", metavar='"FAMILY, GIVEN[, ORCID]"',
                   help="who to credit when a version is cited, e.g. --author \"Smith, Jo, "
                   "0000-0002-1825-0097\" (an organisation: its name); repeat for each author")
    p.add_argument("--url", help="the address the site will be published at, e.g. "
                   "https://your-name.github.io/your-repository/ (used in citations)")

    p = add("validate", cmd_validate, "check all your files and say what to fix",
            "Check all your files for typos, missing information, links between CMOCs, "
            "evidence, sources and references that do not lead anywhere, and edits to released "
            "versions. Prints every problem with its file, its line and what to do, or a "
            "one-line summary when all is well.")
    p.add_argument("dir", nargs="?", default=".", help="the project folder (default: here)")

    p = add("schema", cmd_schema, "set up your editor to suggest and check fields",
            "Write one JSON Schema per kind of YAML file (project, theory, version, evidence), "
            "so that an editor such as VS Code completes and checks fields as you type. See "
            "docs/guide/editor.md.")
    p.add_argument("out", nargs="?", default="schema", help="folder to write to "
                   "(default: schema)")

    p = add("release", cmd_release, "release a theory's draft version, so it can be cited",
            "Release a theory's draft version(s): mark them released, date them if they have no "
            "date, and lock them (in living-theories.lock) so that they can never change and can "
            "be cited. Refused, with the problems listed, if the files do not pass 'validate', "
            "or if the version would be cited without authors or a web address.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--no-url", action="store_true",
                   help="release although the site has no web address (site_url in mkdocs.yml): "
                   "for a site that will not be on the web; its cite box says so")

    p = add("correct", cmd_correct, "record a dated correction of a released version",
            "Correct a released version, e.g. a transcription error in a quote: edit its file "
            "(or its evidence), then run this with the reason. The correction is dated and "
            "shown on the version's page and in its citation; nothing else may change a "
            "released version.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("number", type=int, help="the released version's number, e.g. 2")
    p.add_argument("--reason", required=True, help="why, in a sentence readers will see")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("import-feedback", cmd_import_feedback,
            "turn a filled-in feedback template into feedback records",
            "Read a consultation round's feedback template (CSV, as downloaded from the round's "
            "page and filled in) and write its answers as feedback records to "
            "evidence/feedback-ROUND.yaml. Every bad row is reported by row and column, and "
            "nothing is written unless the whole file is valid.")
    p.add_argument("file", help="the filled-in template, e.g. round-1-feedback.csv")
    p.add_argument("--round", required=True,
                   help="the round's id, as in the template's 'round' column (e.g. round-1)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--out", help="where to write (default: evidence/feedback-ROUND.yaml)")

    p = add("import-cmocs", cmd_import_cmocs,
            "turn a CMOC spreadsheet (Excel or CSV) into theory files",
            "Read a spreadsheet with one row per CMOC - columns theory, version, cmoc_id, "
            "context, mechanism_resource, mechanism_reasoning, outcome, and optionally label, "
            "title, mechanism ('absent' marks the mechanism M-), outcome_direction ('negative' "
            "marks the outcome O-) and evidence_ids - and write the theory versions it "
            "describes. Put several contexts or outcomes in one cell on separate lines; start "
            "a line with the sign the study prints, e.g. '(M-) ...' or '(O+) ...'. Every bad "
            "cell is reported by sheet, row and column, and nothing is written unless the "
            "whole sheet is valid. "
            "Released versions are never changed.")
    p.add_argument("file", help="the spreadsheet: .xlsx or .csv")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("import-qdpx", cmd_import_qdpx,
            "turn coded segments of a QDA project (.qdpx) into evidence records",
            "Read a REFI-QDA project exported from NVivo, ATLAS.ti, MAXQDA or another QDA "
            "program, and write every coded text segment whose code the map names as an "
            "evidence record (the exact text as its quote, its source, lines and codes) to "
            "evidence/qda-PROJECT.yaml. Importing a newer export updates the same records; "
            "records cited by released versions are left as they are. Nothing is written "
            "unless the whole import is valid.")
    p.add_argument("file", help="the project file, e.g. interviews.qdpx")
    p.add_argument("--map", help="YAML map of codes to CMOCs (export-codebook writes one)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, write "
                   "nothing")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("export-codebook", cmd_export_codebook,
            "write a theory version's CMOCs as a REFI-QDA codebook (.qdc)",
            "Write a version's CMOCs as a REFI-QDA codebook - one code per CMOC, with a code "
            "per context, mechanism and outcome under it - for NVivo, ATLAS.ti or MAXQDA, "
            "and beside it FILE-map.yaml, the map import-qdpx needs to bring the coding back.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("out", metavar="FILE", help="the codebook to write, e.g. being.qdc")
    p.add_argument("--version", type=int, help="the version (default: the latest)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("export-cmocs", cmd_export_cmocs, "write every CMOC to a spreadsheet",
            "Write every CMOC of every version to a spreadsheet in the same layout that "
            "import-cmocs reads, or an empty template to fill in.")
    p.add_argument("out", help="the file to write: .xlsx or .csv")
    p.add_argument("--template", action="store_true",
                   help="write the template with example rows instead of your CMOCs")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("serve", cmd_serve, "preview the site, rebuilt as you save your files",
            "Build the site and show it at http://127.0.0.1:8000, and rebuild it whenever you "
            "save a file: your browser reloads the page by itself. After an edit to evidence "
            "or to a page only the pages it changes are built again (seconds, even on a big "
            "project); other edits rebuild everything. The pages are always the same as a full "
            "'mkdocs build' gives. Stop it with Ctrl+C. Any other option of 'mkdocs serve' "
            "(see 'mkdocs serve --help') is passed on to it, e.g. --strict or -w FOLDER.")
    p.add_argument("-a", "--dev-addr", metavar="IP:PORT",
                   help="the address to serve the site at (default: 127.0.0.1:8000)")
    p.add_argument("-o", "--open", action="store_true",
                   help="open the site in your web browser once it is built")
    p.add_argument("-f", "--config-file", metavar="FILE",
                   help="the site's settings (default: mkdocs.yml in this folder)")
    p.add_argument("--drafts", action="store_true",
                   help="show draft versions too, marked as drafts (a review build); without "
                   "it the preview is the site as it will be published")

    p = add("export-markdown", cmd_export_markdown, "write the site as plain Markdown pages",
            "Write every page the site would have as plain Markdown (citations already "
            "formatted), with the downloads, the site's assets and an mkdocs.yml that needs no "
            "plugin: a plain MkDocs build of that folder gives the same site. Use it to take "
            "the site to another tool, or as the baseline of the benchmarks.")
    p.add_argument("out", metavar="FOLDER", help="the folder to write (new, or a previous "
                   "export)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--review", action="store_true", help="include draft versions")

    p = add("diff", cmd_diff, "show what changed between two versions of a theory",
            "Show what changed between two versions of a theory, CMOC by CMOC: how each CMOC "
            "came from the earlier version, the reasons recorded, and the words added "
            "{+like this+} and removed [-like this-] (in colour in a terminal).")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("a", type=int, metavar="OLD", help="a version number, e.g. 1")
    p.add_argument("b", type=int, metavar="NEW", help="another version number, e.g. 2")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--colour", "--color", choices=["auto", "always", "never"], default="auto",
                   help="colour the output (default: auto, when writing to a terminal)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "func", None) is not cmd_serve:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.mkdocs_options = rest  # (serve passes them on to mkdocs serve)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1  # like any other usage error
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the file system, not a bug: a command not guarded above
        print(f"error: {exc.filename or 'a file'}: {(exc.strerror or str(exc)).lower()} - "
              "check the file, its folder and the free disk space", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: say so briefly
        if os.environ.get("LIVING_THEORIES_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in Living "
              "Theories; set LIVING_THEORIES_DEBUG=1 to see details and please report it.",
              file=sys.stderr)
        return 2


def run() -> NoReturn:
    """The `living-theories` command itself: `main`, then leave at once. Everything is written
    by then; freeing a big project's objects one by one would only delay the prompt (0.1 s at
    20,000 records), so the process ends without it, as mypy's does."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # e.g. a closed pipe: `... validate | head -1`
            stream.flush()
    os._exit(code)
