"""One conversation in motion: the rules of a conversation, shared by ``ask`` and the TUI.

A :class:`ChatSession` owns what a conversation is doing: which provider, model,
parameters and system prompt apply (and switching them mid-conversation), the branch
being read and where the next prompt attaches (after the last message, in place of an
edited one, or in place of one whose reply failed), sending, regenerating (never paying
twice for a queued job that may still run), resuming a queued job, and the totals of
tokens, money and credits. Its replies are the events of :mod:`llamachat.chat`, counted
on their way through. Faces (the TUI's pane, ``ask``) draw; they decide no rule.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from llamachat.providers.base import GenerationParams
from llamachat.session_settings import SessionSettings
from llamachat.store.db import Store, StoreError
from llamachat.store.models import (
    Branch,
    Conversation,
    ConversationView,
    Message,
    MessageStatus,
    Totals,
)
from llamachat.totals import SessionTotals

if TYPE_CHECKING:
    from llamachat.chat import ChatEvent
    from llamachat.context.meter import Meter
    from llamachat.context.tokens import TokenCache
    from llamachat.workspace import Workspace

#: A reply's events, as :mod:`llamachat.chat` gives them (read by the first send, not at start).
Events: TypeAlias = "AsyncGenerator[ChatEvent, None]"


@dataclass(frozen=True)
class Sending:
    """A prompt on its way: its reply's ``events``, and what the face should redraw."""

    events: Events
    #: The prompt does not follow the last message shown (an edit, a failed prompt sent
    #: again): the branch shown changes, so the view is rebuilt when the reply starts.
    branching: bool
    #: The draft an edit set aside, to put back in the input now that the edit is sent.
    draft_set_aside: str | None
    #: The images that were attached to that draft, to attach again.
    images_set_aside: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResumeOrPay:
    """A new reply to ``prompt`` would submit a second billed job while ``running`` may run."""

    prompt: Message
    running: Message

    @property
    def question(self) -> str:
        """The question to put to the person."""
        return (
            f"Job {self.running.job_id} for this prompt may still be running, and it is billed "
            "either way. Resume waiting for its reply, or submit a new job (billed again)?"
        )


class ChatSession(SessionSettings):
    """A conversation being read and written, with its own rules (see the module docs)."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        provider: str,
        model: str,
        params: GenerationParams | None = None,
        system_prompt: str | None = None,
        conversation_id: int | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.conversation_id = conversation_id
        self.provider_name = provider
        self.model = model
        self.params = params if params is not None else workspace.default_params(provider)
        self.system_prompt = system_prompt
        self.persona = None
        self.context_overflow = None
        self.title = "New chat"
        self.draft = ""
        self._stored_leaf = None
        self.totals = SessionTotals()
        #: The newest messages of the branch shown (older ones are read as they are wanted).
        self.path: list[Message] = []
        #: Messages of the branch before ``path`` not read yet (``None``: some, not counted).
        self.earlier: int | None = 0
        self.branches: dict[int, Branch] = {}
        #: Whether a prompt is being edited (the next send is a new branch beside it).
        self.editing = False
        self._set_aside: tuple[str, tuple[str, ...]] = ("", ())  # the draft an edit replaced
        # Where the next prompt attaches when it is not the next turn: the parent of an
        # edited prompt, or of a failed one being sent again (a sibling, not a follow-up).
        self._branch_from: tuple[int | None] | None = None
        #: A prompt whose reply failed with no text: the next send takes its place.
        self._failed_prompt: int | None = None
        #: The last reply summarised earlier turns onto a new branch: the branch shown moved.
        self.moved = False

    def meter(self, draft: str, tokens: TokenCache) -> Meter:
        """How much of the window the next request (with ``draft``) would use."""
        from llamachat.context.meter import meter

        rules = self.context_rules()
        window = rules.window if rules is not None else None
        return meter(self.path, self.system_prompt, window, draft, tokens)

    # --- the branch shown -------------------------------------------------------------------

    def open(self, conversation_id: int, *, last: int) -> None:
        """Read a stored conversation's settings and the newest ``last`` messages of its branch."""
        assert self.store is not None
        self._show(self.store.load(conversation_id, last=last))

    def distance_to(self, conversation_id: int, message_id: int) -> int | None:
        """How far ``message_id`` (a search hit) is from the end of its branch, after
        switching to that branch if it is not the one shown (``None``: it cannot be)."""
        if self.store is None:
            return None
        distance = self.store.distance_from_leaf(conversation_id, message_id)
        if distance is None:  # on another branch: switch to it
            try:
                self.store.switch_to(message_id)
            except (KeyError, StoreError):
                return None
            distance = self.store.distance_from_leaf(conversation_id, message_id)
        return distance

    def reload(self, last: int) -> bool:
        """Read the branch again (after a switch, an edit, a reply elsewhere)."""
        if self.store is None or self.conversation_id is None:
            return False
        self._show(self.store.load(self.conversation_id, last=max(last, len(self.path))))
        return True

    def _show(self, view: ConversationView) -> None:
        self.adopt(view.conversation)
        self.path, self.earlier, self.branches = view.path, view.earlier, view.branches
        self.totals.take(view.totals)
        self.totals.take_credits(view.path, self.provider_name)

    def read_earlier(self, count: int) -> int:
        """Read up to ``count`` older messages of the branch; returns how many were read."""
        older: list[Message] = []
        branches: dict[int, Branch] = {}
        if self.store is not None and self.earlier != 0 and self.path and self.path[0].id:
            with suppress(KeyError):  # deleted meanwhile: nothing more to read
                older, branches = self.store.earlier(self.path[0].id, count)
        self.path[:0] = older
        self.branches.update(branches)
        if len(older) < count:
            self.earlier = 0  # the first message has been read
        elif self.earlier is not None:
            self.earlier = max(0, self.earlier - len(older))
        return len(older)

    def path_totals(self) -> tuple[int | None, int, Totals] | None:
        """The whole branch's length and totals, counted in the store (slow for a million
        messages: call it in a thread), with the leaf they were counted for."""
        if self.store is None or self.conversation_id is None:
            return None
        leaf = self.path[-1].id if self.path else None
        length, totals = self.store.path_totals(self.conversation_id)
        return leaf, length, totals

    def counted(self, leaf: int | None, length: int, totals: Totals) -> bool:
        """Take the counts of :meth:`path_totals`, unless the branch changed meanwhile."""
        shown = self.path[-1].id if self.path else None
        if shown != leaf or self.earlier is not None:
            return False
        self.earlier = max(0, length - len(self.path))
        self.totals.take(totals)
        return True

    def changes_elsewhere(self) -> tuple[bool, bool]:
        """What another process changed in this conversation since it was read: whether the
        branch shown moved on (a message at its end, a queued or streaming reply that moved
        on), and whether its title changed (the title is taken)."""
        store, conversation_id = self.store, self.conversation_id
        if store is None or conversation_id is None:
            return False, False
        try:
            conversation = store.conversation(conversation_id)
        except KeyError:
            return False, False  # deleted elsewhere: what is shown stays until it is closed
        title = conversation.title or "New chat"
        retitled, self.title = title != self.title, title
        return _moved_on(store, conversation, self.path), retitled

    def prompt_of(self, message: Message) -> Message | None:
        """The prompt a regenerate of ``message`` answers again: itself, or a reply's prompt."""
        if message.role == "user":
            return message
        if message.parent_id is None or self.store is None:
            return None
        return self.store.message(message.parent_id)

    def step_branch(self, message: Message, step: int) -> int | None:
        """Show the sibling ``step`` away from ``message``; returns its id (``None``: none).
        ``StoreError`` if the store refused to switch."""
        branch = self.branches.get(message.id)
        if branch is None or branch.count < 2 or self.store is None:
            return None
        target = branch.sibling_ids[(branch.index - 1 + step) % branch.count]
        self.store.switch_to(target)
        return target

    def left_jobs(self) -> list[Message]:
        """Queued jobs an earlier run left in this conversation (not those stopped)."""
        if self.store is None or self.conversation_id is None:
            return []
        return self.store.resumable_jobs(
            include_stopped=False, conversation_id=self.conversation_id
        )

    # --- editing and drafts -------------------------------------------------------------

    def begin_edit(
        self, message: Message, draft: str, images: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Edit ``message``: the next send is a new branch beside it. The ``draft`` and the
        ``images`` attached to it are set aside; returns the images the edited prompt had
        (they go with it again unless removed)."""
        if not self.editing:
            self._set_aside = (draft, tuple(images))
        self._branch_from, self.editing = (message.parent_id,), True
        return message.images

    def cancel_edit(self) -> tuple[str, tuple[str, ...]]:
        """Stop editing; returns the draft and the images that were set aside."""
        self._branch_from, self.editing = None, False
        return self._set_aside

    def prompt_failed(self, user_id: int) -> None:
        """A prompt's reply failed with no text: what is sent next takes its place."""
        if self.store is not None:
            self._branch_from = (self.store.message(user_id).parent_id,)
            self._failed_prompt = user_id

    def save_draft(self, text: str) -> None:
        """Keep the unsent prompt with the conversation (created for a draft worth keeping).
        ``StoreError`` if the store refused."""
        if self.store is None or (self.conversation_id is None and not text.strip()):
            return
        conversation_id = self.ensure_conversation()
        if conversation_id is not None:
            self.store.save_draft(conversation_id, text)

    # --- replies ------------------------------------------------------------------------

    def send(
        self, text: str, images: Sequence[str] = (), *, stream: bool = True, keep_unsaved: bool
    ) -> Sending:
        """Send ``text`` as the next prompt (after the last message, or where an edit or a
        failed prompt put it). ``StoreError`` (before anything is sent or changed) when the
        conversation cannot be stored; with ``keep_unsaved`` a prompt the store refuses is
        sent anyway, its reply shown unsaved (``ask``), else it is ``StoreError`` too."""
        from llamachat.chat import discard_failed_prompt, send

        provider = self.provider()
        last = self.path[-1].id if self.path else self._stored_leaf
        parent = self._branch_from[0] if self._branch_from is not None else last
        was_editing = self.editing
        self.ensure_conversation()
        if self._failed_prompt is not None and self.store is not None and not was_editing:
            discard_failed_prompt(self.store, self._failed_prompt)  # not a branch beside it
        self._branch_from, self.editing, self._failed_prompt = None, False, None
        events = send(
            self.store,
            provider,
            conversation_id=self.conversation_id,
            prompt=text,
            images=images,
            model=self.model,
            params=self.params,
            system_prompt=self.system_prompt,
            persona=self.persona,
            parent_id=parent,
            stream=stream,
            ask_unsaved=keep_unsaved,
            context=self.context_rules(),
        )
        draft, images_aside = self._set_aside if was_editing else (None, ())
        return Sending(self._counted(events), parent != last, draft, images_aside)

    def regenerate(self, prompt: Message, *, pay_again: bool = False) -> Events | ResumeOrPay:
        """A new reply to ``prompt`` beside the others, unless a queued job answering it may
        still run and ``pay_again`` was not chosen: then the :class:`ResumeOrPay` question."""
        from llamachat.chat import reply
        from llamachat.jobs import running_job_reply

        if self.store is None or self.conversation_id is None:
            raise StoreError("This conversation is not saved, so it cannot be answered again.")
        self._failed_prompt = None  # answered again: that prompt stays
        running = running_job_reply(self.store, prompt)
        if running is not None and not pay_again:
            return ResumeOrPay(prompt, running)
        events = reply(
            self.store,
            self.provider(),
            conversation_id=self.conversation_id,
            parent=prompt,
            model=self.model,
            params=self.params,
            system_prompt=self.system_prompt,
            persona=self.persona,
            user_id=prompt.id,
            context=self.context_rules(),
        )
        return self._counted(events)

    def resume(self, message: Message) -> Events | None:
        """Poll queued reply ``message`` again at the provider that queued it; ``None`` if
        another process already does (``StoreError`` if the store refused the claim)."""
        from llamachat.chat import resume

        provider = self.provider(message.provider)
        if self.store is None or not self.store.claim(message.id):
            return None
        return self._counted(resume(self.store, provider, message))

    def stop_waiting(self, reply_id: int) -> str | None:
        """Esc on queued reply ``reply_id``: kept for ``r``, not polled at the next start.
        Returns the sentence to show if the store refused to note it."""
        from llamachat.jobs import stop_waiting

        if self.store is None:
            return None
        return stop_waiting(self.store, self.store.message(reply_id))

    async def _counted(self, events: Events) -> Events:
        """``events``, with their usage, cost and credits added to the totals as they pass
        (and the window a request found remembered for its provider and model)."""
        from llamachat.context.apply import ContextMeasured, ContextSummarized

        asked = (self.provider_name, self.model)  # switching mid-reply does not change these
        async with aclosing(events):
            async for event in events:
                cost = self.totals.count(event)
                if cost is not None:
                    self.workspace.spent_usd += cost
                if isinstance(event, ContextSummarized):
                    self.moved = True  # the prompt was moved onto the summary's branch
                elif isinstance(event, ContextMeasured) and event.window:
                    self.workspace.learn_window(*asked, event.window)
                yield event


def new_session(workspace: Workspace, conversation_id: int | None = None) -> ChatSession:
    """A session on the default provider and model, or on conversation ``conversation_id``
    (whose own settings are read when it is opened)."""
    name, settings = workspace.default_provider()
    return ChatSession(
        workspace,
        provider=name,
        model=workspace.default_model(name, settings),
        system_prompt=workspace.config.defaults.system_prompt,
        conversation_id=conversation_id,
    )


_LIVE = (MessageStatus.QUEUED, MessageStatus.STREAMING)


def _moved_on(store: Store, conversation: Conversation, shown: Sequence[Message]) -> bool:
    """Whether the branch ``shown`` of ``conversation`` is no longer what the store holds:
    another message at its end, or a reply that was queued or streaming has moved on."""
    leaf = shown[-1].id if shown else None
    if conversation.active_leaf_id is not None and conversation.active_leaf_id != leaf:
        return True
    for message in shown:
        if message.status in _LIVE and message.id:
            try:
                stored = store.message(message.id)
            except KeyError:
                return True
            if (stored.status, stored.content, stored.job_status) != (
                message.status,
                message.content,
                message.job_status,
            ):
                return True
    return False
