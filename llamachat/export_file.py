"""Writing a transcript to a file, for ``history export`` and the TUI's export dialog alike.

An export is readable by its owner only, never written through a symbolic link, and
never written over an existing file unless the person chose to replace it.
"""

from __future__ import annotations

import errno
from pathlib import Path

from llamachat import locations


class ExportRefused(Exception):
    """The export was not written; ``str()`` is the sentence saying why."""

    def __init__(self, sentence: str, *, exists: bool = False, usage: bool = True) -> None:
        super().__init__(sentence)
        #: The file is there and replacing it was not asked for.
        self.exists = exists
        #: The person can fix it by choosing another path or option (not a failing disk).
        self.usage = usage


def write_text(text: str, path: Path, *, replace: bool) -> None:
    """Write an export's ``text`` to ``path``, making its folder (``ExportRefused``)."""
    link = f"Could not write {path}: it is a symbolic link, and export does not follow one."
    exists = f"Could not write {path}: it already exists."
    if path.is_symlink():
        raise ExportRefused(link)
    if path.exists() and not replace:
        raise ExportRefused(exists, exists=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        locations.write_new_private(path, text, replace=replace)
    except FileExistsError:  # made meanwhile
        raise ExportRefused(link if path.is_symlink() else exists, exists=True) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ExportRefused(link) from None
        raise ExportRefused(f"Could not write {path}: {error.strerror}.", usage=False) from None
