"""Start the terminal UI."""

from __future__ import annotations


def run_tui() -> int:
    """Run the Textual app until the person quits; with no terminal, say so and refuse."""
    import gc
    import sys

    from llamachat.exit_codes import EXIT_OK, EXIT_USAGE

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            "llamachat: the chat window needs a terminal (stdin and stdout); "
            "to use a pipe, run `llamachat ask` (see llamachat --help).",
            file=sys.stderr,
        )
        return EXIT_USAGE

    from llamachat.tui.app import LlamaChatApp

    app = LlamaChatApp()
    # Everything imported so far lives for the whole session: keep it out of the garbage
    # collector's full passes, which otherwise stall the UI for 100 ms and more.
    gc.freeze()
    app.run()
    return EXIT_OK
