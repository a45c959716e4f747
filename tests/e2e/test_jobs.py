"""Jobs people can manage (issue 14): COMMAND checked before the wait, --status as a view,
--name, --detach, --cancel, errors in gpu-waiter's own words, the lock directory's owner."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import Harness, wait_for, waiter_binary
from e2e_support import status_json, wait_until_queued

POLL = "0.2"


def messages(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith("gpu-waiter:"))


# -- 1. COMMAND is resolved before anything else --------------------------------------------------

@pytest.mark.parametrize("how, status", [("missing-name", 127), ("missing-path", 127),
                                         ("not-executable", 126), ("directory", 126)])
def test_command_checked_before_driver_lock_dir_and_queue(gw: Harness, how: str,
                                                          status: int) -> None:
    gw.occupy(0)
    gw.occupy(1)  # all busy: a waiter that waited first would never end
    script = gw.path("script")
    script.write_text("#!/bin/sh\ntrue\n")
    script.chmod(0o644)
    command = {"missing-name": "no-such-command-e2e", "missing-path": str(gw.path("nope/cmd")),
               "not-executable": str(script), "directory": str(gw.tmp)}[how]
    # No driver library at all: the refusal must come before NVML is even loaded.
    w = gw.run(command, timeout=15, GPU_WAITER_NVML_LIBRARY=str(gw.path("no-nvml.so")))
    assert w.returncode == status, w.describe()
    assert command in messages(w.stderr), w.describe()
    assert "nvml" not in w.stderr.lower(), w.describe()
    assert not gw.lock_dir.exists(), "a ticket or lock was taken for a command that cannot run"


# -- 5. errors in gpu-waiter's own words ------------------------------------------------------------

RAW_PARSER_TEXTS = ["not in range", "At Most", "required but received", "Value ", "TEXT",
                    "The following argument"]


@pytest.mark.parametrize("args, expected", [
    (["--count", "two", "true"], "'two' is not a number of GPUs"),
    (["--max-util", "101", "true"], "'101' is not a percentage"),
    (["--hold-fraction", "1", "true"], "'1' is not a fraction from 0 to 0.95"),
    (["--cout", "2", "true"], "did you mean --count?"),
    (["--json"], "--json goes with --status"),
    (["-g", "0", "--json", "echo", "hi"], "--json goes with --status"),
    (["-q", "-v", "true"], "contradict"),
    (["--status", "-n", "2"], "--count applies to running a COMMAND, not to --status"),
    (["--status", "--watch", "--json"], "choose one"),
    (["--log", "x.log", "true"], "--log names the log of a --detach job"),
    (["-n"], "--count needs a value"),
])
def test_usage_errors_in_our_words(gw: Harness, args: list[str], expected: str) -> None:
    w = gw.run(*args, timeout=15)
    assert w.returncode == 125, w.describe()
    assert expected in messages(w.stderr), w.describe()
    for raw in RAW_PARSER_TEXTS:
        assert raw not in w.stderr, w.describe()
    assert not gw.lock_dir.exists()


def test_help_shows_placeholders_and_defaults(gw: Harness) -> None:
    w = gw.run("--help", timeout=15)
    assert w.returncode == 0, w.describe()
    assert "-I STR" in w.stdout and "TEXT" not in w.stdout, w.stdout
    for default in ["(default 1)", "(default 0.25)", "default /tmp/gpu-waiter"]:
        assert default in w.stdout, w.stdout
