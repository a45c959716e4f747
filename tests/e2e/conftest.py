"""Shared fixtures for the end-to-end tests: the real gpu-waiter binary against the fake driver.

Every test gets its own fake machine (state file), lock directory and scratch files under
tmp_path, so tests are independent and can run side by side. Every process a test starts with the
fake environment carries FAKE_NVIDIA_STATE=<that test's state file>; teardown kills whatever of
those is still alive (waiters, holders, commands), whoever its parent is now.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import pytest

import fakegpu
from fakegpu import GiB, FakeMachine

T = TypeVar("T")

# The least time any bound of these tests allows: every bound here says "never happens", not how
# fast something is (speed is bench/'s). A sanitizer build on a machine whose cores are all busy
# has taken more than 10 s before its first line, so no bound is shorter than this.
NEVER = 60.0

# How long a launch on a free GPU may take (start, NVML look, lock, holder, spawn), and how long a
# request that can never be met may take to be refused.
LAUNCH_DEADLINE = NEVER


def waiter_binary() -> str:
    return fakegpu._find_built("GPU_WAITER_BINARY", "gpu-waiter")  # noqa: SLF001 - same suite


def probe_path() -> str:
    return fakegpu.probe_path()


# -- small helpers --------------------------------------------------------------------------------

def wait_for(predicate: Callable[[], T], timeout: float, message: str | Callable[[], str] = "",
             interval: float = 0.02) -> T:
    """Polls `predicate` until it returns something truthy, which is returned; fails the test
    after `timeout` seconds with `message` (a string or a function giving one)."""
    timeout = max(timeout, NEVER)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            pytest.fail(f"condition not met within {timeout:.1f}s: {text}")
        time.sleep(interval)


def stamp_command(path: Path) -> list[str]:
    """A command that writes the wall-clock time it started (seconds since the epoch) to `path`."""
    return ["sh", "-c", 'date +%s.%N > "$1"', "sh", str(path)]


def read_stamp(path: Path) -> float:
    return float(path.read_text().strip())


def env_dump_command(path: Path) -> list[str]:
    """A command that writes its whole environment to `path` as JSON, all at once (a reader that
    sees the file sees all of it)."""
    return [sys.executable, "-c",
            "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1] + '.tmp', 'w')); "
            "os.replace(sys.argv[1] + '.tmp', sys.argv[1])",
            str(path)]


def read_env_dump(path: Path) -> dict[str, str]:
    return json.loads(path.read_text())


def split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie."""
    return fakegpu.process_alive(pid)


def parent_map() -> dict[int, int]:
    """pid -> parent pid of every process."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Not read_text(): a process may name itself in any bytes (daemons that rewrite
            # their titles, such as Slurm's, run beside these tests).
            stat = (entry / "stat").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every process below `pid` in the process tree, right now."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_map().items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def processes_with_env(name: str, value: str) -> set[int]:
    """Live processes whose environment has name=value (those we may read)."""
    wanted = f"{name}={value}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0") and pid_alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return "?"


def held_locks(lock_dir: Path) -> list[str]:
    """The *.lock files in `lock_dir` (searched recursively) that someone holds: flock
    LOCK_EX|LOCK_NB on them fails."""
    held = []
    if not lock_dir.exists():
        return held
    for path in sorted(lock_dir.rglob("*.lock")):
        if not path.is_file():
            continue
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            held.append(str(path))
        finally:
            os.close(fd)
    return held


def assert_no_lock_held(lock_dir: Path) -> None:
    held = held_locks(lock_dir)
    assert not held, f"locks still held after gpu-waiter exited: {held}"


# -- processes ------------------------------------------------------------------------------------

class Waiter:
    """One gpu-waiter process; its stdout and stderr go to files (no pipe can fill up)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], directory: Path) -> None:
        directory.mkdir(parents=True)
        self.argv = list(argv)
        self.stdout_path = directory / "stdout"
        self.stderr_path = directory / "stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.started = time.monotonic()
            # A session of its own: a signal the test sends reaches gpu-waiter alone, and
            # teardown can kill the whole group.
            self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, start_new_session=True)
        self.ended: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    @property
    def elapsed(self) -> float:
        """Seconds from start to exit (exit must have been seen)."""
        assert self.ended is not None
        return self.ended - self.started

    def poll(self) -> int | None:
        rc = self.proc.poll()
        if rc is not None and self.ended is None:
            self.ended = time.monotonic()
        return rc

    def wait(self, timeout: float = 30.0) -> int:
        """The exit status; fails the test (showing stderr) if gpu-waiter is still running."""
        timeout = max(timeout, NEVER)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gpu-waiter still running after {timeout:.1f}s: {self.argv}\n"
                        f"stderr:\n{self.stderr}")
        if self.ended is None:
            self.ended = time.monotonic()
        return rc

    def signal(self, signo: int) -> None:
        self.proc.send_signal(signo)

    def describe(self) -> str:
        return f"argv: {self.argv}\nexit: {self.proc.returncode}\nstderr:\n{self.stderr}"


class Harness:
    """Everything one test needs: a fake machine, a lock directory, and gpu-waiters to start."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.lock_dir = tmp_path / "locks"
        self._machine_dir = tmp_path / "machine"
        self._machine_dir.mkdir()
        self.machine = FakeMachine.standard(self._machine_dir, count=2)
        self.waiters: list[Waiter] = []
        self._foreign: list[subprocess.Popen] = []

    # -- the machine ------------------------------------------------------------------------

    def standard(self, count: int, **global_fields: Any) -> FakeMachine:
        """Replaces the machine by `count` standard GPUs (NVML order differs from PCI order)."""
        self.machine = FakeMachine.standard(self._machine_dir, count=count, **global_fields)
        return self.machine

    def occupy(self, gpu: int, used_memory: int | None = GiB, type: str = "compute",  # noqa: A002
               vanishes: bool = False) -> int:
        """Puts a foreign process (a real, live `sleep` that is no child of gpu-waiter) on GPU
        `gpu`, as NVML would list it; returns its pid. `vanishes`: the driver stops listing it
        when it dies (as a real driver does), instead of when the test releases it."""
        proc = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self._foreign.append(proc)
        self.machine.add_process(gpu, proc.pid, used_memory=used_memory, type=type,
                                 cuda=vanishes)
        return proc.pid

    def end_occupier(self, pid: int) -> None:
        """Kills the foreign process `pid` and reaps it."""
        for proc in self._foreign:
            if proc.pid == pid:
                proc.kill()
                proc.wait()

    def release(self, gpu: int, pid: int) -> None:
        """Takes the foreign process `pid` off GPU `gpu` (the process itself lives on)."""
        self.machine.remove_process(gpu, pid)

    # -- files ------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.tmp / name

    # -- gpu-waiter ---------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """The fake driver's environment plus this test's lock directory and `extra`."""
        return self.machine.env(GPU_WAITER_LOCK_DIR=str(self.lock_dir), **extra)

    def start(self, *args: str, env: dict[str, str] | None = None, **extra_env: str) -> Waiter:
        """Starts `gpu-waiter ARGS...` with env (default: self.env(**extra_env))."""
        argv = [waiter_binary(), *[str(a) for a in args]]
        waiter = Waiter(argv, self.env(**extra_env) if env is None else env,
                        self.tmp / f"waiter-{len(self.waiters)}")
        self.waiters.append(waiter)
        return waiter

    def run(self, *args: str, timeout: float = 30.0, env: dict[str, str] | None = None,
            **extra_env: str) -> Waiter:
        """Runs `gpu-waiter ARGS...` to its end (at most `timeout` seconds)."""
        waiter = self.start(*args, env=env, **extra_env)
        waiter.wait(timeout)
        return waiter

    def wait_until_waiting(self, waiter: Waiter, timeout: float = LAUNCH_DEADLINE) -> None:
        """Until gpu-waiter has said on stderr that it waits (it looked at the GPUs at least
        once and found them wanting)."""
        def waiting() -> bool:
            if waiter.poll() is not None:
                pytest.fail(f"gpu-waiter exited while it should wait\n{waiter.describe()}")
            return "waiting" in waiter.stderr
        wait_for(waiting, timeout, lambda: f"gpu-waiter never said it waits\n{waiter.describe()}")

    def own_processes(self) -> set[int]:
        """Live processes started with this test's fake environment (waiters, holders, commands)."""
        return processes_with_env("FAKE_NVIDIA_STATE", str(self.machine.state_path))

    def cleanup(self) -> None:
        for waiter in self.waiters:
            if waiter.proc.poll() is None:
                for pid in descendants(waiter.pid):
                    _kill(pid)
                try:
                    os.killpg(waiter.pid, signal.SIGKILL)
                except OSError:
                    pass
        for _ in range(50):
            left = self.own_processes()
            if not left:
                break
            for pid in left:
                _kill(pid)
            time.sleep(0.02)
        for waiter in self.waiters:
            try:
                waiter.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for proc in self._foreign:
            proc.kill()
            proc.wait()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


@pytest.fixture
def gw(tmp_path: Path):
    """A Harness on a fresh standard 2-GPU machine; kills every leftover process afterwards."""
    harness = Harness(tmp_path)
    try:
        yield harness
    finally:
        harness.cleanup()
