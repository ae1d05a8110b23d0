"""Shell completion for bash, zsh and fish, by argcomplete from the argparse parser itself.

``llamachat completion bash|zsh|fish`` prints the script to load (argcomplete's own);
the shell then runs ``llamachat`` with ``_ARGCOMPLETE`` set, and :func:`complete` answers
and exits before anything else is done. Commands and flags come from the parser; provider
names and models from the config, conversation ids (titled) from the store. Nothing is
fetched over the network, and argcomplete is imported only in those two cases, so an
ordinary start does not pay for it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

SHELLS = ("bash", "zsh", "fish")

#: The most conversations offered (newest first).
CONVERSATION_LIMIT = 200


def completing() -> bool:
    """Whether the shell started this process to ask for completions."""
    return "_ARGCOMPLETE" in os.environ


def shell_script(shell: str) -> str:
    """The script that makes ``shell`` complete ``llamachat`` (``completion SHELL``)."""
    from argcomplete.shell_integration import shellcode

    return shellcode(["llamachat"], shell=shell)


def _config() -> Any:
    from llamachat.config import load_config

    return load_config()


def providers(**_: Any) -> dict[str, str]:
    """Provider names from the config (built-in ones included), each with its kind."""
    try:
        config = _config()
    except Exception:  # a broken config completes nothing rather than a traceback
        return {}
    return {
        name: settings.display_name or settings.kind for name, settings in config.providers.items()
    }


def models(parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    """The models known without asking a server: of ``-p`` if given, else the default."""
    try:
        config = _config()
        name = getattr(parsed_args, "provider", None) or config.default_provider or "demo"
        settings = config.providers[name]
    except Exception:
        return []
    found = [*settings.models, *([settings.default_model] if settings.default_model else [])]
    try:
        from llamachat.providers.registry import build_provider

        found += [m.id for m in build_provider(settings, config.network).known_models()]
    except Exception:
        pass
    return list(dict.fromkeys(found))


def conversations(**_: Any) -> dict[str, str]:
    """Conversation ids, newest first, each with its title (zsh and fish show it)."""
    from llamachat import locations
    from llamachat.textsafety import one_line

    path = locations.database_path()
    if not path.exists():  # completing must not create the database
        return {}
    try:
        from llamachat.store.db import Store

        with Store(path) as store:
            rows = store.list_conversations(CONVERSATION_LIMIT)
    except Exception:
        return {}
    return {str(row.id): one_line(row.title, 60) or "Untitled" for row in rows}


#: Which completer serves which argument, by its ``dest``.
COMPLETERS: dict[str, Callable[..., Any]] = {
    "provider": providers,
    "model": models,
    "id": conversations,
    "continue_id": conversations,
}


def _attach(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        completer = COMPLETERS.get(action.dest)
        if completer is not None:
            action.completer = completer  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _attach(sub)


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol)."""
    import argcomplete

    _attach(parser)
    argcomplete.autocomplete(parser, always_complete_options=False)
