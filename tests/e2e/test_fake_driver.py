"""Checks the fake NVIDIA driver itself, so e2e failures can be trusted to be gpu-waiter's."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import fakegpu
from fakegpu import GiB, MiB, FakeMachine

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_INSUFFICIENT_SIZE = 7
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25
NVML_ERROR_UNKNOWN = 999
NVML_MEMORY_V2 = 40 | (2 << 24)


class Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong),
                ("used", ctypes.c_ulonglong)]


class MemoryV2(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("total", ctypes.c_ulonglong),
                ("reserved", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong),
                ("used", ctypes.c_ulonglong)]


class ProcessInfo(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint), ("usedGpuMemory", ctypes.c_ulonglong),
                ("gpuInstanceId", ctypes.c_uint), ("computeInstanceId", ctypes.c_uint)]


class PciInfo(ctypes.Structure):
    _fields_ = [("busIdLegacy", ctypes.c_char * 16), ("domain", ctypes.c_uint),
                ("bus", ctypes.c_uint), ("device", ctypes.c_uint), ("pciDeviceId", ctypes.c_uint),
                ("pciSubSystemId", ctypes.c_uint), ("busId", ctypes.c_char * 32)]


assert ctypes.sizeof(MemoryV2) == 40 and ctypes.sizeof(ProcessInfo) == 24
assert ctypes.sizeof(PciInfo) == 68


class Nvml:
    """Thin ctypes access to the fake NVML; every call returns (code, value)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(fakegpu.nvml_library())
        self.lib.nvmlErrorString.restype = ctypes.c_char_p

    def handle(self, index: int) -> tuple[int, ctypes.c_void_p]:
        handle = ctypes.c_void_p()
        return self.lib.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)), handle

    def device(self, index: int) -> ctypes.c_void_p:
        rc, handle = self.handle(index)
        assert rc == NVML_SUCCESS
        return handle

    def memory_v2(self, index: int) -> tuple[int, MemoryV2]:
        memory = MemoryV2(version=NVML_MEMORY_V2)
        return self.lib.nvmlDeviceGetMemoryInfo_v2(self.device(index), ctypes.byref(memory)), memory

    def memory_v1(self, index: int) -> tuple[int, Memory]:
        memory = Memory()
        return self.lib.nvmlDeviceGetMemoryInfo(self.device(index), ctypes.byref(memory)), memory

    def processes(self, index: int, graphics: bool = False) -> list[tuple[int, int]]:
        call = (self.lib.nvmlDeviceGetGraphicsRunningProcesses_v3 if graphics
                else self.lib.nvmlDeviceGetComputeRunningProcesses_v3)
        count = ctypes.c_uint(0)
        rc = call(self.device(index), ctypes.byref(count), None)
        if rc == NVML_SUCCESS:
            return []
        assert rc == NVML_ERROR_INSUFFICIENT_SIZE
        infos = (ProcessInfo * count.value)()
        assert call(self.device(index), ctypes.byref(count), infos) == NVML_SUCCESS
        return [(p.pid, p.usedGpuMemory) for p in infos[:count.value]]

    def string(self, function: str, index: int, size: int = 96) -> tuple[int, str]:
        buffer = ctypes.create_string_buffer(size)
        rc = getattr(self.lib, function)(self.device(index), buffer, size)
        return rc, buffer.value.decode()


_NVML: Nvml | None = None


@pytest.fixture
def machine(tmp_path) -> FakeMachine:
    return FakeMachine.standard(tmp_path, count=4)


@pytest.fixture
def nvml(machine, monkeypatch):
    """The fake NVML in this process, initialised against `machine` (it re-reads on every call)."""
    global _NVML
    _NVML = _NVML or Nvml()
    monkeypatch.setenv("FAKE_NVIDIA_STATE", str(machine.state_path))
    assert _NVML.lib.nvmlInit_v2() == NVML_SUCCESS
    yield _NVML
    while _NVML.lib.nvmlShutdown() == NVML_SUCCESS:
        pass


def probe(machine: FakeMachine, *args: str, env: dict[str, str] | None = None,
          **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([fakegpu.probe_path(), *args], env=env or machine.env(**extra_env),
                          capture_output=True, text=True, timeout=30)


def listed(machine: FakeMachine, **extra_env: str) -> list[tuple[int, str, str]]:
    result = probe(machine, "list", **extra_env)
    assert result.returncode == 0, result.stderr
    return [(int(o), u, b) for o, u, b in (line.split() for line in result.stdout.splitlines())]


# -- NVML ------------------------------------------------------------------------------------


def test_memory_arithmetic(machine, nvml):
    machine.set(1, memory_used=GiB)
    machine.add_process(1, 4242, used_memory=2 * GiB)
    rc, memory = nvml.memory_v2(1)
    assert rc == NVML_SUCCESS
    assert (memory.total, memory.reserved, memory.used) == (80 * GiB, 512 * MiB, 3 * GiB)
    assert memory.free == 80 * GiB - 512 * MiB - 3 * GiB == machine.memory_free(1)
    assert memory.used == machine.memory_used(1)
    rc, v1 = nvml.memory_v1(1)
    assert rc == NVML_SUCCESS and v1.used == 3 * GiB + 512 * MiB and v1.free == memory.free
    machine.set(1, memory_used=100 * GiB)
    assert nvml.memory_v2(1)[1].free == 0


def test_memory_v2_checks_version(nvml):
    memory = MemoryV2(version=2)
    rc = nvml.lib.nvmlDeviceGetMemoryInfo_v2(nvml.device(0), ctypes.byref(memory))
    assert rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH


def test_process_list_count_protocol(machine, nvml):
    count = ctypes.c_uint(0)
    fn = nvml.lib.nvmlDeviceGetComputeRunningProcesses_v3
    assert fn(nvml.device(0), ctypes.byref(count), None) == NVML_SUCCESS and count.value == 0
    machine.add_process(0, 101, used_memory=GiB)
    machine.add_process(0, 102, used_memory=None)
    machine.add_process(0, 103, type="graphics")
    machine.add_process(0, 104, type="both")
    assert fn(nvml.device(0), ctypes.byref(count), None) == NVML_ERROR_INSUFFICIENT_SIZE
    assert count.value == 3
    small = (ProcessInfo * 1)()
    count.value = 1
    assert fn(nvml.device(0), ctypes.byref(count), small) == NVML_ERROR_INSUFFICIENT_SIZE
    assert count.value == 3
    full = (ProcessInfo * 5)()
    count.value = 5
    assert fn(nvml.device(0), ctypes.byref(count), full) == NVML_SUCCESS and count.value == 3
    assert [(p.pid, p.usedGpuMemory) for p in full[:3]] == [(101, GiB), (102, 2**64 - 1),
                                                            (104, GiB)]
    assert full[0].gpuInstanceId == 0xFFFFFFFF
    assert [pid for pid, _ in nvml.processes(0, graphics=True)] == [103, 104]
    machine.remove_process(0, 101)
    assert [pid for pid, _ in nvml.processes(0)] == [102, 104]


def test_devices_and_strings(machine, nvml):
    count = ctypes.c_uint()
    assert nvml.lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) == NVML_SUCCESS
    assert count.value == 4
    assert nvml.string("nvmlDeviceGetUUID", 2) == (NVML_SUCCESS, machine.uuid(2))
    assert nvml.string("nvmlDeviceGetName", 2) == (NVML_SUCCESS, "Fake H100")
    assert nvml.string("nvmlDeviceGetUUID", 2, size=10)[0] == NVML_ERROR_INSUFFICIENT_SIZE
    pci = PciInfo()
    assert nvml.lib.nvmlDeviceGetPciInfo_v3(nvml.device(0), ctypes.byref(pci)) == NVML_SUCCESS
    assert pci.busId.decode() == machine.bus_id(0) == "00000000:81:00.0"
    assert pci.busIdLegacy.decode() == "0000:81:00.0" and pci.bus == 0x81
    assert nvml.handle(4)[0] == NVML_ERROR_INVALID_ARGUMENT
    machine.set(3, no_permission=True)
    assert nvml.handle(3)[0] == NVML_ERROR_NO_PERMISSION
    version = ctypes.create_string_buffer(80)
    assert nvml.lib.nvmlSystemGetDriverVersion(version, 80) == NVML_SUCCESS
    assert version.value == b"580.00.00"
    name = ctypes.create_string_buffer(64)
    assert nvml.lib.nvmlSystemGetProcessName(os.getpid(), name, 64) == NVML_SUCCESS
    assert name.value.decode() == open(f"/proc/{os.getpid()}/comm").read().strip()


def test_lost_gpu(machine, nvml):
    machine.set(1, lost=True)
    rc, handle = nvml.handle(1)
    assert rc == NVML_SUCCESS
    assert nvml.memory_v2(1)[0] == NVML_ERROR_GPU_IS_LOST
    assert nvml.string("nvmlDeviceGetUUID", 1)[0] == NVML_ERROR_GPU_IS_LOST
    count = ctypes.c_uint(0)
    rc = nvml.lib.nvmlDeviceGetComputeRunningProcesses_v3(handle, ctypes.byref(count), None)
    assert rc == NVML_ERROR_GPU_IS_LOST
    assert nvml.memory_v2(0)[0] == NVML_SUCCESS


def test_init_errors_and_uninitialized(machine, nvml, monkeypatch, capfd):
    assert nvml.lib.nvmlShutdown() == NVML_SUCCESS
    assert nvml.lib.nvmlDeviceGetCount_v2(ctypes.byref(ctypes.c_uint())) == NVML_ERROR_UNINITIALIZED
    machine.set_global(init_error=9)
    assert nvml.lib.nvmlInit_v2() == 9
    assert nvml.lib.nvmlErrorString(9) == b"Driver Not Loaded"
    monkeypatch.setenv("FAKE_NVIDIA_STATE", str(machine.state_path) + ".missing")
    assert nvml.lib.nvmlInit_v2() == NVML_ERROR_UNKNOWN
    assert "fake-nvml:" in capfd.readouterr().err
    machine.state_path.with_name("bad.json").write_text("{not json")
    monkeypatch.setenv("FAKE_NVIDIA_STATE", str(machine.state_path.with_name("bad.json")))
    assert nvml.lib.nvmlInit() == NVML_ERROR_UNKNOWN


def test_error_strings(nvml):
    assert nvml.lib.nvmlErrorString(NVML_ERROR_GPU_IS_LOST) == b"GPU is lost"
    assert nvml.lib.nvmlErrorString(25) == b"Argument version mismatch"
    assert nvml.lib.nvmlErrorString(12345) == b"Unknown Error"


def test_call_log(nvml, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_NVML_CALL_LOG", str(log))
    nvml.memory_v2(0)
    assert log.read_text().splitlines() == ["nvmlDeviceGetHandleByIndex_v2",
                                            "nvmlDeviceGetMemoryInfo_v2"]


def test_missing_symbols_force_fallbacks():
    nvml = ctypes.CDLL(fakegpu.nvml_library())
    cuda = ctypes.CDLL(fakegpu.cuda_library())
    assert not hasattr(nvml, "nvmlDeviceGetRunningProcessDetailList")
    for legacy in ("cuMemAlloc", "cuMemFree", "cuMemGetInfo", "cuDevicePrimaryCtxRelease"):
        assert not hasattr(cuda, legacy)
    assert hasattr(cuda, "cuMemAlloc_v2")


# -- CUDA enumeration --------------------------------------------------------------------------


def test_cuda_order_pci_bus_id(machine):
    devices = listed(machine, CUDA_DEVICE_ORDER="PCI_BUS_ID")
    assert [b for _, _, b in devices] == ["0000:01:00.0", "0000:41:00.0", "0000:81:00.0",
                                          "0000:C1:00.0"]
    for i in range(4):
        assert devices[machine.cuda_ordinal(i)][1] == machine.uuid(i)


@pytest.mark.parametrize("order", [None, "FASTEST_FIRST", "bogus"])
def test_cuda_default_order_is_reversed_pci(machine, order):
    extra = {"CUDA_DEVICE_ORDER": order} if order else {}
    assert [b for _, _, b in listed(machine, **extra)] == ["0000:C1:00.0", "0000:81:00.0",
                                                           "0000:41:00.0", "0000:01:00.0"]


def test_standard_order_is_neither_pci_nor_reversed(tmp_path):
    machine = FakeMachine.standard(tmp_path, count=3)
    keys = [fakegpu.pci_key(machine.bus_id(i)) for i in range(3)]
    assert keys not in (sorted(keys), sorted(keys, reverse=True))
    assert len({machine.uuid(i)[4:12] for i in range(3)}) == 3


@pytest.mark.parametrize("visible, expected_nvml", [
    ("2,0", [0, 3]),          # ordinals under PCI_BUS_ID: bus 81 -> NVML 0, bus 01 -> NVML 3
    ("0,7,1", [3]),           # stops at the unknown ordinal
    ("1,MIG-abc,0", [1]),     # MIG entries are not understood: stop
    ("1,1,2", [1]),           # a repeat stops parsing too
    ("x,0", []),
    ("", []),
])
def test_cuda_visible_devices_ordinals(machine, visible, expected_nvml):
    devices = listed(machine, CUDA_DEVICE_ORDER="PCI_BUS_ID", CUDA_VISIBLE_DEVICES=visible)
    assert [u for _, u, _ in devices] == [machine.uuid(i) for i in expected_nvml]


def test_cuda_visible_devices_uuids(machine):
    prefix = machine.uuid(2)[:9].upper().replace("GPU", "gpu")
    visible = f"{machine.uuid(1)},{prefix},GPU-,{machine.uuid(0)}"
    devices = listed(machine, CUDA_VISIBLE_DEVICES=visible)
    assert [u for _, u, _ in devices] == [machine.uuid(1), machine.uuid(2)]


def test_cuda_init_error(machine):
    machine.set_global(cuda_init_error=100)
    result = probe(machine, "list")
    assert result.returncode == 4 and "CUDA_ERROR_NO_DEVICE" in result.stderr


def test_probe_needs_library(machine):
    env = machine.env()
    del env["GPU_WAITER_CUDA_LIBRARY"]
    assert probe(machine, "list", env=env).returncode == 3


# -- CUDA contexts and memory, seen through NVML ----------------------------------------------------


def spawn_user(machine: FakeMachine, ordinals: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([fakegpu.probe_path(), "use", ordinals, *args],
                            env=machine.env(CUDA_DEVICE_ORDER="PCI_BUS_ID"),
                            stdout=subprocess.PIPE, text=True)


def wait_until_using(process: subprocess.Popen, ordinals: str) -> None:
    for _ in ordinals.split(","):
        assert process.stdout.readline().startswith("using GPU-")


def start_user(machine: FakeMachine, ordinals: str, *args: str) -> subprocess.Popen:
    process = spawn_user(machine, ordinals, *args)
    wait_until_using(process, ordinals)
    return process


def test_context_and_allocation_visible_until_exit(machine, nvml):
    index = 2  # bus C1: CUDA ordinal 3 under PCI_BUS_ID
    user = start_user(machine, str(machine.cuda_ordinal(index)), "--bytes", str(GiB), "--sleep", "60")
    assert nvml.processes(index) == [(user.pid, 512 * MiB + GiB)]
    assert nvml.memory_v2(index)[1].used == 512 * MiB + GiB
    assert nvml.processes(0) == []
    user.kill()
    user.wait()
    assert nvml.processes(index) == []
    assert nvml.memory_v2(index)[1].used == 0
    machine.set(index, utilization=5)  # any write prunes the dead entry from the file
    assert machine.gpu(index)["processes"] == []


def test_zombie_counts_as_gone(machine, nvml):
    user = start_user(machine, "0", "--bytes", "0", "--sleep", "60")
    nvml_index = machine.nvml_index(listed(machine, CUDA_DEVICE_ORDER="PCI_BUS_ID")[0][1])
    assert [pid for pid, _ in nvml.processes(nvml_index)] == [user.pid]
    user.kill()
    deadline = time.monotonic() + 60  # a bound for "never happens"
    while nvml.processes(nvml_index) and time.monotonic() < deadline:
        time.sleep(0.01)  # not reaped yet: the probe is a zombie
    assert nvml.processes(nvml_index) == []
    user.wait()


def test_concurrent_writers_lose_nothing(machine, nvml):
    users = [spawn_user(machine, "0,1", "--bytes", str(MiB), "--sleep", "60") for _ in range(8)]
    try:
        machine.add_process(3, 99)  # the helper writes under the same lock as the probes
        for user in users:
            wait_until_using(user, "0,1")
        pids = sorted(user.pid for user in users)
        # PCI_BUS_ID ordinals 0 and 1 are the GPUs on buses 01 and 41: NVML indices 3 and 1.
        assert sorted(pid for pid, _ in nvml.processes(3)) == sorted(pids + [99])
        assert sorted(pid for pid, _ in nvml.processes(1)) == pids
    finally:
        for user in users:
            user.kill()
            user.wait()


def test_alloc_errors(machine):
    machine.set_global(alloc_error=2)
    result = probe(machine, "use", "0")
    assert result.returncode == 4 and "CUDA_ERROR_OUT_OF_MEMORY" in result.stderr
    machine.set_global(alloc_error=0)
    result = probe(machine, "use", "0", "--bytes", str(80 * GiB))
    assert result.returncode == 4 and "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY" in result.stderr
    assert probe(machine, "use", "0,1", "--bytes", str(GiB)).returncode == 0


def test_record(machine, tmp_path):
    log = tmp_path / "record.log"
    result = probe(machine, "record", str(log), "--sleep", "0.05",
                   CUDA_DEVICE_ORDER="PCI_BUS_ID", CUDA_VISIBLE_DEVICES="3,1")
    assert result.returncode == 0, result.stderr
    start, end, uuids = log.read_text().split()
    assert int(end) - int(start) >= 50_000_000
    assert uuids == f"{machine.uuid(2)},{machine.uuid(1)}"


CUDA_SCRIPT = textwrap.dedent("""
    import ctypes, json, os, sys
    cuda = ctypes.CDLL(os.environ["GPU_WAITER_CUDA_LIBRARY"])
    out = {}
    def call(name, *args):
        out.setdefault("calls", []).append([name, getattr(cuda, name)(*args)])
    def nvml_used():
        state = json.load(open(os.environ["FAKE_NVIDIA_STATE"]))
        return [p["used_memory"] for g in state["gpus"] for p in g["processes"]]
    ptr, ctx, dev = ctypes.c_ulonglong(), ctypes.c_void_p(), ctypes.c_int()
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    call("cuMemAlloc_v2", ctypes.byref(ptr), 1)
    call("cuInit", 0)
    call("cuDeviceGetByPCIBusId", ctypes.byref(dev), b"00000000:c1:00.0")
    out["device"] = dev.value
    call("cuDeviceGetByPCIBusId", ctypes.byref(dev), b"0000:01:00.0")
    call("cuMemAlloc_v2", ctypes.byref(ptr), 1)
    call("cuDevicePrimaryCtxRetain", ctypes.byref(ctx), 0)
    call("cuDevicePrimaryCtxRetain", ctypes.byref(ctx), 0)
    call("cuCtxSetCurrent", ctx)
    call("cuMemAlloc_v2", ctypes.byref(ptr), ctypes.c_size_t(1 << 30))
    call("cuMemGetInfo_v2", ctypes.byref(free), ctypes.byref(total))
    out["free"], out["total"], out["used"] = free.value, total.value, nvml_used()
    call("cuMemFree_v2", ptr)
    out["after_free"] = nvml_used()
    call("cuDevicePrimaryCtxRelease_v2", 0)
    out["after_release"] = nvml_used()
    call("cuDevicePrimaryCtxRelease_v2", 0)
    out["after_last_release"] = nvml_used()
    call("cuMemAlloc_v2", ctypes.byref(ptr), 1)
    print(json.dumps(out))
""")


def test_cuda_api_in_process(machine):
    env = machine.env(CUDA_VISIBLE_DEVICES="0,2")  # FASTEST_FIRST: buses C1, 41
    result = subprocess.run([sys.executable, "-c", CUDA_SCRIPT], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["calls"] == [
        ["cuMemAlloc_v2", 3], ["cuInit", 0], ["cuDeviceGetByPCIBusId", 0],
        ["cuDeviceGetByPCIBusId", 101], ["cuMemAlloc_v2", 201],
        ["cuDevicePrimaryCtxRetain", 0], ["cuDevicePrimaryCtxRetain", 0], ["cuCtxSetCurrent", 0],
        ["cuMemAlloc_v2", 0], ["cuMemGetInfo_v2", 0], ["cuMemFree_v2", 0],
        ["cuDevicePrimaryCtxRelease_v2", 0], ["cuDevicePrimaryCtxRelease_v2", 0],
        ["cuMemAlloc_v2", 201]]
    assert out["device"] == 0
    assert out["total"] == 80 * GiB and out["free"] == 80 * GiB - 1024 * MiB - GiB
    assert out["used"] == [512 * MiB + GiB]
    assert out["after_free"] == out["after_release"] == [512 * MiB]
    assert out["after_last_release"] == []
