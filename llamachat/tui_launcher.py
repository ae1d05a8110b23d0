"""Start the terminal UI."""

from __future__ import annotations


def run_tui() -> int:
    """Run the Textual app until the person quits; with no terminal, say so and refuse."""
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

    app = LlamaChatApp()  # which keeps what start-up built out of the collector's passes
    app.run()
    return EXIT_OK
