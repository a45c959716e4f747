"""The fair queue (README "Fairness", shared/design/cli.md "Sharing one machine" and "Status"):
waiters are served first come, first served; a multi-GPU waiter is not starved by one-GPU
waiters; a dead waiter leaves the queue; `--status --json` shows GPUs, lock holders and the queue;
and a stress run with kill -9 leaves no lock, no ticket and no hold behind."""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import random
import signal
import subprocess
import time
from pathlib import Path

from conftest import (Harness, assert_no_lock_held, command_line, held_locks, parent_map, wait_for,
                      waiter_binary)
from e2e_support import (Span, describe_gpus, gpu_locked, holder_pids, lock_path, locked_tickets,
                         overlaps, queue_pids, read_spans, record_command, status_json, tickets,
                         wait_until_queued)

POLL = "200ms"


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


# -- 1. one GPU, ten waiters: one at a time, in the order they started ----------------------------

def test_waiters_run_one_at_a_time_in_start_order(gw: Harness) -> None:
    busy = gw.occupy(0)  # nobody runs before all ten are queued
    waiters = []
    for i in range(10):
        # "Start order" is the order of arrival in the queue: each waiter is queued before the
        # next starts, however slowly processes start on a busy machine.
        waiters.append(gw.start("--poll", POLL, "-g", "0", "--",
                                *record_command(gw.path(f"rec-{i}"), 0.3)))
        wait_until_queued(gw, waiters)
    gw.release(0, busy)
    for w in waiters:
        assert w.wait(40) == 0, w.describe()
    spans: list[Span] = []
    for i in range(10):
        found = read_spans(gw.path(f"rec-{i}"), owner=i)
        assert len(found) == 1, f"waiter {i}'s command wrote {len(found)} records"
        assert found[0].uuids == [gw.machine.uuid(0)], found[0]
        spans += found
    order = [s.owner for s in sorted(spans, key=lambda s: s.start)]
    assert order == list(range(10)), f"commands ran in the order {order}, not the start order"
    for earlier, later in zip(spans, spans[1:]):
        assert later.start >= earlier.end, f"{earlier} and {later} overlap on GPU 0"
    assert_no_lock_held(gw.lock_dir)


# -- 2. a 2-GPU waiter is not starved by a stream of 1-GPU waiters --------------------------------

def test_two_gpu_waiter_is_not_starved_by_one_gpu_waiters(gw: Harness) -> None:
    m = gw.machine
    busy = [gw.occupy(0), gw.occupy(1)]
    big = gw.start("--poll", POLL, "-n", "2", "--", *record_command(gw.path("rec-big"), 0.5))
    wait_until_queued(gw, [big])
    small = []

    def start_small() -> None:
        i = len(small)
        small.append(gw.start("--poll", POLL, "--",
                              *record_command(gw.path(f"rec-small-{i}"), 0.5)))
        time.sleep(0.15)

    for _ in range(3):
        start_small()
    wait_until_queued(gw, [big, *small])

    gw.release(0, busy[0])
    # While big gathers, GPU 0 is reserved for it (locked by it), and the stream goes on.
    wait_for(lambda: gpu_locked(gw, 0), 15.0, "nobody locked GPU 0 after it was freed")
    for _ in range(3):
        start_small()
    time.sleep(1.0)
    doc = status_json(gw.env())
    lock = doc["gpus"][0]["lock"]
    assert lock is not None and int(lock["pid"]) == big.pid, (
        f"freed GPU 0 is locked by {lock}, not by the earlier 2-GPU waiter (pid {big.pid}); "
        f"small waiters: {[w.pid for w in small]}")
    ran_early = [i for i in range(len(small)) if gw.path(f"rec-small-{i}").exists()
                 or small[i].poll() is not None]
    assert not ran_early, f"1-GPU waiters {ran_early} ran while the 2-GPU waiter gathered"
    assert big.poll() is None, big.describe()

    gw.release(1, busy[1])
    assert big.wait(15) == 0, big.describe()
    for w in small:
        assert w.wait(30) == 0, w.describe()

    (big_span,) = read_spans(gw.path("rec-big"), owner="big")
    assert sorted(big_span.uuids) == sorted([m.uuid(0), m.uuid(1)]), big_span
    small_spans = [s for i in range(len(small))
                   for s in read_spans(gw.path(f"rec-small-{i}"), owner=f"small-{i}")]
    assert len(small_spans) == len(small)
    early = [s for s in small_spans if s.start < big_span.start]
    assert not early, f"1-GPU waiters queued after the 2-GPU waiter ran before it: {early}"
    assert not overlaps([big_span, *small_spans]), overlaps([big_span, *small_spans])
    assert_no_lock_held(gw.lock_dir)


# -- 3. a waiter killed while waiting leaves the queue and blocks nobody --------------------------

def test_killed_waiter_leaves_the_queue(gw: Harness) -> None:
    busy = gw.occupy(0)
    first = gw.start("--poll", POLL, "-g", "0", "--", "true")
    wait_until_queued(gw, [first])
    second = gw.start("--poll", POLL, "-g", "0", "--", *record_command(gw.path("rec"), 0))
    doc = wait_until_queued(gw, [first, second])
    assert queue_pids(doc) == [first.pid, second.pid], doc["queue"]

    os.kill(first.pid, signal.SIGKILL)
    first.wait(5)
    doc = status_json(gw.env())
    assert queue_pids(doc) == [second.pid], (
        f"queue after kill -9 of pid {first.pid}: {doc['queue']}")
    assert [q["position"] for q in doc["queue"]] == [1]

    gw.release(0, busy)
    assert second.wait(5) == 0, second.describe()
    assert len(read_spans(gw.path("rec"))) == 1
    assert status_json(gw.env())["queue"] == []
    assert not tickets(gw.lock_dir), tickets(gw.lock_dir)
    assert_no_lock_held(gw.lock_dir)


# -- 4. --status --json ----------------------------------------------------------------------------

def test_status_json_shows_gpus_lock_holders_and_queue(gw: Harness) -> None:
    m = gw.machine
    runner = gw.start("--poll", POLL, "-g", "0", "--", "sleep", "30")
    wait_for(lambda: holder_pids(runner.pid) and gpu_locked(gw, 0), 15.0,
             lambda: f"the first waiter did not lock and hold GPU 0\n{runner.describe()}")
    foreign = gw.occupy(1)
    queued = [gw.start("--poll", POLL, "-g", "0", "--", "true")]
    wait_until_queued(gw, queued)
    queued.append(gw.start("--poll", POLL, "-n", "2", "-g", "0,1", "--", "true"))
    wait_until_queued(gw, queued)
    queued.append(gw.start("--poll", POLL, "-g", "1", "--", "true"))
    doc = wait_until_queued(gw, queued)

    assert [g["index"] for g in doc["gpus"]] == [0, 1]
    assert [g["uuid"] for g in doc["gpus"]] == [m.uuid(0), m.uuid(1)]
    gpu0, gpu1 = doc["gpus"]

    holder = next(iter(holder_pids(runner.pid)))
    assert holder in {int(p["pid"]) for p in gpu0["processes"]}, (
        f"GPU 0's processes {gpu0['processes']} lack gpu-waiter's holder {holder}")
    assert foreign in {int(p["pid"]) for p in gpu1["processes"]}, gpu1["processes"]

    lock = gpu0["lock"]
    assert lock is not None, f"GPU 0 is locked by pid {runner.pid} but --status shows no lock"
    assert int(lock["pid"]) == runner.pid, lock
    assert lock["user"] == me(), lock
    assert "sleep" in lock["command"], lock
    assert lock["state"] == "held", lock          # sleep never uses the GPU: still held
    assert gpu1["lock"] is None, gpu1["lock"]

    assert runner.pid not in queue_pids(doc), "a waiter that runs its command is not queued"
    q = doc["queue"]
    assert [e["position"] for e in q] == [1, 2, 3], q
    assert [int(e["pid"]) for e in q] == [w.pid for w in queued], q
    assert [e["user"] for e in q] == [me()] * 3, q
    assert [e["count"] for e in q] == [1, 2, 1], q
    assert [sorted(e["candidates"]) for e in q] == [[0], [0, 1], [1]], q

    # The plain text form shows the same queue.
    text = subprocess.run([waiter_binary(), "--status"], env=gw.env(), capture_output=True,
                          text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    positions = [text.stdout.find(f"job {w.pid}") for w in queued]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text.stdout


# -- 5. two gatherers that each see the other as behind ---------------------------------------

def lock_owner(gw: Harness, gpu: int) -> int | None:
    """The pid GPU `gpu`'s lock file names, while the lock is held."""
    path = lock_path(gw.lock_dir, gw.machine.uuid(gpu))
    try:
        return int(json.loads(path.read_text())["pid"]) if gpu_locked(gw, gpu) else None
    except (OSError, ValueError, KeyError):
        return None


def stopped(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] in "Tt"


def test_gatherers_that_each_see_the_other_behind_do_not_deadlock(gw: Harness) -> None:
    """Two `-n 2` waiters whose tickets neither vouches for as ahead of the other (one drew its
    number without the queue's lock, which any process can keep) each gather one of the two
    GPUs both need. The one earlier in (number, pid) order must get both; the other runs next.
    The state is set up by rewriting the first waiter's ticket, as a waiter racing another
    without the lock would leave it."""
    busy = gw.occupy(1)
    first = gw.start("--poll", POLL, "-n", "2", "--", *record_command(gw.path("rec-first"), 0.3))
    wait_for(lambda: lock_owner(gw, 0) == first.pid, 30.0,
             lambda: f"the first waiter never gathered GPU 0\n{first.describe()}")
    # A foreign name under number 5, kept locked so that nobody sweeps it: the next waiter
    # draws 6.
    planted = gw.lock_dir / f"{5:016}-{os.getpid()}.ticket"
    planted.write_text("x")
    keep = os.open(planted, os.O_RDONLY)
    try:
        fcntl.flock(keep, fcntl.LOCK_EX)
        second = gw.start("--poll", POLL, "-n", "2", "--",
                          *record_command(gw.path("rec-second"), 0.3))
        wait_for(lambda: list(gw.lock_dir.glob(f"{6:016}-{second.pid}.ticket")), 30.0,
                 lambda: f"the second waiter never drew number 6\n{second.describe()}")
        # The first waiter's ticket now says 3: lower than 6, but not there when 6 was drawn,
        # so the second waiter does not count it ahead; the first sees 6 behind its own 1.
        (ticket,) = gw.lock_dir.glob(f"*-{first.pid}.ticket")
        entry = json.loads(ticket.read_text())
        entry["number"] = 3
        with open(ticket, "r+") as f:
            f.truncate()
            f.write(json.dumps(entry))
        ticket.rename(gw.lock_dir / f"{3:016}-{first.pid}.ticket")
        # While the first waiter is stopped, the second gathers GPU 1 as it frees.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            wait_for(lambda: stopped(first.pid), 10.0, "the first waiter never stopped")
            gw.release(1, busy)
            wait_for(lambda: lock_owner(gw, 1) == second.pid, 30.0,
                     lambda: f"the second waiter never gathered GPU 1\n{second.describe()}")
        finally:
            os.kill(first.pid, signal.SIGCONT)
        # Each holds what the other misses: the second must give GPU 1 back.
        assert first.wait(60) == 0, first.describe()
        assert second.wait(60) == 0, second.describe()
    finally:
        os.close(keep)
    assert "giving back 1 held" in second.stderr, second.describe()
    (a,), (b,) = read_spans(gw.path("rec-first")), read_spans(gw.path("rec-second"))
    assert a.end <= b.start, f"the waiter earlier in order ran second: {a} {b}"
    assert sorted(a.uuids) == sorted(b.uuids) == sorted(gw.machine.uuid(i) for i in range(2))
    assert_no_lock_held(gw.lock_dir)


# -- 6. stress: 50 waiters, mixed -n, 4 GPUs, kill -9 at random moments ---------------------------

def test_stress_fifty_waiters_with_kills(gw: Harness) -> None:
    m = gw.standard(4)
    rng = random.Random(20240607)
    total = 50
    counts = [rng.choice([1, 1, 1, 2, 2, 3]) for _ in range(total)]
    counts[7] = counts[23] = counts[41] = 3   # some 3-GPU waiters for certain
    # Victims killed while waiting come from the later half (they queue behind many others);
    # victims killed while running anywhere.
    wait_victims = set(rng.sample(range(total // 2, total), 5))
    run_victims = set(rng.sample(sorted(set(range(total)) - wait_victims), 5))

    # kill -9 of gpu-waiter alone, as a user or the OOM killer would: its command runs on (it never
    # touches its GPU, so only the lock it inherited keeps others off) and is part of the overlap
    # check like every other command. Commands of victims to be killed while running sleep
    # longer, so the test can catch them running.
    waiters: list = []
    start_at = [i * 0.03 for i in range(total)]
    kill_after = {i: rng.uniform(0.1, 1.0) for i in wait_victims}   # after its own start
    kill_delay = {i: rng.uniform(0.0, 0.5) for i in run_victims}    # after its command started
    seen_running: dict[int, float] = {}
    killed: dict[int, str] = {}   # index -> what it was doing when killed

    def running_commands() -> set[int]:
        """Indices of waiters whose command (not the holder) is alive now."""
        children: dict[int, list[int]] = {}
        for pid, parent in parent_map().items():
            children.setdefault(parent, []).append(pid)
        out = set()
        for i, w in enumerate(waiters):
            if any("record" in command_line(c) for c in children.get(w.pid, [])):
                out.add(i)
        return out

    begun = time.monotonic()
    deadline = begun + 90
    while time.monotonic() < deadline:
        while len(waiters) < total and time.monotonic() >= begun + start_at[len(waiters)]:
            i = len(waiters)
            waiters.append(gw.start("--poll", "100ms", "-n", str(counts[i]), "--",
                                    *record_command(gw.path(f"rec-{i}"),
                                                    1.0 if i in run_victims else 0.1)))
        now = time.monotonic()
        running = running_commands()
        for i in run_victims & running:
            seen_running.setdefault(i, now)
        for i, w in enumerate(waiters):
            if i in killed or w.poll() is not None:
                continue
            due = (i in wait_victims and now >= w.started + kill_after[i]) or (
                i in seen_running and now >= seen_running[i] + kill_delay[i])
            if due:
                os.kill(w.pid, signal.SIGKILL)
                killed[i] = "running" if i in running else "waiting"
        if len(waiters) == total and all(w.poll() is not None for w in waiters):
            break
        time.sleep(0.02)

    stuck = [i for i, w in enumerate(waiters) if w.poll() is None]
    assert not stuck, (f"waiters {stuck} still waiting after 90 s\n"
                       + "\n".join(waiters[i].describe() for i in stuck[:3])
                       + f"\nqueue: {status_json(gw.env())['queue']}\n{describe_gpus(gw)}")
    failed = [i for i, w in enumerate(waiters) if i not in killed and w.returncode != 0]
    assert not failed, "\n".join(waiters[i].describe() for i in failed[:3])
    ran_before_kill = [i for i in wait_victims | run_victims if i not in killed]
    # The test itself must have done what it says (else it would prove little).
    assert sum(1 for s in killed.values() if s == "waiting") >= 3, (killed, ran_before_kill)
    assert sum(1 for s in killed.values() if s == "running") >= 3, (killed, ran_before_kill)

    # A command whose gpu-waiter was killed runs on (it never touches its GPU: only the lock it
    # inherited protects it) and must not have shared its GPUs with anyone either.
    orphans = [i for i, what in killed.items() if what == "running"]
    wait_for(lambda: all(gw.path(f"rec-{i}").exists() for i in orphans), 30.0,
             lambda: f"commands of killed waiters never finished: {orphans}")
    spans = []
    for i in range(total):
        if i in killed and killed[i] != "running":
            continue
        found = read_spans(gw.path(f"rec-{i}"), owner=i)
        assert len(found) == 1, f"waiter {i} exited 0 but its command wrote {len(found)} records"
        assert len(found[0].uuids) == counts[i] == len(set(found[0].uuids)), found[0]
        spans += found
    clashes = overlaps(spans)
    assert not clashes, "GPUs ran two commands at once:\n" + "\n".join(map(str, clashes[:10]))

    # Nothing left behind: no lock, no locked ticket, no hold; one --status sweeps dead tickets.
    wait_for(lambda: not held_locks(gw.lock_dir), 30.0,
             lambda: f"locks still held: {held_locks(gw.lock_dir)}")
    assert_no_lock_held(gw.lock_dir)
    assert not locked_tickets(gw.lock_dir), locked_tickets(gw.lock_dir)
    wait_for(lambda: all(not m.processes(g) for g in range(4)), 15.0,
             lambda: f"holds left behind\n{describe_gpus(gw)}")
    doc = status_json(gw.env())
    assert doc["queue"] == [], doc["queue"]
    assert not tickets(gw.lock_dir), f"tickets left after --status: {tickets(gw.lock_dir)}"
    assert all(g["lock"] is None for g in doc["gpus"]), [g["lock"] for g in doc["gpus"]]
