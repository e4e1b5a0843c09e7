"""HTML pages of a cartridge as the Markdown the lesson page renders (CommonMark with tables;
the renderer escapes raw HTML and sanitises what it makes). Scripts, styles, forms and
frames are dropped with their content; other unknown tags keep only their text. Each link
and image goes through ``rewrite`` (relative files in the cartridge become ``media/...``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

DROP = {"script", "style", "iframe", "object", "embed", "form", "noscript", "template", "head"}
BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "figure", "table"}
SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def escape(text: str) -> str:
    """Text with the characters Markdown would read as markup escaped."""
    text = SPECIAL.sub(r"\\\1", text)
    return re.sub(r"^(\s*)([#+\-]|\d+[.)])(\s)", r"\1\\\2\3", text, flags=re.M)


class _Converter(HTMLParser):
    def __init__(
        self, rewrite: Callable[[str, str], str | None], heading_floor: int, shift: int
    ) -> None:
        super().__init__(convert_charrefs=True)
        self.rewrite = rewrite
        self.floor = heading_floor
        self.shift = shift
        self.out: list[str] = []
        self.dropping = 0
        self.lists: list[list] = []  # ["ul"|"ol", counter]
        self.links: list[str | None] = []
        self.pre = 0
        self.row: list[str] | None = None
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def _write(self, text: str) -> None:
        (self.cell if self.cell is not None else self.out).append(text)

    def _block(self) -> None:
        if self.cell is None:
            self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag in DROP:
            self.dropping += 1
            return
        if self.dropping:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._block()
            level = max(int(tag[1]) + self.shift, self.floor)
            self._write("#" * min(level, 6) + " ")
        elif tag in BLOCKS or tag == "blockquote":
            self._block()
            if tag == "blockquote":
                self._write("> ")
            if tag == "table":
                self.rows = []
        elif tag == "br":
            self._write("  \n" if self.cell is None else " ")
        elif tag == "hr":
            self._block()
            self._write("---")
            self._block()
        elif tag in ("strong", "b"):
            self._write("**")
        elif tag in ("em", "i"):
            self._write("*")
        elif tag == "code" and not self.pre:
            self._write("`")
        elif tag == "pre":
            self._block()
            self._write("```\n")
            self.pre += 1
        elif tag in ("ul", "ol"):
            self._block() if not self.lists else self._write("\n")
            self.lists.append([tag, 0])
        elif tag == "li":
            depth = max(len(self.lists) - 1, 0)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            bullet = f"{kind[1]}." if kind[0] == "ol" else "-"
            self._write("\n" + "   " * depth + bullet + " ")
        elif tag == "a":
            target = self.rewrite(attr.get("href", ""), "link")
            self.links.append(target)
            if target:
                self._write("[")
        elif tag == "img":
            alt = escape(attr.get("alt", "").strip()) or "image"
            target = self.rewrite(attr.get("src", ""), "image")
            self._write(f"![{alt}]({target})" if target else f"[image: {alt}]")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP:
            self.dropping = max(self.dropping - 1, 0)
            return
        if self.dropping:
            return
        if re.fullmatch(r"h[1-6]", tag) or tag in BLOCKS or tag == "blockquote":
            if tag == "table":
                self._table()
            self._block()
        elif tag in ("strong", "b"):
            self._write("**")
        elif tag in ("em", "i"):
            self._write("*")
        elif tag == "code" and not self.pre:
            self._write("`")
        elif tag == "pre":
            self._write("\n```")
            self.pre = max(self.pre - 1, 0)
            self._block()
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._block()
        elif tag == "a" and self.links:
            target = self.links.pop()
            if target:
                self._write(f"]({target})")
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is not None:
                self.row.append(" ".join("".join(self.cell).split()).replace("|", "\\|"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def _table(self) -> None:
        if not self.rows:
            return
        width = max(len(row) for row in self.rows)
        rows = [row + [""] * (width - len(row)) for row in self.rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        self.out.append("\n\n" + "\n".join(lines) + "\n\n")
        self.rows = []

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if self.pre:
            self._write(data.replace("```", "'''"))
            return
        text = re.sub(r"\s+", " ", data)
        if self.row is not None and self.cell is None:
            return  # the white space between a table's tags
        self._write(escape(text))


def convert(
    html: str,
    rewrite: Callable[[str, str], str | None] = lambda url, kind: url,
    heading_floor: int = 2,
    shift: int = 1,
) -> str:
    """Markdown for an HTML page (its ``<body>`` if it has one): each heading moves ``shift``
    levels down and none is above ``heading_floor`` (a lesson's one ``#`` is its title)."""
    body = re.search(r"<body\b[^>]*>(.*)</body>", html, re.S | re.I)
    parser = _Converter(rewrite, heading_floor, shift)
    parser.feed(body.group(1) if body else html)
    parser.close()
    text = "".join(parser.out)
    lines = [line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")]
    lines = [re.sub(r"^ (?=\S)", "", line) if line.strip() else "" for line in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
