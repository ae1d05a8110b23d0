"""One rendered piece of a Markdown view, apart from the Markdown machinery.

Kept in a module of its own so that the widgets that hold pieces (the view, the thinking
section) import without Markdown-it, Rich's Markdown and Pygments: those load with the
first message drawn (:mod:`~llamachat.tui.conversation.markdown_parts`), not at start.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.strip import Strip


class Block:
    """One rendered piece of the view, with its strips cached for one width."""

    __slots__ = ("code", "renderable", "source", "strips", "width")

    def __init__(
        self,
        renderable: RenderableType,
        code: bool = False,
        source: tuple[int, int] | None = None,
    ) -> None:
        self.renderable = renderable
        self.code = code
        #: Where the text it draws lies in the message's text (None: a badge, a label...):
        #: a selection of its lines is copied as that text, not as the drawn glyphs.
        self.source = source
        self.strips: list[Strip] | None = None
        self.width = -1
