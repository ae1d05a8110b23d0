"""The first run without a key: the offline demo says how to talk to Llama 3.1 for real."""

from __future__ import annotations

import contextlib

from llamachat.config import Config
from llamachat.store.db import Store
from llamachat.tui.tabs import ConversationTabs

KEYLESS_HINT = (
    "Welcome to llamachat. No provider key was found, so you are talking to the offline demo.\n"
    "To use Llama 3.1 for real, set one of these and restart, or add a key in Settings (Ctrl+S):\n"
    "  DeepInfra: DEEPINFRA_API_KEY   ·   E2E Networks TIR: E2E_TIR_ACCESS_TOKEN and "
    "E2E_TIR_PROJECT_ID   ·   Segmind: SEGMIND_API_KEY\n"
    "Ctrl+L switches provider and model · F1 lists every key."
)


def has_any_key(config: Config) -> bool:
    """Whether a hosted provider has a key, or the person has a config file of their own."""
    hosted = ("deepinfra", "e2e", "segmind")
    return config.path.exists() or any(
        settings.kind in hosted and settings.key()[0] is not None
        for settings in config.providers.values()
    )


def welcome(tabs: ConversationTabs, store: Store | None, attempts: int = 50) -> None:
    """The keyless hint, in a chat with nothing in it yet (asked of the store: the pane
    may not have loaded its messages when this runs; on a loaded machine its tab may
    not even be mounted yet, so this tries again after the next refreshes)."""
    pane = tabs.active_chat
    if pane is None and attempts > 0:
        tabs.call_after_refresh(welcome, tabs, store, attempts - 1)
        return
    if pane is None or pane.session.path:
        return
    if pane.conversation_id is not None and store is not None:
        with contextlib.suppress(KeyError):
            if store.conversation(pane.conversation_id).active_leaf_id is not None:
                return
    pane.show_notice(KEYLESS_HINT)
