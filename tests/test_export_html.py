"""The HTML export's code highlighting, light/dark stylesheet and print rules, read from the page.

No browser is needed: the page's structure is checked (classed spans, one stylesheet, no
script or inline style, the media queries and what they hold, escaping).
``scripts/html_export_screenshots.py`` shows the same page in headless Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from llamachat.store import html_style
from llamachat.store.db import Store
from llamachat.store.export import export

PYTHON = "```python\n\ndef f(x):\n    return x < 2  # <b>not bold</b>\n\n```\n"
DARK = "screen and (prefers-color-scheme: dark)"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def page_of(store: Store, *replies: str) -> str:
    c = store.create_conversation(title="code")
    parent = store.add_message(c.id, "user", "show me").id
    for reply in replies:
        parent = store.add_message(c.id, "assistant", reply, parent_id=parent).id
    return export(store.load(c.id), "html")


def stylesheet_of(page: str) -> str:
    assert page.count("<style>") == 1 and page.count("</style>") == 1
    return page.split("<style>", 1)[1].split("</style>", 1)[0]


def blocks(css: str) -> dict[str, str]:
    """Top-level rules under ``""`` and each ``@media`` body under its condition."""
    found: dict[str, str] = {"": ""}
    depth, start, head = 0, 0, ""
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                head = css[start:index].strip()
                start = index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                if head.startswith("@media"):
                    condition = head.removeprefix("@media").strip()
                    found[condition] = found.get(condition, "") + css[start:index]
                else:
                    found[""] += f"{head} {{{css[start:index]}}}\n"
                start = index + 1
    assert depth == 0
    return found


def token_rules(css: str) -> dict[str, dict[str, str]]:
    """``{class: {property: value}}`` for the ``pre .class`` rules of one block of CSS."""
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, value in (d.split(":", 1) for d in body.split(";") if d.strip())
        )
        for selector in selectors.split(","):
            match = re.fullmatch(r"pre \.(\w+)", selector.strip())
            if match:
                rules.setdefault(match.group(1), {}).update(declarations)
    return rules


def light(colour: str) -> bool:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue > 200


def test_code_is_highlighted_into_classed_spans_and_one_stylesheet(store: Store) -> None:
    page = page_of(store, f"Here:\n\n{PYTHON}\nDone.")
    body = page.split("</head>", 1)[1]
    assert '<pre><code class="language-python">' in body
    assert '<span class="k">def</span>' in body and '<span class="nf">f</span>' in body
    assert '<span class="c1"># &lt;b&gt;not bold&lt;/b&gt;</span>' in body  # escaped, not bold
    assert '<span class="o">&lt;</span>' in body
    # The block's leading blank line is kept (Pygments strips it unless told not to).
    assert '<code class="language-python">\n<span class="k">def' in body
    lowered = page.lower()
    assert "<script" not in lowered and " style=" not in lowered  # classes only, no inline style
    assert lowered.count("<style") == 1
    assert "default-src 'none'" in page  # the Content-Security-Policy still forbids scripts
    css = stylesheet_of(page)
    light_rules = token_rules(blocks(css)[""])
    assert light_rules["k"]["color"].lower() == "#a90d91"  # xcode's keywords, as the TUI's light
    assert token_rules(blocks(css)[DARK])["k"]["color"].lower() == "#66d9ef"  # monokai's


def test_the_dark_scheme_resets_whatever_the_light_one_sets(store: Store) -> None:
    css = blocks(stylesheet_of(page_of(store, PYTHON)))
    assert set(css) == {"", DARK, "print"}  # the dark look is for screens only, never print
    light_rules, dark_rules = token_rules(css[""]), token_rules(css[DARK])
    assert len(light_rules) > 40
    for name, declarations in light_rules.items():
        # Every property the light style sets on a class is set again in the dark one, so
        # no light colour shows through on a dark background.
        assert set(declarations) <= set(dark_rules.get(name, {})), name
    # A pair of styles that disagree more: "default" bolds keywords and italicises comments.
    from pygments.styles import get_style_by_name

    light_css, dark_css = html_style.token_css(
        get_style_by_name("default"), get_style_by_name("monokai")
    )
    light_rules, dark_rules = token_rules(light_css), token_rules(dark_css)
    assert light_rules["k"]["font-weight"] == "bold" and dark_rules["k"]["font-weight"] == "normal"
    assert light_rules["c"]["font-style"] == "italic" and dark_rules["c"]["font-style"] == "normal"
    for name, declarations in light_rules.items():
        assert set(declarations) == set(dark_rules[name]), name
    assert re.search(r"(?m)^pre \{ background: #ffffff;", css[""])
    assert re.search(r"(?m)^pre \{ background: #272822; color: #f8f8f2;", css[DARK])
    assert "--bg: #16161a" in css[DARK] and "--bg: #16161a" not in css[""]


def test_print_wraps_code_breaks_between_messages_and_stays_light(store: Store) -> None:
    printed = blocks(stylesheet_of(page_of(store, PYTHON)))["print"]
    pre = re.search(r"(?m)^\s*pre \{([^}]*)\}", printed)
    assert pre is not None
    assert "white-space: pre-wrap" in pre.group(1) and "overflow: visible" in pre.group(1)
    assert re.search(r"article \{[^}]*break-inside: avoid-page", printed)
    assert re.search(r"article h2[^{]*\{[^}]*break-after: avoid-page", printed)
    assert "color-scheme: light" in printed
    colours = re.findall(r"--(?:bg|card|you): (#[0-9a-fA-F]{3,6})", printed)
    assert len(colours) == 3 and all(light(c if len(c) == 7 else "#ffffff") for c in colours)


@pytest.mark.parametrize(
    "fence",
    ["```nosuchlanguage", "```", '```"><script>alert(1)</script>', "``` {.weird attr}", "```C++"],
)
def test_unknown_or_absent_languages_are_plain_escaped_blocks(store: Store, fence: str) -> None:
    page = page_of(store, f"{fence}\n<b>x</b> & y\n```\n")
    body = page.split("</head>", 1)[1]
    if fence == "```C++":  # a known language in any case is highlighted
        assert '<span class="o">&lt;</span>' in body
        return
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y\n</code></pre>" in body
    assert "<span" not in body.split("<pre>", 1)[1].split("</pre>", 1)[0]
    assert "<script" not in body.lower() and "<b>" not in body


def test_a_failing_lexer_costs_colours_not_the_export(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> str:
        raise RecursionError("a lexer lost its way")

    monkeypatch.setattr("pygments.highlight", broken)
    page = page_of(store, PYTHON)
    assert (
        "return x &lt; 2  # &lt;b&gt;not bold&lt;/b&gt;" in page and '<span class="k">' not in page
    )


def test_hostile_code_stays_inert_when_highlighted(store: Store) -> None:
    osc52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"
    page = page_of(
        store, f'```python\nx = "</code></pre><script>alert(1)</script>{osc52}"\n\u202eevil\n```\n'
    )
    assert "<script" not in page.lower() and "</code></pre><" not in page.replace(
        "</code></pre>\n", ""
    )
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in page
    shown = re.sub(r"<[^>]*>", "", page.split("<pre>", 1)[1])  # the text a reader sees
    assert "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07" in shown and "\\u202eevil" in shown
    assert "\x1b" not in page and "\u202e" not in page


def test_highlighting_has_a_budget_and_says_what_it_left_plain(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_style, "CODE_BUDGET", 100)
    block = "```python\n" + "x = 1\n" * 10 + "```\n"  # 60 characters of code
    page = page_of(store, block, block, block)
    assert page.count('<span class="n">x</span>') == 10  # the first block only
    assert "2 code blocks past the first 100 characters of code are shown without" in page
    assert "without highlighting" not in page_of(store, block)  # 60 fit: nothing to say
    assert "1 code block past the first 100 characters of code is shown" in page_of(
        store, block, block
    )
    monkeypatch.undo()
    assert "without highlighting" not in page_of(store, block, block, block)


def test_a_long_conversation_grows_the_page_by_the_same_amount_per_message(store: Store) -> None:
    reply = "Some code:\n\n" + PYTHON
    small, large = page_of(store, *[reply] * 50), page_of(store, *[reply] * 200)
    assert small.count("<style>") == large.count("<style>") == 1  # one stylesheet, not one each
    per_message = (len(large) - len(small)) / 150
    assert per_message < 2 * len(page_of(store, reply).split("</head>", 1)[1])
    assert large.count('<span class="k">def</span>') == 200


def test_the_export_uses_the_tuis_default_code_styles() -> None:
    from llamachat.tui import themes

    assert html_style.LIGHT_CODE_STYLE == themes.LIGHT_CODE_STYLE
    assert html_style.DARK_CODE_STYLE == themes.DARK_CODE_STYLE
