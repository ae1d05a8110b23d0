"""Benchmark of the conversation store (``llamachat.store.db.Store``) at a large size.

What is built: a database of ``--messages`` messages (default 100,000) in
``--conversations`` conversations (default 5,000), in a temporary directory or at
``--db PATH``. One conversation holds exactly 2,000 messages in a single chain
(alternating user/assistant, and among the most recently updated, so it shows in the
list); the others share the rest with a skewed (log-normal) distribution, a few
regenerated replies (sibling branches), 1% pinned and 4% archived. Text is seeded
pseudo-English: 20-400 words drawn with a Zipf law from a vocabulary of ~4,000 words
(common English, technical words and made-up words), a long tail of rare names, and
code-like lines in some replies. Messages are inserted in time order across
conversations, as a real history would be, so a long conversation's rows are spread
over the whole table. Every message goes through ``Store.add_message`` (its own
``BEGIN IMMEDIATE`` transaction, the FTS triggers firing) unless that is projected to
take more than ``--api-budget`` seconds (default 120), in which case the rest is
bulk-inserted with ``executemany`` in one transaction on ``store._db`` with the very
columns ``add_message`` writes (the triggers still fire), and ``updated_at``,
``active_leaf_id`` and ``title`` of the conversations are then set as ``add_message``
would have. ``--build api`` or ``--build bulk`` forces one way. A database at
``--db`` that already holds messages is reused as it is.

What is measured (after 3 warm-ups, 30 timed runs each; median and p95 in ms, warm
page cache, one connection, as the TUI uses it):

1. ``store.list_conversations(100)``, and with ``pinned_first=True``. Target < 20 ms.
2. ``store.search(q, 20)`` for a rare word, the most common word, a two-word query and
   a three-letter prefix, picked from the database's own FTS vocabulary (the report
   shows the FTS expression and how many messages match). Target < 50 ms each.
3. ``store.load(cid)`` of the 2,000-message conversation. Target < 100 ms.
4. ``store.latest_conversation_id()``.

It also reports the build time and method, and the database size (main file plus
``-wal``) after ``PRAGMA wal_checkpoint(TRUNCATE)``, with a per-table breakdown when
SQLite has the ``dbstat`` table.

Run from the repository root::

    .venv/bin/python benchmarks/bench_store.py [--db PATH] [--messages N]
        [--conversations N] [--runs N] [--build auto|api|bulk] [--json-only]

A human-readable report is printed, then one JSON summary line (only that line with
``--json-only``). The exit status is 0 whether or not targets are met.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from llamachat.store.db import Store  # noqa: E402
from llamachat.store.models import MessageStatus  # noqa: E402
from llamachat.store.rows import title_from  # noqa: E402
from llamachat.store.search import fts_query  # noqa: E402

SEED = 20240611
BIG_CONVERSATION = 2_000
#: The history ends here (2026-01-01 UTC) so that a rebuild gives the same file.
HISTORY_END = 1_767_225_600.0
HISTORY_SPAN = 400 * 86_400.0
PINNED_SHARE = 0.01
ARCHIVED_SHARE = 0.04
REGENERATE_SHARE = 0.04
CODE_SHARE = 0.25
RARE_WORD_SHARE = 0.3
TARGET_LIST_MS = 20.0
TARGET_SEARCH_MS = 50.0
TARGET_LOAD_MS = 100.0

PROVIDERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("deepinfra", ("meta-llama/Meta-Llama-3.1-70B-Instruct", "Qwen/Qwen2.5-72B-Instruct")),
    ("e2e", ("llama3_1_8b_instruct", "mistral_7b_instruct")),
    ("segmind", ("llama-v3p1-405b-instruct", "mixtral-8x22b-instruct")),
    ("openai", ("gpt-4o-mini", "gpt-4o")),
    ("demo", ("demo-stream",)),
)
PROVIDER_WEIGHTS = (5, 2, 2, 3, 1)

COMMON_WORDS = """
the to of and a in is it you that for on this with be as are can not your if or use
from have at by will an but do which so should we what one there all when they more
also would like then need here how can't its about only into some than other these may
just each first make any using way time because new get two set data file see value
each example case where well work need sure much same very does both many out line
run most call add way could even still over back used want between before after them
their our us he she his her was were been has had did doing done this those such why
way something thing things right left up down off again further once own few very
""".split()  # noqa: SIM905 (a word list reads better as text)

TECH_WORDS = """
function variable database query index table column schema migration transaction
server client request response error exception stack trace thread process memory cache
buffer stream socket timeout retry latency throughput config configuration setting
option argument parameter return type class method object instance module package import
library framework version release build compile test assert mock fixture coverage
deploy container docker kubernetes cluster node pod service endpoint router handler
middleware session token auth authentication permission user account password hash
encrypt decrypt key certificate python rust javascript typescript golang java sql sqlite
postgres redis queue worker job scheduler cron event listener callback promise async
await future loop iterator generator list dict tuple string integer float boolean
null none array vector matrix tensor model training inference prompt completion embedding
gradient layer neural network weight bias batch epoch dataset loss accuracy metric log
logger logging debug warning info output input path directory folder permission shell
terminal command script bash git commit branch merge rebase conflict diff patch review
pull push remote origin upstream feature bug fix refactor performance benchmark profile
regex parse parser token lexer syntax grammar compiler interpreter runtime garbage
collector pointer reference borrow lifetime trait interface generic template macro
""".split()  # noqa: SIM905

ONSETS = (  # noqa: SIM905
    "b bl br c ch cl cr d dr f fl fr g gl gr h j k l m n p pl pr qu r s sh sk sl sp st str t th tr v w z"
).split()
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou", "oa", "ie")
CODAS = ("", "", "", "n", "r", "l", "s", "t", "nd", "rk", "st", "m", "x", "ng", "ck")

CODE_TEMPLATES = (
    "def {a}_{b}({c}: {t}) -> {t}:",
    "    return {c}.{a}({b}_{d})",
    "for {c} in {a}_{b}:",
    "    if {c} is None:",
    "        raise ValueError('{a} {b} {d}')",
    "{a}_{b} = {{'{c}': {n}, '{d}': {n}}}",
    "const {a}{B} = await {c}.{d}({n});",
    "SELECT {a}, {b} FROM {c} WHERE {d} = {n};",
    "let {a}_{b}: Vec<{T}> = {c}.iter().map(|x| x.{d}()).collect();",
    "$ {a} --{b} {c}/{d}.{e}",
    "import {a}.{b} as {c}",
    "    {a}_{b}.append({c}[{n}])",
)
TYPES = ("int", "str", "float", "bool", "list[str]", "dict[str, int]", "Path", "bytes")
EXTENSIONS = ("py", "rs", "ts", "toml", "json", "sql", "yaml", "md")


# --- text --------------------------------------------------------------------------


def _pseudo_word(rng: random.Random) -> str:
    syllables = rng.choice((2, 2, 2, 3, 3, 4))
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables - 1)) + (
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
    )


class TextMaker:
    """Seeded pseudo-English: Zipf-distributed words, sentences, paragraphs and code lines."""

    def __init__(self, rng: random.Random, vocabulary_size: int = 4_000, rare: int = 20_000):
        self.rng = rng
        common = list(dict.fromkeys(COMMON_WORDS))
        technical = [w for w in dict.fromkeys(TECH_WORDS) if w not in common]
        rng.shuffle(technical)
        seen = set(common) | set(technical)
        tail: list[str] = []
        while len(common) + len(technical) + len(tail) < vocabulary_size:
            word = _pseudo_word(rng)
            if word not in seen:
                seen.add(word)
                tail.append(word)
        self.words = common + technical + tail
        weights = [1.0 / (rank + 2.7) ** 1.1 for rank in range(len(self.words))]
        self.cumulative = list(_accumulate(weights))
        self.rare: list[str] = []
        while len(self.rare) < rare:
            word = _pseudo_word(rng) + rng.choice(("", "", "ia", "ton", "berg", "ix"))
            if word not in seen:
                seen.add(word)
                self.rare.append(word.capitalize())

    def _draw(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def prose(self, count: int) -> str:
        words = self._draw(count)
        if self.rng.random() < RARE_WORD_SHARE:
            words[self.rng.randrange(count)] = self.rng.choice(self.rare)
        paragraphs: list[str] = []
        sentences: list[str] = []
        i = 0
        while i < count:
            n = min(self.rng.randint(5, 22), count - i)
            sentence = words[i : i + n]
            i += n
            if n > 8 and self.rng.random() < 0.4:
                sentence[self.rng.randrange(2, n - 2)] += ","
            text = " ".join(sentence)
            sentences.append(text[0].upper() + text[1:] + self.rng.choice(".....?!:"))
            if len(sentences) >= self.rng.randint(2, 6):
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)

    def code(self, lines: int) -> str:
        rng = self.rng
        out = [f"```{rng.choice(('python', 'rust', 'ts', 'sql', 'bash', ''))}"]
        for _ in range(lines):
            a, b, c, d, e = (w.replace("'", "") for w in self._draw(5))
            out.append(
                rng.choice(CODE_TEMPLATES).format(
                    a=a,
                    b=b,
                    c=c,
                    d=d,
                    e=rng.choice(EXTENSIONS),
                    B=b.capitalize(),
                    n=rng.randint(0, 4096),
                    t=rng.choice(TYPES),
                    T=e.capitalize(),
                )
            )
        out.append("```")
        return "\n".join(out)

    def message(self, role: str) -> str:
        """A user prompt (20-150 words) or a reply (60-400 words, sometimes with code)."""
        rng = self.rng
        if role == "user":
            return self.prose(rng.randint(20, 150))
        total = rng.randint(60, 400)
        if rng.random() >= CODE_SHARE or total < 120:
            return self.prose(total)
        lines = rng.randint(3, 12)
        before = rng.randint(20, total - 4 * lines - 10)
        after = max(0, total - before - 4 * lines)
        parts = [self.prose(before), self.code(lines)]
        if after >= 10:
            parts.append(self.prose(after))
        return "\n\n".join(parts)


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


# --- plan --------------------------------------------------------------------------


@dataclass
class Step:
    """One message to insert: ``kind`` is ``user``, ``assistant`` or ``regenerate``."""

    at: float
    conversation: int
    kind: str


@dataclass
class ConversationPlan:
    index: int
    size: int
    start: float
    provider: str
    model: str
    steps: list[Step] = field(default_factory=list)


def _sizes(rng: random.Random, messages: int, conversations: int) -> list[int]:
    """Messages per conversation: index 0 is the big one, the rest log-normal, at least 1."""
    big = min(BIG_CONVERSATION, messages - (conversations - 1))
    if big < 1 or conversations < 1:
        raise SystemExit("--messages must be at least --conversations")
    rest, others = messages - big, conversations - 1
    if others == 0:
        return [messages]
    weights = [rng.lognormvariate(0.0, 0.9) for _ in range(others)]
    scale = (rest - others) / sum(weights)
    sizes = [1 + int(w * scale) for w in weights]
    short = rest - sum(sizes)
    order = sorted(range(others), key=lambda i: weights[i] * scale - int(weights[i] * scale))
    for i in order[-short:] if short > 0 else []:
        sizes[i] += 1
    return [big, *sizes]


def _gap(rng: random.Random, kind: str) -> float:
    """Seconds before a message: replies come quickly, prompts after a pause, sometimes days."""
    if kind != "user":
        return rng.uniform(3.0, 40.0)
    if rng.random() < 0.04:
        return rng.uniform(3_600.0, 5 * 86_400.0)
    return rng.expovariate(1 / 180.0) + 10.0


def make_plan(rng: random.Random, messages: int, conversations: int) -> list[ConversationPlan]:
    """Every conversation's messages with their times; index 0 holds the 2,000-message chain."""
    plans: list[ConversationPlan] = []
    for index, size in enumerate(_sizes(rng, messages, conversations)):
        provider = rng.choices([p for p, _ in PROVIDERS], weights=PROVIDER_WEIGHTS)[0]
        model = rng.choice(dict(PROVIDERS)[provider])
        kinds: list[str] = []
        while len(kinds) < size:
            if not kinds or kinds[-1] != "user":
                regenerate = (
                    index != 0 and kinds and kinds[-1] != "user" and rng.random() < REGENERATE_SHARE
                )
                kinds.append("regenerate" if regenerate else "user")
            else:
                kinds.append("assistant")
        offsets: list[float] = []
        clock = 0.0
        for kind in kinds:
            clock += _gap(rng, kind) if offsets else 0.0
            offsets.append(clock)
        duration = clock
        if index == 0:  # the long conversation is still going: among the newest
            start = HISTORY_END - rng.uniform(0, 7_200.0) - duration
        else:
            latest = max(HISTORY_END - HISTORY_SPAN, HISTORY_END - duration - 60.0)
            start = rng.uniform(HISTORY_END - HISTORY_SPAN, latest)
        plan = ConversationPlan(index, size, start, provider, model)
        plan.steps = [Step(start + o, index, k) for o, k in zip(offsets, kinds, strict=True)]
        plans.append(plan)
    return plans


# --- build -------------------------------------------------------------------------


@dataclass
class ConversationState:
    id: int
    leaf: int | None = None
    last_user: int | None = None
    updated_at: float = 0.0
    title_from: str | None = None


@dataclass
class BuildReport:
    method: str
    seconds: float
    api_messages: int
    bulk_messages: int
    api_ms_per_message: float | None
    text_seconds: float


def _message_fields(
    rng: random.Random, plan: ConversationPlan, role: str, content: str, at: float
) -> dict[str, Any]:
    """What ``chat.send``/``ReplyRecorder`` store on a prompt or on a finished reply."""
    fields: dict[str, Any] = {"provider": plan.provider, "model": plan.model}
    if role == "assistant":
        completion = max(1, int(len(content.split()) * 1.3))
        ttft = rng.uniform(0.15, 2.5)
        speed = rng.uniform(25.0, 140.0)
        fields.update(
            params={"temperature": 0.7, "max_tokens": 2048},
            finish_reason="stop",
            prompt_tokens=rng.randint(40, 6_000),
            completion_tokens=completion,
            cost_usd=round(completion * 6e-7, 8),
            ttft=ttft,
            tokens_per_second=speed,
            completed_at=at + ttft + completion / speed,
        )
    return fields


_EXTRA_COLUMNS = (
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "ttft",
    "tokens_per_second",
    "completed_at",
)
_BULK_COLUMNS = (
    "conversation_id",
    "parent_id",
    "role",
    "content",
    "images",
    "provider",
    "model",
    "params",
    "status",
    "created_at",
    "owner",
    "heartbeat_at",
    *_EXTRA_COLUMNS,
)


def build(
    store: Store,
    messages: int,
    conversations: int,
    method: str,
    api_budget: float,
    say: Callable[[str], None],
) -> tuple[BuildReport, int]:
    """Fill ``store``; returns the report and the id of the 2,000-message conversation."""
    rng = random.Random(SEED)
    text = TextMaker(random.Random(SEED + 1))
    plans = make_plan(rng, messages, conversations)
    started = time.perf_counter()
    states: dict[int, ConversationState] = {}
    for plan in sorted(plans, key=lambda p: p.start):
        conversation = store.create_conversation(
            provider=plan.provider, model=plan.model, created_at=plan.start - 1.0
        )
        states[plan.index] = ConversationState(conversation.id)
    steps = sorted((s for p in plans for s in p.steps), key=lambda s: (s.at, s.conversation))
    text_seconds = 0.0
    api_count = 0
    api_started = time.perf_counter()
    use_api = method in ("auto", "api")
    probe = max(1_000, len(steps) // 50)
    position = 0
    while use_api and position < len(steps):
        step = steps[position]
        plan, state = plans[step.conversation], states[step.conversation]
        role = "user" if step.kind == "user" else "assistant"
        t0 = time.perf_counter()
        content = text.message(role)
        text_seconds += time.perf_counter() - t0
        parent = state.leaf if step.kind != "regenerate" else state.last_user
        stored = store.add_message(
            state.id,
            role,
            content,
            parent_id=parent,
            status=MessageStatus.COMPLETE,
            created_at=step.at,
            **_message_fields(rng, plan, role, content, step.at),
        )
        state.leaf = stored.id
        if role == "user":
            state.last_user = stored.id
        position += 1
        api_count += 1
        if position % 10_000 == 0:
            say(f"  {position:,} / {len(steps):,} messages through Store.add_message")
        if method == "auto" and position == probe:
            spent = time.perf_counter() - api_started
            projected = spent / position * len(steps)
            if projected > api_budget:
                say(
                    f"  add_message projects to {projected:.0f} s (> {api_budget:.0f} s): "
                    "bulk-inserting the rest"
                )
                use_api = False
    api_seconds = time.perf_counter() - api_started
    api_text = text_seconds
    if position < len(steps):
        text_seconds += _bulk(store, plans, states, steps[position:], text, rng)
    for plan in plans:
        if rng.random() < ARCHIVED_SHARE and plan.index != 0:
            store.set_archived(states[plan.index].id, True)
        elif rng.random() < PINNED_SHARE:
            store.set_pinned(states[plan.index].id, True)
    seconds = time.perf_counter() - started
    bulk_count = len(steps) - api_count
    name = "Store.add_message" if bulk_count == 0 else "bulk executemany"
    if bulk_count and api_count:
        name = "Store.add_message then bulk executemany"
    api_seconds_net = api_seconds - api_text
    report = BuildReport(
        method=name,
        seconds=seconds,
        api_messages=api_count,
        bulk_messages=bulk_count,
        api_ms_per_message=(api_seconds_net / api_count * 1e3) if api_count else None,
        text_seconds=text_seconds,
    )
    return report, states[0].id


def _bulk(
    store: Store,
    plans: list[ConversationPlan],
    states: dict[int, ConversationState],
    steps: list[Step],
    text: TextMaker,
    rng: random.Random,
) -> float:
    """The rest in one transaction, columns as ``add_message`` writes them, ids predicted.

    Returns the seconds spent generating text.
    """
    db = store._db
    text_seconds = 0.0
    with store._write():
        next_id = int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM messages").fetchone()[0])
        first_id = next_id
        rows: list[tuple[Any, ...]] = []
        for step in steps:
            plan, state = plans[step.conversation], states[step.conversation]
            role = "user" if step.kind == "user" else "assistant"
            t0 = time.perf_counter()
            content = text.message(role)
            text_seconds += time.perf_counter() - t0
            parent = state.leaf if step.kind != "regenerate" else state.last_user
            fields = _message_fields(rng, plan, role, content, step.at)
            params = fields.get("params")
            rows.append(
                (
                    state.id,
                    parent,
                    role,
                    content,
                    None,
                    fields["provider"],
                    fields["model"],
                    None if params is None else json.dumps(params, ensure_ascii=False),
                    MessageStatus.COMPLETE.value,
                    step.at,
                    None,
                    None,
                    *(fields.get(c) for c in _EXTRA_COLUMNS),
                )
            )
            state.leaf = next_id
            state.updated_at = step.at
            if role == "user":
                state.last_user = next_id
                if state.title_from is None:
                    state.title_from = content
            next_id += 1
            if len(rows) >= 5_000:
                _insert(db, rows)
                rows = []
        _insert(db, rows)
        last = int(db.execute("SELECT MAX(id) FROM messages").fetchone()[0])
        if last != next_id - 1 or first_id > last + 1:
            raise RuntimeError(
                f"message ids did not come out as predicted ({last} != {next_id - 1})"
            )
        db.executemany(
            "UPDATE conversations SET updated_at = ?, active_leaf_id = ?, "
            "title = CASE WHEN title = '' AND ? IS NOT NULL THEN ? ELSE title END WHERE id = ?",
            [
                (
                    s.updated_at,
                    s.leaf,
                    s.title_from,
                    title_from(s.title_from or ""),
                    s.id,
                )
                for s in states.values()
                if s.updated_at
            ],
        )
    return text_seconds


def _insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        db.executemany(
            f"INSERT INTO messages ({', '.join(_BULK_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _BULK_COLUMNS)})",
            rows,
        )


# --- measurement -------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples_ms: list[float]
    target_ms: float | None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.p95 < self.target_ms

    def summary(self) -> dict[str, Any]:
        return {
            "median_ms": round(self.median, 3),
            "p95_ms": round(self.p95, 3),
            "min_ms": round(min(self.samples_ms), 3),
            "max_ms": round(max(self.samples_ms), 3),
            "runs": len(self.samples_ms),
            "target_ms": self.target_ms,
            "ok": self.ok,
            **({"note": self.note} if self.note else {}),
        }


def measure(
    name: str,
    call: Callable[[], object],
    target_ms: float | None,
    runs: int,
    warmups: int,
    note: str = "",
) -> Timing:
    """Time ``call`` ``runs`` times after ``warmups`` untimed calls."""
    for _ in range(warmups):
        call()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return Timing(name, samples, target_ms, note)


@dataclass
class Query:
    label: str
    text: str
    matches: int


def pick_queries(path: Path) -> list[Query]:
    """A rare word, the most common word, two words in 5% and 2% of messages, a 3-letter prefix."""
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE VIRTUAL TABLE temp.bench_vocab USING fts5vocab(main, messages_fts, row)")
        total = int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]) or 1

        def term(sql: str, *args: Any) -> str:
            row = db.execute(sql, args).fetchone()
            if row is None:
                raise SystemExit("the database has too few distinct words to pick search queries")
            return str(row[0])

        alpha = "term GLOB '[a-z]*' AND term NOT GLOB '*[^a-z]*'"
        # a rare word that is no prefix of another term (the last word is searched as a prefix)
        rare = term(
            f"SELECT v.term FROM bench_vocab v WHERE {alpha} AND length(term) >= 6 "
            "AND doc BETWEEN 2 AND 30 AND NOT EXISTS (SELECT 1 FROM bench_vocab w "
            "WHERE w.term > v.term AND w.term < v.term || 'zzz') ORDER BY abs(doc - 5), term LIMIT 1"
        )
        common = term(f"SELECT term FROM bench_vocab WHERE {alpha} ORDER BY doc DESC LIMIT 1")

        db.execute("CREATE TEMP TABLE bench_known (term TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO bench_known VALUES (?)", [(w,) for w in TECH_WORDS])

        def near(share: float, other: str = "") -> str:
            """The word in nearest ``share`` of messages, a technical word if there are any."""
            return term(
                f"SELECT term FROM bench_vocab WHERE {alpha} AND length(term) >= 5 "
                "AND term != ? ORDER BY term IN bench_known DESC, abs(doc - ?) LIMIT 1",
                other,
                share * total,
            )

        first = near(0.05)
        second = near(0.02, first)
        prefix_of = term(
            f"SELECT term FROM bench_vocab WHERE {alpha} AND length(term) >= 7 "
            "ORDER BY doc DESC LIMIT 1"
        )[:3]
        queries = [
            Query("rare word", rare, 0),
            Query("common word", common, 0),
            Query("two words", f"{first} {second}", 0),
            Query("prefix", prefix_of, 0),
        ]
        for query in queries:
            query.matches = int(
                db.execute(
                    "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?",
                    (fts_query(query.text),),
                ).fetchone()[0]
            )
        return queries
    finally:
        db.close()


def file_sizes(store: Store) -> dict[str, Any]:
    """Main file and ``-wal`` in MB after a truncating checkpoint, and the biggest objects."""
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    main = store.path.stat().st_size
    wal_path = store.path.with_name(store.path.name + "-wal")
    wal = wal_path.stat().st_size if wal_path.exists() else 0
    sizes: dict[str, Any] = {
        "main_mb": round(main / 1e6, 2),
        "wal_mb": round(wal / 1e6, 2),
        "total_mb": round((main + wal) / 1e6, 2),
    }
    try:
        rows = store._db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8"
        ).fetchall()
    except sqlite3.Error:
        return sizes
    sizes["objects_mb"] = {name: round(size / 1e6, 2) for name, size in rows}
    return sizes


@contextmanager
def database(path_option: str | None) -> Iterator[Path]:
    if path_option:
        yield Path(path_option).expanduser().resolve()
        return
    with tempfile.TemporaryDirectory(prefix="bench_store_") as directory:
        yield Path(directory) / "llamachat.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--db", help="database to reuse, or to create there (default: a temp dir)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument(
        "--build",
        choices=("auto", "api", "bulk"),
        default="auto",
        help="auto: Store.add_message unless it projects past --api-budget, then bulk",
    )
    parser.add_argument("--api-budget", type=float, default=120.0, metavar="SECONDS")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    def say(line: str = "") -> None:
        if not args.json_only:
            print(line, flush=True)

    with database(args.db) as path:
        store = Store(path)
        try:
            return _run(store, path, args, say)
        finally:
            store.close()


def _run(store: Store, path: Path, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    say(
        f"llamachat store benchmark: SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}"
    )
    say(f"database: {path}")
    existing = int(store._read("SELECT COUNT(*) FROM messages")[0][0])
    build_info: dict[str, Any]
    if existing:
        big_id, big_count = store._read(
            "SELECT conversation_id, COUNT(*) FROM messages GROUP BY conversation_id "
            "ORDER BY 2 DESC LIMIT 1"
        )[0]
        build_info = {"method": "reused", "seconds": 0.0}
        say(f"reusing {existing:,} messages; largest conversation {big_id} ({big_count:,})")
    else:
        say(
            f"building {args.messages:,} messages in {args.conversations:,} conversations "
            f"(build mode {args.build}) ..."
        )
        report, big_id = build(
            store, args.messages, args.conversations, args.build, args.api_budget, say
        )
        build_info = {
            "method": report.method,
            "seconds": round(report.seconds, 2),
            "api_messages": report.api_messages,
            "bulk_messages": report.bulk_messages,
            "api_ms_per_message": (
                round(report.api_ms_per_message, 3) if report.api_ms_per_message else None
            ),
            "text_generation_seconds": round(report.text_seconds, 2),
        }
        per = (
            f", {report.api_ms_per_message:.3f} ms per add_message net of text generation"
            if report.api_ms_per_message
            else ""
        )
        say(
            f"built in {report.seconds:.1f} s via {report.method} "
            f"({report.text_seconds:.1f} s of it generating text{per})"
        )
    counts = store._read(
        "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM conversations), "
        "(SELECT COUNT(*) FROM conversations WHERE pinned), "
        "(SELECT COUNT(*) FROM conversations WHERE archived), "
        "(SELECT COUNT(*) FROM messages WHERE conversation_id = ?), "
        "(SELECT AVG(length(content)) FROM messages)",
        (big_id,),
    )[0]
    messages, conversations, pinned, archived, big_count, avg_chars = counts
    say(
        f"contents: {messages:,} messages, {conversations:,} conversations "
        f"({pinned} pinned, {archived} archived), average {avg_chars:.0f} characters per "
        f"message; conversation {big_id} has {big_count:,} messages"
    )
    say("")

    runs, warmups = args.runs, args.warmups
    timings: list[Timing] = []
    listed = store.list_conversations(100)
    in_list = any(s.id == big_id for s in listed)
    timings.append(
        measure(
            "list_conversations(100)",
            lambda: store.list_conversations(100),
            TARGET_LIST_MS,
            runs,
            warmups,
            note=f"{len(listed)} rows; big conversation {'in' if in_list else 'not in'} them",
        )
    )
    timings.append(
        measure(
            "list_conversations(100, pinned_first=True)",
            lambda: store.list_conversations(100, pinned_first=True),
            TARGET_LIST_MS,
            runs,
            warmups,
        )
    )
    for query in pick_queries(path):
        hits = store.search(query.text, 20)
        timings.append(
            measure(
                f"search({query.text!r}, 20) [{query.label}]",
                lambda q=query.text: store.search(q, 20),  # type: ignore[misc]
                TARGET_SEARCH_MS,
                runs,
                warmups,
                note=f"FTS {fts_query(query.text)}; {query.matches:,} messages match; "
                f"{len(hits)} hits returned",
            )
        )
    view = store.load(big_id)
    timings.append(
        measure(
            f"load({big_id}) [{big_count:,} messages]",
            lambda: store.load(big_id),
            TARGET_LOAD_MS,
            runs,
            warmups,
            note=f"path of {len(view.path):,} messages",
        )
    )
    timings.append(
        measure("latest_conversation_id()", store.latest_conversation_id, None, runs, warmups)
    )

    width = max(len(t.name) for t in timings)
    say(f"{'operation':<{width}}  {'median':>10}  {'p95':>10}  {'target':>8}")
    for t in timings:
        target = f"< {t.target_ms:g} ms" if t.target_ms is not None else "-"
        verdict = {True: "ok", False: "MISSED", None: ""}[t.ok]
        say(f"{t.name:<{width}}  {t.median:>7.3f} ms  {t.p95:>7.3f} ms  {target:>8}  {verdict}")
        if t.note:
            say(f"{'':<{width}}    {t.note}")
    say(f"(median and p95 of {runs} runs after {warmups} warm-ups; the target applies to p95)")
    say("")

    sizes = file_sizes(store)
    say(
        f"database size after wal_checkpoint(TRUNCATE): {sizes['total_mb']:.1f} MB "
        f"(main {sizes['main_mb']:.1f} MB + wal {sizes['wal_mb']:.1f} MB)"
    )
    for name, mb in sizes.get("objects_mb", {}).items():
        say(f"  {name:<28} {mb:>8.1f} MB")
    missed = [t.name for t in timings if t.ok is False]
    say("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    say("")

    summary = {
        "benchmark": "store",
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "messages": messages,
        "conversations": conversations,
        "big_conversation": {"id": big_id, "messages": big_count},
        "build": build_info,
        "timings": {t.name: t.summary() for t in timings},
        "db_size_mb": sizes,
        "targets_missed": missed,
    }
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
