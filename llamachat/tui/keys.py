"""Every key binding's id, and the config file's ``[keymap]`` checked against them.

Each binding of llamachat's widgets and screens has an id (``app.new_chat``,
``message.copy``); ``[keymap]`` moves any of them to other keys with Textual's keymap.
Before the app starts, an unknown id, or a key that another binding in force at the
same time already has, is said in one sentence and that line of the keymap is not used:
a remap never silently takes a key from another binding.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen

#: Bindings in force at the same time on the main screen: the focused widget's, those of
#: the widgets around it, and the app's (a modal screen's are in force alone).
CHAINS: tuple[tuple[str, ...], ...] = (
    ("PromptInput", "ChatPane", "MainScreen", "LlamaChatApp"),
    ("MessageView", "MessageList", "ChatPane", "MainScreen", "LlamaChatApp"),
    ("EarlierRow", "MessageList", "ChatPane", "MainScreen", "LlamaChatApp"),
    ("Chip", "ChatPane", "MainScreen", "LlamaChatApp"),
    ("ConversationList", "Sidebar", "MainScreen", "LlamaChatApp"),
)


@dataclass(frozen=True)
class KeyBinding:
    """One binding with an id: where it is declared and its keys."""

    id: str
    owner: str
    keys: tuple[str, ...]
    description: str


def binding_classes() -> list[type[DOMNode]]:
    """llamachat's widget, screen and app classes that declare bindings (imports them all)."""
    import llamachat.tui

    for module in pkgutil.walk_packages(llamachat.tui.__path__, "llamachat.tui."):
        importlib.import_module(module.name)
    found: dict[type[DOMNode], None] = {}

    def walk(cls: type[DOMNode]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("llamachat.") and "BINDINGS" in vars(sub):
                found[sub] = None
            walk(sub)

    walk(DOMNode)
    return list(found)


def key_bindings(*, inherited: bool = False) -> list[KeyBinding]:
    """Every binding llamachat declares, with its id, owner and default keys; with
    ``inherited``, also those its classes get from Textual's (a TextArea's Ctrl+K), which a
    remap must not take either."""
    found = []
    for cls in binding_classes():
        bases = cls.__mro__ if inherited else (cls,)
        for base in bases:
            for b in vars(base).get("BINDINGS", ()):
                if isinstance(b, Binding):
                    description = b.description or b.action
                    found.append(
                        KeyBinding(b.id or "", cls.__name__, tuple(_keys(b.key)), description)
                    )
    return found


def _keys(key: str) -> list[str]:
    return [part.strip() for part in key.split(",") if part.strip()]


def _scopes(bindings: list[KeyBinding]) -> list[set[str]]:
    """The sets of owners whose bindings are in force together."""
    modal = {cls.__name__ for cls in binding_classes() if issubclass(cls, ModalScreen)}
    return [set(chain) for chain in CHAINS] + [{name} for name in sorted(modal)]


def check_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The lines of ``keymap`` that can be used, and one sentence per line that cannot."""
    bindings = key_bindings(inherited=True)
    known = {b.id for b in bindings if b.id}
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            problems.append(
                f"The keymap names '{binding_id}', which is no binding (F1 lists their ids); "
                "that line is not used."
            )
        else:
            usable[binding_id] = keys
    for binding_id, keys in list(usable.items()):
        clash = _clash(binding_id, _keys(keys), usable, bindings)
        if clash is not None:
            problems.append(
                f"The keymap gives {keys} to '{binding_id}', but {_named(clash)} has that key "
                "already; that line is not used."
            )
            del usable[binding_id]
    return usable, problems


def _named(binding: KeyBinding) -> str:
    if binding.id:
        return f"'{binding.id}' ({binding.description})"
    return f"the {binding.owner}'s own {binding.description or 'binding'}"


def _clash(
    binding_id: str, keys: list[str], keymap: Mapping[str, str], bindings: list[KeyBinding]
) -> KeyBinding | None:
    """Another binding in force with ``binding_id`` that holds one of ``keys`` after the remap."""
    owners = {b.owner for b in bindings if b.id == binding_id}
    together = set().union(*(scope for scope in _scopes(bindings) if scope & owners)) | owners
    for other in bindings:
        if (other.id and other.id == binding_id) or other.owner not in together:
            continue
        other_keys = _keys(keymap[other.id]) if other.id and other.id in keymap else other.keys
        if set(other_keys) & set(keys):
            return other
    return None
