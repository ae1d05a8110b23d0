"""A screen that is built with the breakpoint classes of the terminal's size.

Textual gives a screen its breakpoint classes (``HORIZONTAL_BREAKPOINTS``) on its first
resize, after every widget under it has been styled; the new class then restyles them
all (about 9 ms of the main screen's first paint). Built with the class that resize will
give, the resize changes nothing. Resizes afterwards work as before.
"""

from __future__ import annotations

from textual.screen import Screen, ScreenResultType
from textual.types import NoActiveAppError


class BreakpointScreen(Screen[ScreenResultType]):
    """A :class:`Screen` whose breakpoint classes are set when it is built."""

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name, id, classes)
        try:
            app = self.app
        except NoActiveAppError:  # built outside an app: its first resize sets them
            return
        width, height = app.size
        # None: the app's breakpoints, as Textual reads them.
        horizontal = self.HORIZONTAL_BREAKPOINTS
        vertical = self.VERTICAL_BREAKPOINTS
        for breakpoints, size in (
            (app.HORIZONTAL_BREAKPOINTS if horizontal is None else horizontal, width),
            (app.VERTICAL_BREAKPOINTS if vertical is None else vertical, height),
        ):
            for breakpoint, class_name in sorted(breakpoints or [], reverse=True):
                if size >= breakpoint:  # the first that applies, as Textual picks it
                    self.add_class(class_name, update=False)
                    break
