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

    import gc

    # No collection passes while the app's modules are imported and its first screen is
    # built (tens of thousands of objects that all live for the session: 20-40 ms of the
    # first paint); the app freezes them and collects again once that screen is painted.
    gc.disable()
    try:
        from llamachat.tui.app import LlamaChatApp

        app = LlamaChatApp()
        app.run()
    finally:
        gc.enable()
    return EXIT_OK
