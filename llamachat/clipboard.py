"""Copying text to the system clipboard with the platform's own tools.

The TUI also sends every copy through the terminal (OSC 52), which reaches the clipboard
of the machine the terminal runs on, even over SSH, but which many terminals drop
(GNOME Terminal, VTE terminals, tmux without ``set-clipboard``). So a copy also goes to
the first tool of the platform that works: ``wl-copy`` on Wayland, ``xclip`` or ``xsel``
on X11, ``pbcopy`` on macOS, ``clip.exe`` on Windows and WSL. No library is needed for
this: pyperclip runs the same tools, and would add nothing but a dependency.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: A tool that does not return in this time (no display it can reach) is given up on.
TIMEOUT = 3.0


@dataclass(frozen=True)
class Tool:
    """A clipboard command: its name as told to the person, and how it is run."""

    name: str
    argv: tuple[str, ...]
    encoding: str = "utf-8"


WL_COPY = Tool("wl-copy", ("wl-copy",))
XCLIP = Tool("xclip", ("xclip", "-selection", "clipboard", "-in"))
XSEL = Tool("xsel", ("xsel", "--clipboard", "--input"))
PBCOPY = Tool("pbcopy", ("pbcopy",))
#: clip.exe reads the console code page, unless the text starts with a byte order mark.
CLIP_EXE = Tool("clip.exe", ("clip.exe",), encoding="utf-16")


def tools(env: Mapping[str, str] | None = None, platform: str | None = None) -> list[Tool]:
    """The clipboard tools worth trying here, in order, of those installed."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        wanted = [PBCOPY]
    elif platform == "win32":
        wanted = [CLIP_EXE]
    else:
        wanted = []
        if env.get("WAYLAND_DISPLAY"):
            wanted.append(WL_COPY)
        if env.get("DISPLAY"):
            wanted += [XCLIP, XSEL]
        wanted.append(CLIP_EXE)  # WSL: Windows' own, on the PATH
    path = env.get("PATH", "")
    return [tool for tool in wanted if shutil.which(tool.argv[0], path=path)]


def copy(
    text: str, env: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Put ``text`` on the clipboard with the first tool that works; its name, or ``None``
    when none is installed or none worked.

    The tools keep running in the background to serve the clipboard (X11 and Wayland
    have no clipboard of their own): their output is not waited for, and they are started
    in a session of their own so that quitting the app does not take the copy with it.
    """
    for tool in tools(env, platform):
        try:
            done = subprocess.run(
                tool.argv,
                input=text.encode(tool.encoding, errors="replace"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TIMEOUT,
                start_new_session=True,
                env=None if env is None else dict(env),
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return tool.name
    return None


def save(text: str, folder: Path) -> Path:
    """Write ``text`` to a new file in ``folder`` (made if needed); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"llamachat-copy-{stamp}.txt"
    number = 1
    while path.exists():  # two copies saved in one second
        number += 1
        path = folder / f"llamachat-copy-{stamp}-{number}.txt"
    # Only the person may read it: a conversation can hold anything.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)
    return path
