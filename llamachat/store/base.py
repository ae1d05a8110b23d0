"""The store's connection: opening (read-only when it must), migrating, locking, faults.

WAL mode, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` write transactions let
the TUI and an ``ask`` in another terminal write at once without "database is locked".
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self

from llamachat import locations
from llamachat.store import health
from llamachat.store.health import Fault
from llamachat.store.schema import MIGRATIONS, SCHEMA_VERSION

#: Seconds a write waits for another process's write to finish before saying it is locked.
BUSY_TIMEOUT = 15.0


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""

    def __init__(self, message: str, fault: Fault | None = None) -> None:
        super().__init__(message)
        #: What kind of trouble it is (full disk, lock, read-only, damage), when known.
        self.fault = fault


def this_owner() -> str:
    """Who is writing: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether the process named by ``owner`` is still running (unknown hosts count as alive)."""
    if not owner:
        return False
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` and create files beside it (journals)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _detail(error: BaseException) -> str:
    if isinstance(error, OSError):
        return error.strerror or ""
    return str(error)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their BEGIN ... END bodies)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


class StoreBase:
    """The connection and its plumbing; :class:`~llamachat.store.db.Store` adds the rest."""

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = path
        self._lock = threading.RLock()
        self.owner = this_owner()
        #: Opened for reading only (the file or its folder cannot be written).
        self.read_only = False
        #: Why no more writes go into this file (it was found damaged), once found.
        self.broken: str | None = None
        self._busy_timeout = busy_timeout
        try:
            created = self._prepare_file()
        except OSError as error:
            raise self._fault(error) from None
        try:
            self._open(read_only=not created and not _writable(path))
        except StoreError as error:
            if error.fault is not Fault.READ_ONLY or self.read_only:
                raise
            # SQLite found it cannot write here (a read-only mount, say): read only.
            self._open(read_only=True)

    def _open(self, *, read_only: bool) -> None:
        """Connect and bring the schema up to date (a read-only file must be up to date)."""
        self._db = self._connect(read_only=read_only)
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _prepare_file(self) -> bool:
        """Make the data dir and an empty database file, owner-only; ``True`` if it is new."""
        if self.path.exists():
            return False
        locations.private_dir(self.path.parent)
        return locations.create_private(self.path)

    def _connect(self, *, read_only: bool) -> sqlite3.Connection:
        """A connection with the pragmas set; read-only ones never write or create files."""
        self.read_only = read_only
        try:
            if read_only:
                db = self._connect_read_only()
            else:
                db = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
        except sqlite3.Error as error:
            raise self._fault(error) from None
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            if not read_only:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            db.close()
            raise self._fault(error) from None
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        """A read-only connection; where SQLite cannot even make its shared-memory index
        beside the file (a read-only folder), the file is read as unchanging."""
        uri = self.path.absolute().as_uri()
        db = sqlite3.connect(
            f"{uri}?mode=ro", uri=True, timeout=self._busy_timeout,
            isolation_level=None, check_same_thread=False,
        )  # fmt: skip
        try:
            db.execute("PRAGMA user_version").fetchone()
        except sqlite3.OperationalError as error:
            # A read-only folder (READ_ONLY) or mount (CANTOPEN: no -shm file can be made).
            if health.fault_of(error) not in (Fault.READ_ONLY, Fault.NO_ACCESS):
                raise
            db.close()
            db = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
        return db

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks).

        A full disk, a lock, a read-only or damaged file becomes a :class:`StoreError`
        saying which; once the file is found damaged, no write goes into it again.
        """
        with self._lock:
            if self.broken is not None:
                raise StoreError(self.broken, Fault.CORRUPT)
            if self.read_only:
                raise StoreError(health.sentence(Fault.READ_ONLY, self.path), Fault.READ_ONLY)
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._fault(error) from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as error:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error) and health.fault_of(error) is not None:
                    raise self._fault(error) from None
                raise

    @contextmanager
    def transaction(self, *, bulk: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction for many statements (an import): all of it is kept, or none.

        ``bulk``: for a caller that has checked every value and reference itself (an
        import), foreign keys and ``CHECK`` constraints are not checked row by row (the
        ``IN`` lists of the checks, built again for every row, were most of an import's
        insert time), and the page cache is larger while it runs. All three are put back
        afterwards, whatever happens.
        """
        with self._lock:
            if not bulk:
                with self._write() as db:
                    yield db
                return
            cache = self._db.execute("PRAGMA cache_size").fetchone()[0]
            self._db.execute("PRAGMA foreign_keys = OFF")
            self._db.execute("PRAGMA ignore_check_constraints = ON")
            self._db.execute("PRAGMA cache_size = -262144")
            try:
                with self._write() as db:
                    yield db
            finally:
                self._db.execute(f"PRAGMA cache_size = {int(cache)}")
                self._db.execute("PRAGMA ignore_check_constraints = OFF")
                self._db.execute("PRAGMA foreign_keys = ON")

    def _read(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as error:
                if health.fault_of(error) is None:
                    raise
                raise self._fault(error) from None

    def _fault(self, error: BaseException) -> StoreError:
        """``error`` as a :class:`StoreError` naming what happened to the file.

        A "malformed" error is confirmed with ``PRAGMA quick_check``; a damaged file is
        reported once and then refuses every write (writing into it spreads the damage).
        """
        fault = health.fault_of(error) or Fault.IO
        if fault is Fault.CORRUPT or (fault is Fault.IO and self._damaged()):
            fault = Fault.CORRUPT
            if self.broken is None:
                self.broken = health.sentence(fault, self.path, str(error))
            return StoreError(self.broken, fault)
        return StoreError(health.sentence(fault, self.path, _detail(error)), fault)

    def _damaged(self) -> bool:
        """Whether ``PRAGMA quick_check`` finds the file damaged (or cannot run at all)."""
        db = getattr(self, "_db", None)
        if db is None:
            return False
        try:
            return str(db.execute("PRAGMA quick_check").fetchone()[0]) != "ok"
        except sqlite3.DatabaseError as error:
            return health.fault_of(error) is Fault.CORRUPT
        except sqlite3.Error:
            return False

    def data_version(self) -> int:
        """A number that changes when another connection (another process) commits a change."""
        return int(self._read("PRAGMA data_version")[0][0])

    def schema_version(self) -> int:
        """The number of migrations applied to this database."""
        return int(self._read("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        """Apply missing migrations, one transaction each.

        An up-to-date file is only read (a locked or read-only one still opens). The
        version is read again under the write lock, so two processes opening a new
        database at once never apply the same migration twice.
        """
        version = self.schema_version()
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(
                f"The history database {self.path} was written by an older llamachat and is "
                "read-only, so it cannot be brought up to date: make it and its folder "
                "writable once.",
                Fault.READ_ONLY,
            )
        while True:
            with self._write() as db:
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
                self._check_version(version)
                if version == SCHEMA_VERSION:
                    return
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The conversation database {self.path} was written by a newer "
                f"llamachat (schema {version}; this version knows {SCHEMA_VERSION}): "
                "upgrade llamachat to open it. Nothing was changed."
            )

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s verdict: ``ok`` when the file is sound."""
        return str(self._read("PRAGMA integrity_check")[0][0])
