"""The GPUs a benchmark runs on: real NVIDIA GPUs (NVML through nvidia-ml-py, occupied by PyTorch
processes), or the fake driver of tests/fake_driver (occupied by editing its state file)."""
import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


class FakeGpus:
    kind = "fake"

    def __init__(self, workdir, count):
        import fakegpu
        self.machine = fakegpu.FakeMachine.standard(pathlib.Path(workdir), count=count)
        self.count = count
        self.occupiers = {}  # GPU -> a live process listed on it, gone from the list when it dies

    def describe(self):
        return f"fake driver, {self.count} GPUs (no NVIDIA hardware)"

    def env(self):
        return self.machine.env()

    def uuid(self, i):
        return self.machine.uuid(i)

    def occupy(self, i):
        p = subprocess.Popen(["sleep", "100000"])
        self.occupiers[i] = p
        self.machine.add_process(i, p.pid, used_memory=1 << 30, cuda=True)

    def free(self, i):
        p = self.occupiers.pop(i)
        p.kill()
        p.wait()

    def occupy_hidden(self, i):
        """Memory in use by a process the driver does not show (another container's)."""
        self.machine.set(i, memory_used=1 << 30)

    def free_hidden(self, i):
        self.machine.set(i, memory_used=0)

    def hidden_runner(self):
        return []  # the hidden occupier is made in the driver's state

    def holder_memory(self, i, pid):
        """Memory the process `pid` uses on GPU i, or None when it is not there."""
        for p in self.machine.processes(i):
            if p["pid"] == pid:
                return p.get("used_memory") or 0
        return None

    def free_memory(self, i):
        return self.machine.memory_free(i)

    def close(self):
        for i in list(self.occupiers):
            self.free(i)


class RealGpus:
    kind = "real"

    def __init__(self, count=None):
        import pynvml
        pynvml.nvmlInit()
        self.nvml = pynvml
        self.count = count or pynvml.nvmlDeviceGetCount()
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(self.count)]
        self.occupiers = {}

    def describe(self):
        name = self.nvml.nvmlDeviceGetName(self.handles[0])
        name = name.decode() if isinstance(name, bytes) else name
        driver = self.nvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else driver
        return f"{self.count}x {name}, driver {driver}"

    def env(self):
        e = dict(os.environ)
        e.pop("CUDA_VISIBLE_DEVICES", None)
        return e

    def uuid(self, i):
        u = self.nvml.nvmlDeviceGetUUID(self.handles[i])
        return u.decode() if isinstance(u, bytes) else u

    def occupy(self, i):
        env = dict(self.env(), CUDA_DEVICE_ORDER="PCI_BUS_ID", CUDA_VISIBLE_DEVICES=self.uuid(i))
        p = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).parent / "cuda_user.py"),
                              "occupy"], env=env, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        self.occupiers[i] = p

    def free(self, i):
        p = self.occupiers.pop(i)
        p.send_signal(signal.SIGKILL)
        p.wait()

    # A hidden occupier: the waiter runs in a PID namespace of its own, where the occupier (in
    # ours) is not visible, so only its memory shows (as with another container's process).
    def occupy_hidden(self, i):
        self.occupy(i)

    def free_hidden(self, i):
        self.free(i)

    def hidden_runner(self):
        return ["unshare", "--pid", "--fork", "--mount-proc"]

    def holder_memory(self, i, pid):
        for p in self.nvml.nvmlDeviceGetComputeRunningProcesses(self.handles[i]):
            if p.pid == pid:
                return p.usedGpuMemory or 0
        return None

    def free_memory(self, i):
        return self.nvml.nvmlDeviceGetMemoryInfo(self.handles[i]).free

    def close(self):
        for i in list(self.occupiers):
            self.free(i)


def open_gpus(mode, workdir, fake_count):
    if mode == "real" or (mode == "auto" and have_real_gpus()):
        return RealGpus()
    return FakeGpus(workdir, fake_count)


def have_real_gpus():
    try:
        import pynvml
        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetCount() > 0
    except Exception:  # no nvidia-ml-py, no driver or no GPU
        return False


def cpu_seconds(pid, children=False):
    """utime+stime of a live process from /proc (and its reaped children's, if asked)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_time_seconds(pid):
    """Time on CPU from /proc/PID/schedstat (nanoseconds): finer than utime/stime's ticks, which
    a process polling a few times a second barely reaches in a minute."""
    try:
        return int(pathlib.Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return cpu_seconds(pid)


def pss_kib(pid):
    """Proportional set size: shared pages split among the processes that map them."""
    for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def rss_kib(pid, field="VmRSS"):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def children_of(pid):
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def wait_for(condition, timeout, step=0.002):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None
