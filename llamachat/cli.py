"""The ``llamachat`` command: the TUI by default, plus ``ask``, ``providers`` and ``models``.

Only the standard library is imported at module level so that ``--help`` and
``ask`` start fast; ``ask`` never imports Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llamachat import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _add_provider_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--provider", help="provider name from `llamachat providers`")
    parser.add_argument(
        "--base-url",
        help="talk to this OpenAI-compatible server directly (no config needed)",
    )
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="with --base-url: the environment variable that holds the key",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="llamachat",
        description="Chat with Llama 3.1 on DeepInfra, E2E Networks TIR, Segmind or any "
        "OpenAI-compatible server. With no command, start the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"llamachat {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser(
        "ask",
        help="send one prompt and print the reply",
        description="Send one prompt and stream the reply to stdout. Status, usage, cost and "
        "credits go to stderr. Exit codes: 0 success, 1 provider or network failure, "
        "2 usage or config error, 130 interrupted.",
    )
    _add_provider_flags(ask)
    ask.add_argument("-m", "--model", help="model id (default: the provider's default)")
    ask.add_argument("-s", "--system", help="system prompt")
    ask.add_argument("--temperature", type=float, metavar="T")
    ask.add_argument("--max-tokens", type=int, metavar="N")
    ask.add_argument("--no-stream", action="store_true", help="ask for the whole reply at once")
    ask.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ask.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing on stderr but errors"
    )
    ask.add_argument("prompt", nargs="*", help="the prompt; absent or - reads stdin")

    providers = commands.add_parser(
        "providers", help="list providers, their base URL and whether a key is present"
    )
    providers.add_argument("--json", action="store_true", help="print JSON")

    models = commands.add_parser("models", help="list a provider's models")
    _add_provider_flags(models)
    models.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        from llamachat.ask import run_ask

        return run_ask(args)
    if args.command == "providers":
        from llamachat.listing import run_providers

        return run_providers(args)
    if args.command == "models":
        from llamachat.listing import run_models

        return run_models(args)
    from llamachat.tui_launcher import run_tui

    return run_tui()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
