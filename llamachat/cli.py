"""The ``llamachat`` command: the TUI by default, plus ``ask``, ``providers`` and ``models``.

Only the standard library is imported at module level so that ``--help`` and
``ask`` start fast; ``ask`` never imports Textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from llamachat import __version__
from llamachat.cli_args import (
    LAST_CONVERSATION,
    add_param_flags,
    continue_target,
    conversation_id,
    positive,
    valid_arguments,
)
from llamachat.context.policy import POLICY_NAMES
from llamachat.exit_codes import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE


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
    parser.add_argument(
        "--send-key",
        action="store_true",
        help="with -p and --base-url on another host: send the provider's key there too",
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
    ask.add_argument(
        "--persona",
        metavar="NAME",
        help="answer as a persona of the config file (its system prompt, model, parameters)",
    )
    add_param_flags(ask)
    ask.add_argument("--no-stream", action="store_true", help="ask for the whole reply at once")
    ask.add_argument(
        "--raw", action="store_true", help="on a terminal, print the text, not drawn Markdown"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ask.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing on stderr but errors"
    )
    ask.add_argument(
        "--continue",
        "-c",
        dest="continue_id",
        nargs="?",
        type=continue_target,
        const=LAST_CONVERSATION,
        metavar="ID",
        help="continue the last conversation, or conversation ID",
    )
    ask.add_argument(
        "--image",
        dest="images",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="send an image file or https:// URL with the prompt (repeatable; vision models)",
    )
    ask.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="FILE",
        help="send a text file with the prompt, as a fenced block with its name (repeatable)",
    )
    ask.add_argument(
        "-e",
        "--editor",
        action="store_true",
        help="with no prompt given: write it in $VISUAL or $EDITOR",
    )
    ask.add_argument("--no-save", action="store_true", help="do not store this exchange")
    ask.add_argument(
        "--context-overflow",
        choices=POLICY_NAMES,
        help="when the conversation outgrows the model's context window: send only the "
        "newest turns that fit (drop-oldest, the default), summarise the older ones into a "
        "new branch (summarize), or refuse (stop)",
    )
    ask.add_argument(
        "--reasoning", action="store_true", help="print the model's reasoning on stderr"
    )
    ask.add_argument(
        "prompt",
        nargs="*",
        help="the prompt; absent or - reads stdin; text piped in with a prompt is sent after it",
    )

    providers = commands.add_parser(
        "providers", help="list providers, their base URL and whether a key is present"
    )
    providers.add_argument("--json", action="store_true", help="print JSON")

    models = commands.add_parser("models", help="list a provider's models")
    _add_provider_flags(models)
    models.add_argument("--json", action="store_true", help="print JSON")

    history = commands.add_parser(
        "history", help="list, show, search or delete stored conversations"
    )
    history_commands = history.add_subparsers(
        dest="history_command", metavar="ACTION", required=True
    )
    listing = history_commands.add_parser("list", help="newest conversations first")
    listing.add_argument("--limit", type=positive, default=20, metavar="N")
    listing.add_argument("--json", action="store_true")
    show = history_commands.add_parser("show", help="print one conversation")
    show.add_argument("id", type=conversation_id)
    show.add_argument("--json", action="store_true")
    show.add_argument(
        "--raw", action="store_true", help="on a terminal, print the text, not drawn Markdown"
    )
    search = history_commands.add_parser("search", help="full-text search over every message")
    search.add_argument("query")
    search.add_argument("--limit", type=positive, default=20, metavar="N")
    search.add_argument("--json", action="store_true")
    delete = history_commands.add_parser(
        "delete", help="delete a conversation (asks first on a terminal)"
    )
    delete.add_argument("id", type=conversation_id)
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask")
    history_commands.add_parser(
        "resume", help="fetch the replies of queued jobs left by a stopped llamachat"
    )

    export = commands.add_parser("export", help="write a conversation as md, json, html or txt")
    export.add_argument("id", type=conversation_id)
    export.add_argument("--format", "-f", choices=("md", "json", "html", "txt"), default="md")
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write a new file here instead of stdout (- is stdout)",
    )
    export.add_argument(
        "--force", action="store_true", help="with -o: replace the file if it exists"
    )

    importer = commands.add_parser(
        "import", help="import a llamachat JSON export or an OpenAI-style message list"
    )
    importer.add_argument("file")
    importer.add_argument(
        "--max-size",
        type=positive,
        default=None,
        metavar="MB",
        help="refuse files larger than this many megabytes (default 1024; an export of a "
        "million messages is about 650)",
    )

    completion = commands.add_parser(
        "completion",
        help="print the shell completion script",
        description="Print the script that makes SHELL complete llamachat's commands, flags, "
        'provider and model names and conversation ids. Load it with: eval "$(llamachat '
        'completion bash)" in ~/.bashrc (zsh: the same in ~/.zshrc), or, for fish, '
        "llamachat completion fish > ~/.config/fish/completions/llamachat.fish",
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    return parser


def _continue_without_id(argv: list[str]) -> list[str]:
    """Let ``--continue``/``-c`` be followed by a prompt: only a number after it is an ID."""
    result = list(argv)
    for index, token in enumerate(result):
        if token == "--":
            break
        if token in ("-c", "--continue"):
            following = result[index + 1] if index + 1 < len(result) else ""
            if not following.isdigit():
                result[index] = "--continue=last"
    return result


_STREAMS = ("stdin", "stdout", "stderr")


def _missing_streams() -> list[str]:
    """Put ``/dev/null`` in place of any of stdin, stdout, stderr the process started without
    (``sys.stdout`` is ``None`` when fd 1 was closed); the names of those that were missing.

    Besides giving the code something to read and write, this takes the closed descriptor,
    so the database opened later cannot become fd 1 or 2 and receive what is printed there.
    """
    missing = [name for name in _STREAMS if getattr(sys, name) is None]
    for name in missing:
        number, mode = _STREAMS.index(name), "r" if name == "stdin" else "w"
        try:
            os.fstat(number)  # open after all (``sys.stdout = None`` in-process): left alone
            stream = open(os.devnull, mode, encoding="utf-8")  # noqa: SIM115
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != number:
                os.dup2(devnull, number)
                os.close(devnull)
            stream = open(number, mode, encoding="utf-8", closefd=False)  # noqa: SIM115
        setattr(sys, name, stream)
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (141 when the reader of stdout left)."""
    if "stdout" in _missing_streams():  # started with fd 1 closed: the result has nowhere to go
        print(
            "llamachat: standard output is closed, so there is nowhere to write; nothing was "
            "done (to discard the output, send it to /dev/null).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer, and exit
        from llamachat.completion import complete

        complete(parser)
    args = valid_arguments(parser.parse_args(_continue_without_id(raw)))
    try:
        return _run(args)
    except KeyboardInterrupt:  # Ctrl+C anywhere else: a transaction in progress is rolled back
        print("llamachat: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # ``llamachat history list | head -1``
        from llamachat.ask_output import silence_stdout

        silence_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    if args.command == "ask":
        from llamachat.ask import run_ask

        return run_ask(args)
    if args.command == "providers":
        from llamachat.listing import run_providers

        return run_providers(args)
    if args.command == "models":
        from llamachat.listing import run_models

        return run_models(args)
    if args.command == "completion":
        from llamachat.completion import shell_script

        sys.stdout.write(shell_script(args.shell))
        return 0
    if args.command in ("history", "export", "import"):
        from llamachat import history_cli

        handler = {
            "list": history_cli.run_list,
            "show": history_cli.run_show,
            "search": history_cli.run_search,
            "delete": history_cli.run_delete,
            "resume": history_cli.run_resume,
            "export": history_cli.run_export,
            "import": history_cli.run_import,
        }[getattr(args, "history_command", None) or args.command]
        return handler(args)
    from llamachat.tui_launcher import run_tui

    return run_tui()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
