"""Catalog text to safe HTML: Markdown rendered by markdown-it-py, then sanitised by nh3.

Raw HTML in Markdown is escaped (never passed through), and the rendered HTML is cleaned with an
allow-list of tags and attributes; links keep only ``http``, ``https``, ``mailto`` and relative
URLs, so ``javascript:`` links, ``<script>`` and ``on*=`` handlers never reach a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from markdown_it.token import Token

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"},
                      "td": {"align"}, "th": {"align"}}  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable(["table", "strikethrough"])


def sanitize(html: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes (links get ``rel=noopener``)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_HEADING = re.compile(r"<(/?)h([1-5])>")


@lru_cache(maxsize=4096)
def markdown(text: str | None, shift_headings: int = 1) -> Markup:
    """Render block Markdown (descriptions) to sanitised HTML.

    Headings move down ``shift_headings`` levels so a description's ``# Title`` sits below the
    page's own ``<h1>``.
    """
    if not text:
        return Markup("")
    html = sanitize(_md.renderer.render(_tokens(text), _md.options, {}))
    if shift_headings:
        html = _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift_headings)}>", html)
    return Markup(html)


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[Token, ...]:
    """The parsed document: a page renders it and takes its excerpt and search text from it."""
    return tuple(_md.parse(text))


_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>!&~\n]")


@lru_cache(maxsize=4096)
def markdown_inline(text: str | None) -> Markup:
    """Render inline Markdown (column docs) to sanitised HTML without a wrapping paragraph."""
    if not text:
        return Markup("")
    if _INLINE_SYNTAX.search(text) is None:  # plain text: nothing for Markdown to do
        return escape(text)
    return Markup(sanitize(_md.renderInline(text)))


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _inline_text(token: Token) -> str:
    """Visible text of an inline token: what a reader sees, so ``_``, ``#`` and ``*`` that are
    not markup stay (``o_orderkey``, ``Brand#13``, ``a*b``)."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child))
    # Raw HTML is text to markdown-it (html=False); a summary drops the tags themselves.
    return _TAG.sub("", "".join(parts))


@lru_cache(maxsize=4096)  # a page asks for its excerpt, summary and search text: parse once
def _blocks(text: str) -> tuple[tuple[bool, str], ...]:
    """``(is_heading, plain text)`` of every text block of a Markdown document, in order."""
    out: list[tuple[bool, str]] = []
    heading = False
    for token in _tokens(text):
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "inline":
            out.append((heading, _inline_text(token)))
        elif token.type in ("fence", "code_block"):
            out.append((False, token.content))
    return tuple((h, _SPACE.sub(" ", t).strip()) for h, t in out if t.strip())


def _cut(plain: str, limit: int) -> str:
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def excerpt(text: str | None, limit: int = 160) -> str:
    """First paragraph of a Markdown description as plain text (to be escaped by the template)."""
    if not text:
        return ""
    blocks = _blocks(text)
    first = next((t for h, t in blocks if not h), blocks[0][1] if blocks else "")
    return _cut(first, limit)


def plain_text(text: str | None, limit: int = 600) -> str:
    """The whole Markdown description as plain text, cut at ``limit`` (what search indexes)."""
    if not text:
        return ""
    return _cut(" ".join(t for _, t in _blocks(text)), limit)


_REF = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?![\w.])")
_HTML_TOKEN = re.compile(r"(<[^>]*>)")


def html_text(fragment: str) -> str:
    """Plain text of a small rendered HTML fragment (a column doc, a deprecation note)."""
    if not fragment:
        return ""
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", str(fragment)))).strip()


def references(text: str | None) -> list[tuple[str, str, str | None]]:
    """``(database, table, column or None)`` for every ``db.table[.column]`` named in ``text``."""
    if not text or "." not in text:  # most docs name no table: skip the regex
        return []
    return [(m[1], m[2], m[3]) for m in _REF.finditer(text)]


def link_references(html: Markup, resolve: Callable[[str, str, str | None], str | None]) -> Markup:
    """Wrap ``db.table[.column]`` names in sanitised ``html`` in links where ``resolve`` gives
    an href; text inside existing links and inside tags is left alone."""
    out: list[str] = []
    in_link = 0
    for piece in _HTML_TOKEN.split(str(html)):
        if piece.startswith("<"):
            if piece.startswith("<a ") or piece == "<a>":
                in_link += 1
            elif piece == "</a>":
                in_link = max(0, in_link - 1)
            out.append(piece)
        elif in_link or "." not in piece:
            out.append(piece)
        else:

            def sub(m: re.Match[str]) -> str:
                href = resolve(m[1], m[2], m[3])
                return m[0] if href is None else f'<a href="{escape(href)}">{m[0]}</a>'

            out.append(_REF.sub(sub, piece))
    return Markup("".join(out))


def safe_url(value: object) -> str | None:
    """``value`` if it is an absolute http(s) URL, else ``None`` (used for links from ``extra``)."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in value for c in "\x00\r\n\t<>\"'` "):
        return None
    return value.strip()
