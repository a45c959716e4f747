"""Many gpu-waiters on one machine, sharing one lock directory (shared/design/cli.md, "Sharing
one machine")."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from conftest import (Harness, Waiter, assert_no_lock_held, command_line, held_locks, pid_alive,
                      probe_path, read_stamp, stamp_command, wait_for)

DEADLINE = 120.0  # for a whole crowd of waiters to finish, seconds


def wait_all(waiters: list[Waiter], deadline: float = DEADLINE) -> None:
    """Until every waiter has exited (fails the test, naming the stragglers, after `deadline`)."""
    end = time.monotonic() + deadline
    for w in waiters:
        w.wait(max(0.1, end - time.monotonic()))


def read_records(path: Path) -> list[tuple[int, int, list[str]]]:
    """fake_cuda_probe record lines: (start_ns, end_ns, [uuid, ...])."""
    records = []
    for line in path.read_text().splitlines():
        start, end, uuids = line.split(" ", 2)
        records.append((int(start), int(end), [u for u in uuids.split(",") if u]))
    return records


def assert_no_overlap(records: list[tuple[int, int, list[str]]]) -> None:
    """No two records that share a UUID overlap in time."""
    by_uuid: dict[str, list[tuple[int, int]]] = {}
    for start, end, uuids in records:
        assert start <= end
        for uuid in uuids:
            by_uuid.setdefault(uuid, []).append((start, end))
    for uuid, spans in by_uuid.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            assert s2 >= e1, (f"two commands used {uuid} at once: [{s1}, {e1}] and [{s2}, {e2}] "
                              f"overlap by {(e1 - s2) / 1e6:.1f} ms")


def test_twenty_waiters_two_gpus(gw: Harness) -> None:
    m = gw.standard(2)
    record = gw.path("records")
    waiters = [gw.start("--poll", "100ms", probe_path(), "record", record, "--sleep", "0.2")
               for _ in range(20)]
    wait_all(waiters)
    failed = [w.describe() for w in waiters if w.returncode != 0]
    assert not failed, f"{len(failed)} waiter(s) failed:\n" + "\n".join(failed)
    records = read_records(record)
    assert len(records) == 20
    for _, _, uuids in records:
        assert len(uuids) == 1 and uuids[0] in (m.uuid(0), m.uuid(1)), f"CUDA saw {uuids}"
    assert_no_overlap(records)
    # Both GPUs served the crowd.
    assert {r[2][0] for r in records} == {m.uuid(0), m.uuid(1)}
    assert_no_lock_held(gw.lock_dir)
    wait_for(lambda: not gw.own_processes(), 15.0,
             lambda: f"processes left behind: {sorted(gw.own_processes())}")


def test_mixed_counts_share_two_gpus(gw: Harness) -> None:
    m = gw.standard(2)
    record = gw.path("records")
    waiters = [gw.start("-n", "2" if i % 3 == 0 else "1", "--poll", "100ms",
                        probe_path(), "record", record, "--sleep", "0.1")
               for i in range(15)]
    wait_all(waiters)
    failed = [w.describe() for w in waiters if w.returncode != 0]
    assert not failed, f"{len(failed)} waiter(s) failed:\n" + "\n".join(failed)
    records = read_records(record)
    assert len(records) == 15
    assert sorted(len(r[2]) for r in records) == [1] * 10 + [2] * 5
    assert_no_overlap(records)
    assert_no_lock_held(gw.lock_dir)


def test_a_locked_gpu_is_not_taken(gw: Harness) -> None:
    """A GPU locked by one waiter is busy for another, even with holding off and no process on it."""
    gw.standard(1)
    started, ended = gw.path("first-started"), gw.path("first-ended")
    first = gw.start("--no-hold", "sh", "-c", 'touch "$1"; sleep 1.5; date +%s.%N > "$2"', "sh",
                     started, ended)
    wait_for(started.exists, 10.0, lambda: "the first command never started\n" + first.describe())
    assert held_locks(gw.lock_dir), "no lock held while the first command runs"
    marker = gw.path("second-started")
    second = gw.start("--no-hold", "--poll", "100ms", *stamp_command(marker))
    time.sleep(0.5)
    assert not marker.exists(), "the second waiter took the locked GPU\n" + second.describe()
    assert first.wait(10) == 0, first.describe()
    assert second.wait(10) == 0, second.describe()
    # The first command's own last word, not when this test noticed its end: the hand-over is
    # faster than Popen.wait's polling.
    assert read_stamp(marker) >= read_stamp(ended)


def test_first_come_first_served(gw: Harness) -> None:
    gw.standard(1)
    pid = gw.occupy(0)
    stamps = [gw.path(f"stamp-{i}") for i in range(4)]
    waiters = []
    for stamp in stamps:
        w = gw.start("--poll", "100ms", "sh", "-c", 'date +%s.%N > "$1"; sleep 0.2', "sh", stamp)
        gw.wait_until_waiting(w)
        time.sleep(0.2)
        waiters.append(w)
    gw.release(0, pid)
    wait_all(waiters, 30.0)
    assert all(w.returncode == 0 for w in waiters), [w.describe() for w in waiters]
    order = sorted(range(len(stamps)), key=lambda i: read_stamp(stamps[i]))
    assert order == list(range(len(stamps))), f"served in order {order}, arrived 0, 1, 2, 3"


@pytest.mark.parametrize("phase", ["running", "waiting"])
def test_killed_waiter_frees_its_locks_and_holds(gw: Harness, phase: str) -> None:
    """kill -9 of a waiter (and of its command): its locks and holds go, another waiter gets in."""
    m = gw.standard(2)
    foreign = None
    if phase == "running":
        started = gw.path("started")
        victim = gw.start("-g", "0", "sh", "-c", 'touch "$1"; exec sleep 60', "sh", started)
        wait_for(started.exists, 10.0, lambda: "the command never started\n" + victim.describe())
    else:
        foreign = gw.occupy(1)  # -n 2: GPU 0 is locked and held while GPU 1 is awaited
        victim = gw.start("-n", "2", "--poll", "100ms", "true")
        gw.wait_until_waiting(victim)
    wait_for(lambda: held_locks(gw.lock_dir), 15.0, "the victim holds no lock")
    wait_for(lambda: any(p.get("cuda") for p in m.processes(0)), 15.0, "no hold on GPU 0")
    # Holders: whoever holds memory on GPU 0 for the victim, and any --internal-holder process.
    own = gw.own_processes()
    holders = {p["pid"] for p in m.processes(0) if p.get("cuda")}
    holders |= {p for p in own if "--internal-holder" in command_line(p)}
    assert victim.pid not in holders

    # The waiter dies first (so it cannot clean up after its command), then its command.
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(5)
    for pid in own - holders - {victim.pid}:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not held_locks(gw.lock_dir), 15.0,
             lambda: f"locks still held after kill -9: {held_locks(gw.lock_dir)}")
    wait_for(lambda: not any(pid_alive(p) for p in holders), 15.0,
             lambda: f"holders survived their waiter: {sorted(holders)}")
    wait_for(lambda: not any(p.get("cuda") for p in m.processes(0)), 15.0,
             lambda: f"GPU 0 still held: {m.processes(0)}")

    if foreign is not None:
        gw.release(1, foreign)
    successor = gw.run("-g", "0", "--poll", "100ms", "--timeout", "5s", "true", timeout=60)
    assert successor.returncode == 0, successor.describe()
