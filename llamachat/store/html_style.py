"""The HTML export's look: one stylesheet, and code highlighted with Pygments into it.

Code blocks are highlighted as the TUI highlights them (Pygments, by the fence's
language; an unknown or absent language leaves a plain block), as ``<span class>``
runs styled by the page's one ``<style>``: no inline styles, no script. The
stylesheet follows the reader's light or dark preference (two Pygments styles,
the TUI's defaults, the dark one scoped under ``prefers-color-scheme``) and
prints on white: code wraps instead of being cut, and a page breaks between
messages rather than through one where a message fits on a page. Highlighting
has a budget per export (:data:`CODE_BUDGET` characters), so a huge
conversation exports in time linear in its length and a few seconds of Pygments
at most.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer
    from pygments.style import Style

#: The TUI's default code styles for light and dark themes (``llamachat.tui.themes``; the
#: store cannot import the TUI): readable on their own backgrounds.
LIGHT_CODE_STYLE = "xcode"
DARK_CODE_STYLE = "monokai"
#: Characters of code one export highlights (a few seconds of Pygments at most).
CODE_BUDGET = 500_000
#: Only the screen goes dark: a printed page is always light.
DARK = "screen and (prefers-color-scheme: dark)"

_PAGE_CSS = """
:root { color-scheme: light dark; --bg: #fdfdfc; --fg: #1d1d1f; --muted: #6b6b70;
  --card: #f3f3f1; --you: #e8f0fe; --border: #d9d9d6; --warn: #9a3412; }
@media DARK { :root { --bg: #16161a; --fg: #e7e7ea; --muted: #9a9aa3;
  --card: #1f1f25; --you: #1b2a44; --border: #33333b; --warn: #fdba74; } }
body { background: var(--bg); color: var(--fg); font: 16px/1.55 system-ui, sans-serif;
  max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
header h1 { margin-bottom: .2rem; } header p { color: var(--muted); margin: 0; }
article { background: var(--card); border: 1px solid var(--border); border-radius: 10px;
  padding: .2rem 1.1rem; margin: 1rem 0; overflow-wrap: anywhere; }
article.user { background: var(--you); }
article h2 { font-size: .85rem; color: var(--muted); font-weight: 600; margin: .8rem 0 .2rem; }
pre { padding: .8rem; border-radius: 6px; border: 1px solid var(--border); overflow-x: auto;
  line-height: 1.4; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
:not(pre) > code { background: var(--border); padding: .05em .3em; border-radius: 4px; }
.state { color: var(--warn); }
details.reasoning { color: var(--muted); border-left: 3px solid var(--border);
  padding-left: .8rem; margin: .6rem 0; } details.reasoning summary { cursor: pointer; }
table { border-collapse: collapse; }
td, th { border: 1px solid var(--border); padding: .2rem .5rem; }
""".replace("DARK", DARK)

_PRINT_CSS = """
@media print {
  :root { color-scheme: light; --bg: #fff; --fg: #000; --muted: #555; --card: #fff;
    --you: #fff; --border: #bbb; --warn: #9a3412; }
  @page { margin: 1.5cm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 11pt; }
  article { break-inside: avoid-page; border-radius: 0; }
  article.user { border-left: 4px solid #7aa0e0; }
  article h2, header h1 { break-after: avoid-page; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; orphans: 3; widows: 3; }
  footer { color: var(--muted); }
}
"""

#: A token's look in a style: colour, background, bold, italic, underline.
_PROPERTIES = (
    ("color", "color", "inherit"),
    ("bgcolor", "background-color", "transparent"),
    ("bold", "font-weight", "normal"),
    ("italic", "font-style", "normal"),
    ("underline", "text-decoration", "none"),
)
_SET = {"bold": "bold", "italic": "italic", "underline": "underline"}


def _colour(value: str) -> str:
    return value if value.startswith(("#", "var", "calc")) else "#" + value


def _looks(style: type[Style]) -> dict[str, dict[str, str]]:
    """Each standard token class's look in ``style``: the properties it sets, by CSS name."""
    from pygments.token import STANDARD_TYPES

    looks: dict[str, dict[str, str]] = {}
    for ttype, name in STANDARD_TYPES.items():
        if not name:  # plain text: the block's own colour
            continue
        found = style.style_for_token(ttype)
        look: dict[str, str] = {}
        for key, css, _unset in _PROPERTIES:
            value = found[key]  # type: ignore[literal-required]
            if value:
                look[css] = _SET.get(key) or _colour(str(value))
        looks[name] = look
    return looks


def _block_rule(style: type[Style]) -> str:
    from pygments.token import Token

    text = style.style_for_token(Token)["color"]
    colour = _colour(text) if text else "inherit"
    return f"pre {{ background: {style.background_color}; color: {colour}; }}"


def token_css(light: type[Style], dark: type[Style]) -> tuple[str, str]:
    """Rules for both styles over the same classes, each property set or reset in both,
    so nothing of the light style shows through the dark one. Classes that look alike
    share one rule."""
    light_looks, dark_looks = _looks(light), _looks(dark)
    rules: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
    for name, light_look in light_looks.items():
        dark_look = dark_looks[name]
        used = [p for p in _PROPERTIES if p[1] in light_look or p[1] in dark_look]
        for look, grouped in ((light_look, rules[0]), (dark_look, rules[1])):
            body = "; ".join(f"{css}: {look.get(css, unset)}" for _key, css, unset in used)
            if body:
                grouped.setdefault(body, []).append(f"pre .{name}")
    light_css, dark_css = (
        "\n".join(f"{', '.join(selectors)} {{ {body} }}" for body, selectors in grouped.items())
        for grouped in rules
    )
    return light_css, dark_css


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The export's whole stylesheet: page, code in light and dark, print."""
    from pygments.styles import get_style_by_name

    light, dark = get_style_by_name(LIGHT_CODE_STYLE), get_style_by_name(DARK_CODE_STYLE)
    light_tokens, dark_tokens = token_css(light, dark)
    return "\n".join(
        [
            _PAGE_CSS.strip(),
            _block_rule(light),
            light_tokens,
            f"@media {DARK} {{",
            _block_rule(dark),
            dark_tokens,
            "}",
            _PRINT_CSS.strip(),
        ]
    )


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if not language:
        return None
    try:
        # stripnl=False: a block's leading and trailing blank lines are the author's.
        return get_lexer_by_name(language, stripnl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter

    # nowrap: only the spans; markdown-it wraps them in <pre><code class="language-…">.
    return HtmlFormatter(nowrap=True)


class Highlighter:
    """markdown-it's ``highlight`` option for one export: code as escaped, classed
    ``<span>`` runs, within a budget of characters.

    Pygments lexes about 100,000 characters a second, so the time an export takes
    stays linear in its length and bounded: code past the budget (a block that would
    exceed what is left of it) is left as a plain block, and :attr:`plain_blocks`
    counts those for the page to say so.
    """

    def __init__(self, budget: int | None = None) -> None:
        #: Characters of code this export may highlight.
        self.budget = CODE_BUDGET if budget is None else budget
        self.remaining = self.budget
        self.plain_blocks = 0

    def __call__(self, code: str, language: str, _attributes: str = "") -> str:
        """The spans of ``code``; ``""`` (markdown-it then escapes it as a plain block) for an
        unknown or absent language or past the budget."""
        lexer = _lexer(language.strip().lower())
        if lexer is None:
            return ""
        if len(code) > self.remaining:
            self.plain_blocks += 1
            return ""
        self.remaining -= len(code)
        from pygments import highlight

        try:
            return highlight(code, lexer, _formatter())
        except Exception:  # a lexer tripping over hostile text costs its colours, not the export
            return ""
