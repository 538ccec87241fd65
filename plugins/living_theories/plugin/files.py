"""The generated pages and downloads as MkDocs files."""

from __future__ import annotations

from collections.abc import Callable

from mkdocs.structure.files import File


class RenderedFile(File):
    """A generated page, rendered when MkDocs reads it and not kept: MkDocs keeps its own
    copy of every page's Markdown, and a second one would cost a big site 100 MB or more."""

    render: Callable[[], str] | None = None
    # Known to be as in the last build (serve): `mkdocs serve --dirty` skips it, as it skips
    # hand-written pages older than their HTML. Or how to find out, asked once: by rendering
    # the page, which then keeps its Markdown (`rendered`) until MkDocs reads it.
    unchanged: bool | Callable[[], bool] = False
    rendered: str | None = None

    def is_modified(self) -> bool:
        if callable(self.unchanged):
            self.unchanged = self.unchanged()
        return self.render is None or not self.unchanged

    @property
    def content_string(self) -> str:
        if self.rendered is not None:
            text, self.rendered = self.rendered, None
            return text
        return self.render() if self.render is not None else File.content_string.fget(self)

    @content_string.setter
    def content_string(self, value: str) -> None:  # another plugin replaces the page
        self.render = self.rendered = None
        File.content_string.fset(self, value)

    @property
    def content_bytes(self) -> bytes:
        return self.content_string.encode() if self.render is not None \
            else File.content_bytes.fget(self)

    @content_bytes.setter
    def content_bytes(self, value: bytes) -> None:
        self.render = self.rendered = None
        File.content_bytes.fset(self, value)


class DownloadFile(File):
    """A generated file beside the pages (citations, data)."""

    # Known to be as the last build wrote it (serve): not written again.
    unchanged: bool = False

    def is_modified(self) -> bool:
        return not self.unchanged
