"""Waiting on events instead of looking every poll: the exit of the process keeping a GPU busy
wakes a waiter at once, a busy state no event explains is still polled, and a waiter that waiters
ahead of it keep from every GPU it could use does not keep the driver loaded. Speed is measured
in bench/; here "at once" is "long before the next look would have been due"."""

from __future__ import annotations

from pathlib import Path

from conftest import Harness, stamp_command, wait_for
from e2e_support import status_json, wait_until_queued
from fakegpu import GiB


def driver_loaded(pid: int) -> bool:
    """Whether the fake NVML library is mapped into process `pid`."""
    try:
        return "libfake_nvml" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_occupier_exit_wakes_the_waiter_long_before_the_next_poll(gw: Harness) -> None:
    gw.standard(1)
    occupier = gw.occupy(0, vanishes=True)
    marker = gw.path("ran")
    w = gw.start("--poll", "60s", "--", *stamp_command(marker))
    gw.wait_until_waiting(w)
    wait_until_queued(gw, [w])
    gw.end_occupier(occupier)
    # The next look is a minute away (and the safety look further): running within the wait's
    # 20 s is running because the occupier's exit woke the waiter.
    assert w.wait(20) == 0, w.describe()
    assert marker.exists()


def test_busy_state_without_a_process_to_watch_is_still_polled(gw: Harness) -> None:
    m = gw.standard(1)
    m.set(0, memory_used=4 * GiB)  # used by processes the driver does not show
    marker = gw.path("ran")
    w = gw.start("--poll", "200ms", "--", *stamp_command(marker))
    gw.wait_until_waiting(w)
    m.set(0, memory_used=0)
    assert w.wait(30) == 0, w.describe()
    assert marker.exists()


def test_waiter_out_of_reach_unloads_the_driver_and_moves_up(gw: Harness) -> None:
    gw.standard(1)
    busy = gw.occupy(0)
    first = gw.start("--poll", "200ms", "--", "true")
    wait_until_queued(gw, [first])
    second = gw.start("--poll", "200ms", "--", "true")
    wait_until_queued(gw, [first, second])
    # The first waiter wants the only GPU: nothing the second could see there changes its turn.
    wait_for(lambda: not driver_loaded(second.pid), 20.0,
             lambda: f"the waiter behind kept NVML loaded\n{second.describe()}")
    assert driver_loaded(first.pid), "the first waiter must keep looking at the GPU"
    gw.release(0, busy)
    assert first.wait(30) == 0, first.describe()
    assert second.wait(30) == 0, second.describe()
    assert status_json(gw.env())["queue"] == []
