"""Theme files: TOML files in ``themes/`` (shipped) and beside the config (your own).

A file holds one theme: ``name``, ``dark`` and the colours Textual's ``Theme``
takes (``primary``, ``secondary``, ``accent``, ``background``, ``surface``,
``panel``, ``foreground``, ``warning``, ``error``, ``success``), an optional
``code_theme`` (the Pygments style of code blocks; by default one that suits a
light or dark theme) and an optional ``[variables]`` table. A broken file is
reported, never fatal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

_COLOURS = (
    "primary", "secondary", "accent", "background", "surface", "panel", "foreground",
    "warning", "error", "success", "boost",
)  # fmt: skip
#: Code styles readable on the code background ($panel) of dark and of light themes
#: (every token at least 3:1 on the shipped themes; "friendly" drew comments at 2.3:1).
#: Pygments styles known by name without importing Pygments' style registry at start (about
#: 5 ms of the first paint); a theme naming any other style is checked as Pygments would.
KNOWN_CODE_STYLES = frozenset(
    {"monokai", "xcode", "github-dark", "dracula", "nord", "one-dark", "solarized-dark",
     "solarized-light", "gruvbox-dark", "gruvbox-light", "default", "friendly", "vs", "native"}
)  # fmt: skip
DARK_CODE_STYLE = "monokai"
LIGHT_CODE_STYLE = "xcode"
#: Where a theme keeps its code style (Textual themes carry no such field).
_CODE_VARIABLE = "code-theme"


def code_style(theme: Theme) -> str:
    """The Pygments style for code blocks under ``theme``: its own, or one for light or dark."""
    chosen = theme.variables.get(_CODE_VARIABLE)
    if chosen:
        return chosen
    return DARK_CODE_STYLE if theme.dark else LIGHT_CODE_STYLE


def load_theme(path: Path) -> Theme:
    """The theme in ``path``; ``ValueError`` with a plain reason if it is broken."""
    try:
        # utf-8-sig: an editor's byte order mark is not a TOML statement.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"is not valid TOML ({error})") from None
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        raise ValueError("is nested too deeply to be read") from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("has no name")
    if not isinstance(data.get("primary"), str):
        raise ValueError("has no primary colour")
    colours: dict[str, str] = {}
    for key in _COLOURS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"has a {key} that is not a colour")
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"has an invalid {key} colour {value!r}") from None
        colours[key] = value
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("has [variables] that is not a table")
    variables = {str(k): str(v) for k, v in variables.items()}
    code_theme = data.get("code_theme")
    if code_theme is not None:
        # A built-in style is known by name; importing it (a module per style) waits for
        # the first code block. Any other name is looked up as Pygments would (plugins).
        if str(code_theme) not in KNOWN_CODE_STYLES:
            from pygments.styles import STYLE_MAP, get_style_by_name
            from pygments.util import ClassNotFound

            if str(code_theme) not in STYLE_MAP:
                try:
                    get_style_by_name(str(code_theme))
                except ClassNotFound:
                    raise ValueError(f"has an unknown code_theme {code_theme!r}") from None
        variables[_CODE_VARIABLE] = str(code_theme)
    return Theme(
        name=name,
        dark=bool(data.get("dark", True)),
        variables=variables,
        **colours,  # type: ignore[arg-type]
    )


def load_themes(directories: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every theme file in ``directories``, and one sentence per broken file."""
    themes: list[Theme] = []
    problems: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                themes.append(load_theme(path))
            except ValueError as reason:
                problems.append(f"{path.name} {reason}")
    return themes, problems


def set_theme_before_start(app: App[Any], name: str) -> None:
    """Make the registered theme ``name`` the theme of ``app`` before it runs.

    Setting ``app.theme`` runs Textual's watcher, which re-parses every stylesheet and
    restyles every widget; at start, before anything is parsed, that was a second and a
    third parse of all the CSS (about 60 ms of the first paint). Before the app runs this
    does the rest of what that watcher does, so the first parse uses the theme's colours:
    the theme's classes on the app, the ANSI colour filter, the CSS variables. (Nothing
    listens to the theme signal yet, and the app's own ``watch_theme`` has nothing to do.)
    """
    app.set_reactive(App.theme, name)
    theme = app.current_theme
    classes = {old: False for old in app.classes if old.startswith("-theme-")}
    classes |= {f"-theme-{theme.name}": True, "-dark-mode": theme.dark}
    app.update_classes(classes | {"-light-mode": not theme.dark}, update=False)
    app._refresh_truecolor_filter(app.ansi_theme)  # as App._watch_theme does (Textual 8.2)
    app.stylesheet.set_variables(app.get_css_variables())


def install_themes(app: App[Any], directories: Iterable[Path], wanted: str | None) -> None:
    """Register the theme files in ``directories`` and use ``wanted`` (else llama-night),
    set before the app runs (see :func:`set_theme_before_start`);
    a theme file that cannot be used, or a theme that is not there, is said once."""
    themes, problems = load_themes(directories)
    for theme in themes:
        app.register_theme(theme)
    if problems:
        app.notify(
            "Some theme files were skipped: " + "; ".join(problems) + ".",
            severity="warning",
            timeout=12,
        )
    wanted = wanted or "llama-night"
    if wanted in app.available_themes:
        set_theme_before_start(app, wanted)
        return
    app.notify(f"The theme '{wanted}' is not available; using llama-night.", severity="warning")
    fallback = "llama-night" if "llama-night" in app.available_themes else "textual-dark"
    set_theme_before_start(app, fallback)
