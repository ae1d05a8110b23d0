"""Full-text search over titles and messages (FTS5), with a substring fallback."""

from __future__ import annotations

import re
from functools import cache

from llamachat.store import validate
from llamachat.store.base import StoreBase
from llamachat.store.models import (
    MATCH_END,
    MATCH_START,
    SearchHit,
)
from llamachat.store.schema import LIVE_STATUSES

#: Only the newest this-many matches of a search are ranked: a word found in every
#: message ("the") would otherwise be scored 100,000 times.
RANKED_MATCHES = 1000

#: A query keeps its first words, each cut to a prefix of this length: a pasted page
#: searches as fast as a few words.
MAX_QUERY_WORDS = 16

MAX_WORD = 64

#: Characters of scripts written without spaces between words, and emoji: the word index
#: keeps a whole run of them as one word, so they are searched as substrings.
UNSEGMENTED_CHARACTERS = (
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u2600-\u27bf\U0001f000-\U0001faff]"
)


@cache
def _unsegmented() -> re.Pattern[str]:
    # Compiled by the first search, not on import: its wide ranges take about 3 ms to
    # compile, on the TUI's start path.
    return re.compile(UNSEGMENTED_CHARACTERS)


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


class SearchMixin(StoreBase):
    """Searching the store."""

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over titles and message content, best first, with snippets.

        Every word must match; the last may be a prefix. Among very many matches, the
        newest :data:`RANKED_MATCHES` are ranked. Matches are wrapped in
        :data:`MATCH_START` and :data:`MATCH_END`.
        """
        if _unsegmented().search(text):
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
