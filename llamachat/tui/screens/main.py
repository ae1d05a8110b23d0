"""The screen under every modal."""

from __future__ import annotations

from llamachat.tui.screens.breakpoints import BreakpointScreen


class MainScreen(BreakpointScreen[None]):
    """The screen under every modal: conversations, tabs, status bar and footer."""

    AUTO_FOCUS = ""  # the app focuses the open tab's prompt itself
    #: Under 90 columns the sidebar starts hidden (Ctrl+B or Ctrl+F shows it).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-wide")]  # noqa: RUF012 (as Textual declares it)
