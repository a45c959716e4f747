"""Helpers shared by test_hold.py, test_queue.py and test_multi_user.py (on top of conftest.py):
finding gpu-waiter's holder and its holds, looking at single lock files and queue tickets, reading
`--status --json`, and the time spans that `fake_cuda_probe record` writes."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable

from conftest import NEVER, Harness, Waiter, command_line, parent_map, waiter_binary

HOLDER_FLAG = "--internal-holder"


# -- the holder and its holds ---------------------------------------------------------------------

def holder_pids(waiter_pid: int) -> set[int]:
    """Children of gpu-waiter `waiter_pid` whose command line carries --internal-holder."""
    return {pid for pid, parent in parent_map().items()
            if parent == waiter_pid and HOLDER_FLAG in command_line(pid).split()}


def hold_entries(gw: Harness, gpu: int, waiter: Waiter) -> list[dict[str, Any]]:
    """The live process entries on `gpu` (NVML index) that belong to `waiter`'s holder."""
    holders = holder_pids(waiter.pid)
    return [p for p in gw.machine.processes(gpu) if int(p["pid"]) in holders]


def held(gw: Harness, gpu: int, waiter: Waiter) -> bool:
    """Whether `waiter`'s hold on `gpu` is in place: its holder has allocated memory beyond its
    context (the context shows first; on a busy machine, for a while)."""
    context = int(gw.machine.read()["context_memory"])
    return any(int(p.get("used_memory") or 0) > context for p in hold_entries(gw, gpu, waiter))


def describe_gpus(gw: Harness) -> str:
    """What the fake driver lists on every GPU, with the command line of each pid."""
    lines = []
    for i in range(gw.machine.count()):
        procs = [f"{p['pid']} ({command_line(int(p['pid'])).strip()}, {p.get('used_memory')})"
                 for p in gw.machine.processes(i)]
        lines.append(f"GPU {i}: {procs or 'none'}")
    return "\n".join(lines)


# -- lock files and tickets -----------------------------------------------------------------------

def lock_path(lock_dir: Path, uuid: str) -> Path:
    return lock_dir / f"{uuid}.lock"


def file_locked(path: Path) -> bool:
    """Someone holds a flock on `path` (LOCK_EX|LOCK_NB fails); False when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        return True
    finally:
        os.close(fd)


def gpu_locked(gw: Harness, gpu: int) -> bool:
    return file_locked(lock_path(gw.lock_dir, gw.machine.uuid(gpu)))


def tickets(lock_dir: Path) -> list[Path]:
    """The queue's tickets: they live in the lock directory itself."""
    return sorted(lock_dir.glob("*.ticket")) if lock_dir.is_dir() else []


def locked_tickets(lock_dir: Path) -> list[Path]:
    return [t for t in tickets(lock_dir) if file_locked(t)]


# -- --status --json ------------------------------------------------------------------------------

def status_json(env: dict[str, str], binary: str | None = None, timeout: float = 60.0,
                **popen: Any) -> dict[str, Any]:
    """Runs `gpu-waiter --status --json` and returns the parsed document."""
    proc = subprocess.run([binary or waiter_binary(), "--status", "--json"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, **popen)
    assert proc.returncode == 0, f"--status --json exited {proc.returncode}\nstderr:\n{proc.stderr}"
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"--status --json printed no valid JSON ({e}):\n{proc.stdout}") from e


def queue_pids(doc: dict[str, Any]) -> list[int]:
    return [int(q["pid"]) for q in doc["queue"]]


def wait_until_queued(gw: Harness, waiters: Iterable[Waiter], timeout: float = NEVER) -> dict[str, Any]:
    """Until every one of `waiters` has a ticket in the queue; returns the last status document."""
    wanted = {w.pid for w in waiters}
    deadline = time.monotonic() + timeout
    while True:
        doc = status_json(gw.env())
        if wanted <= set(queue_pids(doc)):
            return doc
        for w in gw.waiters:
            if w.pid in wanted and w.poll() is not None:
                raise AssertionError(f"gpu-waiter exited while it should wait\n{w.describe()}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"not all of {sorted(wanted)} queued within {timeout}s; "
                                 f"queue: {doc['queue']}")
        time.sleep(0.05)


# -- time spans written by `fake_cuda_probe record FILE` ------------------------------------------

class Span:
    """One line of a record file: "<start_ns> <end_ns> <uuid,uuid,...>"."""

    def __init__(self, line: str, owner: Any = None) -> None:
        start, end, *rest = line.split()
        self.start = int(start)
        self.end = int(end)
        self.uuids = [u for u in (rest[0] if rest else "").split(",") if u]
        self.owner = owner

    def __repr__(self) -> str:
        return f"Span({self.owner}: {self.start / 1e9:.3f}-{self.end / 1e9:.3f} {self.uuids})"


def read_spans(path: Path, owner: Any = None) -> list[Span]:
    if not path.exists():
        return []
    return [Span(line, owner) for line in path.read_text().splitlines() if line.strip()]


def record_command(path: Path, sleep: float) -> list[str]:
    from conftest import probe_path
    return [probe_path(), "record", str(path), "--sleep", str(sleep)]


def overlaps(spans: Iterable[Span]) -> list[tuple[str, Span, Span]]:
    """Pairs of spans that ran on one GPU at the same time, per UUID."""
    by_uuid: dict[str, list[Span]] = {}
    for span in spans:
        for uuid in span.uuids:
            by_uuid.setdefault(uuid, []).append(span)
    found = []
    for uuid, group in by_uuid.items():
        group.sort(key=lambda s: s.start)
        for earlier, later in zip(group, group[1:]):
            if later.start < earlier.end:
                found.append((uuid, earlier, later))
    return found
