#!/usr/bin/env python3
"""gpu-waiter's benchmarks, next to what users run today, in one run.

    bench/bench.py [--mode auto|real|fake] [--size small|full] [--out DIR]

On a machine with NVIDIA GPUs (nvidia-ml-py and PyTorch installed) it measures real GPUs and the
two baselines (a shell loop over nvidia-smi and a Python loop over pynvml, both at 1 Hz); elsewhere
it runs against the fake driver (tests/fake_driver), where the baselines do not apply. Writes
results.json (raw samples), results.md (tables) and reaction.png (when matplotlib is present)."""
import argparse
import json
import os
import pathlib
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import machines
import report

HERE = pathlib.Path(__file__).resolve().parent
STAMP = 'echo $EPOCHREALTIME > "$0"'  # bash: the moment the command runs, to the microsecond


def read_stamp(path, timeout=60):
    got = machines.wait_for(lambda: path.exists() and path.read_text().strip(), timeout, 0.005)
    return float(got.replace(",", ".")) if got else None


class Bench:
    def __init__(self, args, gpus, work):
        self.args, self.gpus, self.work = args, gpus, pathlib.Path(work)
        self.binary = args.binary
        self.results = {"machine": gpus.describe(), "mode": gpus.kind, "size": args.size,
                        "measures": {}}
        self.counter = 0

    def path(self, name):
        self.counter += 1
        return self.work / f"{name}-{self.counter}"

    def env(self, lock_dir=None):
        e = self.gpus.env()
        e["GPU_WAITER_LOCK_DIR"] = str(lock_dir or self.work / "locks")
        return e

    def waiter(self, args, lock_dir=None, **kw):
        return subprocess.Popen([self.binary, "-q", *args], env=self.env(lock_dir),
                                stdin=subprocess.DEVNULL, **kw)

    def record(self, name, samples, unit, note=""):
        self.results["measures"][name] = {"samples": samples, "unit": unit, "note": note}
        print(f"{name}: {report.summary(samples)} {unit}", file=sys.stderr, flush=True)

    # 1 and 2: CPU and memory while waiting, every GPU busy. gpu-waiter and the baselines wait
    # side by side, on the same busy GPUs, in the same minutes.
    def waiting_cost(self):
        n, seconds = self.gpus.count, self.args.wait_seconds
        for i in range(n):
            self.gpus.occupy(i)
        contestants = {"gpu-waiter": (lambda: self.waiter(["-n", "1", "true"]), False)}
        if self.gpus.kind == "real":
            contestants["nvidia-smi loop"] = (lambda: subprocess.Popen(
                [str(HERE / "baseline_nvidia_smi.sh"), "all", "true"], env=self.gpus.env()), True)
            contestants["pynvml loop"] = (lambda: subprocess.Popen(
                [sys.executable, str(HERE / "baseline_pynvml.py"), "1",
                 ",".join(map(str, range(n))), "true"], env=self.gpus.env()), False)
        cpu = {name: [] for name in contestants}
        rss = {name: [] for name in contestants}
        anon = []
        try:
            for _ in range(self.args.trials_wait):
                procs = {name: start() for name, (start, _) in contestants.items()}
                time.sleep(1.5)  # start-up (loading NVML, importing pynvml) is not waiting
                used = {name: self.cpu_of(procs[name], contestants[name][1]) for name in procs}
                time.sleep(seconds)
                for name, p in procs.items():
                    spent = self.cpu_of(p, contestants[name][1]) - used[name]
                    cpu[name].append(spent / seconds * 3600 / n)
                    rss[name].append(machines.rss_kib(p.pid, "VmRSS") / 1024)
                    if name == "gpu-waiter":
                        anon.append(machines.rss_kib(p.pid, "RssAnon") / 1024)
                    p.kill()
                    p.wait()
        finally:
            for i in range(n):
                self.gpus.free(i)
        for name in contestants:
            self.record(f"{name} CPU while waiting", cpu[name], "CPU s per hour per GPU",
                        "children (nvidia-smi) included" if contestants[name][1] else "")
            self.record(f"{name} RSS while waiting", rss[name], "MiB",
                        "the loop's shell only; each nvidia-smi run adds its own"
                        if contestants[name][1] else "")
        self.record("gpu-waiter RSS while waiting, private part", anon, "MiB",
                    "RssAnon: heap and stacks; the rest is shared library pages")

    @staticmethod
    def cpu_of(proc, with_children):
        if with_children:  # the shell reaps each nvidia-smi, whose time lands in cutime/cstime
            return machines.cpu_seconds(proc.pid, children=True)
        return machines.run_time_seconds(proc.pid)

    # 3: reaction latency: the last foreign process on the GPU exits -> the command runs.
    def reaction(self):
        runners = {"gpu-waiter": lambda out: self.waiter(["-g", "0", "bash", "-c", STAMP, str(out)])}
        if self.gpus.kind == "real":
            runners["nvidia-smi loop"] = lambda out: subprocess.Popen(
                [str(HERE / "baseline_nvidia_smi.sh"), "0", "bash", "-c", STAMP, str(out)],
                env=self.gpus.env())
            runners["pynvml loop"] = lambda out: subprocess.Popen(
                [sys.executable, str(HERE / "baseline_pynvml.py"), "1", "0", "bash", "-c", STAMP,
                 str(out)], env=self.gpus.env())
        self.time_reactions(runners, self.gpus.occupy, self.gpus.free, "")

    def time_reactions(self, runners, occupy, free, label):
        """Per runner: GPU 0 busy, the runner started, after a random 1-2 s (a random phase
        against the poll) GPU 0 freed; milliseconds until the runner's command wrote its stamp."""
        for name, start in runners.items():
            samples = []
            for _ in range(self.args.trials):
                occupy(0)
                out = self.path("reaction")
                p = start(out)
                time.sleep(1.0 + random.random())
                free(0)
                freed = time.time()
                stamp = read_stamp(out)
                p.wait()
                samples.append((stamp - freed) * 1000)
            self.record(f"{name} reaction{label}", samples, "ms")

    # 3b: the same with an occupier gpu-waiter cannot see (its exit is no event: polled).
    def reaction_hidden(self):
        prefix = self.gpus.hidden_runner()
        if prefix and subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
            print("reaction, hidden occupier: skipped (no PID namespace here)", file=sys.stderr)
            return
        runners = {"gpu-waiter": lambda out: subprocess.Popen(
            [*prefix, self.binary, "-q", "-g", "0", "bash", "-c", STAMP, str(out)],
            env=self.env(), stdin=subprocess.DEVNULL)}
        if self.gpus.kind == "real":
            runners["nvidia-smi loop"] = lambda out: subprocess.Popen(
                [*prefix, str(HERE / "baseline_nvidia_smi.sh"), "0", "bash", "-c", STAMP,
                 str(out)], env=self.gpus.env())
            runners["pynvml loop"] = lambda out: subprocess.Popen(
                [*prefix, sys.executable, str(HERE / "baseline_pynvml.py"), "1", "0", "bash",
                 "-c", STAMP, str(out)], env=self.gpus.env())
        self.time_reactions(runners, self.gpus.occupy_hidden, self.gpus.free_hidden,
                            ", hidden occupier")

    # 4: launch latency with free GPUs, and the time until the hold is in place.
    def launch(self):
        launch, hold = [], []
        for _ in range(self.args.trials):
            out = self.path("launch")
            free = self.gpus.free_memory(0)
            start = time.time()
            w = self.waiter(["-g", "0", "bash", "-c", STAMP + "; sleep 2", str(out)])
            holder = machines.wait_for(lambda: next(
                (c for c in machines.children_of(w.pid) if self.is_holder(c)), None), 10, 0.001)
            held = holder and machines.wait_for(
                lambda: (self.gpus.holder_memory(0, holder) or 0) > 0.2 * free and time.time(),
                10, 0.001)
            launch.append((read_stamp(out) - start) * 1000)
            if held:
                hold.append((held - start) * 1000)
            w.wait()
        self.record("launch latency (free GPU)", launch, "ms", "gpu-waiter starts -> command runs")
        self.record("hold in place after start", hold, "ms", "gpu-waiter starts -> hold visible in NVML")

    @staticmethod
    def is_holder(pid):
        try:
            return b"--internal-holder" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    # 5: hand-over between two gpu-waiter jobs on one GPU. Either A's command used its GPU (its
    # hold gave way long before it ended), or it never touched it (the hold lasts to the end and
    # the holder's CUDA context must be torn down before B may have the GPU).
    def handover(self):
        variants = {"hand-over between jobs (A used its GPU)": self.cuda_command,
                    "hand-over between jobs (A never used its GPU)": None}
        for name, use in variants.items():
            samples = []
            for _ in range(self.args.trials):
                a_end, b_start = self.path("a-end"), self.path("b-start")
                work = " ".join(f"'{w}'" for w in use(self.path("a-first"), delay=0)) if use else "sleep 1"
                a = self.waiter(["-g", "0", "bash", "-c", f"{work}; {STAMP}", str(a_end)])
                time.sleep(0.5)
                b = self.waiter(["-g", "0", "bash", "-c", STAMP, str(b_start)])
                t_b, t_a = read_stamp(b_start), read_stamp(a_end)
                a.wait()
                b.wait()
                samples.append((t_b - t_a) * 1000)
            self.record(name, samples, "ms", "command A's last instruction -> command B runs")

    # 6: hold release: the command's first CUDA context -> the hold is gone.
    def hold_release(self):
        samples, rss = [], []
        for _ in range(self.args.trials):
            out = self.path("first-cuda")
            w = self.waiter(["-g", "0", *self.cuda_command(out)])
            holder = machines.wait_for(lambda: next(
                (c for c in machines.children_of(w.pid) if self.is_holder(c)), None), 10, 0.001)
            machines.wait_for(lambda: self.gpus.holder_memory(0, holder), 10, 0.001)
            try:
                rss.append(machines.rss_kib(holder, "VmRSS") / 1024)
            except (OSError, TypeError):
                pass
            gone = machines.wait_for(lambda: self.gpus.holder_memory(0, holder) is None and
                                     time.time(), 30, 0.001)
            first = read_stamp(out)
            w.wait()
            samples.append((gone - first) * 1000)
        self.record("hold release after first CUDA call", samples, "ms",
                    "negative: released while the command's context was still being made")
        self.record("holder RSS while holding", rss, "MiB")

    def cuda_command(self, out, delay=1):
        """A command that makes its first CUDA call after `delay` s and writes when to `out`."""
        if self.gpus.kind == "real":
            return [sys.executable, str(HERE / "cuda_user.py"), "first", str(out), str(delay)]
        probe = os.environ["FAKE_CUDA_PROBE"]
        return ["bash", "-c", f'"{probe}" use 0 --delay {delay} --sleep 1 | (read line; {STAMP})',
                str(out)]

    # 6b: many waiters blocked on busy GPUs (a sweep started with a for loop): their total CPU and
    # proportional memory (shared pages counted once in all).
    def many_waiters(self):
        for i in range(self.gpus.count):
            self.gpus.occupy(i)
        try:
            for n in self.args.crowds:
                procs = [self.waiter(["-n", "1", "true"]) for _ in range(n)]
                time.sleep(2.0 + n * 0.05)  # start-up and queueing are not waiting
                used = sum(machines.run_time_seconds(p.pid) for p in procs)
                time.sleep(self.args.wait_seconds)
                spent = sum(machines.run_time_seconds(p.pid) for p in procs) - used
                pss = sum(machines.pss_kib(p.pid) or 0 for p in procs) / 1024
                for p in procs:
                    p.kill()
                    p.wait()
                self.record(f"{n} waiters blocked: CPU", [spent / self.args.wait_seconds * 100],
                            "% of a core", "all waiters together")
                self.record(f"{n} waiters blocked: PSS", [pss], "MiB", "all waiters together")
        finally:
            for i in range(self.gpus.count):
                self.gpus.free(i)

    # 7: many waiters at once on every GPU: total CPU, and no GPU given twice.
    def scale(self):
        n, record = self.args.waiters, self.path("scale")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        cmd = 's=$EPOCHREALTIME; sleep 0.05; echo "$s $EPOCHREALTIME $GPU_WAITER_UUIDS" >> "$0"'
        procs = [self.waiter(["-n", str(random.choice([1, 1, 1, 2]) if self.gpus.count > 1 else 1),
                              "bash", "-c", cmd, str(record)]) for _ in range(n)]
        codes = [p.wait() for p in procs]
        wall = time.time() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        lines = [l.split() for l in record.read_text().splitlines()]
        overlaps = report.overlaps([(float(a.replace(",", ".")), float(b.replace(",", ".")),
                                     u.split(",")) for a, b, u in lines])
        self.results["scale"] = {"waiters": n, "gpus": self.gpus.count, "wall_s": wall,
                                 "cpu_s": cpu, "failed": sum(c != 0 for c in codes),
                                 "commands": len(lines), "double_booked": overlaps}
        print(f"scale: {self.results['scale']}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mode", choices=["auto", "real", "fake"], default="auto")
    ap.add_argument("--size", choices=["small", "full"], default="full")
    ap.add_argument("--binary", default=os.environ.get("GPU_WAITER_BINARY",
                                                       str(machines.ROOT / "build/src/gpu-waiter")))
    ap.add_argument("--out", default=str(machines.ROOT / "build" / "bench"))
    ap.add_argument("--steps", default="",
                    help="comma-separated steps to run (default: all), e.g. reaction,launch")
    ap.add_argument("--trials", type=int, default=0,
                    help="trials per latency measure (default: 3 small, 10 full); more narrow a "
                         "polled median, whose spread is about poll/(2*sqrt(trials))")
    args = ap.parse_args()
    small = args.size == "small"
    args.trials = args.trials or (3 if small else 10)
    args.trials_wait = 2 if small else 3
    args.wait_seconds = 3 if small else 30
    args.waiters = 20 if small else 100
    args.crowds = [1, 10] if small else [1, 40, 100]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        gpus = machines.open_gpus(args.mode, work, 4 if small else 8)
        bench = Bench(args, gpus, work)
        try:
            steps = (bench.waiting_cost, bench.reaction, bench.reaction_hidden, bench.launch,
                     bench.handover, bench.hold_release, bench.many_waiters, bench.scale)
            wanted = set(filter(None, args.steps.split(",")))
            for step in steps:
                if not wanted or step.__name__ in wanted:
                    step()
        finally:
            gpus.close()
    (out / "results.json").write_text(json.dumps(bench.results, indent=2))
    (out / "results.md").write_text(report.markdown(bench.results))
    report.plot(bench.results, out / "reaction.png")
    scale = bench.results.get("scale")
    ok = scale is None or (scale["failed"] == 0 and not scale["double_booked"]
                           and scale["commands"] == args.waiters)
    print(f"wrote {out}/results.json and results.md; scale check {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
