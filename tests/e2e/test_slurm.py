"""gpu-waiter with Slurm: `--slurm` against a real one-node cluster (tools/slurm-cluster, four fake
GPUs as character devices), and a local run inside a Slurm job against the fake NVIDIA driver.

The cluster needs root and Debian's Slurm packages (tools/install-deps). Without them these tests
skip, except in CI (CI=true, as root), where they must run. One cluster serves the whole file;
after each test every job is cancelled, and at the end no daemon may be left.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import (Harness, env_dump_command, processes_with_env, read_env_dump, split,
                      waiter_binary, wait_for)
from e2e_support import overlaps, read_spans, record_command

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO / "tools" / "slurm-cluster"
CLUSTER_GPUS = 4
DEADLINE = 60.0   # "fail if it never happens", not a measure of speed


def _why_no_cluster() -> str | None:
    if os.geteuid() != 0:
        return "a Slurm cluster needs root (daemons as root, device nodes)"
    missing = [c for c in ("slurmctld", "slurmd", "srun", "squeue", "scancel", "sinfo")
               if shutil.which(c) is None]
    if missing:
        return f"Slurm is not installed ({', '.join(missing)} missing): run tools/install-deps"
    return None


class Cluster:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.conf = directory / "slurm.conf"

    def env(self, gw: Harness, **extra: str) -> dict[str, str]:
        return gw.env(SLURM_CONF=str(self.conf), **extra)

    def slurm(self, *args: str) -> str:
        proc = subprocess.run(list(args), env={**os.environ, "SLURM_CONF": str(self.conf)},
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"{args}: {proc.stderr}"
        return proc.stdout

    def jobs(self) -> dict[str, str]:
        """Job name -> state (PENDING, RUNNING, ...) of every job in the queue."""
        lines = self.slurm("squeue", "-h", "-o", "%j %T").splitlines()
        return dict(line.split() for line in lines if line.strip())

    def cancel_all(self) -> None:
        ids = self.slurm("squeue", "-h", "-o", "%i").split()
        if ids:
            subprocess.run(["scancel", *ids], env={**os.environ, "SLURM_CONF": str(self.conf)},
                           timeout=30)
        wait_for(lambda: not self.jobs(), DEADLINE, lambda: f"jobs left: {self.jobs()}")

    def daemons(self) -> list[int]:
        """Live processes whose environment names this cluster's configuration."""
        return sorted(processes_with_env("SLURM_CONF", str(self.conf)))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    reason = _why_no_cluster()
    if reason:
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            pytest.fail(f"CI must run the Slurm tests: {reason}")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([str(CLUSTER_SCRIPT), "start", str(directory), str(CLUSTER_GPUS)],
                             capture_output=True, text=True, timeout=120)
    c = Cluster(directory)
    try:
        assert started.returncode == 0, f"slurm-cluster start failed:\n{started.stderr}"
        yield c
    finally:
        subprocess.run([str(CLUSTER_SCRIPT), "stop", str(directory)], timeout=120)
        left = [pid for pid in c.daemons() if _name(pid) in ("slurmctld", "slurmd", "slurmstepd")]
        assert not left, f"Slurm processes left after stop: {left}"


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


@pytest.fixture
def slurm(cluster: Cluster, gw: Harness):
    """The cluster, emptied of jobs after the test (gw's teardown kills what they left)."""
    try:
        yield cluster
    finally:
        cluster.cancel_all()


def hog(gw: Harness, slurm: Cluster, name: str = "hog", gpus: int = CLUSTER_GPUS):
    """A job holding `gpus` GPUs until the file it returns (second) is created; returns the
    gpu-waiter, the file that says it runs, and the file that releases it."""
    started, release = gw.path(f"{name}-started"), gw.path(f"{name}-release")
    script = f'touch "{started}"; while [ ! -e "{release}" ]; do sleep 0.1; done'
    waiter = gw.start("--slurm", "-n", str(gpus), "--name", name, "--", "sh", "-c", script,
                      env=slurm.env(gw))
    wait_for(lambda: started.exists() or waiter.poll() is not None, DEADLINE,
             lambda: f"the {name} job never started\n{waiter.describe()}")
    assert started.exists(), waiter.describe()
    return waiter, release


# -- the command on Slurm's GPUs -------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2])
def test_command_sees_the_gpus_slurm_gave(gw: Harness, slurm: Cluster, count: int) -> None:
    dump = gw.path("env.json")
    w = gw.run("--slurm", "-n", str(count), "--", *env_dump_command(dump), env=slurm.env(gw),
               timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    env = read_env_dump(dump)
    assert env["SLURM_JOB_ID"], env
    assert len(split(env["CUDA_VISIBLE_DEVICES"])) == count
    assert split(env["GPU_WAITER_GPUS"]) == split(env["SLURM_STEP_GPUS"])
    assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
    assert env["SLURM_JOB_NAME"] == Path(env_dump_command(dump)[0]).name
    assert "SLURM_EXIT_ERROR" not in env and "SLURM_EXIT_IMMEDIATE" not in env


def test_name_and_replace_string(gw: Harness, slurm: Cluster) -> None:
    out = gw.path("out")
    w = gw.run("--slurm", "-n", "2", "--name", "my-job", "-I", "{}", "--", "sh", "-c",
               'printf "%s|%s|%s" "$1" "$CUDA_VISIBLE_DEVICES" "$SLURM_JOB_NAME" > "$2"', "sh",
               "gpus={}&{}", str(out), env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    replaced, cvd, name = out.read_text().split("|")
    assert len(split(cvd)) == 2
    assert replaced == f"gpus={cvd}&{cvd}"
    assert name == "my-job"


def test_slurm_arguments_reach_srun(gw: Harness, slurm: Cluster) -> None:
    dump = gw.path("env.json")
    w = gw.run("--slurm", "--slurm-arg=--comment=from-arg", "--", *env_dump_command(dump),
               env=slurm.env(gw, GPU_WAITER_SLURM_ARGS="--ntasks=1"), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    w = gw.run("--slurm", "--slurm-arg=--partition=nosuchpartition", "--", "true",
               env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 125, w.describe()
    assert "partition" in w.stderr.lower(), w.describe()


def test_backend_from_the_environment(gw: Harness, slurm: Cluster) -> None:
    dump = gw.path("env.json")
    w = gw.run("--", *env_dump_command(dump), env=slurm.env(gw, GPU_WAITER_BACKEND="slurm"),
               timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    env = read_env_dump(dump)
    assert env.get("SLURM_JOB_ID"), "the command did not run under Slurm"
    # A gpu-waiter inside the job runs locally over the job's GPUs, not through srun again.
    assert "GPU_WAITER_BACKEND" not in env, env


# -- --detach and --cancel: sbatch and scancel -----------------------------------------------------

def test_detach_submits_with_sbatch_and_the_log_ends_with_the_status(gw: Harness,
                                                                     slurm: Cluster) -> None:
    log = gw.path("detached.log")
    w = gw.run("--slurm", "--detach", "--name", "bg", "--log", str(log), "--",
               "sh", "-c", 'printf "%s|" "$@"; echo; exit 3', "sh", "it's", "a b", "$HOME",
               env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    assert re.search(r"Submitted batch job \d+", w.stdout), w.describe()
    assert f"log: {log}" in w.stderr, w.describe()
    wait_for(lambda: log.exists() and "exit status 3" in log.read_text(), DEADLINE,
             lambda: f"{log.read_text() if log.exists() else 'no log'}\n{slurm.jobs()}")
    text = log.read_text()
    assert "it's|a b|$HOME|" in text, text  # every word as given, none expanded on the node
    assert re.search(r"Slurm job \d+ ended \S+Z: exit status 3$", text.strip()), text


def test_detach_default_log_is_named_after_the_job(gw: Harness, slurm: Cluster) -> None:
    state = gw.path("state")
    w = gw.run("--slurm", "--detach", "--", "true",
               env=slurm.env(gw, XDG_STATE_HOME=str(state)), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    job = re.search(r"Submitted batch job (\d+)", w.stdout).group(1)
    log = state / "gpu-waiter" / f"job-{job}.log"
    wait_for(lambda: log.exists() and "exit status 0" in log.read_text(), DEADLINE,
             lambda: f"no {log}: {list((state / 'gpu-waiter').iterdir())}")


def test_cancel_uses_scancel(gw: Harness, slurm: Cluster) -> None:
    w = gw.run("--slurm", "--detach", "--name", "to-cancel", "--", "sleep", "600",
               env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    wait_for(lambda: slurm.jobs().get("to-cancel") == "RUNNING", DEADLINE, slurm.jobs)
    w = gw.run("--cancel", "to-cancel", env=slurm.env(gw, GPU_WAITER_BACKEND="slurm"),
               timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    assert "scancel" in w.stderr, w.describe()
    wait_for(lambda: "to-cancel" not in slurm.jobs(), DEADLINE, slurm.jobs)


# -- waiting -------------------------------------------------------------------------------------

def test_second_job_waits_while_the_first_holds_every_gpu(gw: Harness, slurm: Cluster) -> None:
    first, release = hog(gw, slurm)
    ran = gw.path("second-ran")
    second = gw.start("--slurm", "--name", "second", "--", "touch", str(ran), env=slurm.env(gw))
    wait_for(lambda: slurm.jobs().get("second") == "PENDING", DEADLINE,
             lambda: f"the second job is not pending: {slurm.jobs()}\n{second.describe()}")
    assert second.poll() is None and not ran.exists(), "the second job ran while all GPUs were held"
    release.touch()
    assert first.wait(DEADLINE) == 0, first.describe()
    assert second.wait(DEADLINE) == 0, second.describe()
    assert ran.exists()


def test_timeout_gives_124_when_no_allocation_comes(gw: Harness, slurm: Cluster) -> None:
    first, release = hog(gw, slurm)
    ran = gw.path("ran")
    w = gw.run("--slurm", "--timeout", "1s", "--", "touch", str(ran), env=slurm.env(gw),
               timeout=DEADLINE)
    assert w.returncode == 124, w.describe()
    assert "--timeout" in w.stderr
    assert not ran.exists()
    release.touch()
    assert first.wait(DEADLINE) == 0, first.describe()


def test_signal_while_pending_leaves_the_queue(gw: Harness, slurm: Cluster) -> None:
    first, release = hog(gw, slurm)
    second = gw.start("--slurm", "--name", "second", "--", "true", env=slurm.env(gw))
    wait_for(lambda: slurm.jobs().get("second") == "PENDING", DEADLINE,
             lambda: f"the second job is not pending: {slurm.jobs()}\n{second.describe()}")
    second.signal(signal.SIGTERM)
    assert second.wait(DEADLINE) == 128 + signal.SIGTERM, second.describe()
    assert "second" not in slurm.jobs()
    release.touch()
    assert first.wait(DEADLINE) == 0, first.describe()


# -- exit status and signals ---------------------------------------------------------------------

@pytest.mark.parametrize("script, expected", [
    ("exit 7", 7),
    ("kill -TERM $$", 128 + signal.SIGTERM),
])
def test_exit_status_passes_through(gw: Harness, slurm: Cluster, script: str,
                                    expected: int) -> None:
    w = gw.run("--slurm", "--", "sh", "-c", script, env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == expected, w.describe()


def test_command_not_found_is_127(gw: Harness, slurm: Cluster) -> None:
    w = gw.run("--slurm", "--", "no-such-command-here", env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 127, w.describe()


def test_sigterm_cancels_the_job(gw: Harness, slurm: Cluster) -> None:
    started = gw.path("started")
    w = gw.start("--slurm", "--name", "victim", "--", "sh", "-c",
                 f'touch "{started}"; exec sleep 600', env=slurm.env(gw))
    wait_for(started.exists, DEADLINE, lambda: f"never started\n{w.describe()}")
    w.signal(signal.SIGTERM)
    rc = w.wait(DEADLINE)
    # srun ends the step; Slurm kills its tasks (SIGKILL), or they die of the SIGTERM it sends.
    assert rc in (128 + signal.SIGKILL, 128 + signal.SIGTERM), w.describe()
    wait_for(lambda: "victim" not in slurm.jobs(), DEADLINE, lambda: f"{slurm.jobs()}")
    wait_for(lambda: not gw.own_processes(), DEADLINE,
             lambda: f"processes left: {sorted(gw.own_processes())}")


def test_sigint_aborts_the_job_once(gw: Harness, slurm: Cluster) -> None:
    started = gw.path("started")
    script = f'trap "exit 3" INT; touch "{started}"; while :; do sleep 0.1; done'
    w = gw.start("--slurm", "--name", "interrupted", "--", "sh", "-c", script, env=slurm.env(gw))
    wait_for(started.exists, DEADLINE, lambda: f"never started\n{w.describe()}")
    w.signal(signal.SIGINT)
    rc = w.wait(DEADLINE)
    # srun's abort: SIGINT to the command, then Slurm ends the step at once, so whether the
    # command's own handler finishes first is a race; that srun aborted (and once) is not.
    assert rc in (3, 128 + signal.SIGKILL), w.describe()
    assert w.stderr.count("sending Ctrl-C") == 1, w.describe()
    wait_for(lambda: "interrupted" not in slurm.jobs(), DEADLINE, lambda: f"{slurm.jobs()}")


def test_status_shows_slurms_view(gw: Harness, slurm: Cluster) -> None:
    w = gw.run("--slurm", "--status", env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 0, w.describe()
    assert f"gpu:{CLUSTER_GPUS}" in w.stdout
    assert "JOBID" in w.stdout


# -- without a cluster ---------------------------------------------------------------------------

@pytest.mark.parametrize("option", [
    ["-g", "0"], ["--min-free-memory", "1GiB"], ["--max-util", "10"], ["--idle-for", "1s"],
    ["--hold-fraction", "0.5"], ["--hold-max", "1m"], ["--no-hold"], ["--lock-dir", "/tmp/x"],
    ["--visible-devices", "uuid"], ["--poll", "1s"],
])
def test_options_without_meaning_are_refused(gw: Harness, option: list[str]) -> None:
    ran = gw.path("ran")
    w = gw.run("--slurm", *option, "--", "touch", str(ran))
    assert w.returncode == 125, w.describe()
    assert "no meaning with --slurm" in w.stderr
    assert not ran.exists()
    w = gw.run(*option, "--", "touch", str(ran), GPU_WAITER_BACKEND="slurm")
    assert w.returncode == 125, w.describe()


@pytest.mark.parametrize("option", [["--watch", "2s"], ["--mine"], ["--user", "root"]])
def test_status_views_slurm_has_itself_are_refused_with_its_command(gw: Harness,
                                                                   option: list[str]) -> None:
    # Never silently ignored.
    w = gw.run("--slurm", "--status", *option)
    assert w.returncode == 125, w.describe()
    assert "not available with --slurm" in w.stderr and "squeue" in w.stderr, w.describe()


def test_detach_with_a_timeout_is_refused(gw: Harness) -> None:
    w = gw.run("--slurm", "--detach", "--timeout", "1m", "--", "true")
    assert w.returncode == 125, w.describe()
    assert "--deadline" in w.stderr, w.describe()


def test_no_slurm_installed_gives_125(gw: Harness) -> None:
    empty = gw.path("empty-bin")
    empty.mkdir()
    w = gw.run("--slurm", "--", "true", PATH=str(empty))
    assert w.returncode == 125, w.describe()
    assert "srun not found" in w.stderr
    assert "hint:" in w.stderr


# -- a local run inside a Slurm job, on the fake driver ------------------------------------------

def allowed_uuids(gw: Harness, slurm_numbers: list[str]) -> set[str]:
    """The fake GPUs Slurm's numbers name: their rank in PCI bus order, as Slurm numbers them."""
    m = gw.machine
    return {m.uuid(i) for i in range(m.count()) if str(m.cuda_ordinal(i)) in slurm_numbers}


def test_inside_a_job_only_its_gpus_are_used(gw: Harness, slurm: Cluster) -> None:
    gw.standard(CLUSTER_GPUS)   # NVML's order differs from the PCI bus order
    first, release = hog(gw, slurm, gpus=2)   # so that the job below gets other numbers than 0,1
    record, step_gpus = gw.path("record"), gw.path("step-gpus")
    inner = shlex.join([waiter_binary(), "-v", "--poll", "50ms", "--",
                        *record_command(record, 0.3)])
    script = f'echo "$SLURM_STEP_GPUS" > "{step_gpus}"; seq 8 | xargs -P 4 -I @ {inner}'
    w = gw.run("--slurm", "-n", "2", "--name", "batch", "--", "sh", "-c", script,
               env=slurm.env(gw), timeout=DEADLINE * 2)
    assert w.returncode == 0, w.describe()
    numbers = split(step_gpus.read_text().strip())
    assert len(numbers) == 2
    spans = read_spans(record)
    assert len(spans) == 8, spans
    allowed = allowed_uuids(gw, numbers)
    for span in spans:
        assert len(span.uuids) == 1 and set(span.uuids) <= allowed, (
            f"{span} is outside the job's GPUs {sorted(allowed)} (Slurm's {numbers})")
    assert not overlaps(spans), overlaps(spans)
    assert "inside Slurm job" in w.stderr
    release.touch()
    assert first.wait(DEADLINE) == 0, first.describe()


def test_inside_a_job_more_than_it_has_is_refused(gw: Harness, slurm: Cluster) -> None:
    gw.standard(CLUSTER_GPUS)
    ran = gw.path("ran")
    # Without CUDA_VISIBLE_DEVICES the job's one GPU is still known from SLURM_STEP_GPUS.
    w = gw.run("--slurm", "-n", "1", "--", "sh", "-c",
               f'unset CUDA_VISIBLE_DEVICES; exec {waiter_binary()} -n 2 -- touch "{ran}"',
               env=slurm.env(gw), timeout=DEADLINE)
    assert w.returncode == 125, w.describe()
    assert "only 1" in w.stderr, w.describe()
    assert not ran.exists()


def test_inside_a_job_without_gpus_is_refused(gw: Harness, slurm: Cluster) -> None:
    gw.standard(CLUSTER_GPUS)
    ran = gw.path("ran")
    proc = subprocess.run(["srun", waiter_binary(), "--", "touch", str(ran)],
                          env=slurm.env(gw), capture_output=True, text=True, timeout=DEADLINE)
    assert proc.returncode == 125, proc.stderr
    assert "no GPU" in proc.stderr
    assert not ran.exists()
