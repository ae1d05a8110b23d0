"""What a pane shows when the store refuses a write (a full disk, a lock, a read-only file).

The reply stays on screen whole even when the store kept less of it (or none); the
reason is said once, in the pane's notice, not again under the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llamachat.store.db import StoreError
from llamachat.store.models import Message, MessageStatus

if TYPE_CHECKING:
    from textual.app import App


def shown_unsaved(stored: Message, text: str, sentence: str) -> Message:
    """The reply as shown after the store refused part of it: the ``text`` received, and
    its stored state unless that state only says it was not saved (the notice says so)."""
    shown = replace(stored, content=text)
    if stored.error == sentence or stored.status is MessageStatus.STREAMING:
        error = None if stored.error == sentence else stored.error
        shown = replace(shown, status=MessageStatus.COMPLETE, job_status=None, error=error)
    return shown


def repeats(notice: str | None, reason: str) -> bool:
    """Whether ``notice`` (the pane's notice being shown) already gives ``reason``."""
    return notice is not None and reason[1:] in notice


@contextmanager
def told_if_refused(app: App[Any]) -> Iterator[None]:
    """Run a change to the store; if the store refuses it (full, locked, read-only), say
    why in one notification and carry on, rather than letting the app fall over."""
    try:
        yield
    except StoreError as error:
        app.notify(str(error), severity="error", timeout=10)
