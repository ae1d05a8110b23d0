"""Work the app does in the background at start: fetching queued replies an earlier run
left, and looking for a local server to offer."""

from __future__ import annotations

from collections.abc import Callable

from llamachat.store.models import Message
from llamachat.tui.tabs import ConversationTabs
from llamachat.workspace import Workspace


async def fetch_left_jobs(
    workspace: Workspace,
    tabs: ConversationTabs,
    jobs: list[Message],
    shown: int | None,
    say: Callable[[str], None],
    refresh: Callable[[], None],
) -> None:
    """Fetch the replies of queued ``jobs``; a pane open on a job's conversation resumes it
    itself, live and stoppable (conversation ``shown`` is opening); jobs a person stopped
    wait to be asked for."""
    from llamachat.jobs import resume_left

    assert workspace.store is not None

    def shown_in_a_pane(message: Message) -> bool:
        return message.conversation_id == shown or bool(tabs.chat_for(message.conversation_id))

    running = tabs.background_jobs
    left = resume_left(workspace.store, workspace.config, jobs, shown_in_a_pane, running)
    async for message, outcome in left:
        pane = tabs.chat_for(message.conversation_id)
        if pane is not None and not pane.busy:
            pane.rebuild()
        say(f"Queued job {message.job_id}: {outcome}")
    refresh()


async def offer_local_servers(workspace: Workspace, say: Callable[..., None]) -> None:
    """Look for a local OpenAI-compatible server, and offer each one found."""
    from llamachat.discovery import discover, offered_settings

    for server in await discover():
        workspace.add_provider(offered_settings(server))
        models = f" with {len(server.models)} models" if server.models else ""
        say(
            f"Found {server.label} at {server.base_url}{models}: press Ctrl+L to use it.",
            timeout=10,
        )
