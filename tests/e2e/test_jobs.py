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


# -- 2. --status as a view ----------------------------------------------------------------------------

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def status_text(gw: Harness, *args: str, columns: int = 80) -> str:
    proc = subprocess.run([waiter_binary(), "--status", *args], env=gw.env(COLUMNS=str(columns)),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def long_foreign(gw: Harness, gpu: int) -> subprocess.Popen:
    """A foreign process on `gpu` whose command line is much longer than its 15-letter comm."""
    proc = subprocess.Popen(["sh", "-c", "sleep 600; : this-argument-makes-the-line-long", "x"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    gw._foreign.append(proc)  # noqa: SLF001 - killed at teardown like the harness' own
    gw.machine.add_process(gpu, proc.pid, used_memory=2 << 30)
    return proc


def start_queue(gw: Harness) -> tuple:
    runner = gw.start("--poll", POLL, "--name", "train-1", "-g", "0", "--", "sleep", "60")
    wait_for(lambda: gw.lock_dir.exists() and status_json(gw.env())["gpus"][0]["lock"], 10,
             lambda: f"the first job never locked GPU 0\n{runner.describe()}")
    queued = gw.start("--poll", POLL, "--name", "eval-2", "-g", "0", "--", "true")
    wait_until_queued(gw, [queued])
    return runner, queued


def test_status_table_fits_and_speaks_our_terms(gw: Harness) -> None:
    foreign = long_foreign(gw, 1)
    runner, queued = start_queue(gw)
    text = status_text(gw)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    assert re.match(r"^GPU +NAME +MEMORY +UTIL +STATE$", lines[0]), text
    me = status_json(gw.env())["queue"][0]["user"]
    assert f"held by {me}'s train-1" in text, text
    assert f"busy: {me}'s sh" in text, text
    # The process's command line from /proc, cut to fit, not its 15-letter name alone.
    row = next(line for line in lines if re.match(rf"^\s*1\s+{foreign.pid}\s", line))
    assert "sh -c 'sleep 600; : this-argument" in row, text
    assert "gpu-waiter's hold" in text, text
    assert "queue: " not in text
    queue_row = next(line for line in lines if "eval-2" in line)
    assert re.match(rf"^1\s+eval-2 \({queued.pid}\)\s+{me}\s+1 GPU of 0\s+\d+s\s+GPU 0 held by",
                    queue_row), text
    assert re.search(r"^#\s+JOB\s+USER\s+WANTS\s+WAITED\s+WHY IT WAITS$", text, re.M), text


def test_status_json_schema_argv_and_times(gw: Harness) -> None:
    runner, queued = start_queue(gw)
    doc = status_json(gw.env())
    assert doc["schema_version"] == 2
    assert ISO.match(doc["generated_at"])
    lock = doc["gpus"][0]["lock"]
    assert lock["argv"] == ["sleep", "60"] and lock["name"] == "train-1", lock
    assert ISO.match(lock["since"]), lock
    assert doc["gpus"][0]["verdict"]["state"] == "held", doc["gpus"][0]
    assert doc["gpus"][1]["verdict"]["state"] == "free", doc["gpus"][1]
    (entry,) = doc["queue"]
    assert entry["argv"] == ["true"] and entry["name"] == "eval-2" and entry["id"] == queued.pid
    assert ISO.match(entry["since"]) and entry["reason"], entry


def test_status_filters_by_user(gw: Harness) -> None:
    start_queue(gw)
    me = status_json(gw.env())["queue"][0]["user"]
    assert "eval-2" in status_text(gw, "--mine")
    assert "eval-2" in status_text(gw, "--user", me)
    other = status_text(gw, "--user", "nobody-e2e")
    assert "eval-2" not in other and "No job of nobody-e2e is waiting." in other, other


def test_status_and_run_without_gpus(gw: Harness) -> None:
    from fakegpu import FakeMachine
    gw.machine = FakeMachine(gw.machine.state_path.parent, [])
    text = status_text(gw)
    assert "No GPU found" in text, text
    w = gw.run("true", timeout=15)
    assert w.returncode == 125, w.describe()
    assert "no GPU found" in w.stderr and "lower -n" not in w.stderr, w.describe()


def test_status_creates_no_lock_directory(gw: Harness) -> None:
    text = status_text(gw)
    assert not gw.lock_dir.exists(), "--status created the lock directory"
    assert "No job is waiting" in text, text
    assert status_json(gw.env())["queue"] == []
    assert not gw.lock_dir.exists()
