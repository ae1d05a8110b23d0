"""Start the terminal UI."""

from __future__ import annotations


def run_tui() -> int:
    """Run the Textual app until the person quits."""
    import gc

    from llamachat.tui.app import LlamaChatApp

    app = LlamaChatApp()
    # Everything imported so far lives for the whole session: keep it out of the garbage
    # collector's full passes, which otherwise stall the UI for 100 ms and more.
    gc.freeze()
    app.run()
    return 0
