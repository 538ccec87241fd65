"""When Python's cyclic garbage collector may look at what, during a build and between the
rebuilds of `mkdocs serve`.

The project and what pages are made from live until the build ends, yet every full
collection would walk them all again while MkDocs renders pages: at 20,000 evidence records
that was a fifth of the plugin's work, and slowed MkDocs' own rendering too. So they are
frozen out of the collector's sight (`gc.freeze`). Freed objects are still freed as usual,
but garbage that holds cycles, once frozen, is never freed.

A build ends with the process, so it freezes freely. `mkdocs serve` lives on: there only the
project is frozen, once loaded and once what loading left behind is collected (not the
build's pages, menus, templates and files, made later), and each rebuild frees the last
build's objects without walking the project again (a collection of everything took 0.6-1.4 s
at size L). A rebuild that renders every page freezes them too, as a build does (unfrozen,
the collections while pages are rendered took 4-5 s more at L): the next rebuild then
unfreezes everything first. tests/test_serve.py checks that nothing is kept.
"""

from __future__ import annotations

import gc

# Released references worth a collection (see `references_released`).
ENOUGH_REFERENCES = 500


class Memory:
    def __init__(self, serving: bool) -> None:
        self.serving = serving
        self._froze_build = False  # this build's objects were frozen with the project

    def rebuild_starts(self) -> None:
        """(serve) The last build's objects are garbage now."""
        if self._froze_build:
            gc.unfreeze()
            self._froze_build = False
        gc.collect()

    def project_loaded(self) -> None:
        if self.serving:
            gc.collect()  # (what loading left behind)
        gc.freeze()

    def pages_made(self, every_page: bool) -> None:
        """The generated pages (every page's, or a few an edit changed) are made."""
        if not self.serving or every_page:
            gc.freeze()
            self._froze_build = self.serving

    def references_released(self, references: int) -> None:
        """citeproc-py's objects hold cycles, so only the collector frees them (100 MB and 1 s
        at 5,000 references), before the search index is written, the build's peak of
        memory. Not for a few hundred references: the collection walks every object, and at
        65 references it took 0.03 s, a hundredth of the build, to free 4,000 small objects."""
        if references < ENOUGH_REFERENCES:
            return
        gc.unfreeze()
        gc.collect()
        if not self.serving:
            gc.freeze()  # (what is left lives to the end: Python's exit need not walk it)
        else:
            self._froze_build = False  # (nothing is frozen now)
