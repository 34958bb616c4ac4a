"""Render a Document as one self-contained HTML page: inline CSS and JS, images as data URIs."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from autocnn.reporting._document import (
    Block,
    BulletList,
    Cell,
    Document,
    Figure,
    Note,
    Paragraph,
    Section,
    Table,
    split_inline,
)

CSS = """
:root { --fg: #1d232a; --muted: #5b6570; --line: #d8dde3; --accent: #1f5fa8; --win: #fff6d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: #f6f7f9; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
p.subtitle { color: var(--muted); margin: 0 0 16px; }
nav.toc { background: #f0f3f7; border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px;
  margin: 16px 0; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
code { font: 12.5px/1.4 "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
  background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; font: 12.5px/1.45 "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; }
pre code { background: none; padding: 0; }
details { margin: 10px 0; }
details > summary { cursor: pointer; color: var(--accent); font-weight: 600; }
.note { border-left: 4px solid var(--accent); background: #eef4fb; padding: 8px 12px; margin: 12px 0;
  border-radius: 0 6px 6px 0; }
.note.warning { border-left-color: #c77700; background: #fff5e6; }
.table-wrap { overflow-x: auto; margin: 10px 0 4px; max-height: 640px; overflow-y: auto;
  border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; text-align: left; position: sticky; top: 0; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.highlight td { background: var(--win); font-weight: 600; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:hover { background: #e2e8f0; }
table.sortable th.asc::after { content: " ▲"; font-size: 10px; }
table.sortable th.desc::after { content: " ▼"; font-size: 10px; }
td code { white-space: normal; }
td { min-width: 3em; }
td.reason { min-width: 16em; }
td.nowrap { white-space: nowrap; }
table.kv td:first-child { width: 32%; }
.caption { color: var(--muted); font-size: 13px; margin: 4px 0 16px; }
figure { margin: 18px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 40px; }
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (header, column) {
    header.title = "Click to sort";
    header.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = !header.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      header.classList.add(ascending ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
        var missingX = x === undefined || x === "", missingY = y === undefined || y === "";
        if (missingX || missingY) { return missingX === missingY ? 0 : (missingX ? 1 : -1); }
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def render_html(document: Document, *, directory: Path) -> str:
    """Return the whole page; figures are read from ``directory`` and embedded as base64 PNG."""
    entries = [section for section in document.sections if section.level == 2]
    toc = "".join(
        f'<li><a href="#{html.escape(section.anchor)}">{html.escape(section.title)}</a></li>'
        for section in entries
    )
    nav = f'<nav class="toc"><strong>Contents</strong><ol>{toc}</ol></nav>\n' if len(entries) > 2 else ""
    body = "\n".join(_section(section, directory) for section in document.sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(document.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(document.title)}</h1>\n"
        f'<p class="subtitle">{inline(document.subtitle)}</p>\n'
        f"{nav}"
        f"{body}\n"
        "<footer>Generated by autocnn. This page is self-contained: it needs no server and no network.</footer>\n"
        f"</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def inline(text: str) -> str:
    """Escape inline text, turning code spans into ``<code>`` elements."""
    return "".join(
        f"<code>{html.escape(piece)}</code>" if is_code else html.escape(piece)
        for piece, is_code in split_inline(text)
    )


def _section(section: Section, directory: Path) -> str:
    level = min(max(section.level, 2), 4)
    parts = [f'<h{level} id="{html.escape(section.anchor)}">{html.escape(section.title)}</h{level}>']
    parts.extend(_block(block, directory) for block in section.blocks)
    return "\n".join(parts)


def _block(block: Block, directory: Path) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{inline(block.text)}</p>"
    if isinstance(block, BulletList):
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Note):
        return f'<div class="note {block.kind}">{inline(block.text)}</div>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        data = base64.b64encode((directory / block.filename).read_bytes()).decode("ascii")
        caption = f"<figcaption>{inline(block.caption)}</figcaption>" if block.caption else ""
        return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(block.alt)}">{caption}</figure>'
    text = f"<pre><code>{html.escape(block.text)}</code></pre>"
    if block.summary:
        return f"<details><summary>{html.escape(block.summary)}</summary>{text}</details>"
    return text


def _table(table: Table) -> str:
    classes = " ".join(name for name in ("sortable" if table.sortable else "", table.css_class) if name)
    heads = "".join(
        f'<th class="num">{html.escape(header)}</th>'
        if table.alignment(index) == "right"
        else f"<th>{html.escape(header)}</th>"
        for index, header in enumerate(table.headers)
    )
    rows = []
    for row_index, row in enumerate(table.rows):
        cells = "".join(_cell(cell, table.alignment(index) == "right") for index, cell in enumerate(row))
        attribute = ' class="highlight"' if row_index in table.highlight else ""
        rows.append(f"<tr{attribute}>{cells}</tr>")
    class_attribute = f' class="{classes}"' if classes else ""
    caption = f'<p class="caption">{inline(table.caption)}</p>' if table.caption else ""
    return (
        f'<div class="table-wrap"><table{class_attribute}><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{caption}"
    )


def _cell(cell: Cell, numeric: bool) -> str:
    content = f"<code>{html.escape(cell.text)}</code>" if cell.code and cell.text else html.escape(cell.text)
    sort = ""
    if cell.sort is not None:
        sort = (
            f' data-sort="{html.escape(repr(cell.sort) if isinstance(cell.sort, float) else str(cell.sort))}"'
        )
    names = " ".join(name for name in ("num" if numeric else "", cell.css) if name)
    css = f' class="{names}"' if names else ""
    return f"<td{css}{sort}>{content}</td>"
