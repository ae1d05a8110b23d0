"""Untrusted Markdown as a Rich renderable: control characters escaped, raw HTML and Rich
markup shown as typed, links shown but not clickable.

One parser setup for every place that draws a reply: the TUI's Markdown view and
``llamachat ask`` / ``history show`` on a terminal. Core: imports Rich and Markdown-it,
never Textual.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from rich.console import JustifyMethod
from rich.markdown import Markdown as RichMarkdown
from rich.style import Style

from llamachat.textsafety import escape_controls

__all__ = ["SafeMarkdown", "markdown"]

#: One parser for every block, with raw HTML off: ``<script>`` or ``<div>`` in a reply is
#: text to show (Rich's own parser reads it as HTML, which its renderer then drops).
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


class SafeMarkdown(RichMarkdown):
    """Rich's Markdown parsed by :data:`_PARSER`: raw HTML is shown as typed.

    It sets what ``RichMarkdown.__init__`` sets (a test checks the two agree) rather
    than calling it, which would build a parser per block (about 1 ms each).
    """

    def __init__(self, markup: str, code_theme: str = "monokai") -> None:
        self.markup = markup
        self.parsed = _PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify: JustifyMethod | None = None
        self.style: str | Style = "none"
        self.hyperlinks = False
        self.inline_code_lexer: str | None = None
        self.inline_code_theme = code_theme


def markdown(text: str, code_theme: str) -> RichMarkdown:
    """A Rich Markdown renderable of untrusted text: escaped, raw HTML and Rich markup shown
    as typed, links shown, not clickable."""
    return SafeMarkdown(escape_controls(text), code_theme=code_theme)
