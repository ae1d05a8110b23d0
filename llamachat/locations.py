"""Every path llamachat reads or writes, in one place.

``LLAMACHAT_CONFIG`` overrides the config file path and ``LLAMACHAT_DATA_DIR``
the data directory; tests and scripts rely on both.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

APP_NAME = "llamachat"
CONFIG_ENV = "LLAMACHAT_CONFIG"
DATA_DIR_ENV = "LLAMACHAT_DATA_DIR"


def config_path() -> Path:
    """The TOML config file (it may not exist yet)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """The directory holding the conversation database (created on demand by its users)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def database_path() -> Path:
    """The SQLite file that stores every conversation."""
    return data_dir() / "llamachat.sqlite3"


def user_themes_dir() -> Path:
    """Where a person's own theme files live, beside the config file."""
    return config_path().parent / "themes"


def builtin_themes_dir() -> Path:
    """The theme files shipped with llamachat (inside the wheel, or the checkout's ``themes/``)."""
    packaged = Path(__file__).resolve().parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "themes"


def unused_path(path: Path) -> Path:
    """``path`` if nothing is there (not even a link to nothing), else ``name-2.ext``,
    ``name-3.ext``... the first free one."""
    candidate, number = path, 1
    while os.path.lexists(candidate):  # a symbolic link, even to nothing, is taken
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


#: Chat history and exports are private: files readable by their owner only, folders too.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as a folder only its owner can open."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def create_private(path: Path) -> bool:
    """Create ``path`` empty and owner-only if it does not exist; ``True`` if it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (an export the person chose to
    write or replace). A symbolic link at ``path`` is never followed: ``OSError`` (``ELOOP``)."""
    write_new_private(path, text, replace=True)


def write_new_private(path: Path, text: str, *, replace: bool = False) -> None:
    """Write ``text`` to a new file at ``path``, readable by its owner only.

    An existing file is ``FileExistsError`` unless ``replace`` (then it is emptied,
    written and made owner-only). A symbolic link at ``path`` is never followed: it is
    ``FileExistsError`` too, or with ``replace`` an ``OSError`` (``ELOOP``).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # not /dev/null's mode
            os.fchmod(fd, PRIVATE_FILE)
        handle.write(text)


def readable_by_others(path: Path) -> bool:
    """Whether users other than the owner may read ``path`` (group or world bits set)."""
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False
