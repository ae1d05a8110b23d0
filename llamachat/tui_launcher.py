"""Start the terminal UI."""

from __future__ import annotations


def run_tui() -> int:
    """Run the Textual app until the person quits."""
    from llamachat.tui.app import LlamaChatApp

    LlamaChatApp().run()
    return 0
