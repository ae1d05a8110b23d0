"""The conversation store: one SQLite file that never loses a word.

WAL mode, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` write
transactions let the TUI and an ``ask`` in another terminal write at once
without "database is locked". Replies being written carry their owner (host
and pid), so a restart can tell a reply another live process is still
streaming from one whose process died (marked ``interrupted``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamachat import locations
from llamachat.store import health, paths, validate
from llamachat.store.health import Fault
from llamachat.store.models import (
    MATCH_END,
    MATCH_START,
    Branch,
    Conversation,
    ConversationSummary,
    ConversationView,
    Message,
    MessageStatus,
    SearchHit,
    Totals,
)
from llamachat.store.schema import LIVE_STATUSES, MIGRATIONS, NEXT_ID, SCHEMA_VERSION

NEXT_CONVERSATION_ID = NEXT_ID.format(table="conversations")
NEXT_MESSAGE_ID = NEXT_ID.format(table="messages")

#: Queued jobs older than this are gone at the provider (Segmind keeps results one hour).
JOB_LIFETIME = 3600.0
#: Only the newest this-many matches of a search are ranked: a word found in every
#: message ("the") would otherwise be scored 100,000 times.
RANKED_MATCHES = 1000
TITLE_LENGTH = 60
#: Seconds a write waits for another process's write to finish before saying it is locked.
BUSY_TIMEOUT = 15.0

INTERRUPTED_SENTENCE = (
    "llamachat stopped before this reply was complete: the text received so far is kept; "
    "regenerate to get a whole reply."
)
EXPIRED_SENTENCE = (
    "This queued job is more than an hour old, so the provider no longer keeps its result: "
    "send the prompt again."
)
UNDATED_SENTENCE = (
    "This queued job's start time is unreadable or later than this machine's clock, so it "
    "was not fetched with your key: send the prompt again."
)
UNCONFIRMED_SENTENCE = (
    "llamachat stopped before the provider confirmed the job, so it cannot be resumed: "
    "send the prompt again."
)

_MESSAGE_COLUMNS = (
    "id, conversation_id, parent_id, role, content, images, provider, model, params, status, "
    "finish_reason, prompt_tokens, completion_tokens, cost_usd, credits_usd, job_id, job_status, "
    "error, error_detail, raw, created_at, completed_at, ttft, tokens_per_second, reasoning, "
    "reasoning_seconds"
)
_UPDATABLE = {
    "content",
    "status",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "credits_usd",
    "job_id",
    "job_status",
    "error",
    "error_detail",
    "raw",
    "completed_at",
    "ttft",
    "tokens_per_second",
    "provider",
    "model",
    "reasoning",
    "reasoning_seconds",
}
_CONVERSATION_SETTINGS = {"system_prompt", "provider", "model", "params", "title"}


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


#: A query keeps its first words, each cut to a prefix of this length: a pasted page
#: searches as fast as a few words.
MAX_QUERY_WORDS = 16
MAX_WORD = 64


#: Characters of scripts written without spaces between words, and emoji: the word index
#: keeps a whole run of them as one word, so they are searched as substrings.
UNSEGMENTED = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u2600-\u27bf\U0001f000-\U0001faff]"
)
SNIPPET_CONTEXT = 40


def _like_escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _marked(text: str, terms: list[str]) -> str:
    """A snippet of ``text`` around the first term, every term in it between match markers."""
    lowered = text.lower()
    first = min((i for i in (lowered.find(t.lower()) for t in terms) if i >= 0), default=0)
    start, end = max(0, first - SNIPPET_CONTEXT), first + SNIPPET_CONTEXT * 2
    window = text[start:end]
    alternatives = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
    window = re.sub(alternatives, lambda m: f"{MATCH_START}{m.group(0)}{MATCH_END}", window,
                    flags=re.IGNORECASE)  # fmt: skip
    return ("…" if start else "") + window + ("…" if end < len(text) else "")


def _merged(titles: list[SearchHit], messages: list[SearchHit], limit: int) -> list[SearchHit]:
    """A few title hits first, then messages: titles must not crowd messages out."""
    title_share = max(1, limit // 4)
    return (titles[:title_share] + messages + titles[title_share:])[:limit]


def fts_query(text: str) -> str:
    """A safe FTS5 query from what a person typed: every word must match, the last as a prefix."""
    words = re.findall(r"\w+", text)[:MAX_QUERY_WORDS]
    if not words:
        return ""
    quoted = [f'"{w[:MAX_WORD]}"' + ("*" if len(w) > MAX_WORD else "") for w in words]
    if len(words[-1]) >= 2 and not quoted[-1].endswith("*"):  # a one-letter prefix would
        quoted[-1] += "*"  # match half the index
    return " ".join(quoted)


def _title_from(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH - 1].rstrip() + "…"
    return line or "New chat"


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(value: Any) -> Any:
    return validate.loads(value)


def _dict(value: Any) -> dict[str, Any] | None:
    loaded = validate.loads(value)
    return loaded if isinstance(loaded, dict) else None


def _images(value: Any) -> tuple[str, ...]:
    loaded = validate.loads(value)
    if not isinstance(loaded, list):
        return ()
    return tuple(url for url in loaded if isinstance(url, str))


def _status(value: Any) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError:
        return MessageStatus.FAILED


def _message(row: Sequence[Any]) -> Message:
    """A message row read defensively: a value no reader could use reads as ``None``."""
    text = validate.text
    return Message(
        id=row[0],
        conversation_id=row[1],
        parent_id=row[2] if isinstance(row[2], int) else None,
        role=row[3] if row[3] in ("user", "assistant", "system") else "user",
        content=text(row[4]) or "",
        images=_images(row[5]) if row[5] is not None else (),
        provider=text(row[6]),
        model=text(row[7]),
        params=_dict(row[8]) if row[8] is not None else None,
        status=_status(row[9]),
        finish_reason=text(row[10]),
        prompt_tokens=validate.count(row[11]),
        completion_tokens=validate.count(row[12]),
        cost_usd=validate.amount(row[13]) if row[13] is not None else None,
        credits_usd=validate.amount(row[14]) if row[14] is not None else None,
        job_id=text(row[15]),
        job_status=text(row[16]),
        error=text(row[17]),
        error_detail=text(row[18]),
        raw=_dict(row[19]) if row[19] is not None else None,
        created_at=validate.timestamp(row[20]),
        completed_at=validate.timestamp(row[21]),
        ttft=validate.seconds(row[22]),
        tokens_per_second=validate.seconds(row[23]),
        reasoning=text(row[24]) or "",
        reasoning_seconds=validate.seconds(row[25]),
    )


def _conversation(row: Sequence[Any]) -> Conversation:
    """A conversation row read defensively: a value no reader could use reads as ``None``."""
    return Conversation(
        id=row[0],
        title=validate.text(row[1]) or "",
        created_at=validate.timestamp(row[2]),
        updated_at=validate.timestamp(row[3]),
        system_prompt=validate.text(row[4]),
        provider=validate.text(row[5]),
        model=validate.text(row[6]),
        params=_dict(row[7]) or {},
        archived=row[8] == 1,
        pinned=row[9] == 1,
        draft=validate.text(row[10]) or "",
        active_leaf_id=row[11] if isinstance(row[11], int) else None,
    )


_CONVERSATION_COLUMNS = (
    "id, title, created_at, updated_at, system_prompt, provider, model, params, archived, pinned, "
    "draft, active_leaf_id"
)


@dataclass(frozen=True)
class Recovery:
    """What :meth:`Store.recover` found after a crash or restart."""

    interrupted: int
    expired: int
    resumable: int


class Store:
    """All access to the conversation database. Safe to share between threads."""

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

    @classmethod
    def open_default(cls) -> Store:
        """The store in the data dir (``LLAMACHAT_DATA_DIR`` overrides it), recovered.

        Every command opens the store through here, so the first one after a crash
        already shows a reply its dead process left ``streaming`` as ``interrupted``.
        A store that cannot be written now (read-only, locked, full) is opened without
        recovering: the next start that can write does it.
        """
        store = cls(locations.database_path())
        if store.read_only:
            return store
        try:
            store.recover()
        except StoreError as error:
            if error.fault in (Fault.READ_ONLY, Fault.LOCKED, Fault.FULL):
                return store
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------

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

    # --- conversations ------------------------------------------------------------

    def create_conversation(
        self,
        *,
        title: str = "",
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        created_at: float | None = None,
    ) -> Conversation:
        """A new, empty conversation; ``ValueError`` for a value the store cannot keep."""
        now = time.time() if created_at is None else validate.required_time(created_at)
        validate.check_texts(title=title, system_prompt=system_prompt, provider=provider,
                             model=model)  # fmt: skip
        validate.check_json("params", params)
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, system_prompt, "
                f"provider, model, params) VALUES ({NEXT_CONVERSATION_ID}, ?, ?, ?, ?, ?, ?, ?)",
                (title, now, now, system_prompt, provider, model, json.dumps(params or {})),
            )
            conversation_id = cursor.lastrowid
        assert conversation_id is not None
        return self.conversation(conversation_id)

    def conversation(self, conversation_id: int) -> Conversation:
        """One conversation; ``KeyError`` if there is none with that id."""
        rows = self._read(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        )
        if not rows:
            raise KeyError(conversation_id)
        return _conversation(rows[0])

    def latest_conversation_id(self) -> int | None:
        """The most recently updated conversation, archived ones left out."""
        rows = self._read(
            "SELECT id FROM conversations WHERE archived = 0 ORDER BY updated_at DESC LIMIT 1"
        )
        return rows[0][0] if rows else None

    def list_conversations(
        self, limit: int = 100, *, archived: bool = False, pinned_first: bool = False
    ) -> list[ConversationSummary]:
        """Conversations, newest first (pinned ones on top if asked), with counts and providers.

        Reads one page of conversations through an index, and the counts kept beside them:
        as fast with a million messages as with ten.
        """
        order = "pinned DESC, updated_at DESC" if pinned_first else "updated_at DESC"
        rows = self._read(
            "SELECT id, title, updated_at, pinned, archived, message_count FROM conversations "
            f"WHERE archived = ? ORDER BY {order} LIMIT ?",
            (int(archived), limit),
        )
        providers: dict[int, list[str]] = {}
        if rows:
            for conversation_id, provider in self._read(
                "SELECT conversation_id, provider FROM conversation_providers "
                f"WHERE conversation_id IN ({', '.join('?' for _ in rows)}) "
                "ORDER BY conversation_id, provider",
                [r[0] for r in rows],
            ):
                providers.setdefault(conversation_id, []).append(validate.text(provider) or "")
        return [
            ConversationSummary(
                id=r[0],
                title=validate.text(r[1]) or "",
                updated_at=validate.timestamp(r[2]),
                pinned=bool(r[3]),
                archived=bool(r[4]),
                message_count=validate.count(r[5]) or 0,
                providers=tuple(providers.get(r[0], ())),
            )
            for r in rows
        ]

    def _update_conversation(self, conversation_id: int, sql: str, args: Sequence[Any]) -> None:
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE conversations SET {sql} WHERE id = ?", (*args, conversation_id)
            )
            if cursor.rowcount == 0:
                raise KeyError(conversation_id)

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title."""
        self._update_conversation(conversation_id, "title = ?", (" ".join(title.split()),))

    def set_archived(self, conversation_id: int, archived: bool) -> None:
        """Archive or unarchive a conversation."""
        self._update_conversation(conversation_id, "archived = ?", (int(archived),))

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pin or unpin a conversation."""
        self._update_conversation(conversation_id, "pinned = ?", (int(pinned),))

    def save_draft(self, conversation_id: int, draft: str) -> None:
        """Keep the unsent prompt of a conversation."""
        self._update_conversation(conversation_id, "draft = ?", (draft,))

    def update_settings(self, conversation_id: int, **settings: Any) -> None:
        """Change the system prompt, provider, model or generation parameters."""
        unknown = set(settings) - _CONVERSATION_SETTINGS
        if unknown:
            raise ValueError(f"not conversation settings: {sorted(unknown)}")
        if "params" in settings:
            settings["params"] = json.dumps(settings["params"] or {})
        assignments = ", ".join(f"{name} = ?" for name in settings)
        self._update_conversation(conversation_id, assignments, tuple(settings.values()))

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and all its messages."""
        with self._write() as db:
            # Cut the chain first: each message's ON DELETE CASCADE would otherwise delete
            # its reply inside the same statement, one level deeper each time, and a chain
            # of more than 1,000 messages failed with "too many levels of trigger recursion".
            db.execute("UPDATE messages SET parent_id = NULL WHERE conversation_id = ?",
                       (conversation_id,))  # fmt: skip
            cursor = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cursor.rowcount == 0:
                raise KeyError(conversation_id)

    # --- messages -----------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        parent_id: int | None = None,
        images: Sequence[str] = (),
        status: MessageStatus = MessageStatus.COMPLETE,
        provider: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        created_at: float | None = None,
        make_active: bool = True,
        **fields: Any,
    ) -> Message:
        """Store a message (as a child of ``parent_id``) and, by default, make it the active leaf.

        The first user message of an untitled conversation gives it its title.
        """
        now = time.time() if created_at is None else validate.required_time(created_at)
        status = MessageStatus(status)
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not message fields: {sorted(unknown)}")
        if role not in ("user", "assistant", "system"):
            raise ValueError(f"not a message role: {role!r}")
        validate.check_texts(content=content, provider=provider, model=model)
        validate.check_json("params", params)
        extra = validate.message_fields(fields)
        if "raw" in extra:
            extra["raw"] = _json(extra["raw"])
        live = status in (MessageStatus.QUEUED, MessageStatus.STREAMING)
        columns = [
            "conversation_id", "parent_id", "role", "content", "images", "provider", "model",
            "params", "status", "created_at", "owner", "heartbeat_at", *extra,
        ]  # fmt: skip
        values = [
            conversation_id, parent_id, role, content, _json(list(images)) if images else None,
            provider, model, _json(params), status.value, now,
            self.owner if live else None, now if live else None, *extra.values(),
        ]  # fmt: skip
        with self._write() as db:
            cursor = db.execute(
                f"INSERT INTO messages (id, {', '.join(columns)}) "
                f"VALUES ({NEXT_MESSAGE_ID}, {', '.join('?' for _ in columns)})",
                values,
            )
            message_id = cursor.lastrowid
            db.execute(
                "UPDATE conversations SET updated_at = ?, "
                "active_leaf_id = CASE WHEN ? THEN ? ELSE active_leaf_id END, "
                "title = CASE WHEN title = '' AND ? = 'user' THEN ? ELSE title END "
                "WHERE id = ?",
                (now, make_active, message_id, role, _title_from(content), conversation_id),
            )
        assert message_id is not None
        return self.message(message_id)

    def message(self, message_id: int) -> Message:
        """One message; ``KeyError`` if there is none with that id."""
        rows = self._read(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise KeyError(message_id)
        return _message(rows[0])

    def update_message(self, message_id: int, **fields: Any) -> None:
        """Change a message's content, status, usage, job state or error fields."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not message fields: {sorted(unknown)}")
        fields = validate.message_fields(fields)
        if "raw" in fields:
            fields["raw"] = _json(fields["raw"])
        if "status" in fields:
            fields["status"] = MessageStatus(fields["status"]).value
        now = time.time()
        assignments = [f"{name} = ?" for name in fields]
        values = list(fields.values())
        assignments.append("heartbeat_at = ?")
        values.append(now)
        with self._write() as db:
            db.execute(
                f"UPDATE messages SET {', '.join(assignments)} WHERE id = ?", (*values, message_id)
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? "
                "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                (now, message_id),
            )

    def replies_to(self, message_id: int) -> list[Message]:
        """The messages whose parent is ``message_id``, oldest first."""
        rows = self._read(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE parent_id = ? ORDER BY id",
            (message_id,),
        )
        return [_message(r) for r in rows]

    def delete_message(self, message_id: int) -> None:
        """Delete a message and every message below it."""
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def messages(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, every branch, oldest first."""
        rows = self._read(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [_message(r) for r in rows]

    def load(self, conversation_id: int, last: int | None = None) -> ConversationView:
        """A conversation with its active path and where each message sits among its siblings.

        With ``last``, only the newest ``last`` messages of the active path are read (a
        million-message conversation opens at once); ``earlier`` counts the rest, which
        :meth:`earlier` reads a batch at a time. Without it, every message of every branch.
        """
        conversation = self.conversation(conversation_id)
        if last is not None:
            return self._load_window(conversation, last)
        messages = self.messages(conversation_id)
        by_id = {m.id: m for m in messages}
        children: dict[int | None, list[int]] = {}
        for m in messages:
            children.setdefault(m.parent_id, []).append(m.id)
        leaf = conversation.active_leaf_id
        if leaf not in by_id:
            leaf = messages[-1].id if messages else None
        path: list[Message] = []
        seen: set[int] = set()
        while leaf is not None and leaf in by_id and leaf not in seen:
            seen.add(leaf)
            path.append(by_id[leaf])
            leaf = by_id[leaf].parent_id
        path.reverse()
        branches: dict[int, Branch] = {}
        for m in path:
            siblings = children.get(m.parent_id, [m.id])
            branches[m.id] = Branch(siblings.index(m.id) + 1, len(siblings), tuple(siblings))
        return ConversationView(conversation, path, branches, messages)

    def _load_window(self, conversation: Conversation, last: int) -> ConversationView:
        leaf = paths.active_leaf(self._read, conversation.id, conversation.active_leaf_id)
        path = [] if leaf is None else self.path_to(leaf, last=last + 1)
        branches = paths.branches(self._read, conversation.id, path[-last:] if last else [])
        if len(path) <= last:  # the whole path
            if paths.size(self._read, conversation.id) == len(path):  # and no other branch
                return ConversationView(conversation, path, branches, path, 0)
            totals = paths.path_totals(self._read, conversation.id, leaf)[1]
            return ConversationView(conversation, path, branches, path, 0, totals)
        path = path[-last:] if last else []
        return ConversationView(conversation, path, branches, path, None)

    def path_totals(self, conversation_id: int) -> tuple[int, Totals]:
        """The active path's length and tokens, and what the conversation cost.

        It reads through a connection of its own, without the store's lock, so a thread
        can count a million messages while the TUI keeps using the store.
        """
        db = sqlite3.connect(self.path, timeout=15.0)
        try:
            db.execute("PRAGMA query_only = ON")

            def read(sql: str, args: Sequence[Any] = ()) -> list[Any]:
                return db.execute(sql, args).fetchall()

            rows = read("SELECT active_leaf_id FROM conversations WHERE id = ?", (conversation_id,))
            leaf = paths.active_leaf(read, conversation_id, rows[0][0] if rows else None)
            return paths.path_totals(read, conversation_id, leaf)
        finally:
            db.close()

    def earlier(self, message_id: int, count: int) -> tuple[list[Message], dict[int, Branch]]:
        """The ``count`` messages before ``message_id`` on its path, oldest first, with
        where each sits among its siblings (loading more of a windowed conversation)."""
        parent = self.message(message_id).parent_id
        if parent is None or count <= 0:
            return [], {}
        path = self.path_to(parent, last=count)
        conversation_id = path[0].conversation_id if path else 0
        return path, paths.branches(self._read, conversation_id, path)

    def distance_from_leaf(self, conversation_id: int, message_id: int) -> int | None:
        """How far above the active leaf ``message_id`` is (0: it is the leaf), or None
        when it is not on the active path."""
        conversation = self.conversation(conversation_id)
        leaf = paths.active_leaf(self._read, conversation_id, conversation.active_leaf_id)
        if leaf is None:
            return None
        return paths.distance(self._read, leaf, message_id, paths.bound(self._read))

    def path_to(self, message_id: int, last: int | None = None) -> list[Message]:
        """The messages from the root down to ``message_id`` (only the newest ``last``)."""
        if last is not None:
            return [
                _message(r) for r in paths.window(self._read, _MESSAGE_COLUMNS, message_id, last)
            ]
        rows = self._read(
            f"""
            WITH RECURSIVE chain(id, depth) AS (
                SELECT ?, 0
                UNION ALL
                SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
                WHERE m.parent_id IS NOT NULL
            )
            SELECT {", ".join("m." + c.strip() for c in _MESSAGE_COLUMNS.split(","))}
            FROM chain JOIN messages m ON m.id = chain.id ORDER BY chain.depth DESC
            """,
            (message_id,),
        )
        return [_message(r) for r in rows]

    def set_active_leaf(self, conversation_id: int, message_id: int | None) -> None:
        """Make the branch ending at ``message_id`` the one shown and continued."""
        self._update_conversation(conversation_id, "active_leaf_id = ?", (message_id,))

    def switch_to(self, message_id: int) -> None:
        """Show the branch through ``message_id``, down to its newest descendant."""
        rows = self._read("SELECT conversation_id FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise KeyError(message_id)
        leaf = message_id
        while True:
            child = self._read(
                "SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", (leaf,)
            )
            if not child:
                break
            leaf = child[0][0]
        self.set_active_leaf(rows[0][0], leaf)

    # --- search ---------------------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over titles and message content, best first, with snippets.

        Every word must match; the last may be a prefix. Among very many matches, the
        newest :data:`RANKED_MATCHES` are ranked. Matches are wrapped in
        :data:`MATCH_START` and :data:`MATCH_END`.
        """
        if UNSEGMENTED.search(text):
            return self._substring_search(text, limit)
        query = fts_query(text)
        if not query:
            return []
        title_rows = self._read(
            f"""
            SELECT c.id, c.title, highlight(conversations_fts, 0, '{MATCH_START}', '{MATCH_END}'),
                   bm25(conversations_fts), c.updated_at
            FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid
            WHERE conversations_fts MATCH ? ORDER BY rank LIMIT ?
            """,
            (query, limit),
        )
        message_rows = self._read(
            f"""
            SELECT m.conversation_id, c.title, m.id, m.role,
                   snippet(messages_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 16),
                   bm25(messages_fts), c.updated_at
            FROM messages_fts
            JOIN messages m ON m.id = messages_fts.rowid
            JOIN conversations c ON c.id = m.conversation_id
            WHERE messages_fts MATCH :q AND messages_fts.rowid >= COALESCE((
                SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q
                ORDER BY rowid DESC LIMIT 1 OFFSET :ranked - 1), 0)
            ORDER BY rank LIMIT :limit
            """,
            {"q": query, "ranked": RANKED_MATCHES, "limit": limit},
        )
        as_text, when = validate.text, validate.timestamp
        titles = [
            SearchHit(r[0], as_text(r[1]) or "", None, None, as_text(r[2]) or "", r[3], when(r[4]))
            for r in title_rows
        ]
        messages = [
            SearchHit(r[0], as_text(r[1]) or "", r[2], r[3], as_text(r[4]) or "", r[5], when(r[6]))
            for r in message_rows
        ]
        return _merged(titles, messages, limit)

    def _substring_search(self, text: str, limit: int) -> list[SearchHit]:
        """Search by substring, newest first: for scripts written without spaces (Chinese,
        Japanese, Korean) and emoji, which the word index cannot split into words."""
        terms = [term[:MAX_WORD] for term in text.split()][:MAX_QUERY_WORDS]
        patterns = [f"%{_like_escaped(term)}%" for term in terms]
        every = " AND ".join("{column} LIKE ? ESCAPE '\\'" for _ in terms)
        title_rows = self._read(
            f"SELECT id, title, updated_at FROM conversations WHERE {every.format(column='title')}"
            " ORDER BY updated_at DESC LIMIT ?",
            (*patterns, limit),
        )
        message_rows = self._read(
            "SELECT m.conversation_id, c.title, m.id, m.role, m.content, c.updated_at "
            "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            f"WHERE m.status NOT IN {LIVE_STATUSES} AND {every.format(column='m.content')} "
            "ORDER BY m.id DESC LIMIT ?",
            (*patterns, limit),
        )
        as_text, when = validate.text, validate.timestamp
        titles = []
        for r in title_rows:
            title = as_text(r[1]) or ""
            titles.append(
                SearchHit(r[0], title, None, None, _marked(title, terms), 0.0, when(r[2]))
            )
        messages = []
        for r in message_rows:
            snippet = _marked(as_text(r[4]) or "", terms)
            messages.append(
                SearchHit(r[0], as_text(r[1]) or "", r[2], r[3], snippet, 0.0, when(r[5]))
            )
        return _merged(titles, messages, limit)

    # --- recovery -------------------------------------------------------------------

    def recover(self, now: float | None = None) -> Recovery:
        """After a crash: mark orphaned streaming replies interrupted, expire old queued jobs."""
        now = time.time() if now is None else now
        rows = self._read(
            "SELECT id, status, owner, created_at, job_id FROM messages "
            "WHERE status IN ('queued', 'streaming')"
        )
        interrupted = expired = resumable = 0
        for message_id, status, owner, created_at, job_id in rows:
            if owner_alive(owner) and owner != self.owner:
                continue
            if owner == self.owner:
                continue
            if status == MessageStatus.STREAMING:
                self._finish_orphan(
                    message_id, owner, MessageStatus.INTERRUPTED, INTERRUPTED_SENTENCE
                )
                interrupted += 1
            elif not job_id:
                self._finish_orphan(message_id, owner, MessageStatus.FAILED, UNCONFIRMED_SENTENCE)
                expired += 1
            elif not _young_job(created_at, now):
                when = validate.timestamp(created_at)
                old = when is not None and when <= now + CLOCK_SLACK
                sentence = EXPIRED_SENTENCE if old else UNDATED_SENTENCE
                self._finish_orphan(message_id, owner, MessageStatus.FAILED, sentence)
                expired += 1
            else:
                resumable += 1
        return Recovery(interrupted, expired, resumable)

    def _finish_orphan(
        self, message_id: int, owner: str | None, status: MessageStatus, sentence: str
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE messages SET status = ?, error = ?, "
                "completed_at = COALESCE(heartbeat_at, ?), owner = NULL "
                "WHERE id = ? AND owner IS ? AND status IN ('queued', 'streaming')",
                (status.value, sentence, time.time(), message_id, owner),
            )

    def resumable_jobs(
        self,
        now: float | None = None,
        *,
        include_stopped: bool = True,
        conversation_id: int | None = None,
    ) -> list[Message]:
        """Queued replies with a job id, young enough to fetch, that no live process is polling.

        ``include_stopped=False`` leaves out the jobs a person stopped (Esc): they are
        resumed when asked for, not on their own.
        """
        now = time.time() if now is None else now
        stopped = "" if include_stopped else "AND job_status IS NOT 'stopped' "
        rows = self._read(
            f"SELECT {_MESSAGE_COLUMNS}, owner FROM messages "
            "WHERE status IN ('queued', 'streaming') AND status = 'queued' "  # messages_live
            f"AND job_id IS NOT NULL AND created_at > ? {stopped}"
            "AND (? IS NULL OR conversation_id = ?) ORDER BY id",
            (now - JOB_LIFETIME, conversation_id, conversation_id),
        )
        return [
            _message(r)
            for r in rows
            if _young_job(r[20], now) and (not owner_alive(r[-1]) or r[-1] == self.owner)
        ]

    def release(self, message_id: int) -> None:
        """Give up a queued reply so that a later start (or another process) can resume it."""
        with self._write() as db:
            db.execute("UPDATE messages SET owner = NULL WHERE id = ?", (message_id,))

    def claim(self, message_id: int) -> bool:
        """Take over a queued reply from a dead process; ``False`` if someone else has it."""
        rows = self._read("SELECT owner FROM messages WHERE id = ?", (message_id,))
        if not rows:
            return False
        owner = rows[0][0]
        if owner_alive(owner) and owner != self.owner:
            return False
        with self._write() as db:
            cursor = db.execute(
                "UPDATE messages SET owner = ?, heartbeat_at = ? WHERE id = ? AND owner IS ?",
                (self.owner, time.time(), message_id, owner),
            )
            return cursor.rowcount == 1


#: A job's time may be this far ahead of the clock (a clock stepped back) and still count.
CLOCK_SLACK = 60.0


def _young_job(created_at: Any, now: float) -> bool:
    """Whether a job's stored time is readable, not in the future and under an hour old."""
    when = validate.timestamp(created_at)
    return when is not None and now - JOB_LIFETIME < when <= now + CLOCK_SLACK


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
