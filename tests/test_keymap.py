"""The config file's [keymap]: every binding has an id, a remap works, and an unknown id or a
key another binding holds is said at start and not used."""

from __future__ import annotations

from pathlib import Path

from llamachat import locations
from llamachat.config import load_config
from llamachat.keymap import read_keymap
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.keys import CHAINS, binding_classes, check_keymap, key_bindings
from llamachat.tui.screens.help import KEYS, HelpScreen
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for


def test_every_binding_has_an_id_that_help_and_the_readme_name() -> None:
    bindings = key_bindings()
    assert len(bindings) > 30
    missing = [(b.owner, b.keys) for b in bindings if not b.id]
    assert not missing, f"bindings without an id: {missing}"
    listed = " ".join(binding_id for _, rows in KEYS for _, _, binding_id in rows)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for binding in bindings:
        name = binding.id
        if name.startswith("message.copy_code_"):  # the nine are one row: "1 … 9"
            assert "`message.copy_code_1 … message.copy_code_9`" in readme
            continue
        assert name in listed, f"F1 does not name {binding.id}"
        assert f"`{name}`" in readme, f"the README does not name {binding.id}"


def test_every_class_with_bindings_is_in_a_chain_or_a_modal_screen() -> None:
    from textual.screen import ModalScreen

    chained = {name for chain in CHAINS for name in chain}
    for cls in binding_classes():
        assert issubclass(cls, ModalScreen) or cls.__name__ in chained, cls.__name__


def test_the_table_is_read_and_bad_lines_are_said(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    raw = {"keymap": {"app.new_chat": "ctrl+k", "message.copy": "y, c", "app.help": 5}}
    keymap, warnings = read_keymap(raw, path)
    assert keymap == {"app.new_chat": "ctrl+k", "message.copy": "y,c"}
    assert len(warnings) == 1 and "app.help" in warnings[0] and "ignored" in warnings[0]
    assert read_keymap({"keymap": "ctrl+k"}, path)[0] == {}
    assert read_keymap({"keymap": {"app.search": "ctrl k"}}, path)[0] == {}


def test_unknown_ids_and_collisions_are_refused_with_a_sentence() -> None:
    usable, problems = check_keymap(
        {
            "app.new_chat": "f9",  # free: used
            "app.nope": "ctrl+y",  # no such binding
            "message.copy": "e",  # the message's own Edit key
            "app.search": "ctrl+r",  # the pane's Regenerate, in force with the app's keys
            "sidebar.pin": "c",  # a message's Copy key, but never in force with the sidebar
            "pane.stop": "ctrl+k",  # the prompt's own (TextArea's) delete-to-line-end
        }
    )
    assert usable == {"app.new_chat": "f9", "sidebar.pin": "c"}
    assert len(problems) == 4
    assert any("'pane.stop'" in p and "PromptInput's own" in p for p in problems)
    assert any("'app.nope'" in p and "no binding" in p for p in problems)
    assert any("'message.copy'" in p and "'message.edit'" in p for p in problems)
    assert any("'app.search'" in p and "'pane.regenerate'" in p for p in problems)
    # Two lines may swap keys: neither collides once both are moved.
    assert check_keymap({"message.copy": "e", "message.edit": "c"})[1] == []


async def test_a_remap_works_and_a_collision_is_said_at_start(fake: FakeServer) -> None:
    keymap = {"app.new_chat": "f9", "prompt.submit": "ctrl+enter", "app.export": "ctrl+r"}
    configure(fake, keymap=keymap)
    fake.on("POST", "/v1/chat/completions", sse_reply(stream_events(["Hi ", "back."])))
    assert load_config().keymap["app.new_chat"] == "f9"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        text = "\n".join(str(n.message) for n in app._notifications)
        assert "'app.export'" in text and "'pane.regenerate'" in text  # said, not used
        assert app.workspace.keymap == {"app.new_chat": "f9", "prompt.submit": "ctrl+enter"}

        await pilot.press("f9")  # the new key opens a new chat
        await wait_for(lambda: len(app.panes()) == 2, pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)
        await pilot.press("ctrl+n")  # the old one no longer does
        await pilot.pause()
        assert len(app.panes()) == 2

        # Enter adds a line; Ctrl+Enter sends.
        await pilot.press("h", "i", "enter", "y", "o")
        assert pane(app).prompt.text == "hi\nyo"
        assert "sends · Enter: new line" in str(pane(app).prompt.placeholder)
        await pilot.press("ctrl+enter")
        await wait_for(lambda: fake.received("POST"), pilot)
        assert fake.received("POST")[0].json["messages"][-1]["content"] == "hi\nyo"
        await wait_for(lambda: [v.text for v in views(app)] == ["hi\nyo", "Hi back."], pilot)
        assert pane(app).prompt.text == ""

        await pilot.press("f1")  # help shows the key in force and the ids
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.keymap["app.new_chat"] == "f9"


def test_no_keymap_imports_no_binding_classes_at_start() -> None:
    assert locations.config_path()  # the test's own config path: no [keymap] there
    import subprocess
    import sys

    code = (
        "import sys\nfrom llamachat.tui.app import LlamaChatApp\n"
        "LlamaChatApp(discover_local=False)\n"
        "print('llamachat.tui.screens.settings' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
