"""Reading an import file: only a regular file, only up to a size, JSON parsed fast."""

from __future__ import annotations

import gc
import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

#: The largest file ``import`` reads (``--max-size`` raises it).
MAX_IMPORT_BYTES = 1024 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


class ImportError_(ValueError):
    """A file that cannot be imported; the message says why and where."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while millions of acyclic objects are built (JSON, rows):
    it would otherwise walk them again and again, a third of the import's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_file(path: Path, limit: int = MAX_IMPORT_BYTES) -> Any:
    """The JSON in ``path``, read only if it is a regular file of at most ``limit`` bytes."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImportError_(f"There is no file {path}.") from None
    except OSError as error:
        raise ImportError_(f"Cannot read {path}: {error.strerror}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportError_(
            f"{path} is not a regular file (a folder, device or pipe): save the export to a "
            "file and import that."
        )
    too_big = ImportError_(
        f"{path} is larger than {_size(limit)}, the most llamachat imports: pass --max-size "
        "with a larger number of megabytes if this really is an export."
    )
    if info.st_size > limit:
        raise too_big
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        raise ImportError_(f"Cannot read {path}: {error.strerror}.") from None
    if len(raw) > limit:
        raise too_big
    try:
        with collector_paused():
            return orjson.loads(memoryview(raw)[3:] if raw.startswith(_BOM) else raw)
    except orjson.JSONDecodeError:
        pass  # read again below, slowly, for a sentence that says where and what
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_(f"{path} is not UTF-8 text (byte {error.start:,}).") from None
    del raw
    try:  # the json module also reads NaN: the checks then name the message and field
        with collector_paused():
            return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportError_(
            f"{path} is not JSON (line {error.lineno}, column {error.colno}): {error.msg}."
        ) from None
    except RecursionError:
        raise ImportError_(f"{path} nests its JSON too deeply to be an export.") from None


def _size(limit: int) -> str:
    return f"{limit / 1024**2:,.0f} MB" if limit >= 1024**2 else f"{limit:,} bytes"
