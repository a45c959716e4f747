"""Jobs people can manage (issue 14): COMMAND checked before the wait, --status as a view,
--name, --detach, --cancel, errors in gpu-waiter's own words, the lock directory's owner."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import Harness, probe_path, wait_for, waiter_binary
from e2e_support import status_json, wait_until_queued

POLL = "0.2"


def messages(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith("gpu-waiter:"))


# -- 1. COMMAND is resolved before anything else --------------------------------------------------

@pytest.mark.parametrize("how, status", [("missing-name", 127), ("missing-path", 127),
                                         ("not-executable", 126), ("directory", 126)])
def test_command_checked_before_driver_lock_dir_and_queue(gw: Harness, how: str,
                                                          status: int) -> None:
    gw.occupy(0)
    gw.occupy(1)  # all busy: a waiter that waited first would never end
    script = gw.path("script")
    script.write_text("#!/bin/sh\ntrue\n")
    script.chmod(0o644)
    command = {"missing-name": "no-such-command-e2e", "missing-path": str(gw.path("nope/cmd")),
               "not-executable": str(script), "directory": str(gw.tmp)}[how]
    # No driver library at all: the refusal must come before NVML is even loaded.
    w = gw.run(command, timeout=60, GPU_WAITER_NVML_LIBRARY=str(gw.path("no-nvml.so")))
    assert w.returncode == status, w.describe()
    assert command in messages(w.stderr), w.describe()
    assert "nvml" not in w.stderr.lower(), w.describe()
    assert not gw.lock_dir.exists(), "a ticket or lock was taken for a command that cannot run"


# -- 5. errors in gpu-waiter's own words ------------------------------------------------------------

RAW_PARSER_TEXTS = ["not in range", "At Most", "required but received", "Value ", "TEXT",
                    "The following argument"]


@pytest.mark.parametrize("args, expected", [
    (["--count", "two", "true"], "'two' is not a number of GPUs"),
    (["--max-util", "101", "true"], "'101' is not a percentage"),
    (["--hold-fraction", "1", "true"], "'1' is not a fraction from 0 to 0.95"),
    (["--cout", "2", "true"], "did you mean --count?"),
    (["--json"], "--json goes with --status"),
    (["-g", "0", "--json", "echo", "hi"], "--json goes with --status"),
    (["-q", "-v", "true"], "contradict"),
    (["--status", "-n", "2"], "--count applies to running a COMMAND, not to --status"),
    (["--status", "--watch", "--json"], "choose one"),
    (["--log", "x.log", "true"], "--log names the log of a --detach job"),
    (["-n"], "--count needs a value"),
])
def test_usage_errors_in_our_words(gw: Harness, args: list[str], expected: str) -> None:
    w = gw.run(*args, timeout=60)
    assert w.returncode == 125, w.describe()
    assert expected in messages(w.stderr), w.describe()
    for raw in RAW_PARSER_TEXTS:
        assert raw not in w.stderr, w.describe()
    assert not gw.lock_dir.exists()


def test_help_shows_placeholders_and_defaults(gw: Harness) -> None:
    w = gw.run("--help", timeout=60)
    assert w.returncode == 0, w.describe()
    assert "-I STR" in w.stdout and "TEXT" not in w.stdout, w.stdout
    for default in ["(default 1)", "(default 0.25)", "default /tmp/gpu-waiter"]:
        assert default in w.stdout, w.stdout


# -- 2. --status as a view ----------------------------------------------------------------------------

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def status_text(gw: Harness, *args: str, columns: int = 80) -> str:
    proc = subprocess.run([waiter_binary(), "--status", *args], env=gw.env(COLUMNS=str(columns)),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def long_foreign(gw: Harness, gpu: int) -> subprocess.Popen:
    """A foreign process on `gpu` whose command line is much longer than its 15-letter comm."""
    proc = subprocess.Popen(["sh", "-c", "sleep 600; : this-argument-makes-the-line-long", "x"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    gw._foreign.append(proc)  # noqa: SLF001 - killed at teardown like the harness' own
    gw.machine.add_process(gpu, proc.pid, used_memory=2 << 30)
    return proc


def start_queue(gw: Harness) -> tuple:
    runner = gw.start("--poll", POLL, "--name", "train-1", "-g", "0", "--", "sleep", "60")
    wait_for(lambda: gw.lock_dir.exists() and status_json(gw.env())["gpus"][0]["lock"], 10,
             lambda: f"the first job never locked GPU 0\n{runner.describe()}")
    queued = gw.start("--poll", POLL, "--name", "eval-2", "-g", "0", "--", "true")
    wait_until_queued(gw, [queued])
    return runner, queued


def test_status_table_fits_and_speaks_our_terms(gw: Harness) -> None:
    foreign = long_foreign(gw, 1)
    runner, queued = start_queue(gw)
    text = status_text(gw)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    assert re.match(r"^GPU +NAME +MEMORY +UTIL +STATE$", lines[0]), text
    me = status_json(gw.env())["queue"][0]["user"]
    assert f"held by {me}'s train-1" in text, text
    assert f"busy: {me}'s sh" in text, text
    # The process's command line from /proc, cut to fit, not its 15-letter name alone.
    row = next(line for line in lines if re.match(rf"^\s*1\s+{foreign.pid}\s", line))
    assert "sh -c 'sleep 600; : this-argument" in row, text
    assert "gpu-waiter's hold" in text, text
    assert "queue: " not in text
    queue_row = next(line for line in lines if "eval-2" in line)
    assert re.match(rf"^1\s+eval-2 \({queued.pid}\)\s+{me}\s+1 GPU of 0\s+\d+s\s+GPU 0 held by",
                    queue_row), text
    assert re.search(r"^#\s+JOB\s+USER\s+WANTS\s+WAITED\s+WHY IT WAITS$", text, re.M), text


def test_status_json_schema_argv_and_times(gw: Harness) -> None:
    runner, queued = start_queue(gw)
    doc = status_json(gw.env())
    assert doc["schema_version"] == 2
    assert ISO.match(doc["generated_at"])
    lock = doc["gpus"][0]["lock"]
    assert lock["argv"] == ["sleep", "60"] and lock["name"] == "train-1", lock
    assert ISO.match(lock["since"]), lock
    assert doc["gpus"][0]["verdict"]["state"] == "held", doc["gpus"][0]
    assert doc["gpus"][1]["verdict"]["state"] == "free", doc["gpus"][1]
    (entry,) = doc["queue"]
    assert entry["argv"] == ["true"] and entry["name"] == "eval-2" and entry["id"] == queued.pid
    assert ISO.match(entry["since"]) and entry["reason"], entry


def test_status_filters_by_user(gw: Harness) -> None:
    start_queue(gw)
    me = status_json(gw.env())["queue"][0]["user"]
    assert "eval-2" in status_text(gw, "--mine")
    assert "eval-2" in status_text(gw, "--user", me)
    other = status_text(gw, "--user", "nobody-e2e")
    assert "eval-2" not in other and "No job of nobody-e2e is waiting." in other, other


def test_status_and_run_without_gpus(gw: Harness) -> None:
    from fakegpu import FakeMachine
    gw.machine = FakeMachine(gw.machine.state_path.parent, [])
    text = status_text(gw)
    assert "No GPU found" in text, text
    w = gw.run("true", timeout=60)
    assert w.returncode == 125, w.describe()
    assert "no GPU found" in w.stderr and "lower -n" not in w.stderr, w.describe()


def test_status_creates_no_lock_directory(gw: Harness) -> None:
    text = status_text(gw)
    assert not gw.lock_dir.exists(), "--status created the lock directory"
    assert "No job is waiting" in text, text
    assert status_json(gw.env())["queue"] == []
    assert not gw.lock_dir.exists()


# -- 4. --name, --detach, --cancel ------------------------------------------------------------------

DETACHED = re.compile(r"^job (\d+)(?: \((\S+)\))? detached; log: (.+)$")


def detach(gw: Harness, *args: str) -> tuple[int, Path]:
    w = gw.run("--detach", "--poll", POLL, *args, timeout=60,
               XDG_STATE_HOME=str(gw.path("state")))
    assert w.returncode == 0, w.describe()
    m = DETACHED.match(w.stdout.strip())
    assert m, w.describe()
    return int(m.group(1)), Path(m.group(3))


def job_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_detach_returns_at_once_and_the_log_ends_with_the_status(gw: Harness) -> None:
    busy = gw.occupy(0), gw.occupy(1)  # the job must wait: detach returns all the same
    job, log = detach(gw, "--name", "nightly", "--", "sh", "-c", "echo out-line; exit 3")
    assert log.parent == gw.path("state") / "gpu-waiter" and log.name == f"nightly-{job}.log"
    assert os.getsid(job) == job, "the job does not run in a session of its own"
    # Detach returns before the job has queued: wait for it to arrive, however slowly it starts.
    doc = wait_for(lambda: (d := status_json(gw.env()))["queue"] and d, 20, lambda: job_log(log))
    assert [(q["id"], q["name"]) for q in doc["queue"]] == [(job, "nightly")], doc["queue"]
    assert "nightly" in status_text(gw)
    gw.release(0, busy[0])
    wait_for(lambda: "exit status 3" in job_log(log), 20, lambda: job_log(log))
    text = job_log(log)
    assert "out-line" in text and re.search(r"started \d{4}-\d\d-\d\dT", text), text
    assert re.search(rf"job {job} \(nightly\) ended \S+Z \(started \S+Z, .* in all\): "
                     r"exit status 3$", text.strip().splitlines()[-1]), text


def test_detach_with_log_file_and_name_in_the_lock_record(gw: Harness) -> None:
    log = gw.path("my.log")
    job, path = detach(gw, "--log", str(log), "--name", "held-job", "--", "sleep", "60")
    assert path == log
    wait_for(lambda: status_json(gw.env())["gpus"][0]["lock"] or
             status_json(gw.env())["gpus"][1]["lock"], 15, lambda: job_log(log))
    locks = [g["lock"] for g in status_json(gw.env())["gpus"] if g["lock"]]
    assert [(lk["id"], lk["name"]) for lk in locks] == [(job, "held-job")], locks
    w = gw.run("--cancel", "held-job", timeout=30)
    assert w.returncode == 0, w.describe()
    wait_for(lambda: "exit status 143" in job_log(log), 15, lambda: job_log(log))


def test_detach_refuses_what_no_wait_can_serve(gw: Harness) -> None:
    # Said before returning, not only in a log nobody reads.
    w = gw.run("--detach", "-n", "9", "--", "true", timeout=30, XDG_STATE_HOME=str(gw.path("state")))
    assert w.returncode == 125, w.describe()
    assert "9 GPU(s) requested" in w.stderr and "detached" not in w.stdout, w.describe()
    logs = gw.path("state") / "gpu-waiter"
    assert not logs.exists() or not list(logs.iterdir()), "a log was left for a job never started"


def test_status_verdicts_reserved_and_handed_over(gw: Harness) -> None:
    busy = gw.occupy(1)
    pair = gw.start("--poll", POLL, "-n", "2", "--name", "pair", "--", "true")
    # GPU 0 is free: the 2-GPU waiter locks it while it waits for GPU 1.
    doc = wait_for(lambda: (d := status_json(gw.env()))["gpus"][0]["verdict"]["state"] == "reserved"
                   and d, 20, pair.describe)
    assert "pair" in doc["gpus"][0]["verdict"]["text"], doc["gpus"][0]
    assert re.search(r"reserved for \S+'s pair", status_text(gw)), status_text(gw)
    os.kill(pair.pid, signal.SIGTERM)
    assert pair.wait(15) == 128 + signal.SIGTERM, pair.describe()
    gw.release(1, busy)
    user = gw.start("--poll", POLL, "-g", "0", "--name", "user", "--",
                    probe_path(), "use", "0", "--sleep", "60")
    # Its command uses the GPU: the hold gives way and the lock says so.
    wait_for(lambda: status_json(gw.env())["gpus"][0]["verdict"]["state"] == "handed over", 20,
             user.describe)
    assert re.search(r"handed over to \S+'s user", status_text(gw)), status_text(gw)
    os.kill(user.pid, signal.SIGTERM)
    user.wait(15)


def test_cancel_a_waiting_job_by_name(gw: Harness) -> None:
    gw.occupy(0)
    gw.occupy(1)
    job, log = detach(gw, "--name", "later", "--", "true")
    wait_for(lambda: status_json(gw.env())["queue"], 15, lambda: job_log(log))
    w = gw.run("--cancel", "later", timeout=30)
    assert w.returncode == 0, w.describe()
    assert "left the queue" in w.stderr, w.describe()
    assert status_json(gw.env())["queue"] == []
    wait_for(lambda: "exit status 143" in job_log(log), 15, lambda: job_log(log))


def test_cancel_a_running_job_by_id(gw: Harness) -> None:
    runner = gw.start("--", "sleep", "600")
    wait_for(lambda: gw.lock_dir.exists() and any(g["lock"] for g in status_json(gw.env())["gpus"]),
             15, runner.describe)
    w = gw.run("--cancel", str(runner.pid), timeout=30)
    assert w.returncode == 0, w.describe()
    assert runner.wait(15) == 128 + signal.SIGTERM, runner.describe()


def test_cancel_kills_a_command_that_ignores_sigterm(gw: Harness) -> None:
    runner = gw.start("--", "sh", "-c", "trap '' TERM; while :; do sleep 1; done")
    wait_for(lambda: gw.lock_dir.exists() and any(g["lock"] for g in status_json(gw.env())["gpus"]),
             15, runner.describe)
    w = gw.run("--cancel", str(runner.pid), timeout=60)
    assert w.returncode == 0, w.describe()
    assert "SIGKILL" in w.stderr, w.describe()
    assert runner.wait(15) == 128 + signal.SIGKILL, runner.describe()


def test_cancel_reaches_the_command_of_a_killed_gpu_waiter(gw: Harness) -> None:
    # kill -9 of gpu-waiter leaves its command running with the lock: --cancel must end the
    # command, not report success for a signal to the dead gpu-waiter's pid.
    runner = gw.start("-g", "0", "--", "sleep", "600")
    lock = wait_for(lambda: status_json(gw.env())["gpus"][0]["lock"], 15, runner.describe)
    command = wait_for(lambda: int(status_json(gw.env())["gpus"][0]["lock"].get("command_pid") or 0),
                       15, lambda: f"no command pid in {lock}")
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(15)
    assert os.path.exists(f"/proc/{command}")
    w = gw.run("--cancel", str(runner.pid), timeout=30)
    assert w.returncode == 0, w.describe()
    assert "gpu-waiter was gone" in w.stderr and "SIGTERM" in w.stderr, w.describe()
    wait_for(lambda: not os.path.exists(f"/proc/{command}"), 15, "the command still runs")
    assert gw.run("-g", "0", "--", "true", timeout=60).returncode == 0


def test_cancel_never_signals_a_reused_pid(gw: Harness) -> None:
    # A lock record naming a living process that is not a gpu-waiter (a reused pid, or a forged
    # record): nothing is signalled.
    gw.run("--", "true", timeout=60)  # the lock directory exists
    other = subprocess.Popen(["sleep", "600"])
    try:
        record = {"pid": other.pid, "user": "someone", "command": "x", "since": 0, "name": "forged"}
        (gw.lock_dir / f"{gw.machine.uuid(0)}.lock").write_text(json.dumps(record))
        w = gw.run("--cancel", "forged", timeout=30)
        assert w.returncode == 125, w.describe()
        assert "no job forged" in w.stderr, w.describe()
        assert other.poll() is None, "--cancel signalled a process that is not a gpu-waiter"
    finally:
        other.kill()
        other.wait()


def test_cancel_of_no_such_job(gw: Harness) -> None:
    gw.run("--", "true", timeout=60)  # the lock directory exists
    w = gw.run("--cancel", "no-such-job", timeout=60)
    assert w.returncode == 125, w.describe()
    assert "no job no-such-job" in w.stderr, w.describe()


def bash_complete(gw: Harness, words: list[str]) -> list[str]:
    """What packaging/completions/gpu-waiter.bash offers for the last of `words`."""
    script = Path(__file__).resolve().parents[2] / "packaging/completions/gpu-waiter.bash"
    line = " ".join([waiter_binary(), *words])
    program = (f"source {shlex.quote(str(script))}\n"
               f"COMP_WORDS=({' '.join(shlex.quote(w) for w in [waiter_binary(), *words])})\n"
               f"COMP_CWORD={len(words)}; COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}\n"
               "_gpu_waiter; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    proc = subprocess.run(["bash", "-c", program], env=gw.env(), capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def test_completions_offer_gpus_and_own_jobs(gw: Harness) -> None:
    m = gw.machine
    assert set(bash_complete(gw, ["-g", ""])) == {"0", "1", m.uuid(0), m.uuid(1)}
    assert set(bash_complete(gw, ["-g", "0,"])) == {"0,0", "0,1", f"0,{m.uuid(0)}", f"0,{m.uuid(1)}"}
    gw.occupy(0)
    gw.occupy(1)
    job, _ = detach(gw, "--name", "to-complete", "--", "true")
    wait_for(lambda: status_json(gw.env())["queue"], 15, "the detached job never queued")
    assert set(bash_complete(gw, ["--cancel", ""])) == {str(job), "to-complete"}


def test_verbose_explains_candidates_lock_dir_place_and_variables(gw: Harness) -> None:
    gw.occupy(0)
    w = gw.start("-v", "--poll", POLL, "--", "true", CUDA_VISIBLE_DEVICES="1")
    wait_for(lambda: "place in line: 1" in w.stderr, 15, w.describe)
    gw.machine.remove_process(0, gw.machine.gpu(0)["processes"][0]["pid"])
    assert w.wait(15) == 0, w.describe()
    text = messages(w.stderr)
    assert "(from the inherited CUDA_VISIBLE_DEVICES=1)" in text, text
    assert f"lock directory: {gw.lock_dir}" in text, text
    assert re.search(r"the command gets CUDA_VISIBLE_DEVICES=\d", text), text
    assert "the command gets GPU_WAITER_GPUS=0" in text, text


def test_narrowing_cuda_visible_devices_is_mentioned_without_v(gw: Harness) -> None:
    w = gw.run("--", "true", timeout=60, CUDA_VISIBLE_DEVICES="0")
    assert w.returncode == 0, w.describe()
    assert "inherited CUDA_VISIBLE_DEVICES=0 limits the candidates" in w.stderr, w.describe()


def test_replace_string_in_no_argument_warns(gw: Harness) -> None:
    w = gw.run("-I", "{}", "--", "true", timeout=60)
    assert w.returncode == 0, w.describe()
    assert "-I {}: no argument of the command contains '{}'" in w.stderr, w.describe()
