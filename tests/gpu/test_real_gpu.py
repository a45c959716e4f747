"""gpu-waiter on real NVIDIA GPUs with PyTorch commands. Skips where there is no GPU.

Run on a GPU machine: GPU_WAITER_BINARY=path/to/gpu-waiter python3 -m pytest tests/gpu -v
The numbers measured here go to GPU_TEST_REPORT (JSON), summarised in docs/real-gpu.md."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import (Gpu, children_of, cuda_ordinal, gpus, occupier, requires_gpu, requires_gpus,
                      wait_for)

# The command: writes when it started (before importing torch, which takes seconds), then what
# torch.cuda sees. Arguments: the output file.
REPORT_DEVICES = r"""
import json, os, sys, time
start = time.time()
import torch
props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
json.dump({"start": start, "count": len(props), "uuids": [str(p.uuid) for p in props],
           "env_uuids": os.environ.get("GPU_WAITER_UUIDS"),
           "cvd": os.environ.get("CUDA_VISIBLE_DEVICES")}, open(sys.argv[1], "w"))
"""

# The command for hand-over: starts, waits without touching CUDA, makes its first CUDA call,
# then allocates most of the GPU's memory at once.
USE_MOST_MEMORY = r"""
import json, sys, time
import torch
time.sleep(float(sys.argv[2]))
torch.zeros(1, device="cuda")
first = time.time()
free, total = torch.cuda.mem_get_info()
out = {"first_cuda": first, "free_at_first": free, "total": total}
try:
    x = torch.empty(int(total * 0.9), dtype=torch.uint8, device="cuda")
    out["immediate_alloc"] = "ok"
except torch.OutOfMemoryError:
    out["immediate_alloc"] = "out of memory"
    time.sleep(1.0)
    x = torch.empty(int(total * 0.9), dtype=torch.uint8, device="cuda")
out["allocated"] = x.numel()
out["alloc_done"] = time.time()
json.dump(out, open(sys.argv[1], "w"))
time.sleep(float(sys.argv[3]))
"""


def uuid_core(u):
    """'GPU-xxxxxxxx-…' and torch's 'xxxxxxxx-…' compare equal."""
    u = u.lower()
    return u[4:] if u.startswith("gpu-") else u


def start_waiter(binary, lock_dir, args, env=None):
    e = dict(os.environ, GPU_WAITER_LOCK_DIR=lock_dir)
    e.pop("CUDA_VISIBLE_DEVICES", None)
    if env:
        e.update(env)
    return subprocess.Popen([binary, *args], env=e, stderr=subprocess.PIPE, text=True)


def holder_pid(waiter_pid):
    for pid in children_of(waiter_pid):
        try:
            if b"--internal-holder" in open(f"/proc/{pid}/cmdline", "rb").read():
                return pid
        except OSError:
            pass
    return None


@requires_gpus(2)
def test_runs_at_once_on_the_gpu_nobody_uses(binary, torch_ok, lock_dir, tmp_path, cleanup, report):
    busy, free = gpus()[0], gpus()[1]
    cleanup.append(occupier(busy))
    out = tmp_path / "devices.json"
    t0 = time.time()
    w = start_waiter(binary, lock_dir, ["-n", "1", sys.executable, "-c", REPORT_DEVICES, str(out)])
    cleanup.append(w)
    assert w.wait(timeout=120) == 0, w.stderr.read()
    seen = json.loads(out.read_text())
    assert seen["count"] == 1
    assert uuid_core(seen["uuids"][0]) == uuid_core(free.uuid)
    assert seen["env_uuids"] == free.uuid
    assert seen["cvd"] == str(cuda_ordinal(free))
    report.record("launch_free_gpu_s", round(seen["start"] - t0, 4))


@requires_gpus(2)
def test_waits_for_two_and_starts_within_a_second(binary, torch_ok, lock_dir, tmp_path, cleanup,
                                                  report):
    busy = gpus()[0]
    occ = occupier(busy)
    cleanup.append(occ)
    out = tmp_path / "devices.json"
    w = start_waiter(binary, lock_dir, ["-n", "2", sys.executable, "-c", REPORT_DEVICES, str(out)])
    cleanup.append(w)
    time.sleep(3)
    assert w.poll() is None and not out.exists(), "started while a GPU was busy"
    occ.kill()
    occ.wait()
    freed = time.time()
    assert w.wait(timeout=120) == 0, w.stderr.read()
    seen = json.loads(out.read_text())
    reaction = seen["start"] - freed
    report.record("reaction_two_gpus_s", round(reaction, 4))
    assert seen["count"] == 2
    assert sorted(map(uuid_core, seen["uuids"])) == sorted(uuid_core(g.uuid) for g in gpus()[:2])
    assert reaction < 1.0


@requires_gpu
def test_hold_appears_then_gives_way_to_the_command(binary, torch_ok, lock_dir, tmp_path, cleanup,
                                                   report):
    gpu = gpus()[-1]
    free_before = gpu.memory().free
    out = tmp_path / "use.json"
    t0 = time.time()
    w = start_waiter(binary, lock_dir, ["-g", str(gpu.index), sys.executable, "-c",
                                        USE_MOST_MEMORY, str(out), "4", "1"])
    cleanup.append(w)
    holder, _ = wait_for(lambda: holder_pid(w.pid), 10)
    assert holder, "no holder process"
    # The holder shows up with its context first, then with the held memory.
    held, waited = wait_for(lambda: (gpu.processes().get(holder) or 0) > 0.2 * free_before and
                            gpu.processes().get(holder), 10)
    hold_seen = time.time()
    assert held, "the hold never appeared in NVML"
    report.record("hold_visible_after_start_s", round(hold_seen - t0, 4))
    report.record("hold_bytes_over_free", round(held / free_before, 4))
    assert 0.2 < held / free_before < 0.35
    gone, _ = wait_for(lambda: holder not in gpu.processes(), 30, step=0.005)
    released = time.time()
    assert gone, "the hold was never released"
    assert w.wait(timeout=60) == 0, w.stderr.read()
    used = json.loads(out.read_text())
    report.record("hold_release_after_first_cuda_s", round(released - used["first_cuda"], 4))
    report.record("immediate_90pct_alloc", used["immediate_alloc"])
    assert released - used["first_cuda"] < 1.0
    assert used["allocated"] >= int(used["total"] * 0.9) - 1


@requires_gpu
def test_kill_9_frees_the_hold(binary, lock_dir, cleanup, report):
    gpu = gpus()[-1]
    w = start_waiter(binary, lock_dir, ["-g", str(gpu.index), "sleep", "60"])
    cleanup.append(w)
    holder, _ = wait_for(lambda: holder_pid(w.pid), 10)
    assert holder
    held, _ = wait_for(lambda: gpu.processes().get(holder), 10)
    assert held, "the hold never appeared"
    orphans = children_of(w.pid)
    os.kill(w.pid, signal.SIGKILL)
    w.wait()
    killed = time.time()
    gone, _ = wait_for(lambda: holder not in gpu.processes(), 5, step=0.005)
    freed = time.time() - killed
    for pid in orphans:  # the command itself outlives a kill -9 of gpu-waiter, like timeout(1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    report.record("hold_freed_after_kill9_s", round(freed, 4))
    assert gone and freed < 2.0


# The command for a kill -9 of its gpu-waiter: imports torch, sleeps before its first CUDA call
# (only gpu-waiter's lock protects the GPU meanwhile), then uses the GPU and says so.
LATE_FIRST_USE = r"""
import json, sys, time
import torch
time.sleep(float(sys.argv[2]))
x = torch.ones(1 << 20, device="cuda")
json.dump({"sum": float(x.sum().item()), "done": time.time()}, open(sys.argv[1], "w"))
"""


@requires_gpu
def test_kill_9_keeps_the_gpu_locked_for_the_running_command(binary, torch_ok, lock_dir, tmp_path,
                                                             cleanup, report):
    gpu = gpus()[-1]
    out = tmp_path / "late.json"
    w = start_waiter(binary, lock_dir, ["-g", str(gpu.index), sys.executable, "-c",
                                        LATE_FIRST_USE, str(out), "8"])
    cleanup.append(w)
    holder, _ = wait_for(lambda: holder_pid(w.pid), 10)
    assert holder
    held, _ = wait_for(lambda: gpu.processes().get(holder), 10)
    assert held, "the hold never appeared"
    command = [p for p in children_of(w.pid) if p != holder]
    os.kill(w.pid, signal.SIGKILL)
    w.wait()
    gone, _ = wait_for(lambda: holder not in gpu.processes(), 5, step=0.005)
    assert gone, "the hold outlived its gpu-waiter"
    # The GPU looks free to the driver now (the command has not touched it yet), but its lock
    # lives on in the command: a second gpu-waiter must wait, here until its --timeout.
    second = start_waiter(binary, lock_dir, ["-g", str(gpu.index), "--timeout", "1s", "true"])
    cleanup.append(second)
    assert second.wait(timeout=60) == 124, second.stderr.read()
    assert all(os.path.exists(f"/proc/{p}") for p in command), "the command died with gpu-waiter"
    done, _ = wait_for(out.exists, 60)
    assert done and json.loads(out.read_text())["sum"] == float(1 << 20)
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in command), 30)
    third = start_waiter(binary, lock_dir, ["-g", str(gpu.index), "--timeout", "30s", "true"])
    cleanup.append(third)
    assert third.wait(timeout=60) == 0, third.stderr.read()
    report.record("kill9_second_waiter_refused", True)


@requires_gpus(2)
def test_holds_two_gpus_at_once(binary, lock_dir, cleanup, report):
    pair = gpus()[:2]
    w = start_waiter(binary, lock_dir, ["-n", "2", "-g", f"{pair[0].index},{pair[1].index}",
                                        "sleep", "8"])
    cleanup.append(w)
    holder, _ = wait_for(lambda: holder_pid(w.pid), 10)
    assert holder
    both, waited = wait_for(lambda: all(holder in g.processes() for g in pair), 10)
    report.record("hold_two_gpus_visible_s", round(waited, 4))
    assert both
    assert w.wait(timeout=60) == 0
    gone, _ = wait_for(lambda: all(holder not in g.processes() for g in pair), 5)
    assert gone


# The command for the queue test: records when it started and ended, using its GPU in between.
RECORD_RUN = r"""
import os, sys, time
start = time.time()
import torch
x = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
torch.cuda.synchronize()
time.sleep(1.0)
with open(sys.argv[1], "a") as f:
    f.write(f"{sys.argv[2]} {start} {time.time()} {os.environ['GPU_WAITER_UUIDS']}\n")
"""


@requires_gpu
def test_waiters_take_one_gpu_in_turn(binary, torch_ok, lock_dir, tmp_path, cleanup, report):
    gpu = gpus()[-1]
    out = tmp_path / "runs.txt"
    waiters = []
    for i in range(3):
        waiters.append(start_waiter(binary, lock_dir, ["-g", str(gpu.index), sys.executable, "-c",
                                                       RECORD_RUN, str(out), str(i)]))
        cleanup.append(waiters[-1])
        time.sleep(0.3)
    for w in waiters:
        assert w.wait(timeout=120) == 0, w.stderr.read()
    runs = [line.split() for line in out.read_text().splitlines()]
    assert [r[0] for r in runs] == ["0", "1", "2"], "not served in the order they started"
    assert all(r[3] == gpu.uuid for r in runs)
    spans = [(float(r[1]), float(r[2])) for r in runs]
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    assert all(g > 0 for g in gaps), f"two commands overlapped on {gpu.uuid}: {spans}"
    # From one PyTorch command's last line to the next one's first: its CUDA teardown at exit,
    # then gpu-waiter's hand-over, then a Python start.
    report.record("queue_gap_between_pytorch_jobs_s", [round(g, 4) for g in gaps])
