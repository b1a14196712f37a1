"""Catalog text to safe HTML: Markdown rendered by markdown-it-py, then sanitised by nh3.

Raw HTML in Markdown is escaped (never passed through), and the rendered HTML is cleaned with an
allow-list of tags and attributes; links keep only ``http``, ``https``, ``mailto`` and relative
URLs, so ``javascript:`` links, ``<script>`` and ``on*=`` handlers never reach a page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

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
    html = sanitize(_md.render(text))
    if shift_headings:
        html = _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift_headings)}>", html)
    return Markup(html)


_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>!&~\n]")


@lru_cache(maxsize=4096)
def markdown_inline(text: str | None) -> Markup:
    """Render inline Markdown (column docs) to sanitised HTML without a wrapping paragraph."""
    if not text:
        return Markup("")
    if _INLINE_SYNTAX.search(text) is None:  # plain text: nothing for Markdown to do
        return escape(text)
    return Markup(sanitize(_md.renderInline(text)))


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"[*_`~>#|]+")
_SPACE = re.compile(r"\s+")


def excerpt(text: str | None, limit: int = 160) -> str:
    """First paragraph of a Markdown description as plain text (to be escaped by the template)."""
    if not text:
        return ""
    paras = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    para = next((p for p in paras if not p.lstrip().startswith("#")), paras[0] if paras else "")
    plain = re.sub(r"<[^>]*>", "", _LINK.sub(r"\1", para))
    plain = _SPACE.sub(" ", _MARKS.sub("", plain)).strip()
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def plain_text(text: str | None, limit: int = 600) -> str:
    """The whole Markdown description as plain text, cut at ``limit`` (what search indexes)."""
    if not text:
        return ""
    plain = re.sub(r"<[^>]*>", " ", _LINK.sub(r"\1", text))
    plain = _SPACE.sub(" ", _MARKS.sub("", plain)).strip()
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


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
