"""What went wrong with the history database, in one plain sentence each.

SQLite reports a full disk, a lock held by another program, a read-only file
and a damaged file through the same exception types; a person needs to know
which it is, because only a damaged file should ever be moved aside.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import Enum
from pathlib import Path


class Fault(Enum):
    """Why the database could not be used."""

    FULL = "full"
    LOCKED = "locked"
    READ_ONLY = "read-only"
    NO_ACCESS = "no-access"
    CORRUPT = "corrupt"
    IO = "io"


#: SQLite's primary result codes (the low byte of an extended code).
_BY_CODE = {
    5: Fault.LOCKED,  # SQLITE_BUSY
    6: Fault.LOCKED,  # SQLITE_LOCKED
    8: Fault.READ_ONLY,  # SQLITE_READONLY
    10: Fault.IO,  # SQLITE_IOERR
    11: Fault.CORRUPT,  # SQLITE_CORRUPT
    13: Fault.FULL,  # SQLITE_FULL
    14: Fault.NO_ACCESS,  # SQLITE_CANTOPEN
    23: Fault.NO_ACCESS,  # SQLITE_AUTH
    26: Fault.CORRUPT,  # SQLITE_NOTADB
}
_BY_TEXT = (
    ("disk is full", Fault.FULL),
    ("database is locked", Fault.LOCKED),
    ("database table is locked", Fault.LOCKED),
    ("readonly database", Fault.READ_ONLY),
    ("malformed", Fault.CORRUPT),
    ("not a database", Fault.CORRUPT),
    ("unable to open database", Fault.NO_ACCESS),
    ("disk i/o error", Fault.IO),
)


def fault_of(error: BaseException) -> Fault | None:
    """The kind of ``error`` (``sqlite3.Error`` or ``OSError``); ``None`` for other errors."""
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return Fault.FULL
        if error.errno == errno.EROFS:
            return Fault.READ_ONLY
        if error.errno in (errno.EACCES, errno.EPERM):
            return Fault.NO_ACCESS
        return Fault.IO
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _BY_CODE:
        return _BY_CODE[code & 0xFF]
    text = str(error).lower()
    return next((fault for words, fault in _BY_TEXT if words in text), None)


def sentence(fault: Fault, path: Path, detail: str = "") -> str:
    """What happened to the database at ``path`` and what to do, in one sentence."""
    why = f" ({detail})" if detail else ""
    if fault is Fault.FULL:
        return f"The disk holding the history database {path} is full{why}: free some space."
    if fault is Fault.LOCKED:
        return (
            f"The history database {path} is locked by another program{why}: "
            "close it or wait for it to finish, then try again."
        )
    if fault is Fault.READ_ONLY:
        return (
            f"The history database {path} is read-only{why}, so nothing can be saved to it: "
            "make the file and its folder writable to save again."
        )
    if fault is Fault.NO_ACCESS:
        return (
            f"The history database {path} cannot be opened{why}: check that you may read "
            "and write it and its folder."
        )
    if fault is Fault.CORRUPT:
        return (
            f"The history database {path} is damaged{why}: move it aside to start afresh, "
            "or restore it from a backup."
        )
    return (
        f"The history database {path} could not be read or written{why}: the disk may be "
        "full or failing: free some space and check the disk."
    )


def not_saved(reason: str) -> str:
    """The one sentence shown when a reply (or its prompt) could not be saved."""
    return f"The reply could not be saved to the history: {reason[:1].lower()}{reason[1:]}"


def not_sent(reason: str) -> str:
    """The one sentence shown when a prompt was not sent because it could not be saved."""
    return (
        "Your prompt was not sent (it is back in the input) because it could not be saved "
        f"to the history: {reason[:1].lower()}{reason[1:]}"
    )
