"""Fixtures for the real-GPU tests: they need NVIDIA GPUs, PyTorch and nvidia-ml-py, and skip
cleanly where any is missing. Measurements go to the JSON file named by GPU_TEST_REPORT."""
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _nvml():
    try:
        import pynvml  # nvidia-ml-py
        pynvml.nvmlInit()
        return pynvml
    except Exception:  # no library, no driver, no GPU: the tests skip
        return None


NVML = _nvml()


def gpu_count():
    return NVML.nvmlDeviceGetCount() if NVML else 0


def have_torch():
    return subprocess.run(["python3", "-c", "import torch; assert torch.cuda.is_available()"],
                          capture_output=True).returncode == 0


requires_gpu = pytest.mark.skipif(NVML is None or gpu_count() == 0, reason="no NVIDIA GPU here")


def requires_gpus(n):
    return pytest.mark.skipif(gpu_count() < n, reason=f"needs {n} NVIDIA GPUs")


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("GPU_WAITER_BINARY") or str(ROOT / "build" / "src" / "gpu-waiter")
    if not os.access(path, os.X_OK):
        pytest.skip(f"no gpu-waiter binary at {path}")
    return path


@pytest.fixture(scope="session")
def torch_ok():
    if not have_torch():
        pytest.skip("PyTorch with CUDA is not available")


class Report:
    """Collects the numbers the tests measure, for docs/real-gpu.md."""

    def __init__(self, path):
        self.path = path
        self.data = {}
        if path and os.path.exists(path):
            self.data = json.loads(pathlib.Path(path).read_text())

    def record(self, key, value):
        self.data[key] = value
        if self.path:
            pathlib.Path(self.path).write_text(json.dumps(self.data, indent=2, sort_keys=True))


@pytest.fixture(scope="session")
def report():
    return Report(os.environ.get("GPU_TEST_REPORT"))


@pytest.fixture
def lock_dir(tmp_path):
    d = tmp_path / "locks"
    return str(d)


class Gpu:
    """One GPU as NVML sees it."""

    def __init__(self, index):
        self.index = index
        self.handle = NVML.nvmlDeviceGetHandleByIndex(index)
        uuid = NVML.nvmlDeviceGetUUID(self.handle)
        self.uuid = uuid.decode() if isinstance(uuid, bytes) else uuid
        bus = NVML.nvmlDeviceGetPciInfo(self.handle).busId
        self.bus_id = bus.decode() if isinstance(bus, bytes) else bus

    def processes(self):
        procs = NVML.nvmlDeviceGetComputeRunningProcesses(self.handle)
        return {p.pid: p.usedGpuMemory for p in procs}

    def memory(self):
        return NVML.nvmlDeviceGetMemoryInfo(self.handle)


def gpus():
    return [Gpu(i) for i in range(gpu_count())]


def cuda_ordinal(gpu):
    """CUDA's number for the GPU under CUDA_DEVICE_ORDER=PCI_BUS_ID."""
    order = sorted(gpus(), key=lambda g: g.bus_id.lower())
    return [g.uuid for g in order].index(gpu.uuid)


def wait_for(condition, timeout, step=0.01):
    """Polls `condition` until it returns a truthy value; returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        value = condition()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None, time.monotonic() - start
        time.sleep(step)


def children_of(pid):
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


@pytest.fixture
def cleanup():
    procs = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def occupier(gpu, seconds=600):
    """A PyTorch process that takes a CUDA context and 1 GiB on `gpu`."""
    env = dict(os.environ, CUDA_DEVICE_ORDER="PCI_BUS_ID", CUDA_VISIBLE_DEVICES=gpu.uuid)
    code = ("import torch, time, sys; x = torch.empty(1 << 30, dtype=torch.uint8, device='cuda');"
            "torch.cuda.synchronize(); print('ready', flush=True); time.sleep(%d)" % seconds)
    p = subprocess.Popen(["python3", "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p
