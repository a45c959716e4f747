"""gpu-waiter in a real terminal (tmux, 80 columns): the live status line never wraps and says
the place in line; --status fits the width; --status --watch redraws in place. The screen is read
with capture-pane, as a person would see it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Harness, wait_for, waiter_binary
from e2e_support import wait_until_queued

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server of its own with one 80x24 window running a command."""

    def __init__(self, gw: Harness, argv: list[str], env: dict[str, str]) -> None:
        self.socket = str(gw.path("tmux.sock"))
        script = gw.path("in-terminal.sh")
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        script.write_text(f"#!/bin/sh\n{exports}exec {shlex.join(argv)}\n")
        script.chmod(0o755)
        self.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "t", f"{script}; sleep 600")

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=30,
                              env={**os.environ, "LANG": "C.UTF-8", "TERM": "xterm"})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def screen(self) -> list[str]:
        return self.tmux("capture-pane", "-p").splitlines()

    def text(self) -> str:
        return "\n".join(self.screen())

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal(gw: Harness):
    opened: list[Terminal] = []

    def open_terminal(*args: str, **extra_env: str) -> Terminal:
        t = Terminal(gw, [waiter_binary(), *args], gw.env(**extra_env))
        opened.append(t)
        return t

    yield open_terminal
    for t in opened:
        t.close()


def elapsed_shown(t: Terminal) -> str | None:
    m = re.search(r"gpu-waiter: \[([^\]]+)\]", t.text())
    return m.group(1) if m else None


def test_status_line_never_wraps_at_80_columns(gw: Harness, terminal) -> None:
    gw.standard(8)
    for i in range(8):
        gw.occupy(i)
    t = terminal("--poll", "0.1", "--", "true")
    wait_for(lambda: elapsed_shown(t), 15, lambda: f"no status line:\n{t.text()}")
    # Let it redraw a good many times, then look: one line, as wide as the terminal at most.
    for _ in range(3):
        before = elapsed_shown(t)
        wait_for(lambda: elapsed_shown(t) != before, 15, lambda: f"line not redrawn:\n{t.text()}")
    rows = [row for row in t.screen() if row.strip()]
    assert len(rows) == 1, "the status line wrapped or scrolled:\n" + t.text()
    assert len(rows[0]) <= 80 and rows[0].startswith("gpu-waiter: ["), rows
    assert "waiting for a GPU, first in line" in rows[0], rows


def test_status_line_says_who_is_ahead(gw: Harness, terminal) -> None:
    gw.occupy(0)
    gw.occupy(1)
    first = gw.start("--poll", "0.2", "--name", "big-run", "-n", "2", "--", "true")
    wait_until_queued(gw, [first])
    t = terminal("--poll", "0.2", "-n", "2", "--", "true")
    wait_for(lambda: "2nd in line" in t.text(), 15, lambda: f"no place in line:\n{t.text()}")
    assert re.search(r"waiting for 2 GPUs, 2nd in line, after \S+'s big-run", t.text()), t.text()


def test_status_fits_the_terminal_and_watch_redraws_in_place(gw: Harness, terminal) -> None:
    gw.standard(8)
    t = terminal("--status", "--watch", "0.2")
    wait_for(lambda: "Every" in t.text(), 15, lambda: f"no --watch screen:\n{t.text()}")
    assert all(len(row) <= 80 for row in t.screen())
    gw.occupy(3)
    wait_for(lambda: re.search(r"^\s+3 .*busy", t.text(), re.M), 15,
             lambda: f"--watch did not show GPU 3 busy:\n{t.text()}")
    screen = t.text()
    assert screen.count("Every") == 1 and screen.count("GPU  NAME") == 1, screen
    assert re.search(r"^\s+0 .*free$", screen, re.M), screen


def test_count_two_reads_naturally(gw: Harness) -> None:
    gw.occupy(1)
    w = gw.start("--poll", "0.2", "-n", "2", "-g", "0,1", "--", "true")
    wait_for(lambda: "1 more GPU (1 of 2 reserved)" in w.stderr, 15, w.describe)
    assert "waiting for 2 of 2" not in w.stderr and "holding 1 of 2" not in w.stderr, w.stderr
