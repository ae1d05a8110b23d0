"""Ctrl+C in a command that streams: stop at once, even if a library swallowed the cancellation."""

from __future__ import annotations

import asyncio
import signal


class Interrupts:
    """Turns SIGINT into a stop that cannot be lost.

    ``asyncio.run`` answers Ctrl+C by cancelling the main task; under load that
    cancellation was seen swallowed inside the HTTP stack, so the reply streamed to its
    end and ``ask`` exited 0. Here SIGINT both cancels the task and sets :attr:`hit`, which
    :meth:`check` turns into ``KeyboardInterrupt`` at the next event.
    """

    def __init__(self) -> None:
        self.hit = False
        self._task: asyncio.Task[object] | None = None

    def install(self) -> None:
        """Take over SIGINT for the running loop's current task (call inside the loop)."""
        self._task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._on_sigint)

    def _on_sigint(self) -> None:
        self.hit = True
        if self._task is not None:
            self._task.cancel()

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl+C was pressed."""
        if self.hit:
            raise KeyboardInterrupt
