"""Several users share one lock directory (shared/design/cli.md "Sharing one machine",
docs/architecture.md "Sharing one machine"): files one user created must stay usable by the others
(any umask, fs.protected_regular), a symlink planted in the lock directory is never followed, and
a lock directory that another user could tamper with is refused.

Needs root (it creates two throw-away users); skipped otherwise. Everything the users' processes
touch lives in a world-traversable directory under /tmp, since pytest's tmp_path is not."""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Iterator

import pytest

import fakegpu
from conftest import (NEVER, Harness, Waiter, assert_no_lock_held, probe_path, wait_for,
                      waiter_binary)
from e2e_support import (Span, locked_tickets, overlaps, queue_pids, read_spans, status_json,
                         tickets)
from fakegpu import FakeMachine

POLL = "200ms"


# -- users -----------------------------------------------------------------------------------------

class User:
    def __init__(self, name: str) -> None:
        entry = pwd.getpwnam(name)
        self.name = name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid


def _kill_processes_of(uid: int) -> None:
    """Kills the processes left running as `uid` (only test users' processes: ours)."""
    for _ in range(50):
        left = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == uid:
                        left.append(int(entry.name))
                except OSError:
                    pass
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


@pytest.fixture
def users() -> Iterator[tuple[User, User]]:
    """Two new unprivileged users without home directories, deleted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("multi-user tests create users and run gpu-waiter as them: they need root")
    useradd, userdel = shutil.which("useradd"), shutil.which("userdel")
    if not useradd or not userdel:
        pytest.skip("multi-user tests need useradd and userdel (package passwd)")
    created: list[str] = []
    try:
        for role in ("a", "b"):
            name = f"gwt{role}{os.getpid()}{secrets.token_hex(3)}"
            subprocess.run([useradd, "-M", "-U", "-s", "/usr/sbin/nologin", name], check=True,
                           capture_output=True, text=True)
            created.append(name)
        yield User(created[0]), User(created[1])
    finally:
        for name in created:
            try:
                _kill_processes_of(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
            subprocess.run([userdel, name], capture_output=True)


# -- a world-traversable place for the machine, the binaries and the lock directory ---------------

def _default_acl_all_rw(directory: Path) -> bool:
    """Gives `directory` a default ACL of rw for owner, group and others, so files created in it
    are 0666 whatever the creator's umask (the fake libcuda rewrites the state file as whichever
    user's holder allocates; with umask 077 the other users could no longer read it). The fake
    driver's state file is test scaffolding, not gpu-waiter's lock directory."""
    def entry(tag: int, perm: int) -> bytes:
        return struct.pack("<HHI", tag, perm, 0xFFFFFFFF)
    value = struct.pack("<I", 2) + entry(0x01, 6) + entry(0x04, 6) + entry(0x20, 6)
    try:
        os.setxattr(directory, "system.posix_acl_default", value)
        return True
    except OSError:
        return False


class SharedPlace:
    """/tmp/gw-e2e-mu-XXXX (0755): bin/ (copies of gpu-waiter, the fake libraries and the probe),
    machine/ (the fake state, writable by all), out/ (records, writable by all) and locks/
    (the lock directory: root, 1777)."""

    def __init__(self, gw: Harness) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gw-e2e-mu-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.bin = self.root / "bin"
        self.bin.mkdir(mode=0o755)
        self.binary = self._copy(waiter_binary())
        self.nvml = self._copy(fakegpu.nvml_library())
        self.cuda = self._copy(fakegpu.cuda_library())
        self.probe = self._copy(probe_path())
        self.machine_dir = self.root / "machine"
        self.machine_dir.mkdir()
        os.chmod(self.machine_dir, 0o777)
        if not _default_acl_all_rw(self.machine_dir):
            pytest.skip("cannot give the fake state's directory a default ACL (needed so that "
                        "users with umask 077 keep the fake driver's state readable to others)")
        self.out = self.root / "out"
        self.out.mkdir()
        os.chmod(self.out, 0o777)
        self.lock_dir = self.root / "locks"
        self.lock_dir.mkdir()
        os.chmod(self.lock_dir, 0o1777)
        self.gw = gw

    def _copy(self, source: str) -> str:
        target = self.bin / Path(source).name
        shutil.copy2(source, target)
        os.chmod(target, 0o755)
        return str(target)

    def machine(self, count: int) -> FakeMachine:
        """A standard machine in machine/, installed as the harness's machine (so occupy/release
        and the harness's cleanup use it)."""
        m = FakeMachine.standard(self.machine_dir, count=count)
        for name in (m.state_path, Path(str(m.state_path) + ".lock")):
            name.touch()
            os.chmod(name, 0o666)
        self.gw.machine = m
        self.gw.lock_dir = self.lock_dir
        return m

    def env(self, **extra: str) -> dict[str, str]:
        return self.gw.machine.env(GPU_WAITER_LOCK_DIR=str(self.lock_dir),
                                   GPU_WAITER_NVML_LIBRARY=self.nvml,
                                   GPU_WAITER_CUDA_LIBRARY=self.cuda, HOME="/", **extra)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def place(gw: Harness) -> Iterator[SharedPlace]:
    shared = SharedPlace(gw)
    try:
        yield shared
    finally:
        gw.cleanup()
        shared.cleanup()


class UserWaiter(Waiter):
    """A gpu-waiter started as `user` with `umask` (the harness's Waiter otherwise)."""

    def __init__(self, argv: list[str], env: dict[str, str], directory: Path, user: User,
                 umask: int) -> None:
        directory.mkdir(parents=True)
        self.argv = list(argv)
        self.stdout_path = directory / "stdout"
        self.stderr_path = directory / "stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, start_new_session=True, cwd="/",
                                         user=user.uid, group=user.gid, extra_groups=[],
                                         umask=umask)
        self.ended = None
        self.user = user


def start_as(place: SharedPlace, user: User, *args: str, umask: int = 0o022) -> UserWaiter:
    gw = place.gw
    w = UserWaiter([place.binary, *args], place.env(), gw.tmp / f"waiter-{len(gw.waiters)}",
                   user, umask)
    gw.waiters.append(w)
    return w


def record_as(place: SharedPlace, name: str, sleep: float) -> list[str]:
    return [place.probe, "record", str(place.out / name), "--sleep", str(sleep)]


def queued_as(place: SharedPlace, user: User, waiters: list[Waiter], timeout: float = NEVER) -> None:
    """Until all `waiters` are in the queue, asking `--status --json` as `user`."""
    wanted = {w.pid for w in waiters}
    deadline = time.monotonic() + timeout
    while True:
        doc = status_json(place.env(), binary=place.binary, user=user.uid, group=user.gid,
                          extra_groups=[], cwd="/")
        if wanted <= set(queue_pids(doc)):
            return
        for w in waiters:
            assert w.poll() is None, f"gpu-waiter exited while it should wait\n{w.describe()}"
        assert time.monotonic() < deadline, f"not all queued within {timeout}s: {doc['queue']}"
        time.sleep(0.05)


# -- fs.protected_regular ------------------------------------------------------------------------

@pytest.fixture
def protected_regular() -> Iterator[bool]:
    """Sets fs.protected_regular=1 for the test where the kernel lets us; restores it after.
    Yields whether it is in force. A lock file under /tmp serialises test runs that change it,
    so that two of them side by side cannot restore each other's value."""
    knob = Path("/proc/sys/fs/protected_regular")
    with open("/tmp/gpu-waiter-e2e-protected_regular.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            old = knob.read_text().strip()
        except OSError:
            warnings.warn("fs.protected_regular is not available here: tested without it")
            yield False
            return
        try:
            knob.write_text("1\n")
        except OSError as e:
            warnings.warn(f"cannot set fs.protected_regular=1 ({e}); tested with its value {old}")
            yield old != "0"
            return
        try:
            yield True
        finally:
            knob.write_text(old + "\n")


# -- 1. two users, one lock directory --------------------------------------------------------------

def test_two_users_share_one_lock_directory(place: SharedPlace, users: tuple[User, User],
                                            protected_regular: bool) -> None:
    a, b = users
    gw = place.gw
    m = place.machine(3)

    # Phase 1: only user A has used the lock directory; its waiters create the GPU lock files
    # and their tickets, all owned by A.
    busy = [gw.occupy(0), gw.occupy(1)]
    a1 = start_as(place, a, "--poll", POLL, "-n", "2", "-g", "0,1", "--", *record_as(place, "a1", 0.3))
    queued_as(place, a, [a1])
    a2 = start_as(place, a, "--poll", POLL, "-g", "0", "--", *record_as(place, "a2", 0.2))
    queued_as(place, a, [a1, a2])
    gw.release(0, busy[0])
    gw.release(1, busy[1])
    for w in (a1, a2):
        assert w.wait(20) == 0, w.describe()
    for path in (place.lock_dir / f"{m.uuid(0)}.lock", place.lock_dir / f"{m.uuid(1)}.lock"):
        assert path.exists(), f"{path} was not created"
        assert path.lstat().st_uid == a.uid, (
            f"{path} belongs to uid {path.lstat().st_uid}, not to user A ({a.uid}) whose "
            f"waiters were the only ones to use the lock directory")

    # Phase 2: user B, umask 077, queues among user A's waiters in A's files; GPU 2's lock file
    # is new. Everyone must lock, queue and run, one command per GPU at a time, in queue order.
    busy = [gw.occupy(0), gw.occupy(1), gw.occupy(2)]
    plan = [("b1", b, ["-n", "2", "-g", "0,1"]), ("a3", a, ["-g", "0"]),
            ("b2", b, ["-g", "2"]), ("a4", a, ["-g", "2"]), ("b3", b, ["-g", "1"]),
            ("b4", b, ["-n", "3"])]
    started: dict[str, UserWaiter] = {}
    for name, user, args in plan:
        w = start_as(place, user, "--poll", POLL, *args, "--", *record_as(place, name, 0.3),
                     umask=0o077 if user is b else 0o022)
        started[name] = w
        queued_as(place, a, list(started.values()))
    for i, pid in enumerate(busy):
        gw.release(i, pid)
        time.sleep(0.1)
    for name, w in started.items():
        assert w.wait(30) == 0, f"{name} (user {w.user.name}):\n{w.describe()}"

    spans: list[Span] = []
    for name in ["a1", "a2", *started]:
        found = read_spans(place.out / name, owner=name)
        assert len(found) == 1, f"{name}'s command wrote {len(found)} records"
        spans += found
    clashes = overlaps(spans)
    assert not clashes, f"two users' commands overlapped on a GPU: {clashes}"
    order = {}
    for i in range(3):
        on_gpu = sorted((s for s in spans if m.uuid(i) in s.uuids and s.owner in started),
                        key=lambda s: s.start)
        order[i] = [s.owner for s in on_gpu]
    assert order == {0: ["b1", "a3", "b4"], 1: ["b1", "b3", "b4"], 2: ["b2", "a4", "b4"]}, (
        f"per-GPU order of phase 2 (queue order: {[n for n, _, _ in plan]}): {order}")

    assert_no_lock_held(place.lock_dir)
    assert not locked_tickets(place.lock_dir)
    # --status works for every user (and root) on the shared directory, and sweeps dead tickets.
    status_json(place.env(), binary=place.binary, user=b.uid, group=b.gid, extra_groups=[],
                cwd="/", umask=0o077)
    status_json(place.env(), binary=place.binary)
    assert not tickets(place.lock_dir), tickets(place.lock_dir)
    if not protected_regular:
        warnings.warn("ran without fs.protected_regular=1")


# -- 2. a symlink planted where a lock file would be ----------------------------------------------

@pytest.mark.parametrize("victim_exists", [True, False], ids=["victim-file", "dangling"])
def test_planted_symlink_is_not_followed(gw: Harness, tmp_path: Path, victim_exists: bool) -> None:
    gw.lock_dir.mkdir()
    os.chmod(gw.lock_dir, 0o1777)
    victim = tmp_path / "victim"
    if victim_exists:
        victim.write_text("precious\n")
        os.chmod(victim, 0o600)
        before = victim.stat()
    link = gw.lock_dir / f"{gw.machine.uuid(0)}.lock"
    link.symlink_to(victim)
    marker = tmp_path / "ran"

    # The GPU cannot be locked through the symlink: gpu-waiter waits on (a planted entry must not
    # end anyone's wait in an error) until --timeout, saying why.
    w = gw.run("--poll", POLL, "-g", "0", "--timeout", "1s", "--", "touch", str(marker), timeout=60)
    assert w.returncode == 124, f"expected to wait until --timeout (124)\n{w.describe()}"
    assert not marker.exists(), "the command ran although the lock could not be taken"
    assert str(link) in w.stderr or link.name in w.stderr, f"stderr does not name {link}\n{w.stderr}"
    assert re.search(r"symbolic link|symlink", w.stderr, re.IGNORECASE), w.stderr
    assert all(line.startswith("gpu-waiter:") for line in w.stderr.splitlines()), w.stderr
    if victim_exists:
        after = victim.stat()
        assert victim.read_text() == "precious\n", "the victim file was changed"
        assert (after.st_mode, after.st_uid, after.st_size, after.st_mtime_ns) == (
            before.st_mode, before.st_uid, before.st_size, before.st_mtime_ns), "victim touched"
        assert not gw.own_processes()
    else:
        assert not victim.exists(), "gpu-waiter created the file the dangling symlink points to"
    assert link.is_symlink(), "the planted symlink was replaced"


# -- 3. lock directories others could tamper with ---------------------------------------------------

@pytest.mark.parametrize("runner", ["root", "user-b"])
def test_lock_directory_of_another_user_is_refused(place: SharedPlace, users: tuple[User, User],
                                                   runner: str) -> None:
    a, b = users
    place.machine(1)
    foreign = place.root / "a-owns-this"
    foreign.mkdir()
    os.chown(foreign, a.uid, a.gid)
    os.chmod(foreign, 0o1777)
    marker = place.out / "ran"
    args = ["--lock-dir", str(foreign), "--", place.probe, "record", str(marker)]
    if runner == "root":
        w = place.gw.start(*args, env=place.env())
    else:
        w = start_as(place, b, *args)
    assert w.wait(15) == 125, f"expected exit 125 for a lock dir owned by user A\n{w.describe()}"
    assert not marker.exists(), "the command ran"
    err = w.stderr
    assert str(foreign) in err, err
    assert re.search(r"belongs to another user|owned by another user|another user", err), err
    assert re.search(r"--lock-dir|GPU_WAITER_LOCK_DIR|mkdir|chown", err), (
        f"the message says nothing about how to fix it:\n{err}")
    assert not any(foreign.iterdir()), f"gpu-waiter wrote into the refused directory: {list(foreign.iterdir())}"


def test_world_writable_lock_directory_without_sticky_bit_is_refused(gw: Harness,
                                                                       tmp_path: Path) -> None:
    gw.lock_dir.mkdir()
    os.chmod(gw.lock_dir, 0o777)
    marker = tmp_path / "ran"
    w = gw.run("--", "touch", str(marker), timeout=60)
    assert w.returncode == 125, f"expected exit 125 for a 0777 lock dir\n{w.describe()}"
    assert not marker.exists(), "the command ran"
    assert str(gw.lock_dir) in w.stderr, w.stderr
    assert re.search(r"sticky|chmod \+t", w.stderr), w.stderr
    assert "chmod +t" in w.stderr or "chmod 1777" in w.stderr or "1777" in w.stderr, (
        f"the message says nothing about how to fix it:\n{w.stderr}")
    assert stat.S_IMODE(gw.lock_dir.stat().st_mode) == 0o777, "gpu-waiter changed the mode"
    assert not any(gw.lock_dir.iterdir()), list(gw.lock_dir.iterdir())


# -- --cancel: one's own jobs only, root any -------------------------------------------------------

def test_cancel_refuses_another_users_job(place: SharedPlace, users: tuple[User, User]) -> None:
    a, b = users
    gw = place.gw
    place.machine(1)
    gw.occupy(0)
    job = start_as(place, a, "--poll", POLL, "--name", "a-job", "--", "true")
    queued_as(place, a, [job])
    # --mine shows only the asking user's jobs; --user names another's.
    mine = start_as(place, b, "--status", "--mine", "--json")
    assert mine.wait(30) == 0, mine.describe()
    assert json.loads(mine.stdout)["queue"] == [], mine.stdout
    theirs = start_as(place, b, "--status", "--user", a.name, "--json")
    assert theirs.wait(30) == 0, theirs.describe()
    assert [q["name"] for q in json.loads(theirs.stdout)["queue"]] == ["a-job"], theirs.stdout
    refused = start_as(place, b, "--cancel", "a-job")
    assert refused.wait(30) == 125, refused.describe()
    assert f"belongs to {a.name}" in refused.stderr, refused.describe()
    assert job.poll() is None, "another user's --cancel ended the job"
    # Root may.
    proc = subprocess.run([place.binary, "--cancel", str(job.pid)], env=place.env(),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert job.wait(15) == 128 + signal.SIGTERM, job.describe()


# -- a lock directory a user created: told at once, and the refusal names the owner -----------------

def test_user_created_lock_directory_is_explained(place: SharedPlace, users: tuple[User, User]) -> None:
    a, b = users
    place.machine(1)
    made = place.out / "made-by-a"
    first = start_as(place, a, "--lock-dir", str(made), "--", "true")
    assert first.wait(15) == 0, first.describe()
    told = [line for line in first.stderr.splitlines() if "owned by you" in line]
    assert len(told) == 1 and "other users cannot use it until root owns it" in told[0], first.stderr
    assert f"sudo chown root: {made}" in told[0], first.stderr
    refused = start_as(place, b, "--lock-dir", str(made), "--", "true")
    assert refused.wait(15) == 125, refused.describe()
    assert f"belongs to another user, {a.name}" in refused.stderr, refused.describe()
    assert "--lock-dir" in refused.stderr and f"ask {a.name} or root" in refused.stderr


# -- another user's plants neither stall, reorder nor impersonate; a stopped user is passed over ---

def plant_as(place: SharedPlace, user: User, forged: dict, forged_name: str) -> subprocess.Popen:
    """As `user`: a FIFO under a ticket's name, an empty file named with the highest ticket
    number, and `forged` under `forged_name`, kept locked as a living waiter would keep it. The
    planting process lives (and keeps the lock) until killed."""
    script = (
        "import fcntl, os, sys, time\n"
        "d, name, text = sys.argv[1:4]\n"
        "os.mkfifo(os.path.join(d, '0000000000000002-2.ticket'), 0o666)\n"
        "open(os.path.join(d, '0999999999999999-3.ticket'), 'w').close()\n"
        "f = open(os.path.join(d, name), 'w')\n"
        "f.write(text)\n"
        "f.flush()\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('planted', flush=True)\n"
        "time.sleep(600)\n")
    p = subprocess.Popen([sys.executable, "-c", script, str(place.lock_dir), forged_name,
                          json.dumps(forged) + "\n"], stdout=subprocess.PIPE, text=True,
                         user=user.uid, group=user.gid, extra_groups=[], cwd="/")
    assert p.stdout is not None and p.stdout.readline() == "planted\n", "the plants failed"
    return p


def ticket_number(lock_dir: Path, pid: int) -> int:
    (name,) = [p.name for p in tickets(lock_dir) if p.name.endswith(f"-{pid}.ticket")]
    return int(name.split("-")[0])


def test_another_users_plants_neither_stall_reorder_nor_impersonate(
        place: SharedPlace, users: tuple[User, User]) -> None:
    a, b = users
    gw = place.gw
    m = place.machine(2)
    go, started = place.out / "go", place.out / "started"
    # A's job runs on GPU 1: a living gpu-waiter of A's, which the forged ticket names.
    running = start_as(place, a, "--poll", POLL, "-g", "1", "--", "sh", "-c",
                       'touch "$0"; while [ ! -e "$1" ]; do sleep 0.05; done', str(started), str(go))
    wait_for(started.exists, NEVER, running.describe)
    busy = gw.occupy(0)
    forged = {"number": 1, "pid": running.pid, "user": a.name, "command": "forged", "count": 2,
              "candidates": [m.uuid(0), m.uuid(1)], "since": 0}
    forged_name = f"0000000000000001-{running.pid}.ticket"
    planter = plant_as(place, b, forged, forged_name)
    try:
        # Waiters of both users queue behind the plants, in the order they came.
        first = start_as(place, a, "--poll", POLL, "-g", "0", "--", *record_as(place, "first", 0.2))
        queued_as(place, b, [first])
        second = start_as(place, b, "--poll", POLL, "-g", "0", "--", "sh", "-c",
                          'while [ ! -e "$0" ]; do sleep 0.05; done', str(go))
        queued_as(place, b, [first, second])
        third = start_as(place, a, "--poll", POLL, "-g", "0", "--", *record_as(place, "third", 0.2))
        queued_as(place, a, [first, second, third])
        numbers = [ticket_number(place.lock_dir, w.pid) for w in (first, second, third)]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3, (
            f"tickets not numbered in arrival order (the highest-number plant counted?): {numbers}")
        wait_for(lambda: "in line" in second.stderr, NEVER, second.describe)
        assert f"2nd in line, after {a.name}'s job {first.pid}" in second.stderr, second.describe()

        # Every user's --status shows the plants as foreign, and the forged ticket as nobody's.
        for user in (a, b):
            doc = status_json(place.env(), binary=place.binary, user=user.uid, group=user.gid,
                              extra_groups=[], cwd="/")
            assert queue_pids(doc) == [first.pid, second.pid, third.pid], doc["queue"]
            assert [q["user"] for q in doc["queue"]] == [a.name, b.name, a.name], doc["queue"]
            foreign = {f["name"] for f in doc["foreign"]}
            assert {forged_name, "0000000000000002-2.ticket"} <= foreign, doc["foreign"]

        # A's waiter at the head is stopped (Ctrl-Z): B's behind it gets the GPU meanwhile, and
        # A's keeps its place ahead of the third when continued.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            gw.release(0, busy)
            wait_for(lambda: second.pid not in queue_pids(status_json(place.env())), NEVER,
                     "B's waiter behind A's stopped one never got the free GPU")
        finally:
            os.kill(first.pid, signal.SIGCONT)
        go.touch()
        for w in (running, second, first, third):
            assert w.wait(NEVER) == 0, w.describe()
    finally:
        planter.kill()
        planter.wait()
    (f,), (t,) = read_spans(place.out / "first"), read_spans(place.out / "third")
    assert f.end <= t.start, "the continued waiter lost its place to a later one"
    assert_no_lock_held(place.lock_dir)
