"""Drive the fake NVIDIA driver (tests/fake_driver) from pytest.

A FakeMachine owns one state file; gpu-waiter, the fake libraries and fake_cuda_probe all read it
on every call, so editing it through this module changes the "hardware" under a running binary.
Writes follow the same protocol as the fake libcuda (flock on "<state>.lock", write a temp file,
rename), so tests and fake CUDA programs never lose each other's changes.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

GiB = 1 << 30
MiB = 1 << 20

# NVML order deliberately differs from PCI order (and, for 3+ GPUs, from its reverse too), so
# code that mixes up NVML indices and CUDA ordinals picks the wrong GPU.
_STANDARD_BUSES = (0x81, 0x41, 0xC1, 0x01, 0xE1, 0x21, 0xA1, 0x61)

_GLOBAL_DEFAULTS = {
    "init_error": 0,
    "cuda_init_error": 0,
    "alloc_error": 0,
    "driver_version": "580.00.00",
    "nvml_version": "13.580.00",
    "context_memory": 512 * MiB,
}


def _gpu_defaults(index: int) -> dict[str, Any]:
    """Mirrors the C++ defaults (fake_state.cpp) so every written field is explicit."""
    return {
        "uuid": f"GPU-fa4e0000-0000-0000-0000-{index:012x}",
        "name": "Fake GPU",
        "pci_bus_id": f"00000000:{index + 1:02X}:00.0",
        "memory_total": 80 * GiB,
        "memory_reserved": 0,
        "memory_used": 0,
        "utilization": 0,
        "memory_utilization": 0,
        "lost": False,
        "no_permission": False,
        "processes": [],
    }


def _find_built(env_var: str, file_name: str) -> str:
    """A built artifact: from CTest's variable, else searched for under the build directory."""
    path = os.environ.get(env_var)
    if path:
        return path
    build = os.environ.get("GPU_WAITER_BUILD_DIR") or str(Path(__file__).resolve().parents[2] / "build")
    for found in sorted(Path(build).rglob(file_name)):
        if found.is_file():
            return str(found)
    raise FileNotFoundError(
        f"{file_name} not found: set {env_var}, or GPU_WAITER_BUILD_DIR to a build directory "
        f"(looked in {build})")


def nvml_library() -> str:
    return _find_built("FAKE_NVML_LIBRARY", "libfake_nvml.so")


def cuda_library() -> str:
    return _find_built("FAKE_CUDA_LIBRARY", "libfake_cuda.so")


def probe_path() -> str:
    return _find_built("FAKE_CUDA_PROBE", "fake_cuda_probe")


def process_alive(pid: int) -> bool:
    """As the fake NVML decides it: a zombie has already lost its GPU contexts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat[stat.rfind(")") + 2:][:1]
    return state not in ("Z", "X")


def _is_live(entry: dict[str, Any]) -> bool:
    return not entry.get("cuda") or process_alive(int(entry["pid"]))


def _prune_dead_cuda(state: dict[str, Any]) -> None:
    for gpu in state.get("gpus", []):
        gpu["processes"] = [p for p in gpu.get("processes", []) if _is_live(p)]
        for instance in gpu.get("mig_devices", []):
            if instance:
                instance["processes"] = [p for p in instance.get("processes", []) if _is_live(p)]


def pci_key(bus_id: str) -> tuple[int, int, int, int]:
    """(domain, bus, device, function) of "00000000:81:00.0" or "0000:81:00.0"."""
    domain, bus, rest = bus_id.split(":")
    device, function = rest.split(".")
    return int(domain, 16), int(bus, 16), int(device, 16), int(function, 16)


class FakeMachine:
    """A fake GPU machine backed by `<directory>/fake-nvidia.json`."""

    def __init__(self, directory: os.PathLike | str, gpus: Iterable[dict[str, Any]],
                 **global_fields: Any) -> None:
        self._path = Path(directory) / "fake-nvidia.json"
        state = dict(_GLOBAL_DEFAULTS, **global_fields)
        state["gpus"] = [dict(_gpu_defaults(i), **spec) for i, spec in enumerate(gpus)]
        self.update(lambda current: (current.clear(), current.update(state)))

    @classmethod
    def standard(cls, directory: os.PathLike | str, count: int = 2, **global_fields: Any) -> FakeMachine:
        """`count` idle 80 GiB GPUs (512 MiB reserved) whose NVML order is not PCI order."""
        if not 1 <= count <= len(_STANDARD_BUSES):
            raise ValueError(f"count must be 1..{len(_STANDARD_BUSES)}")
        gpus = [{
            "uuid": f"GPU-{i:x}{i:x}c2a3b4-4e5f-6071-8293-a4b5c6d7e8{i:02x}",
            "name": "Fake H100",
            "pci_bus_id": f"00000000:{_STANDARD_BUSES[i]:02X}:00.0",
            "memory_total": 80 * GiB,
            "memory_reserved": 512 * MiB,
        } for i in range(count)]
        return cls(directory, gpus, **global_fields)

    @classmethod
    def with_mig(cls, directory: os.PathLike | str, instances: int = 3,
                 **global_fields: Any) -> FakeMachine:
        """GPU 0 in MIG mode with `instances` idle 20 GiB instances, GPU 1 a plain idle GPU."""
        machine = cls.standard(directory, count=2, **global_fields)

        def split(state: dict[str, Any]) -> None:
            state["gpus"][0].update(mig_mode=True, mig_max_devices=7, mig_devices=[
                {"uuid": f"MIG-{slot:x}{slot:x}d1c2b3-4e5f-6071-8293-a4b5c6d7e8f9",
                 "name": "Fake H100 MIG 2g.20gb", "memory_total": 20 * GiB,
                 "memory_reserved": 0, "memory_used": 0, "processes": []}
                for slot in range(instances)])
        machine.update(split)
        return machine

    # -- where things are -------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self._path

    def env(self, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        """An environment for subprocesses: `base` (default os.environ) plus the fake driver and
        `extra`. CUDA variables inherited from `base` are dropped so a developer's own
        CUDA_VISIBLE_DEVICES cannot change what a test sees."""
        env = {k: v for k, v in (os.environ if base is None else base).items()
               if k not in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")}
        env.update(FAKE_NVIDIA_STATE=str(self._path), GPU_WAITER_NVML_LIBRARY=nvml_library(),
                   GPU_WAITER_CUDA_LIBRARY=cuda_library())
        env.update(extra)
        return env

    # -- reading ----------------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        """The state as written; cuda entries of dead processes may still be in it."""
        return json.loads(self._path.read_text())

    def count(self) -> int:
        return len(self.read()["gpus"])

    def gpu(self, i: int) -> dict[str, Any]:
        return self.read()["gpus"][i]

    def uuid(self, i: int) -> str:
        return self.gpu(i)["uuid"]

    def bus_id(self, i: int) -> str:
        return self.gpu(i)["pci_bus_id"]

    def cuda_ordinal(self, i: int) -> int:
        """The ordinal CUDA gives NVML index i under CUDA_DEVICE_ORDER=PCI_BUS_ID, all visible."""
        keys = [pci_key(g["pci_bus_id"]) for g in self.read()["gpus"]]
        return sorted(keys).index(keys[i])

    def nvml_index(self, uuid: str) -> int:
        return [g["uuid"] for g in self.read()["gpus"]].index(uuid)

    def processes(self, i: int) -> list[dict[str, Any]]:
        """Process entries as NVML reports them: cuda entries of dead pids left out."""
        return [p for p in self.gpu(i).get("processes", []) if _is_live(p)]

    def memory_used(self, i: int) -> int:
        """NVML v2 "used": hidden memory plus live processes, without the reserved part."""
        gpu = self.gpu(i)
        return gpu.get("memory_used", 0) + sum(p.get("used_memory") or 0 for p in self.processes(i))

    def memory_free(self, i: int) -> int:
        gpu = self.gpu(i)
        taken = gpu.get("memory_reserved", 0) + self.memory_used(i)
        return max(0, gpu.get("memory_total", 80 * GiB) - taken)

    # -- writing ----------------------------------------------------------------------------

    def update(self, fn: Callable[[dict[str, Any]], Any]) -> None:
        """Locked read-modify-write: `fn` mutates the state dict in place."""
        with open(str(self._path) + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self._path.read_text())
            except FileNotFoundError:
                state = {}
            _prune_dead_cuda(state)
            fn(state)
            temp = self._path.with_name(f"{self._path.name}.tmp.{os.getpid()}")
            temp.write_text(json.dumps(state, indent=2) + "\n")
            os.replace(temp, self._path)

    def set_global(self, **fields: Any) -> None:
        self.update(lambda state: state.update(copy.deepcopy(fields)))

    def set(self, i: int, **fields: Any) -> None:
        self.update(lambda state: state["gpus"][i].update(copy.deepcopy(fields)))

    def add_process(self, i: int, pid: int, used_memory: int | None = GiB,
                    type: str = "compute", cuda: bool = False) -> None:  # noqa: A002
        """`cuda`: the entry goes when the process dies, as a real driver's does."""
        entry = {"pid": pid, "used_memory": used_memory, "type": type}
        if cuda:
            entry["cuda"] = True
        self.update(lambda state: state["gpus"][i].setdefault("processes", []).append(entry))

    def mig_uuid(self, i: int, slot: int) -> str:
        return self.gpu(i)["mig_devices"][slot]["uuid"]

    def set_mig(self, i: int, slot: int, instance: dict[str, Any] | None) -> None:
        """Creates (a dict) or destroys (None) the MIG instance in `slot` of GPU `i`."""
        def change(state: dict[str, Any]) -> None:
            slots = state["gpus"][i].setdefault("mig_devices", [])
            slots.extend([None] * (slot + 1 - len(slots)))
            slots[slot] = copy.deepcopy(instance)
        self.update(change)

    def add_mig_process(self, i: int, slot: int, pid: int, used_memory: int | None = GiB) -> None:
        entry = {"pid": pid, "used_memory": used_memory, "type": "compute"}
        self.update(lambda state: state["gpus"][i]["mig_devices"][slot]["processes"].append(entry))

    def remove_mig_process(self, i: int, slot: int, pid: int) -> None:
        def drop(state: dict[str, Any]) -> None:
            instance = state["gpus"][i]["mig_devices"][slot]
            instance["processes"] = [p for p in instance["processes"] if p["pid"] != pid]
        self.update(drop)

    def remove_process(self, i: int, pid: int) -> None:
        def drop(state: dict[str, Any]) -> None:
            gpu = state["gpus"][i]
            gpu["processes"] = [p for p in gpu.get("processes", []) if p["pid"] != pid]
        self.update(drop)
