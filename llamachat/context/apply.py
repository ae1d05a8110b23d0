"""Applying the overflow policy to one request, and learning from a server's refusal.

:func:`prepare` fits a branch into its window under the rules' policy (dropping the
oldest turns, summarising them into a new branch, or refusing); :func:`learn` reads a
refusal (``context_length_exceeded``, or llama.cpp's empty 200 reply to an over-long
streamed prompt) and gives the rules for the one retry that follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from llamachat.context.fit import Fit, fit
from llamachat.context.policy import ContextRules, Overflow, summary_cap
from llamachat.context.summary import summarize, summary_branch
from llamachat.context.tokens import MESSAGE_OVERHEAD, TokenCache, estimate_text
from llamachat.context.window import probe_window, prompt_from_error, window_from_error
from llamachat.providers.base import ChatMessage, Provider, Usage
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.store.db import Store
from llamachat.store.models import Message

#: A lone prompt below this many estimated tokens fits any window: the server is not
#: asked for its window (a conversation that goes on is asked, so the meter has one).
PROBE_ABOVE = 512
#: How much more than estimated a refusal that gives no numbers is taken to mean.
UNKNOWN_SCALE = 2.0
_OTHERS = (
    "drop-oldest, which sends only the newest turns that fit, or summarize, which condenses "
    "the older ones"
)


def _messages(count: int, verb: bool = False) -> str:
    """ "3 earlier messages" ("3 earlier messages were" with ``verb``)."""
    text = f"{count} earlier message{'' if count == 1 else 's'}"
    return f"{text} {'was' if count == 1 else 'were'}" if verb else text


@dataclass(frozen=True, slots=True)
class ContextTrimmed:
    """Earlier messages were left out of this request (drop-oldest); none was deleted."""

    left_out: int
    window: int
    sentence: str


@dataclass(frozen=True, slots=True)
class ContextSummarized:
    """Earlier turns were summarised into a new branch; the prompt moved onto it."""

    summary_id: int
    prompt_id: int
    covered: int
    sentence: str


@dataclass(frozen=True, slots=True)
class ContextRetried:
    """The server refused the request as too long; it is sent once more under the policy."""

    sentence: str


@dataclass(frozen=True, slots=True)
class ContextMeasured:
    """How much of the window the conversation now fills (after the reply).

    ``used`` is the server's reported prompt and completion tokens where it reported
    them, else an estimate (``estimated``).
    """

    window: int | None
    used: int
    estimated: bool
    left_out: int

    def as_json(self) -> dict[str, int | bool | None]:
        """The ``context`` object of ``ask --json``."""
        return {
            "window": self.window,
            "used": self.used,
            "estimated": self.estimated,
            "left_out": self.left_out,
        }


ContextEvent = ContextTrimmed | ContextSummarized | ContextRetried | ContextMeasured


@dataclass
class Prepared:
    """A request fitted to its window: what to send and the branch it now answers."""

    fit: Fit
    path: list[Message]
    parent: Message | None
    rules: ContextRules
    system_prompt: str | None
    max_tokens: int | None
    events: list[ContextEvent] = field(default_factory=list)

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """The messages to send."""
        return self.fit.messages


def stop_sentence(provider: Provider, model: str, window: int | None) -> str:
    """Today's context sentence, then the two policies that would go on."""
    size = f" of {window:,} tokens" if window else ""
    return (
        f"The conversation is longer than '{model}' can read on {provider.display_name} "
        f"(its context window{size}): start a new conversation, shorten the prompt, or lower "
        f"max tokens; or let it go on with context_overflow (--context-overflow) {_OTHERS}."
    )


def _too_long_alone(provider: Provider, model: str, fitted: Fit) -> ProviderError:
    return ProviderError(
        ErrorKind.CONTEXT_LENGTH,
        f"The prompt alone is longer than '{model}' can read on {provider.display_name} "
        f"(about {fitted.used:,} tokens, with {fitted.reserve:,} kept for the reply, in a "
        f"window of {fitted.window or 0:,}): shorten it or lower max tokens.",
    )


async def prepare(
    store: Store | None,
    provider: Provider,
    *,
    path: list[Message],
    parent: Message | None,
    system_prompt: str | None,
    model: str,
    max_tokens: int | None,
    rules: ContextRules,
    cache: TokenCache | None = None,
    learned: bool = False,
) -> Prepared:
    """Fit the branch ``path`` into ``rules.window`` under ``rules.policy``.

    Raises :class:`ProviderError` (``CONTEXT_LENGTH``) for ``stop`` when the branch does
    not fit. A prompt that looks too long on its own is sent alone (an estimate is no
    reason to refuse), unless the rules were ``learned`` from the server's refusal.
    """
    cache = cache if cache is not None else TokenCache()

    def fitted(window: int | None, head_room: int = 0) -> Fit:
        return fit(
            path,
            system_prompt,
            window=window,
            max_tokens=max_tokens,
            scale=rules.scale,
            head_room=head_room,
            cache=cache,
        )

    plan = fitted(rules.window)
    if rules.window is None and rules.probe and (len(path) > 1 or plan.used > PROBE_ABOVE):
        window = await probe_window(provider, model)
        rules = replace(rules, window=window, probe=False, source="server")
        plan = fitted(window)
    prepared = Prepared(plan, path, parent, rules, system_prompt, max_tokens)
    if not plan.overflowing or plan.window is None:
        return prepared
    if rules.policy is Overflow.STOP:
        raise ProviderError(ErrorKind.CONTEXT_LENGTH, stop_sentence(provider, model, plan.window))
    if not plan.fits and learned:
        raise _too_long_alone(provider, model, plan)
    summarizing = rules.policy is Overflow.SUMMARIZE and store is not None
    why = ""
    if summarizing and provider.capabilities.queued and not provider.capabilities.streams:
        summarizing = False  # a queued job per summary would be billed out of sight
        why = f" ({provider.display_name}'s queued jobs are not used for summaries)"
    if summarizing:
        assert store is not None
        # Room for the summary, and a quarter of the window to grow into before the next.
        room = summary_cap(plan.window) + (plan.window - plan.reserve) // 4
        roomy = fitted(plan.window, room)
        if roomy.fits:
            try:
                return await _summarize(store, provider, model, prepared, roomy)
            except ProviderError as error:
                if error.kind is not ErrorKind.CONTEXT_LENGTH:
                    raise
                # The summary request itself was too long for the server (its tokens
                # outnumber the estimate): nothing was stored; leave the turns out instead.
                why = " (the request for a summary was itself refused as too long)"
    left = len(plan.left_out)
    if left:
        prepared.events.append(
            ContextTrimmed(
                left,
                plan.window,
                f"{_messages(left, True)} left out of this request to fit the context window "
                f"of '{model}' ({plan.window:,} tokens){why}; nothing was deleted.",
            )
        )
    return prepared


async def _summarize(
    store: Store, provider: Provider, model: str, prepared: Prepared, roomy: Fit
) -> Prepared:
    """Summarise what ``roomy`` leaves out into a new branch, and fit the new branch."""
    assert roomy.window is not None
    rules = prepared.rules
    summary = await summarize(
        provider,
        rules.summary_model or model,
        roomy.summary,
        roomy.left_out,
        window=roomy.window,
        scale=rules.scale,
    )
    covers = roomy.left_out[-1].id if roomy.left_out else None
    prompt = summary_branch(store, summary, provider.name, roomy.kept, covers)
    path = store.path_to(prompt.id)
    prepared.path, prepared.parent = path, prompt
    prepared.fit = fit(
        path,
        prepared.system_prompt,
        window=roomy.window,
        max_tokens=prepared.max_tokens,
        scale=rules.scale,
    )
    left = ""
    if summary.left_out:
        left = f"; {_messages(summary.left_out)} too old to summarise left out"
    prepared.events.append(
        ContextSummarized(
            path[0].id,
            prompt.id,
            summary.covered,
            f"{_messages(summary.covered, True)} summarised into a new branch to "
            f"fit the context window of '{model}' ({roomy.window:,} tokens){left}; the "
            "original branch is kept.",
        )
    )
    if prepared.fit.left_out:
        count = len(prepared.fit.left_out)
        prepared.events.append(
            ContextTrimmed(
                count,
                roomy.window,
                f"{_messages(count)} still did not fit after the summary: left out of this "
                "request.",
            )
        )
    return prepared


async def learn(
    error: ProviderError, prepared: Prepared, provider: Provider, model: str
) -> ContextRules | None:
    """The rules for the one retry after the server refused ``prepared`` as too long,
    or ``None`` when ``error`` is not such a refusal.

    A refusal that names the window and the prompt's size is believed; one that names
    neither makes the estimates count double. An empty reply (llama.cpp answering an
    over-long streamed prompt with an empty 200) counts as a refusal when the request
    takes at least a quarter of the window by estimate.
    """
    rules, plan = prepared.rules, prepared.fit
    text = f"{error.body or ''}\n{error.message}"
    unscaled = max(1.0, plan.used / rules.scale)
    if error.kind is ErrorKind.CONTEXT_LENGTH:
        named = window_from_error(text)
        window = named or rules.window or await probe_window(provider, model)
        if window is None:
            window = max(PROBE_ABOVE // 2, plan.used // 2)
        counted = prompt_from_error(text)
        if counted:
            scale = max(rules.scale, counted / unscaled * 1.05)
        elif named is not None and (rules.window is None or named < rules.window):
            scale = rules.scale
        else:
            scale = rules.scale * UNKNOWN_SCALE
        return replace(rules, window=window, scale=scale, probe=False, source="server")
    if error.kind in (ErrorKind.EMPTY_REPLY, ErrorKind.STREAM_INCOMPLETE) and error.status in (
        None,
        200,
    ):
        window = rules.window or await probe_window(provider, model)
        if window is None or plan.used + plan.reserve < window // 4:
            return None
        scale = rules.scale * UNKNOWN_SCALE
        return replace(rules, window=window, scale=scale, probe=False, source="server")
    return None


def measured(prepared: Prepared, usage: Usage | None, reply_text: str) -> ContextMeasured:
    """How full the window is after the reply: the server's usage, else an estimate."""
    left_out = len(prepared.fit.left_out)
    window = prepared.rules.window
    if usage is not None and usage.prompt_tokens is not None and usage.completion_tokens:
        return ContextMeasured(
            window, usage.prompt_tokens + usage.completion_tokens, False, left_out
        )
    reply = MESSAGE_OVERHEAD + estimate_text(reply_text)
    prompt = usage.prompt_tokens if usage is not None and usage.prompt_tokens else None
    used = (prompt if prompt is not None else prepared.fit.used) + reply
    return ContextMeasured(window, used, True, left_out)
