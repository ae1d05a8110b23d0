"""Writing ``config.toml``: atomically, readable only by its owner, and changing only what changed.

Saving from the app re-reads the file and applies just the keys that differ
between the settings the app started from and the ones it saves, with
``tomlkit`` (a TOML library that keeps comments, order and formatting). Keys
and whole ``[providers.NAME]`` tables added by hand while the app ran are kept;
a file that stopped being valid TOML meanwhile is never overwritten.
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from llamachat import locations
from llamachat.config import BOM, parse_config
from llamachat.config_errors import ConfigError, too_deep
from llamachat.secrets import Secret

_ABSENT = object()


def plain(value: Any) -> Any:
    """``value`` as TOML can hold it: keys revealed, ``None`` left out, tuples as lists."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def write_atomic(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` in one step, mode 0600 (the file may hold keys).

    A symbolic link at ``path`` (a dotfile manager's) is written through, never replaced:
    the new text goes into a temporary file beside the link's target, which then takes
    the target's place. A target only its owner can read keeps its mode (0400, 0700...);
    any other becomes 0600.
    """
    target = _written_through(path)
    mode = locations.PRIVATE_FILE
    try:
        info = target.stat()
        if stat.S_ISREG(info.st_mode) and not info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def _written_through(path: Path) -> Path:
    """The file a write to ``path`` lands in: ``path`` itself, or the end of its symlinks
    (which may not exist yet: a link whose target was removed makes it again)."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        return Path(os.path.realpath(path))
    except OSError:  # a loop of symbolic links
        raise ConfigError(
            f"{path} is a symbolic link that leads round in a loop, so nothing was saved."
        ) from None


def toml_text(raw: Mapping[str, Any]) -> str:
    """``raw`` as TOML text."""
    import tomlkit

    return tomlkit.dumps(plain(raw))


def write_config(raw: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write all of ``raw`` as the whole file (a first save, tests, scripts)."""
    path = locations.config_path() if path is None else path
    return write_atomic(path, toml_text(raw))


def _apply(table: MutableMapping[str, Any], before: Mapping[str, Any], after: Any) -> None:
    """Change in ``table`` (a part of the file) what differs between ``before`` and ``after``."""
    after = after if isinstance(after, Mapping) else {}
    for key, old in before.items():
        if key in after or key not in table:
            continue
        if isinstance(old, Mapping) and isinstance(table[key], MutableMapping):
            _apply(table[key], old, {})  # only what the app knew of; hand-added keys stay
            if not table[key]:
                del table[key]
        else:
            del table[key]
    for key, new in after.items():
        old = before.get(key, _ABSENT)
        current = table.get(key, _ABSENT)
        if isinstance(new, Mapping) and isinstance(current, MutableMapping):
            _apply(current, old if isinstance(old, Mapping) else {}, new)
        elif old is _ABSENT or old != new:
            table[key] = new


def save_changes(before: Mapping[str, Any], after: Mapping[str, Any], path: Path) -> Path:
    """Write to ``path`` only what changed from ``before`` to ``after``, onto the file as it is now.

    ``ConfigError`` (and nothing written) when the file on disk is no longer valid
    TOML, or when the result would not be a usable config.
    """
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise ConfigError(
            f"{path} could not be read again ({reason}), so nothing was saved."
        ) from None
    bom = BOM if text.startswith(BOM) else ""  # a byte order mark is kept as it was
    text = text.removeprefix(BOM)
    try:
        tomllib.loads(text)
        document = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, ParseError) as error:
        raise ConfigError(
            f"{path} was changed and is no longer valid TOML ({error}), so it was not "
            "overwritten: fix it, then save again."
        ) from None
    except RecursionError:
        raise ConfigError(f"{too_deep(path)} Nothing was saved.") from None
    _apply(document, plain(before), plain(after))
    result = tomlkit.dumps(document)
    if result == text and path.exists():
        return path
    parse_config(result, path)  # a change that would break the file is refused here
    return write_atomic(path, bom + result)
