"""One gpu-waiter at a time against the fake driver: choosing, waiting, launching, exit statuses,
signals, driver failures (shared/design/cli.md is the contract)."""

from __future__ import annotations

import os
import re
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import (Harness, assert_no_lock_held, descendants, env_dump_command, pid_alive,
                      probe_path, read_env_dump, read_stamp, split, stamp_command, wait_for)
from fakegpu import GiB, pci_key

POLL = 0.2          # --poll of the timing tests, seconds


def assert_clean_exit(gw: Harness) -> None:
    """After gpu-waiter has exited: no lock of the lock dir held, no holder or command left."""
    assert_no_lock_held(gw.lock_dir)
    wait_for(lambda: not gw.own_processes(), 15.0,
             lambda: f"processes left behind: {sorted(gw.own_processes())}")


def chosen(env: dict[str, str]) -> tuple[list[int], list[str], list[str]]:
    """GPU_WAITER_GPUS (as ints), GPU_WAITER_UUIDS and CUDA_VISIBLE_DEVICES of a command."""
    return ([int(i) for i in split(env["GPU_WAITER_GPUS"])], split(env["GPU_WAITER_UUIDS"]),
            split(env["CUDA_VISIBLE_DEVICES"]))


def assert_runs_on(gw: Harness, env: dict[str, str], indices: set[int]) -> None:
    """The command's environment names exactly the GPUs `indices` (NVML numbers), consistently."""
    m = gw.machine
    gpus, uuids, cvd = chosen(env)
    assert set(gpus) == indices and len(gpus) == len(indices), env["GPU_WAITER_GPUS"]
    assert uuids == [m.uuid(i) for i in gpus], "GPU_WAITER_UUIDS not in GPU_WAITER_GPUS' order"
    assert sorted(int(c) for c in cvd) == sorted(m.cuda_ordinal(i) for i in indices), (
        f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']} are not the CUDA numbers of "
        f"GPUs {sorted(indices)}")
    assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"


# -- 1. a free GPU ------------------------------------------------------------------------------

def test_free_gpu_launches_at_once(gw: Harness) -> None:
    # With an hour between looks, a launch at all within the run's timeout is one without a
    # poll's wait. How fast it is belongs to bench/.
    marker = gw.path("ran")
    w = gw.run("--poll", "1h", "--", *stamp_command(marker), timeout=30)
    assert w.returncode == 0, w.describe()
    assert marker.exists(), "the command did not run"
    assert_clean_exit(gw)


def test_stdout_belongs_to_the_command(gw: Harness) -> None:
    w = gw.run("sh", "-c", "echo out-line; echo err-line >&2", timeout=10)
    assert w.returncode == 0, w.describe()
    assert w.stdout == "out-line\n"
    assert "err-line" in w.stderr
    for line in w.stderr.splitlines():
        assert line == "err-line" or line.startswith("gpu-waiter:"), f"stray stderr line {line!r}"


def test_options_after_command_belong_to_the_command(gw: Harness) -> None:
    out = gw.path("args")
    w = gw.run(sys.executable, "-c", "import sys; open(sys.argv[1], 'w').write(repr(sys.argv[2:]))",
               out, "-n", "3", "--timeout", "1s", timeout=10)
    assert w.returncode == 0, w.describe()
    assert out.read_text() == repr(["-n", "3", "--timeout", "1s"])


# -- 2. waiting while busy ----------------------------------------------------------------------

def test_waits_while_busy_and_launches_within_two_polls(gw: Harness) -> None:
    gw.standard(1)
    pid = gw.occupy(0)
    marker = gw.path("started")
    w = gw.start("--poll", f"{int(POLL * 1000)}ms", *stamp_command(marker))
    gw.wait_until_waiting(w)
    time.sleep(3 * POLL)
    assert w.poll() is None and not marker.exists(), "launched on a busy GPU\n" + w.describe()

    freed = time.time()
    gw.release(0, pid)
    wait_for(marker.exists, 10.0, lambda: "never launched after the GPU freed\n" + w.describe())
    assert w.wait(10) == 0, w.describe()
    delay = read_stamp(marker) - freed
    assert 0 <= delay, f"launched {-delay:.3f}s before the GPU freed"
    assert_clean_exit(gw)


# -- 3. -n 2 over busy and free GPUs ----------------------------------------------------------

def test_count_two_takes_the_two_free_gpus(gw: Harness) -> None:
    gw.standard(4)
    gw.occupy(0)
    gw.occupy(2, used_memory=None)  # listed with its memory "not available": still busy
    dump = gw.path("env.json")
    w = gw.run("-n", "2", "--poll", "100ms", *env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {1, 3})


def test_count_two_waits_for_the_second_gpu(gw: Harness) -> None:
    gw.standard(2)
    pid = gw.occupy(1)
    dump = gw.path("env.json")
    w = gw.start("-n", "2", "--poll", "100ms", *env_dump_command(dump))
    gw.wait_until_waiting(w)
    time.sleep(0.5)
    assert w.poll() is None and not dump.exists(), "ran with one GPU of two\n" + w.describe()
    gw.release(1, pid)
    assert w.wait(10) == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {0, 1})


# -- 4. -g by index, UUID and UUID prefix -------------------------------------------------------

@pytest.mark.parametrize("form", ["index", "uuid", "uuid-prefix", "uuid-prefix-lowercase"])
def test_gpus_option_selects_that_gpu(gw: Harness, form: str) -> None:
    m = gw.standard(4)
    target = 2  # all GPUs free: taking the first free one would be wrong
    selector = {"index": str(target), "uuid": m.uuid(target), "uuid-prefix": m.uuid(target)[:8],
                "uuid-prefix-lowercase": m.uuid(target)[:11].lower()}[form]
    dump = gw.path("env.json")
    w = gw.run("-g", selector, *env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {target})


def test_gpus_option_mixed_list(gw: Harness) -> None:
    m = gw.standard(4)
    dump = gw.path("env.json")
    w = gw.run("-n", "2", "-g", f"3,{m.uuid(2)[:8]}", *env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {2, 3})


def test_gpus_option_limits_the_candidates(gw: Harness) -> None:
    gw.standard(4)
    gw.occupy(2)
    marker = gw.path("ran")
    w = gw.run("-g", "2", "--poll", "100ms", "--timeout", "1s", "touch", marker, timeout=10)
    assert w.returncode == 124, "took a GPU outside -g\n" + w.describe()
    assert not marker.exists()


# -- 5. inherited CUDA_VISIBLE_DEVICES ----------------------------------------------------------

def test_inherited_cuda_visible_devices_counts_in_pci_order(gw: Harness) -> None:
    m = gw.standard(2)  # NVML 0 = bus 81, NVML 1 = bus 41: CUDA 1 is NVML 0
    assert m.cuda_ordinal(0) == 1
    dump = gw.path("env.json")
    w = gw.run(*env_dump_command(dump), CUDA_VISIBLE_DEVICES="1", timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {0})


def test_inherited_cuda_visible_devices_list(gw: Harness) -> None:
    m = gw.standard(4)  # PCI order: NVML 3 (01), 1 (41), 0 (81), 2 (C1)
    dump = gw.path("env.json")
    w = gw.run("-n", "2", *env_dump_command(dump), CUDA_VISIBLE_DEVICES="2,0", timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {0, 3})
    # ... and UUIDs in it
    dump.unlink()
    w = gw.run(*env_dump_command(dump), CUDA_VISIBLE_DEVICES=m.uuid(2)[:12], timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {2})


def test_inherited_cuda_visible_devices_is_the_candidate_set(gw: Harness) -> None:
    gw.standard(2)
    gw.occupy(0)  # CUDA 1; GPU 1 (CUDA 0) is free but not a candidate
    marker = gw.path("ran")
    w = gw.run("--poll", "100ms", "--timeout", "1s", "touch", marker, CUDA_VISIBLE_DEVICES="1",
               timeout=10)
    assert w.returncode == 124, "took a GPU outside CUDA_VISIBLE_DEVICES\n" + w.describe()
    assert not marker.exists()


def test_gpus_option_overrides_inherited_cuda_visible_devices(gw: Harness) -> None:
    gw.standard(2)
    dump = gw.path("env.json")
    # -g counts as nvidia-smi does: GPU 1 is NVML 1 even though CUDA_VISIBLE_DEVICES says 1 too.
    w = gw.run("-g", "1", *env_dump_command(dump), CUDA_VISIBLE_DEVICES="1", timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {1})


# -- 6. sharing mode and --max-util -------------------------------------------------------------

@pytest.mark.parametrize("gpu, options, expected", [
    (1, ["--min-free-memory", "20GiB"], 0),    # 69.5 GiB free next to a foreign process
    (0, ["--min-free-memory", "20GiB"], 124),  # 9.5 GiB free
    (1, ["--min-free-memory", "50%"], 0),
    (0, ["--min-free-memory", "50%"], 124),
    (1, [], 124),                              # exclusive mode: the foreign process disqualifies
], ids=["enough-free", "too-little-free", "enough-percent", "too-little-percent", "exclusive"])
def test_min_free_memory(gw: Harness, gpu: int, options: list[str], expected: int) -> None:
    gw.standard(2)
    gw.occupy(0, used_memory=70 * GiB)
    gw.occupy(1, used_memory=10 * GiB)
    dump = gw.path("env.json")
    w = gw.run("-g", str(gpu), "--poll", "100ms", "--timeout", "1s", *options,
               *env_dump_command(dump), timeout=10)
    assert w.returncode == expected, w.describe()
    if expected == 0:
        assert_runs_on(gw, read_env_dump(dump), {gpu})
    else:
        assert not dump.exists()


def test_min_free_memory_picks_the_gpu_with_room(gw: Harness) -> None:
    gw.standard(2)
    gw.occupy(0, used_memory=70 * GiB)
    gw.occupy(1, used_memory=10 * GiB)
    dump = gw.path("env.json")
    w = gw.run("--min-free-memory", "20GiB", *env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {1})


def test_min_free_memory_counts_hidden_memory(gw: Harness) -> None:
    gw.standard(1)
    gw.machine.set(0, memory_used=75 * GiB)  # used by processes NVML does not show
    marker = gw.path("ran")
    w = gw.run("--min-free-memory", "20GiB", "--poll", "100ms", "--timeout", "1s", "touch", marker,
               timeout=10)
    assert w.returncode == 124, w.describe()
    assert not marker.exists()


def test_max_util(gw: Harness) -> None:
    m = gw.standard(2)
    m.set(0, utilization=90)
    m.set(1, utilization=10)
    dump = gw.path("env.json")
    w = gw.run("--max-util", "50", *env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    assert_runs_on(gw, read_env_dump(dump), {1})

    dump.unlink()
    w = gw.run("-g", "0", "--max-util", "50", "--poll", "100ms", "--timeout", "1s",
               *env_dump_command(dump), timeout=10)
    assert w.returncode == 124, w.describe()
    assert not dump.exists()


def test_max_util_waits_until_utilization_drops(gw: Harness) -> None:
    m = gw.standard(1)
    m.set(0, utilization=80)
    gw.occupy(0, used_memory=4 * GiB)
    marker = gw.path("started")
    w = gw.start("--min-free-memory", "20GiB", "--max-util", "30", "--poll", "100ms",
                 *stamp_command(marker))
    gw.wait_until_waiting(w)
    time.sleep(0.4)
    assert w.poll() is None and not marker.exists(), "ignored --max-util\n" + w.describe()
    dropped = time.time()
    m.set(0, utilization=30)
    assert w.wait(10) == 0, w.describe()
    assert read_stamp(marker) >= dropped, "launched before the utilization dropped"


# -- 7. --idle-for ------------------------------------------------------------------------------

def test_idle_for_delays_taking_a_freed_gpu(gw: Harness) -> None:
    gw.standard(1)
    pid = gw.occupy(0)
    marker = gw.path("started")
    idle = 1.5
    w = gw.start("--idle-for", f"{idle}s", "--poll", "100ms", *stamp_command(marker))
    gw.wait_until_waiting(w)
    freed = time.time()
    gw.release(0, pid)
    time.sleep(idle - 0.4)
    assert not marker.exists(), "took the GPU before --idle-for passed\n" + w.describe()
    wait_for(marker.exists, 10.0, lambda: "never launched\n" + w.describe())
    assert w.wait(10) == 0, w.describe()
    delay = read_stamp(marker) - freed
    assert delay >= idle - 0.01, f"launched {delay:.3f}s after the GPU freed (--idle-for {idle}s)"


def test_idle_for_restarts_when_the_gpu_gets_busy_again(gw: Harness) -> None:
    gw.standard(1)
    pid = gw.occupy(0)
    marker = gw.path("started")
    idle = 1.5
    w = gw.start("--idle-for", f"{idle}s", "--poll", "100ms", *stamp_command(marker))
    gw.wait_until_waiting(w)
    gw.release(0, pid)
    time.sleep(idle * 0.6)
    gw.machine.add_process(0, pid, used_memory=GiB)  # busy again before --idle-for passed
    time.sleep(0.4)
    assert not marker.exists(), "took a GPU that was busy again\n" + w.describe()
    freed = time.time()
    gw.release(0, pid)
    wait_for(marker.exists, 10.0, lambda: "never launched\n" + w.describe())
    assert w.wait(10) == 0, w.describe()
    delay = read_stamp(marker) - freed
    assert delay >= idle - 0.01, f"launched {delay:.3f}s after the GPU freed the second time"


def test_idle_for_applies_to_a_gpu_free_from_the_start(gw: Harness) -> None:
    marker = gw.path("started")
    before = time.time()
    w = gw.run("--idle-for", "1s", "--poll", "100ms", *stamp_command(marker), timeout=10)
    assert w.returncode == 0, w.describe()
    delay = read_stamp(marker) - before
    assert 1.0 - 0.01 <= delay, f"launched after {delay:.3f}s, before --idle-for 1s"


# -- 8. --timeout -------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["only-gpu-busy", "one-of-two-busy"])
def test_timeout(gw: Harness, scenario: str) -> None:
    gw.standard(2)
    if scenario == "only-gpu-busy":
        gw.occupy(0)
        args = ["-g", "0"]
    else:
        gw.occupy(1)
        args = ["-n", "2"]  # GPU 0 is free and could be locked and held meanwhile
    marker = gw.path("ran")
    w = gw.run(*args, "--poll", "100ms", "--timeout", "1s", "touch", marker, timeout=10)
    assert w.returncode == 124, w.describe()
    assert not marker.exists(), "the command ran"
    assert 1.0 <= w.elapsed, f"gave up after {w.elapsed:.2f}s, before --timeout 1s"
    assert_clean_exit(gw)
    assert [p["pid"] for p in gw.machine.processes(0) if p.get("cuda")] == [], \
        "a hold is left on GPU 0"


# -- 9. requests that can never be met ----------------------------------------------------------

@pytest.mark.parametrize("args, env, reason", [
    (["-n", "3"], {}, [r"\b3\b", r"\b2\b"]),
    (["-n", "2", "-g", "1"], {}, [r"\b2\b", r"\b1\b"]),
    (["-g", "7"], {}, [r"\b7\b"]),
    (["-g", "0,7"], {}, [r"\b7\b"]),
    (["-g", "GPU-deadbeef"], {}, [r"(?i)GPU-deadbeef"]),
    (["-g", "GPU-deadbeef-0000-0000-0000-000000000000"], {},
     [r"(?i)GPU-deadbeef-0000-0000-0000-000000000000"]),
    ([], {"CUDA_VISIBLE_DEVICES": "5"}, [r"\b5\b", r"CUDA_VISIBLE_DEVICES"]),
], ids=["count-over-machine", "count-over-candidates", "unknown-index", "unknown-index-in-list",
        "unknown-uuid-prefix", "unknown-uuid", "unknown-inherited-cuda-number"])
def test_impossible_request_fails_at_once(gw: Harness, args: list[str], env: dict[str, str],
                                          reason: list[str]) -> None:
    gw.standard(2)
    gw.occupy(0)  # both busy: waiting instead of failing would hang
    gw.occupy(1)
    marker = gw.path("ran")
    # Both GPUs are busy and the next look is an hour away: an answer at all is one at once.
    w = gw.run("--poll", "1h", *args, "touch", marker, timeout=30, **env)
    assert w.returncode == 125, w.describe()
    assert not marker.exists()
    messages = "\n".join(line for line in w.stderr.splitlines() if line.startswith("gpu-waiter:"))
    assert messages, "no gpu-waiter: message\n" + w.describe()
    for pattern in reason:
        assert re.search(pattern, messages), f"stderr does not name the reason ({pattern})\n{w.stderr}"


# -- 10. command not found / not executable -----------------------------------------------------

def test_command_not_found(gw: Harness) -> None:
    w = gw.run("no-such-command-gpu-waiter-e2e", "arg", timeout=10)
    assert w.returncode == 127, w.describe()
    assert "no-such-command-gpu-waiter-e2e" in w.stderr
    assert_clean_exit(gw)


def test_command_path_not_found(gw: Harness) -> None:
    missing = gw.path("missing") / "cmd"
    w = gw.run(missing, timeout=10)
    assert w.returncode == 127, w.describe()
    assert str(missing) in w.stderr


@pytest.mark.parametrize("how", ["by-path", "through-PATH", "directory"])
def test_command_not_executable(gw: Harness, how: str) -> None:
    bin_dir = gw.path("bin")
    bin_dir.mkdir()
    script = bin_dir / "not-executable-e2e"
    script.write_text("#!/bin/sh\ntouch \"$0.ran\"\n")
    script.chmod(0o644)
    extra = {}
    if how == "by-path":
        command = str(script)
    elif how == "through-PATH":
        command = script.name
        extra["PATH"] = f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    else:
        command = str(bin_dir)
    w = gw.run(command, timeout=10, **extra)
    assert w.returncode == 126, w.describe()
    assert command in w.stderr
    assert not Path(f"{script}.ran").exists()
    assert_clean_exit(gw)


# -- 11. exit status ----------------------------------------------------------------------------

@pytest.mark.parametrize("script, expected", [
    ("exit 0", 0), ("exit 7", 7), ("exit 255", 255),
    ("kill -TERM $$", 128 + signal.SIGTERM), ("kill -KILL $$", 128 + signal.SIGKILL),
    ("kill -INT $$", 128 + signal.SIGINT),
])
def test_exit_status_of_the_command(gw: Harness, script: str, expected: int) -> None:
    w = gw.run("sh", "-c", script, timeout=10)
    assert w.returncode == expected, w.describe()
    assert_clean_exit(gw)


# -- 12. signals while the command runs ---------------------------------------------------------

SIGNAL_COUNTER = textwrap.dedent("""\
    import signal, sys, time
    count_file, ready_file = sys.argv[1], sys.argv[2]
    def counted(signo, frame):
        with open(count_file, "a") as f:
            f.write(f"{signo}\\n")
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
              signal.SIGUSR2):
        signal.signal(s, counted)
    open(ready_file, "w").close()
    end = time.monotonic() + 1.2
    while time.monotonic() < end:
        time.sleep(0.02)
    sys.exit(42)
""")


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
                                   signal.SIGUSR1, signal.SIGUSR2],
                         ids=lambda s: signal.Signals(s).name)
def test_signal_reaches_the_running_command_once(gw: Harness, signo: int) -> None:
    script = gw.path("counter.py")
    script.write_text(SIGNAL_COUNTER)
    counts, ready = gw.path("counts"), gw.path("ready")
    w = gw.start(sys.executable, script, counts, ready)
    wait_for(ready.exists, 10.0, lambda: "the command never started\n" + w.describe())
    w.signal(signo)
    assert w.wait(10) == 42, "gpu-waiter did not exit with the command's status\n" + w.describe()
    received = counts.read_text().split() if counts.exists() else []
    assert received == [str(int(signo))], f"the command received {received}"
    assert_clean_exit(gw)


# -- 13. a signal while waiting -----------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["all-busy", "one-of-two-busy"])
@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=lambda s: signal.Signals(s).name)
def test_signal_while_waiting(gw: Harness, signo: int, scenario: str) -> None:
    m = gw.standard(2)
    foreign = {gw.occupy(1)}
    if scenario == "all-busy":
        foreign.add(gw.occupy(0))
    marker = gw.path("ran")
    # An hour between looks: stopping at all (within the test's bound) is stopping at once.
    w = gw.start("-n", "2" if scenario == "one-of-two-busy" else "1", "--poll", "1h",
                 "touch", marker)
    gw.wait_until_waiting(w)
    time.sleep(0.3)
    # gpu-waiter's children (a holder, say) and anything else it started, before the signal.
    children = descendants(w.pid) | (gw.own_processes() - {w.pid})
    sent = time.monotonic()
    w.signal(signo)
    assert w.wait(30) == 128 + signo, w.describe()
    assert w.ended >= sent
    assert not marker.exists(), "the command ran"
    assert_no_lock_held(gw.lock_dir)
    wait_for(lambda: not any(pid_alive(p) for p in children), 15.0,
             lambda: f"children of gpu-waiter survived: {sorted(children)}")
    wait_for(lambda: not gw.own_processes(), 15.0,
             lambda: f"processes left behind: {sorted(gw.own_processes())}")
    for i in range(2):
        left = {p["pid"] for p in m.processes(i)} - foreign
        assert not left, f"GPU {i} still lists {left}"


# -- 14. driver library failures ----------------------------------------------------------------

def test_missing_nvml_library(gw: Harness) -> None:
    marker = gw.path("ran")
    w = gw.run("touch", marker, GPU_WAITER_NVML_LIBRARY="/nonexistent/libx.so", timeout=10)
    assert w.returncode == 125, w.describe()
    assert "/nonexistent/libx.so" in w.stderr
    assert "hint" in w.stderr.lower(), "no hint\n" + w.stderr
    assert not marker.exists()


def test_nvml_init_failure(gw: Harness) -> None:
    gw.machine.set_global(init_error=9)
    marker = gw.path("ran")
    w = gw.run("touch", marker, timeout=10)
    assert w.returncode == 125, w.describe()
    assert "Driver Not Loaded" in w.stderr
    assert "hint" in w.stderr.lower(), "no hint\n" + w.stderr
    assert not marker.exists()


# -- 15. a lost GPU -----------------------------------------------------------------------------

def test_lost_gpu_is_skipped(gw: Harness) -> None:
    m = gw.standard(2)
    m.set(0, lost=True)
    dump = gw.path("env.json")
    w = gw.run(*env_dump_command(dump), timeout=10)
    assert w.returncode == 0, w.describe()
    env = read_env_dump(dump)
    assert env["GPU_WAITER_GPUS"] == "1" and env["GPU_WAITER_UUIDS"] == m.uuid(1)
    assert env["CUDA_VISIBLE_DEVICES"] == str(m.cuda_ordinal(1))
    notes = [line for line in w.stderr.splitlines()
             if line.startswith("gpu-waiter:") and re.search(r"(?i)\blost\b", line)]
    assert notes, "nothing said about the lost GPU\n" + w.stderr
    assert any(re.search(r"\b0\b", line) for line in notes), "the lost GPU is not named\n" + w.stderr


# -- 16. the command gets the chosen GPU, as CUDA sees it ---------------------------------------

LIST_SCRIPT = ('echo "uuids=$GPU_WAITER_UUIDS"; echo "cvd=$CUDA_VISIBLE_DEVICES"; '
               'exec "$0" list')


def probe_view(stdout: str) -> tuple[dict[str, str], list[tuple[int, str, str]]]:
    """The echoed variables, and fake_cuda_probe's "<ordinal> <uuid> <busid>" lines."""
    variables, devices = {}, []
    for line in stdout.splitlines():
        if "=" in line:
            name, value = line.split("=", 1)
            variables[name] = value
        elif line.strip():
            ordinal, uuid, bus = line.split()
            devices.append((int(ordinal), uuid, bus))
    return variables, devices


@pytest.mark.parametrize("visible", ["index", "uuid"])
@pytest.mark.parametrize("gpu", [0, 1])
def test_cuda_sees_the_chosen_gpu(gw: Harness, gpu: int, visible: str) -> None:
    m = gw.standard(2)  # NVML 0 is CUDA 1 and NVML 1 is CUDA 0
    w = gw.run("-g", str(gpu), "--visible-devices", visible, "sh", "-c", LIST_SCRIPT,
               probe_path(), timeout=10)
    assert w.returncode == 0, w.describe()
    variables, devices = probe_view(w.stdout)
    assert variables["uuids"] == m.uuid(gpu)
    assert variables["cvd"] == (m.uuid(gpu) if visible == "uuid" else str(m.cuda_ordinal(gpu)))
    assert len(devices) == 1, f"CUDA sees {devices}"
    ordinal, uuid, bus = devices[0]
    assert uuid == m.uuid(gpu), f"CUDA gives the command {uuid}, gpu-waiter chose {m.uuid(gpu)}"
    assert pci_key(bus) == pci_key(m.bus_id(gpu))


@pytest.mark.parametrize("visible", ["index", "uuid"])
def test_cuda_sees_the_chosen_gpus(gw: Harness, visible: str) -> None:
    m = gw.standard(4)
    gw.occupy(0)
    gw.occupy(2)
    w = gw.run("-n", "2", "--visible-devices", visible, "sh", "-c", LIST_SCRIPT, probe_path(),
               timeout=10)
    assert w.returncode == 0, w.describe()
    variables, devices = probe_view(w.stdout)
    uuids = split(variables["uuids"])
    assert sorted(uuids) == sorted([m.uuid(1), m.uuid(3)])
    assert sorted(d[1] for d in devices) == sorted(uuids), f"CUDA sees {devices}"


def test_replace_string_gets_the_cuda_numbers(gw: Harness) -> None:
    m = gw.standard(4)
    gw.occupy(0)
    gw.occupy(2)
    out, cvd, uuids, other = (gw.path(n) for n in ("replaced", "cvd", "uuids", "other"))
    w = gw.run("-n", "2", "-I", "{}", "sh", "-c",
               'echo {} > "$1"; echo "$CUDA_VISIBLE_DEVICES" > "$2"; echo "$GPU_WAITER_UUIDS" > "$3";'
               ' echo "$4" > "$5"',
               "sh", out, cvd, uuids, "x{}y{}z", other, timeout=10)
    assert w.returncode == 0, w.describe()
    numbers = out.read_text().strip()
    assert numbers == cvd.read_text().strip()
    expected = {m.cuda_ordinal(m.nvml_index(u)) for u in split(uuids.read_text().strip())}
    assert {int(n) for n in split(numbers)} == expected == {m.cuda_ordinal(1), m.cuda_ordinal(3)}
    assert other.read_text().strip() == f"x{numbers}y{numbers}z"
