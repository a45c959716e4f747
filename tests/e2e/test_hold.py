"""Holding (shared/design/cli.md, "Holding"): from the moment a GPU is chosen gpu-waiter's holder
(`gpu-waiter --internal-holder`, a child of gpu-waiter) keeps --hold-fraction of its free memory;
the hold goes when the command appears on that GPU, when the command exits, after --hold-max, or
when gpu-waiter dies; a held GPU taken by someone else before launch is given up."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from conftest import (Harness, assert_no_lock_held, descendants, env_dump_command, pid_alive,
                      probe_path, read_env_dump, split, wait_for)
from e2e_support import (describe_gpus, gpu_locked, hold_entries, held, holder_pids)
from fakegpu import GiB

POLL = "200ms"
HOLD_APPEARS = 10.0     # a bound for "never happens", not a speed: speed is bench/'s


def first_seen(predicate, timeout: float, message) -> float:
    """Polls `predicate` every 10 ms; returns time.monotonic() when it first held."""
    wait_for(predicate, timeout, message, interval=0.01)
    return time.monotonic()


def wait_for_hold(gw: Harness, gpu: int, w, timeout: float = HOLD_APPEARS) -> dict:
    wait_for(lambda: held(gw, gpu, w) or w.poll() is not None, timeout,
             lambda: f"no hold of gpu-waiter's holder on GPU {gpu}\n{describe_gpus(gw)}\n"
                     f"{w.describe()}", interval=0.01)
    entries = hold_entries(gw, gpu, w)
    assert entries, f"gpu-waiter exited before holding GPU {gpu}\n{w.describe()}"
    return entries[0]


# -- 1. the hold appears when the GPU is chosen, with --hold-fraction of the free memory ---------

@pytest.mark.parametrize("fraction", [None, 0.5], ids=["default-0.25", "0.5"])
def test_hold_appears_with_hold_fraction_of_free_memory(gw: Harness, fraction: float | None) -> None:
    m = gw.machine
    free_before = m.memory_free(1)
    context = m.read()["context_memory"]
    args = ["--poll", POLL, "-g", "1"] + ([] if fraction is None else ["--hold-fraction", str(fraction)])
    w = gw.start(*args, "--", "sleep", "5")
    entry = wait_for_hold(gw, 1, w)

    assert entry.get("cuda") is True and entry["type"] in ("compute", "both"), entry
    f = 0.25 if fraction is None else fraction
    allocated = int(entry["used_memory"]) - context  # the entry carries the holder's context too
    # "of its free memory": free before the holder's own context or after it; both are fine.
    low, high = f * (free_before - context), f * free_before
    assert low * 0.98 <= allocated <= high * 1.02, (
        f"holder holds {allocated / GiB:.2f} GiB (+ its context) on a GPU with "
        f"{free_before / GiB:.2f} GiB free; expected {f} of it ({low / GiB:.2f}..{high / GiB:.2f} GiB)")
    assert not hold_entries(gw, 0, w), f"GPU 0 was not chosen but is held\n{describe_gpus(gw)}"
    assert len(holder_pids(w.pid)) == 1


# -- 2. the hold goes within one poll of the command using the GPU ---------------------------------

def probe_pid_on(gw: Harness, gpu: int, w) -> int | None:
    """The pid of a process of the command's tree (not the holder) listed on `gpu`."""
    tree = descendants(w.pid) - holder_pids(w.pid)
    for p in gw.machine.processes(gpu):
        if int(p["pid"]) in tree:
            return int(p["pid"])
    return None


def test_hold_released_when_command_uses_the_gpu(gw: Harness) -> None:
    go = gw.path("go")
    w = gw.start("--poll", POLL, "-g", "1", "--", probe_path(), "use", "0", "--after", str(go),
                 "--sleep", "3")
    wait_for_hold(gw, 1, w)
    go.touch()
    used_at = first_seen(lambda: probe_pid_on(gw, 1, w), 5.0,
                         lambda: f"the command never appeared on GPU 1\n{describe_gpus(gw)}\n"
                                 f"{w.describe()}")
    gone_at = first_seen(lambda: not held(gw, 1, w), 5.0,
                         lambda: f"hold on GPU 1 still there 5 s after the command used it\n"
                                 f"{describe_gpus(gw)}")
    # Gone while the command still runs: released because it used the GPU, not at its exit.
    assert w.poll() is None, "the command should still be running (it sleeps 3 s)"
    assert w.wait(10) == 0, w.describe()
    assert "using " in w.stdout, w.describe()


def test_only_the_used_gpu_loses_its_hold(gw: Harness) -> None:
    go = gw.path("go")
    w = gw.start("--poll", POLL, "-n", "2", "--", probe_path(), "use", "0", "--after", str(go),
                 "--sleep", "6")
    # The command touches its GPU only once both holds were seen, however slow the machine.
    wait_for_hold(gw, 0, w)
    wait_for_hold(gw, 1, w)
    go.touch()
    used_at = first_seen(lambda: probe_pid_on(gw, 0, w) or probe_pid_on(gw, 1, w), 5.0,
                         lambda: f"the command never appeared on a GPU\n{describe_gpus(gw)}\n"
                                 f"{w.describe()}")
    used = 0 if probe_pid_on(gw, 0, w) else 1
    other = 1 - used
    assert not probe_pid_on(gw, other, w), "the command uses only its first GPU"
    gone_at = first_seen(lambda: not held(gw, used, w), 5.0,
                         lambda: f"hold on used GPU {used} still there\n{describe_gpus(gw)}")
    assert gone_at >= used_at
    # The unused GPU stays held while the command runs (it sleeps 3 s after using GPU `used`).
    deadline = used_at + 2.0
    while time.monotonic() < deadline:
        assert held(gw, other, w), (
            f"the hold on GPU {other}, which the command does not use, went away "
            f"{time.monotonic() - used_at:.2f}s after the command used GPU {used}\n{describe_gpus(gw)}")
        time.sleep(0.05)
    assert w.poll() is None
    assert w.wait(10) == 0, w.describe()
    # The command printed which UUID it used: the first of its CUDA_VISIBLE_DEVICES.
    assert f"using {gw.machine.uuid(used)}" in w.stdout, w.stdout


# -- 3. a command that never uses its GPU keeps the hold until it exits, or until --hold-max ------

def test_hold_kept_until_command_exits(gw: Harness) -> None:
    end_stamp = gw.path("end")
    w = gw.start("--poll", POLL, "-g", "0", "--", "sh", "-c",
                 'sleep 2; date +%s.%N > "$1"', "sh", str(end_stamp))
    wait_for_hold(gw, 0, w)
    while not end_stamp.exists():
        assert held(gw, 0, w) or end_stamp.exists(), (
            f"hold went before the command exited ({time.monotonic() - w.started:.2f}s after "
            f"start)\n{describe_gpus(gw)}")
        assert w.poll() is None or end_stamp.exists(), w.describe()
        time.sleep(0.02)
    wait_for(lambda: not any(int(p["pid"]) in holder_pids(w.pid) or p.get("cuda")
                             for p in gw.machine.processes(0)), 10.0,
             lambda: f"hold still there 10 s after the command exited\n{describe_gpus(gw)}",
             interval=0.01)
    assert w.wait(5) == 0, w.describe()
    assert not gw.machine.processes(0)
    assert_no_lock_held(gw.lock_dir)


def test_hold_max_ends_the_hold_while_the_command_runs(gw: Harness) -> None:
    # --hold-max counts from the launch; the hold itself may appear a little after the launch
    # (the command does not wait for the holder), so times are measured from the command's start.
    # On a loaded machine the holder may even come up after --hold-max has passed: then it is
    # released as soon as it is in place, and the checks after the release still apply.
    stamp = gw.path("started")
    w = gw.start("-v", "--poll", POLL, "--hold-max", "2s", "-g", "0", "--", "sh", "-c",
                 'date +%s.%N > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 30', "sh", str(stamp))
    passed = "--hold-max passed"
    wait_for(lambda: held(gw, 0, w) or passed in w.stderr or w.poll() is not None, HOLD_APPEARS,
             lambda: f"neither a hold nor the end of --hold-max\n{describe_gpus(gw)}\n{w.describe()}",
             interval=0.01)
    seen_hold = bool(held(gw, 0, w))
    wait_for(stamp.exists, 15.0, lambda: f"the command did not start\n{w.describe()}")
    # Sample until the hold goes: the last sample that still saw it and the first that did not
    # bracket the moment it went.
    wait_for(lambda: passed in w.stderr and not held(gw, 0, w), 15.0,
             lambda: f"hold still there long after --hold-max 2s\n{describe_gpus(gw)}\n{w.describe()}",
             interval=0.01)
    if seen_hold:
        # Not before --hold-max: gpu-waiter launched the command after the test started it.
        gone_at = time.monotonic()
        assert gone_at - w.started >= 2.0, (
            f"hold went {gone_at - w.started:.2f}s after gpu-waiter started, before --hold-max 2s\n"
            f"{describe_gpus(gw)}\n{w.describe()}")
    command = descendants(w.pid) - holder_pids(w.pid)
    assert w.poll() is None and any(pid_alive(p) for p in command), (
        "the command (sleep 30) should still run after the hold ended")
    assert gpu_locked(gw, 0), "the GPU's lock must stay held until the command exits"
    w.signal(signal.SIGTERM)
    assert w.wait(10) == 128 + signal.SIGTERM, w.describe()


# -- 4. --no-hold ----------------------------------------------------------------------------------

def test_no_hold_holds_nothing(gw: Harness) -> None:
    marker = gw.path("ran")
    w = gw.start("--poll", POLL, "--no-hold", "-g", "0", "--", "sh", "-c",
                 'echo ran > "$1"; sleep 1.5', "sh", str(marker))
    wait_for(lambda: marker.exists() or w.poll() is not None, 15.0, "the command did not start")
    while w.poll() is None:
        assert not holder_pids(w.pid), "--no-hold started a holder"
        for i in range(gw.machine.count()):
            assert not gw.machine.processes(i), f"--no-hold: a process appeared\n{describe_gpus(gw)}"
        time.sleep(0.05)
    assert w.returncode == 0, w.describe()
    assert marker.read_text() == "ran\n"
    assert_no_lock_held(gw.lock_dir)


# -- 5. kill -9 of gpu-waiter frees its holds; its locks live on with its command -----------------

@pytest.mark.parametrize("before_launch", [False, True], ids=["while-running", "while-gathering"])
def test_kill_9_leaves_no_hold_and_no_lock_but_the_commands(gw: Harness, before_launch: bool) -> None:
    if before_launch:
        # -n 2 with GPU 1 busy: gpu-waiter locks and holds GPU 0 and waits for GPU 1.
        gw.occupy(1)
        w = gw.start("--poll", POLL, "-n", "2", "--", "sleep", "30")
    else:
        w = gw.start("--poll", POLL, "-g", "0", "--", "sleep", "30")
    wait_for_hold(gw, 0, w)
    wait_for(lambda: gpu_locked(gw, 0), 10.0, "GPU 0's lock is not held while it is held")
    holders = holder_pids(w.pid)
    command = set() if before_launch else wait_for(lambda: descendants(w.pid) - holders, 10.0,
                                                   "the command never started")
    os.kill(w.pid, signal.SIGKILL)
    w.wait(5)
    wait_for(lambda: not any(int(p["pid"]) in holders for p in gw.machine.processes(0))
             and not any(pid_alive(p) for p in holders), 10.0,
             lambda: f"hold survived kill -9 of gpu-waiter\n{describe_gpus(gw)}", interval=0.01)
    if command:
        # The command runs on: its GPU stays locked (it inherited the lock) until it ends.
        assert all(pid_alive(p) for p in command), "the command died with gpu-waiter"
        assert gpu_locked(gw, 0), "GPU 0 was unlocked under its running command"
        for p in command:
            os.kill(p, signal.SIGKILL)
    wait_for(lambda: not gpu_locked(gw, 0) and not gpu_locked(gw, 1), 10.0,
             "a GPU lock is still held after gpu-waiter and its command are gone (inherited by "
             "the holder?)", interval=0.01)
    assert_no_lock_held(gw.lock_dir)


# -- 6. a foreign process on a GPU held before launch makes gpu-waiter take another ---------------

def test_foreign_process_on_held_gpu_is_given_up(gw: Harness) -> None:
    m = gw.standard(3)
    busy_b = gw.occupy(1)
    busy_c = gw.occupy(2)
    env_file = gw.path("env.json")
    w = gw.start("--poll", POLL, "-n", "2", "--", *env_dump_command(env_file))
    wait_for_hold(gw, 0, w)
    wait_for(lambda: gpu_locked(gw, 0), 15.0, "GPU 0 is held but not locked")
    time.sleep(0.3)
    assert w.poll() is None, w.describe()

    gw.occupy(0)  # someone else starts on GPU 0
    wait_for(lambda: not held(gw, 0, w), 15.0,
             lambda: f"gpu-waiter kept holding GPU 0 after a foreign process appeared on it\n"
                     f"{describe_gpus(gw)}\n{w.describe()}")
    wait_for(lambda: not gpu_locked(gw, 0), 15.0, "gpu-waiter kept GPU 0 locked after giving it up")
    assert w.poll() is None, f"gpu-waiter should keep waiting\n{w.describe()}"

    gw.release(1, busy_b)
    gw.release(2, busy_c)
    assert w.wait(15) == 0, w.describe()
    env = read_env_dump(env_file)
    assert sorted(split(env["GPU_WAITER_UUIDS"])) == sorted([m.uuid(1), m.uuid(2)]), (
        f"ran on {env['GPU_WAITER_UUIDS']}, expected GPUs 1 and 2 (not GPU 0, which is taken)")
    assert_no_lock_held(gw.lock_dir)


# -- 7. a hold that cannot be allocated counts as "taken" -----------------------------------------

def cannot_hold_message(stderr: str, gpu: int) -> bool:
    """A gpu-waiter line saying GPU `gpu` could not be held (not the "holding 1 of 2" status)."""
    return any(re.search(rf"\bGPU {gpu}\b", line)
               and re.search(r"(cannot|can't|could not|couldn't|unable to|failed to) (be )?hold"
                             r"|could not be held|not be held", line, re.IGNORECASE)
               for line in stderr.splitlines() if line.startswith("gpu-waiter:"))


def test_failed_allocation_gives_the_gpu_up(gw: Harness) -> None:
    m = gw.machine
    m.set_global(alloc_error=2)  # CUDA_ERROR_OUT_OF_MEMORY from cuMemAlloc_v2
    busy = gw.occupy(1)
    env_file = gw.path("env.json")
    w = gw.start("--poll", POLL, "-n", "2", "--", *env_dump_command(env_file))
    wait_for(lambda: cannot_hold_message(w.stderr, 0) or w.poll() is not None,
             5.0, lambda: f"no message about not being able to hold GPU 0\n{w.describe()}")
    assert w.poll() is None, f"gpu-waiter must keep waiting\n{w.describe()}"
    # From now on GPU 0 is given up: its lock is not held (sampled over a second; a brief retry
    # now and then is tolerated, holding it most of the time is not).
    samples = []
    for _ in range(50):
        samples.append(gpu_locked(gw, 0))
        time.sleep(0.02)
    assert sum(samples) <= 5, (
        f"GPU 0, which cannot be held, stayed locked in {sum(samples)} of {len(samples)} samples")
    assert not held(gw, 0, w), describe_gpus(gw)
    assert w.poll() is None, w.describe()

    m.set_global(alloc_error=0)
    gw.release(1, busy)
    assert w.wait(15) == 0, w.describe()
    env = read_env_dump(env_file)
    assert sorted(split(env["GPU_WAITER_UUIDS"])) == sorted([m.uuid(0), m.uuid(1)])
    assert_no_lock_held(gw.lock_dir)
