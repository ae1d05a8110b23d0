"""``llamachat ask``: one prompt, the reply streamed to stdout, status to stderr.

Only the answer goes to stdout; ``--reasoning`` shows a reasoning model's
thoughts on stderr as they arrive.

Untrusted reply text is escaped when stdout is a terminal (an OSC 52 sequence
could write the clipboard) and passed through unchanged to a pipe or file.
This module must never import Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from llamachat.adhoc import is_adhoc, stored_provider_name
from llamachat.ask_input import AskInputError, gather_prompt, read_files
from llamachat.ask_output import (
    AskOutcome,
    Console,
    OutputClosed,
    PromptTooLarge,
    describe_event,
    silence_stdout,
)
from llamachat.exit_codes import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from llamachat.interrupts import Interrupts

if TYPE_CHECKING:
    from llamachat.attach_files import TextFile
    from llamachat.store.db import Store


def _nothing_arrived(outcome: AskOutcome, error: Any) -> bool:
    """Whether a failed reply left nothing worth keeping: no text, no job that may still run."""
    return (
        not outcome.parts and not outcome.reasoning_parts and not (outcome.job_id or error.job_id)
    )


def _open_store(console: Console, *, continuing: bool) -> Store | None:
    """The history, or ``None`` (said once) when it cannot be opened and a new exchange can
    still be answered: a full disk must not cost the person the reply they asked for."""
    from llamachat.store.db import Store, StoreError

    try:
        return Store.open_default()
    except StoreError as error:
        if continuing:  # the conversation to continue is in there
            raise
        console.error(f"{error} This exchange will not be saved.")
        return None


async def _converse(
    args: argparse.Namespace,
    prompt: str,
    outcome: AskOutcome,
    console: Console,
    images: list[str] | None = None,
    interrupts: Interrupts | None = None,
    files: list[TextFile] | None = None,
) -> int:
    from llamachat.attach_files import too_large
    from llamachat.chat import ParamsDropped, ReplyNotSaved, ReplyStarted
    from llamachat.cli_args import LAST_CONVERSATION, flag_params
    from llamachat.config import load_config
    from llamachat.context.apply import (
        ContextMeasured,
        ContextRetried,
        ContextSummarized,
        ContextTrimmed,
    )
    from llamachat.providers.errors import ErrorKind, ProviderError
    from llamachat.resolve import provider_settings
    from llamachat.session import ChatSession
    from llamachat.store.db import StoreError
    from llamachat.store.health import not_saved
    from llamachat.workspace import Workspace

    config = load_config()
    for warning in config.warnings:
        console.error(f"warning: {warning}")
    store = None if args.no_save else _open_store(console, continuing=args.continue_id is not None)
    workspace = Workspace(config, store)
    try:
        conversation = None
        if args.continue_id is not None and store is not None:
            conversation_id = (
                store.latest_conversation_id()
                if args.continue_id == LAST_CONVERSATION
                else args.continue_id
            )
            if conversation_id is None:
                console.error("there is no conversation to continue yet.")
                return EXIT_USAGE
            try:
                conversation = store.conversation(conversation_id)
            except KeyError:
                console.error(f"there is no conversation {conversation_id} to continue.")
                return EXIT_USAGE
        persona_name = getattr(args, "persona", None)
        persona = config.persona(persona_name) if persona_name else None
        provider_name, base_url = args.provider, args.base_url
        if persona is not None and persona.provider and not provider_name and not base_url:
            provider_name = persona.provider  # over the continued conversation's
        if conversation is not None and not provider_name and not base_url:
            # A `--base-url` conversation stored its server's URL as its provider.
            if is_adhoc(conversation.provider):
                base_url = conversation.provider
            else:
                provider_name = conversation.provider
        settings = provider_settings(
            config, provider_name, base_url, args.api_key_env, args.send_key
        )
        stored_provider = stored_provider_name(settings.name, base_url, provider_name)
        provider = workspace.use(stored_provider, settings)
        outcome.provider = settings.name
        session = ChatSession(
            workspace,
            provider=stored_provider,
            model="",
            params=workspace.default_params(settings.name),
            system_prompt=config.defaults.system_prompt,
        )
        created: int | None = None
        try:
            preferred = (
                persona.model if persona and persona.provider in (None, settings.name) else None
            )
            model = await session.pick_model(args.model or preferred, conversation)
            if not model:
                console.error(f"{provider.display_name} offers no models: pass one with -m.")
                return EXIT_USAGE
            outcome.model = model
            if conversation is not None:
                session.adopt(conversation, provider=stored_provider, model=model)
            session.model = model
            if persona is not None:
                session.use_persona(persona)
            session.params = session.params.merged(flag_params(args))
            if args.system is not None:
                session.system_prompt = args.system
            session.context_overflow = (
                getattr(args, "context_overflow", None) or session.context_overflow
            )
            refused = session.images_refused(
                images or [], "pick a model that does, or send text only."
            )
            if refused is not None:
                raise ProviderError(ErrorKind.UNSUPPORTED, refused)
            for file in files or ():  # -f: each must fit the model's context
                too_big = too_large(file, session.context_rules(), session.params.max_tokens)
                if too_big is not None:
                    console.error(f"{too_big} Nothing was sent.")
                    return EXIT_USAGE
            try:
                if conversation is None:
                    created = session.ensure_conversation()
                else:
                    session.keep_settings(persona_chosen=persona is not None)
            except StoreError as error:  # a full disk, say: answer anyway, unsaved
                console.error(not_saved(str(error)))
                if store is not None:
                    store.close()
                store = session.store = None
                session.conversation_id = created = None
            events = session.send(
                prompt, images or (), stream=not args.no_stream, keep_unsaved=True
            ).events
            async with aclosing(events):
                async for event in events:
                    if interrupts is not None:
                        interrupts.check()
                    if isinstance(event, ReplyStarted):
                        outcome.conversation_id = session.conversation_id
                        continue
                    if isinstance(event, ParamsDropped | ReplyNotSaved):
                        console.error(event.sentence)
                        continue
                    if isinstance(event, ContextMeasured):
                        outcome.context = event.as_json()
                        continue
                    if isinstance(event, ContextTrimmed | ContextSummarized | ContextRetried):
                        console.status(event.sentence)
                        continue
                    describe_event(event, outcome, console, provider.display_name)
        except ProviderError as err:
            outcome.error = err.message
            console.finish_text()
            console.error(err.message)
            if err.job_id and not outcome.job_id:
                outcome.job_id = err.job_id
            if store is not None and created is not None and _nothing_arrived(outcome, err):
                # A new conversation holding only a failed exchange would clutter the list.
                with contextlib.suppress(StoreError, KeyError):
                    store.delete_conversation(created)
                outcome.conversation_id = None
            return EXIT_FAILURE
        finally:
            await workspace.aclose()
    finally:
        if store is not None:
            store.close()
    console.finish_text()
    return EXIT_OK


def run_ask(args: argparse.Namespace) -> int:
    """The ``ask`` command; returns the exit code."""
    from llamachat.cli_args import flag_params
    from llamachat.config_errors import ConfigError
    from llamachat.images import ImageError, image_reference
    from llamachat.store.db import StoreError

    console = Console(
        sys.stdout,
        sys.stderr,
        quiet=args.quiet,
        json_mode=args.json,
        reasoning=getattr(args, "reasoning", False),
        render=not getattr(args, "raw", False),
    )
    try:
        flag_params(args)  # refused before anything is read, stored or sent
    except ValueError as error:
        console.error(str(error))
        return EXIT_USAGE
    try:
        images = [image_reference(text) for text in getattr(args, "images", None) or []]
    except ImageError as error:
        console.error(str(error))
        return EXIT_USAGE
    try:
        files = read_files(getattr(args, "files", None) or [])
        prompt = gather_prompt(args.prompt, editor=getattr(args, "editor", False), files=files)
    except AskInputError as error:
        console.error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.error("interrupted while reading the prompt: nothing was sent.")
        return EXIT_INTERRUPTED
    except PromptTooLarge as error:
        console.error(str(error))
        return EXIT_USAGE
    if prompt is None or not prompt.strip():
        console.error("no prompt: give one as arguments, or pipe it on stdin (llamachat ask -).")
        return EXIT_USAGE
    outcome = AskOutcome()
    interrupts = Interrupts()

    async def converse() -> int:
        interrupts.install()
        return await _converse(args, prompt, outcome, console, images, interrupts, files)

    try:
        code = asyncio.run(converse())
    except (ConfigError, StoreError) as err:
        console.error(str(err))
        return EXIT_USAGE
    except OutputClosed:
        # The reader of the pipe left; the reply so far is stored as interrupted.
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.finish_text()
        outcome.finish_reason = "interrupted"
        resume = ""
        if outcome.job_id:
            fetch = "" if args.no_save else ": `llamachat history resume` fetches its reply"
            resume = f" (job {outcome.job_id} is still queued at the provider{fetch})"
        console.error(f"interrupted{resume}.")
        code = EXIT_INTERRUPTED
    if args.json:
        json.dump(outcome.as_json(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    return code
