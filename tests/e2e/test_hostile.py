"""What a shared lock directory and a rough life do to gpu-waiter, and what they must not do: a
kill -9 must not free a GPU under its running command; no entry of any type in the lock
directory may hang a waiter or --status, be written through, or end a wait in an error; queue
order must not be forgeable; a stopped waiter must not stall the queue; any byte string runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (Harness, assert_no_lock_held, descendants, probe_path, wait_for,
                      waiter_binary)
from e2e_support import (gpu_locked, held, holder_pids, queue_pids, read_spans, status_json,
                         wait_until_queued)

POLL = "200ms"


def command_of(gw: Harness, w) -> set[int]:
    """The command's processes: gpu-waiter's descendants but its holder."""
    return wait_for(lambda: descendants(w.pid) - holder_pids(w.pid), 10.0,
                    lambda: f"the command never started\n{w.describe()}")


def second_try(gw: Harness, *args: str) -> int:
    """Another gpu-waiter for GPU 0 that gives up after 1 s; its exit status."""
    w = gw.run("--poll", "100ms", "-g", "0", "--timeout", "1s", *args, "--", "true", timeout=30)
    return w.returncode


# -- 1. kill -9 of gpu-waiter: the command keeps its GPU -------------------------------------------

@pytest.mark.parametrize("phase", ["before-first-use", "after-hand-over"])
def test_kill_9_leaves_the_gpu_locked_for_the_running_command(gw: Harness, phase: str) -> None:
    if phase == "before-first-use":
        # The command sleeps before its first GPU call: only gpu-waiter's lock protects it.
        w = gw.start("--poll", POLL, "-g", "0", "--", "sleep", "60")
        wait_for(lambda: held(gw, 0, w), 10.0, "GPU 0 was never held")
    else:
        w = gw.start("--poll", POLL, "-g", "0", "--", probe_path(), "use", "0", "--sleep", "60")
        wait_for(lambda: status_json(gw.env())["gpus"][0]["lock"] and
                 status_json(gw.env())["gpus"][0]["lock"]["state"] == "handed over", 10.0,
                 lambda: f"GPU 0 was never handed over\n{w.describe()}")
    command = command_of(gw, w)
    os.kill(w.pid, signal.SIGKILL)
    w.wait(10)
    # Sharing mode: only the lock, not the driver's process list, keeps a second job off.
    assert second_try(gw, "--min-free-memory", "1MiB") == 124, (
        "a second gpu-waiter took GPU 0 while the first one's command still ran")
    lock = status_json(gw.env())["gpus"][0]["lock"]
    assert lock and int(lock["command_pid"]) in command, f"--status does not show the command: {lock}"
    for pid in command:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not gpu_locked(gw, 0), 10.0, "GPU 0 stayed locked after its command ended")
    assert second_try(gw, "--min-free-memory", "1MiB") == 0


def test_kill_9_while_waiting_leaves_nothing_behind(gw: Harness) -> None:
    busy = gw.occupy(0)
    w = gw.start("--poll", POLL, "-g", "0", "--", "true")
    wait_until_queued(gw, [w])
    os.kill(w.pid, signal.SIGKILL)
    w.wait(10)
    gw.release(0, busy)
    assert second_try(gw) == 0, "a killed waiter's ticket kept the GPU from the next one"
    assert not [p for p in gw.lock_dir.iterdir() if p.name.endswith((".ticket", ".new"))]


# -- 2. anything in the lock directory --------------------------------------------------------------

def plant_everything(gw: Harness, gpu_uuid: str) -> None:
    """Every kind of entry, under the names gpu-waiter uses: the GPU's lock file, the queue's
    old counter, tickets and a hidden ticket. No FIFO has a writer: opening one to read would
    block forever."""
    d = gw.lock_dir
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o1777)
    os.mkfifo(d / f"{gpu_uuid}.lock", 0o666)
    os.mkfifo(d / "queue.sequence", 0o666)
    os.mkfifo(d / "0000000000000000-1.ticket", 0o666)
    os.mkfifo(d / "0000000000000003-3.ticket", 0o666)
    (d / "0000000000000004-4.ticket").mkdir()
    (d / "0000000000000005-5.ticket").symlink_to("/etc/passwd")
    (d / "0000000000000006-6.ticket").write_bytes(b"\x00garbage{")
    (d / "0000000000000007-7.ticket").write_bytes(b"")
    with open(d / "0000000000000008-8.ticket", "wb") as huge:
        huge.truncate(1 << 40)  # sparse: a terabyte to read, if anyone tried
    os.mkfifo(d / ".0000000000000009-9.new", 0o666)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(d / "0000000000000010-10.ticket"))


def test_planted_entries_hang_nothing_and_are_skipped(gw: Harness) -> None:
    m = gw.machine
    plant_everything(gw, m.uuid(0))
    w = gw.run("--poll", POLL, "--timeout", "20s", "--", "sh", "-c", "echo $GPU_WAITER_GPUS",
               timeout=60)
    assert w.returncode == 0, w.describe()
    assert w.stdout.strip() == "1", "GPU 0's lock file is a FIFO: the command must get GPU 1"
    assert "unusable" in w.stderr or "FIFO" in w.stderr, w.stderr

    doc = status_json(gw.env())
    foreign = {f["name"] for f in doc["foreign"]}
    assert f"{m.uuid(0)}.lock" in foreign, doc["foreign"]
    assert "0000000000000003-3.ticket" in foreign, doc["foreign"]
    out = subprocess.run([waiter_binary(), "--status"], env=gw.env(), capture_output=True,
                         timeout=30, text=True, errors="replace")
    assert out.returncode == 0, out.stderr
    assert "foreign" in out.stdout.lower(), out.stdout


def test_wait_on_unusable_lock_honours_timeout_and_signals(gw: Harness) -> None:
    m = gw.standard(1)
    plant_everything(gw, m.uuid(0))
    marker = gw.path("ran")
    w = gw.run("--poll", POLL, "--timeout", "1s", "--", "touch", str(marker), timeout=60)
    assert w.returncode == 124, w.describe()
    w = gw.start("--poll", POLL, "--", "touch", str(marker))
    gw.wait_until_waiting(w)
    w.signal(signal.SIGTERM)
    assert w.wait(30) == 128 + signal.SIGTERM, w.describe()
    assert not marker.exists()


def test_hard_link_in_place_of_a_lock_file_is_never_written(gw: Harness) -> None:
    m = gw.machine
    gw.lock_dir.mkdir()
    os.chmod(gw.lock_dir, 0o1777)
    victim = gw.path("victim")
    victim.write_text("precious\n")
    os.link(victim, gw.lock_dir / f"{m.uuid(0)}.lock")
    assert second_try(gw) == 124, "GPU 0 was taken through a hard link"
    assert victim.read_text() == "precious\n", "written through the hard link"


# -- 3. queue order cannot be forged ----------------------------------------------------------------

def flock_holder(path: Path) -> subprocess.Popen:
    """A process that is not gpu-waiter holding `path`'s lock, as a forger would."""
    p = subprocess.Popen([sys.executable, "-c",
                          "import fcntl, sys, time\n"
                          "f = open(sys.argv[1])\n"
                          "fcntl.flock(f, fcntl.LOCK_EX)\n"
                          "print('locked', flush=True)\n"
                          "time.sleep(600)\n", str(path)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline() == "locked\n"
    return p


def test_forged_ticket_is_ignored_and_names_no_one(gw: Harness) -> None:
    m = gw.machine
    gw.lock_dir.mkdir()
    os.chmod(gw.lock_dir, 0o1777)
    forged = gw.lock_dir / "0000000000000001-999999.ticket"
    forged.write_text(json.dumps({"number": 1, "pid": 999999, "user": "alice", "command": "x",
                                  "count": 2, "candidates": [m.uuid(0), m.uuid(1)],
                                  "since": 0}) + "\n")
    forger = flock_holder(forged)
    try:
        doc = status_json(gw.env())
        assert not doc["queue"], f"a forged ticket is shown as a waiter: {doc['queue']}"
        assert "0000000000000001-999999.ticket" in {f["name"] for f in doc["foreign"]}
        assert "alice" not in json.dumps(doc["queue"])
        assert second_try(gw) == 0, "a forged ticket kept the free GPU from a real waiter"
    finally:
        forger.kill()
        forger.wait()


def test_rewritten_counter_does_not_reorder_the_queue(gw: Harness) -> None:
    busy = gw.occupy(0)
    first = gw.start("--poll", POLL, "-g", "0", "--", *record(gw, "first"))
    wait_until_queued(gw, [first])
    (gw.lock_dir / "queue.sequence").write_text("0\n")
    second = gw.start("--poll", POLL, "-g", "0", "--", *record(gw, "second"))
    doc = wait_until_queued(gw, [first, second])
    assert queue_pids(doc) == [first.pid, second.pid], doc["queue"]
    gw.release(0, busy)
    assert first.wait(30) == 0 and second.wait(30) == 0
    (a,), (b,) = read_spans(gw.path("first")), read_spans(gw.path("second"))
    assert a.end <= b.start, "the later waiter ran first"


def record(gw: Harness, name: str) -> list[str]:
    return [probe_path(), "record", str(gw.path(name)), "--sleep", "0.2"]


# -- 4. a stopped waiter is passed over, and keeps its place ---------------------------------------

def test_stopped_waiter_is_passed_over_and_keeps_its_place(gw: Harness) -> None:
    busy = gw.occupy(0)
    go = gw.path("go")
    stopped = gw.start("--poll", POLL, "-g", "0", "--", *record(gw, "stopped"))
    wait_until_queued(gw, [stopped])
    middle = gw.start("--poll", POLL, "-g", "0", "--", "sh", "-c",
                      f'while [ ! -e "{go}" ]; do sleep 0.05; done')
    wait_until_queued(gw, [stopped, middle])
    os.kill(stopped.pid, signal.SIGSTOP)
    try:
        gw.release(0, busy)
        # The head of the queue is stopped: the next waiter runs meanwhile.
        wait_for(lambda: middle.pid not in queue_pids(status_json(gw.env())), 30.0,
                 "the waiter behind a stopped one never got the free GPU")
        last = gw.start("--poll", POLL, "-g", "0", "--", *record(gw, "last"))
        wait_until_queued(gw, [last])
    finally:
        os.kill(stopped.pid, signal.SIGCONT)
    go.touch()
    assert middle.wait(30) == 0, middle.describe()
    assert stopped.wait(30) == 0 and last.wait(30) == 0
    (s,), (t,) = read_spans(gw.path("stopped")), read_spans(gw.path("last"))
    assert s.end <= t.start, "the continued waiter lost its place to a later one"
    assert_no_lock_held(gw.lock_dir)


# -- 5. any byte string runs; nothing is left behind --------------------------------------------------

def test_non_utf8_arguments_and_command_name_run(gw: Harness) -> None:
    odd = os.fsdecode(b"\xff\xfe")
    out = gw.path("args")
    w = gw.run("--", sys.executable, "-c",
               "import os, sys; open(sys.argv[1], 'wb').write(os.fsencode(sys.argv[2]))",
               str(out), odd, timeout=30)
    assert w.returncode == 0, w.describe()
    assert out.read_bytes() == b"\xff\xfe"
    script = gw.path(os.fsdecode(b"run-\xff"))
    script.write_text(f"#!/bin/sh\ntouch '{gw.path('named')}'\n")
    script.chmod(0o755)
    busy = gw.occupy(0)
    gw.occupy(1)
    w = gw.start("--poll", POLL, "-g", "0", "--", str(script), odd)
    wait_until_queued(gw, [w])  # --status --json copes with the name while it waits
    gw.release(0, busy)
    assert w.wait(30) == 0, w.describe()
    assert gw.path("named").exists()
    assert not [p for p in gw.lock_dir.iterdir() if p.name.endswith((".ticket", ".new"))]


def test_dead_waiters_hidden_ticket_is_cleaned(gw: Harness) -> None:
    gw.lock_dir.mkdir()
    os.chmod(gw.lock_dir, 0o1777)
    stale = gw.lock_dir / ".0000000000000005-999999.new"
    stale.write_text("{}")
    assert gw.run("--", "true", timeout=30).returncode == 0
    assert not stale.exists(), "a dead waiter's half-written ticket outlived it"


# -- 6. numbers past the edge ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--min-free-memory", "16777216TiB"],
                                  ["--min-free-memory", "1e20"],
                                  ["--hold-fraction", "nan"]], ids=["2^64", "1e20", "nan"])
def test_numbers_past_the_edge_are_usage_errors(gw: Harness, args: list[str]) -> None:
    marker = gw.path("ran")
    w = gw.run(*args, "--", "touch", str(marker), timeout=30)
    assert w.returncode == 125, w.describe()
    assert not marker.exists()
