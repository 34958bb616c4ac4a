"""A small document model that both the HTML and the Markdown writers render.

The report is assembled once as sections of blocks (paragraphs, tables, figures, code), so the
two formats always say the same thing. Inline text may hold ``code`` spans in backticks; every
other character is literal and escaped by the writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Align: TypeAlias = Literal["left", "right"]


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, an optional sort key, whether it is code, and an HTML class."""

    text: str
    sort: float | str | None = None
    code: bool = False
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``highlight`` holds the indices of rows to emphasize."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    align: tuple[Align, ...] = ()
    caption: str = ""
    highlight: frozenset[int] = frozenset()
    sortable: bool = False
    css_class: str = ""

    def alignment(self, column: int) -> Align:
        """Return the alignment of ``column`` (left unless told otherwise)."""
        return self.align[column] if column < len(self.align) else "left"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of inline text."""

    text: str


@dataclass(frozen=True)
class BulletList:
    """A bulleted list of inline texts."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """A highlighted remark: ``info`` or ``warning``."""

    text: str
    kind: Literal["info", "warning"] = "info"


@dataclass(frozen=True)
class Figure:
    """A PNG file next to the report, with alternative text and a caption."""

    filename: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class CodeBlock:
    """Preformatted text; with a ``summary`` it is folded away behind that line."""

    text: str
    language: str = ""
    summary: str = ""


Block: TypeAlias = Paragraph | BulletList | Note | Table | Figure | CodeBlock


@dataclass(frozen=True)
class Section:
    """A headed part of the document; ``level`` 2 sections appear in the table of contents."""

    title: str
    anchor: str
    blocks: tuple[Block, ...] = ()
    level: int = 2


@dataclass(frozen=True)
class Document:
    """A whole report: title, one-line subtitle and its sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def code(text: object) -> str:
    """Return ``text`` as an inline code span (backticks chosen so that the content survives)."""
    value = str(text).replace("\n", " ")
    fence = "`"
    while fence in value:
        fence += "`"
    padding = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{padding}{value}{padding}{fence}"


def split_inline(text: str) -> list[tuple[str, bool]]:
    """Split inline text into ``(piece, is_code)`` parts at code spans made by :func:`code`."""
    parts: list[tuple[str, bool]] = []
    position = 0
    plain_start = 0
    while position < len(text):
        if text[position] != "`":
            position += 1
            continue
        end_fence = position
        while end_fence < len(text) and text[end_fence] == "`":
            end_fence += 1
        fence = text[position:end_fence]
        close = text.find(fence, end_fence)
        while close != -1 and close + len(fence) < len(text) and text[close + len(fence)] == "`":
            close = text.find(fence, close + len(fence) + 1)
        if close == -1:
            position = end_fence
            continue
        if plain_start < position:
            parts.append((text[plain_start:position], False))
        inner = text[end_fence:close]
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
            inner = inner[1:-1]
        parts.append((inner, True))
        position = plain_start = close + len(fence)
    if plain_start < len(text):
        parts.append((text[plain_start:], False))
    return parts
