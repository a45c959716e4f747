"""MIG instances as schedulable units (issue 15), on a fake machine whose GPU 0 is split into three
MIG instances and whose GPU 1 is a plain GPU: a GPU in MIG mode offers its instances, named by
their MIG-… UUIDs in CUDA_VISIBLE_DEVICES and as "GPU:MIG" (nvidia-smi -L's numbering) in
GPU_WAITER_GPUS."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from conftest import (Harness, assert_no_lock_held, descendants, env_dump_command, probe_path,
                      read_env_dump, split, wait_for)
from e2e_support import holder_pids
from fakegpu import FakeMachine, GiB

POLL = "200ms"
HOLD_APPEARS = 30.0  # a bound for "never happens", not a speed


@pytest.fixture
def mig(gw: Harness) -> Harness:
    gw.machine = FakeMachine.with_mig(gw.machine.state_path.parent, instances=3)
    return gw


def occupy_instance(gw: Harness, slot: int) -> int:
    """A live foreign process on MIG instance 0:`slot`, as NVML lists it on that instance."""
    proc = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL, start_new_session=True)
    gw._foreign.append(proc)  # noqa: SLF001 - the harness kills it at the end
    gw.machine.add_mig_process(0, slot, proc.pid)
    return proc.pid


def run_env(gw: Harness, *args: str, **extra_env: str) -> dict[str, str]:
    dump = gw.path("env.json")
    w = gw.run("--poll", POLL, *args, "--", *env_dump_command(dump), timeout=60, **extra_env)
    assert w.returncode == 0, w.describe()
    return read_env_dump(dump)


def units(env: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """GPU_WAITER_GPUS, GPU_WAITER_UUIDS and CUDA_VISIBLE_DEVICES of a command."""
    return (split(env["GPU_WAITER_GPUS"]), split(env["GPU_WAITER_UUIDS"]),
            split(env["CUDA_VISIBLE_DEVICES"]))


def instance_uuids(gw: Harness) -> dict[str, str]:
    """"0:slot" -> MIG UUID for every instance of GPU 0."""
    return {f"0:{slot}": i["uuid"] for slot, i in enumerate(gw.machine.gpu(0)["mig_devices"]) if i}


# -- 1. instances are the units ---------------------------------------------------------------

def test_runs_on_one_instance_named_by_its_mig_uuid(mig: Harness) -> None:
    env = run_env(mig, "-g", "0")
    gpus, uuids, cvd = units(env)
    assert len(gpus) == 1 and gpus[0] in instance_uuids(mig), env["GPU_WAITER_GPUS"]
    assert uuids == [instance_uuids(mig)[gpus[0]]]
    assert cvd == uuids, "CUDA names a MIG instance only by its UUID"
    assert_no_lock_held(mig.lock_dir)


def test_two_units_across_instances_of_one_gpu(mig: Harness) -> None:
    env = run_env(mig, "-g", "0", "-n", "2")
    gpus, uuids, cvd = units(env)
    assert len(set(gpus)) == 2 and set(gpus) <= set(instance_uuids(mig)), gpus
    assert cvd == uuids and all(u.startswith("MIG-") for u in uuids)


def test_plain_gpu_beside_a_mig_gpu_stays_one_unit(mig: Harness) -> None:
    env = run_env(mig, "-g", "1")
    gpus, uuids, _ = units(env)
    assert gpus == ["1"] and uuids == [mig.machine.uuid(1)]


def test_busy_instance_beside_free_ones(mig: Harness) -> None:
    occupy_instance(mig, 0)
    occupy_instance(mig, 2)
    gpus, _, _ = units(run_env(mig, "-g", "0"))
    assert gpus == ["0:1"], "the only free instance of GPU 0"


# -- 2. -g in every form, and the inherited variable ---------------------------------------------

@pytest.mark.parametrize("form", ["mig-uuid", "pair", "parent-uuid"])
def test_gpus_option_forms(mig: Harness, form: str) -> None:
    wanted = instance_uuids(mig)
    entry = {"mig-uuid": wanted["0:2"], "pair": "0:2", "parent-uuid": mig.machine.uuid(0)}[form]
    if form == "parent-uuid":
        occupy_instance(mig, 0)
        occupy_instance(mig, 1)
    gpus, uuids, _ = units(run_env(mig, "-g", entry))
    assert gpus == ["0:2"] and uuids == [wanted["0:2"]]


def test_parent_index_means_all_its_instances(mig: Harness) -> None:
    gpus, _, _ = units(run_env(mig, "-g", "0", "-n", "3"))
    assert sorted(gpus) == ["0:0", "0:1", "0:2"]


def test_unknown_instance_is_a_clear_error(mig: Harness) -> None:
    w = mig.run("-g", "0:5", "--", "true")
    assert w.returncode == 125 and "GPU 0 has no MIG device 5" in w.stderr, w.describe()
    w = mig.run("-g", "MIG-00000000-0000-0000-0000-000000000000", "--", "true")
    assert w.returncode == 125 and "no MIG instance has UUID" in w.stderr, w.describe()


def test_inherited_cuda_visible_devices_of_mig_uuids(mig: Harness) -> None:
    wanted = instance_uuids(mig)
    occupy_instance(mig, 0)
    env = run_env(mig, CUDA_VISIBLE_DEVICES=f"{wanted['0:0']},{wanted['0:1']}")
    gpus, uuids, cvd = units(env)
    assert gpus == ["0:1"] and cvd == [wanted["0:1"]]


def test_max_util_on_instances_is_a_usage_error(mig: Harness) -> None:
    w = mig.run("-g", "0", "--max-util", "50", "--", "true")
    assert w.returncode == 125, w.describe()
    assert "--max-util" in w.stderr and "MIG" in w.stderr, w.describe()


# -- 3. waiting, fairness, reconfiguration -----------------------------------------------------

def test_waits_for_an_instance_and_runs_when_it_frees(mig: Harness) -> None:
    pids = [occupy_instance(mig, slot) for slot in range(3)]
    dump = mig.path("env.json")
    w = mig.start("--poll", POLL, "-g", "0", "--", *env_dump_command(dump))
    mig.wait_until_waiting(w)
    mig.machine.remove_mig_process(0, 1, pids[1])
    assert w.wait(60) == 0, w.describe()
    assert units(read_env_dump(dump))[0] == ["0:1"]


def test_first_instance_waiter_is_served_first(mig: Harness) -> None:
    pids = [occupy_instance(mig, slot) for slot in range(3)]
    first_dump, second_dump, go = mig.path("first.json"), mig.path("second.json"), mig.path("go")
    # The first command keeps its instance until told: the second waiter can only get another.
    first_command = ["sh", "-c", '"$0" "$@" && while [ ! -e "$GO" ]; do sleep 0.05; done',
                     *env_dump_command(first_dump)]
    first = mig.start("--poll", POLL, "-g", "0", "--", *first_command, GO=str(go))
    mig.wait_until_waiting(first)
    second = mig.start("--poll", POLL, "-g", "0", "--", *env_dump_command(second_dump))
    mig.wait_until_waiting(second)
    mig.machine.remove_mig_process(0, 2, pids[2])
    wait_for(lambda: first_dump.exists() or first.poll() is not None, 60,
             lambda: f"the first waiter did not get the free instance\n{first.describe()}")
    assert units(read_env_dump(first_dump))[0] == ["0:2"], first.describe()
    assert second.poll() is None and not second_dump.exists(), second.describe()
    mig.machine.remove_mig_process(0, 0, pids[0])
    assert second.wait(60) == 0, second.describe()
    assert units(read_env_dump(second_dump))[0] == ["0:0"]
    go.touch()
    assert first.wait(60) == 0, first.describe()


def test_reconfiguration_while_waiting_is_not_fatal(mig: Harness) -> None:
    occupy_instance(mig, 1)
    uuid = instance_uuids(mig)["0:1"]
    dump = mig.path("env.json")
    w = mig.start("--poll", POLL, "-v", "-g", uuid, "--", *env_dump_command(dump))
    mig.wait_until_waiting(w)
    mig.machine.set_mig(0, 1, None)  # the instance is destroyed
    wait_for(lambda: "no longer exists" in w.stderr or w.poll() is not None, 30,
             lambda: f"the destroyed instance went unnoticed\n{w.describe()}")
    assert w.poll() is None, w.describe()
    mig.machine.set_mig(0, 1, {"uuid": uuid, "memory_total": 20 * GiB, "processes": []})
    assert w.wait(60) == 0, w.describe()
    assert units(read_env_dump(dump))[1] == [uuid]


# -- 4. the hold and the hand-over, per instance --------------------------------------------------

def instance_holds(gw: Harness, w) -> dict[int, int]:
    """slot -> pid of `w`'s holder that holds memory (beyond its context) on instance 0:slot."""
    context = int(gw.machine.read()["context_memory"])
    holders = holder_pids(w.pid)
    out = {}
    for slot, instance in enumerate(gw.machine.gpu(0)["mig_devices"]):
        for p in (instance or {}).get("processes", []):
            if int(p["pid"]) in holders and int(p.get("used_memory") or 0) > context:
                out[slot] = int(p["pid"])
    return out


def command_on_instance(gw: Harness, slot: int, w) -> bool:
    """A process of `w`'s command (not a holder) is listed on instance 0:slot."""
    tree = descendants(w.pid) - holder_pids(w.pid)
    instance = gw.machine.gpu(0)["mig_devices"][slot]
    return any(int(p["pid"]) in tree for p in instance["processes"])


def wait_for_instance_holds(gw: Harness, w, count: int) -> dict[int, int]:
    wait_for(lambda: len(instance_holds(gw, w)) == count or w.poll() is not None, HOLD_APPEARS,
             lambda: f"not {count} instance holds: {instance_holds(gw, w)}\n{w.describe()}",
             interval=0.02)
    holds = instance_holds(gw, w)
    assert len(holds) == count, w.describe()
    return holds


def test_each_instance_is_held_by_a_holder_of_its_own(mig: Harness) -> None:
    # A CUDA process can use one MIG instance only: one holder cannot hold two.
    w = mig.start("--poll", POLL, "-n", "2", "-g", "0", "--", "sleep", "600")
    holds = wait_for_instance_holds(mig, w, 2)
    assert len(set(holds.values())) == 2, f"one holder on two instances: {holds}"
    assert set(holds.values()) == holder_pids(w.pid)
    context = int(mig.machine.read()["context_memory"])
    for slot, pid in holds.items():
        instance = mig.machine.gpu(0)["mig_devices"][slot]
        used = next(int(p["used_memory"]) for p in instance["processes"] if int(p["pid"]) == pid)
        quarter = 0.25 * (instance["memory_total"] - context)
        assert 0.9 * quarter <= used - context <= 1.1 * 0.25 * instance["memory_total"], (
            f"instance {slot}: held {used - context} bytes, not a quarter of its own memory")
    assert not mig.machine.processes(1), "the plain GPU was not asked for"
    w.signal(signal.SIGTERM)
    assert w.wait(60) == 128 + signal.SIGTERM, w.describe()
    assert_no_lock_held(mig.lock_dir)


def test_only_the_instance_the_command_uses_loses_its_hold(mig: Harness) -> None:
    go = mig.path("go")
    dump = mig.path("env.json")
    # CUDA shows the command only the first of its instances; it uses that one, and the hold on
    # the other stays while the command runs.
    command = ["sh", "-c", '"$0" "$@" && exec "$PROBE" use 0 --after "$GO" --sleep 600',
               *env_dump_command(dump)]
    w = mig.start("--poll", POLL, "-n", "2", "-g", "0", "--", *command, GO=str(go),
                  PROBE=probe_path())
    holds = wait_for_instance_holds(mig, w, 2)
    wait_for(lambda: dump.exists(), 60, lambda: f"the command did not start\n{w.describe()}")
    first = int(units(read_env_dump(dump))[0][0].split(":")[1])
    (other,) = set(holds) - {first}
    go.touch()
    wait_for(lambda: command_on_instance(mig, first, w), 30,
             lambda: f"the command never used instance 0:{first}\n{w.describe()}")
    wait_for(lambda: first not in instance_holds(mig, w), 30,
             lambda: f"the hold on 0:{first} stayed after the command used it\n{w.describe()}")
    assert other in instance_holds(mig, w), "the unused instance's hold went too"
    assert w.poll() is None, w.describe()
    w.signal(signal.SIGTERM)
    assert w.wait(60) == 128 + signal.SIGTERM, w.describe()
    assert_no_lock_held(mig.lock_dir)


def test_a_held_instance_taken_by_someone_else_is_given_up(mig: Harness) -> None:
    # Gathering three instances while 0:2 is busy: 0:0 and 0:1 are held meanwhile. A stranger
    # on 0:0 makes it busy again; the hold there goes, the one on 0:1 stays.
    busy = occupy_instance(mig, 2)
    w = mig.start("--poll", POLL, "-n", "3", "-g", "0", "--", "true")
    wait_for_instance_holds(mig, w, 2)
    stranger = occupy_instance(mig, 0)
    wait_for(lambda: 0 not in instance_holds(mig, w), 30,
             lambda: f"the hold on 0:0 stayed beside a stranger\n{w.describe()}")
    assert 1 in instance_holds(mig, w) and w.poll() is None, w.describe()
    mig.machine.remove_mig_process(0, 0, stranger)
    mig.machine.remove_mig_process(0, 2, busy)
    assert w.wait(60) == 0, w.describe()
    assert "giving up GPU 0:0" in w.stderr, "messages name the instance, as nvidia-smi -L does"
    assert_no_lock_held(mig.lock_dir)


# -- 5. the status view -------------------------------------------------------------------------

def test_status_lists_instances_under_their_gpu(mig: Harness) -> None:
    occupy_instance(mig, 1)
    w = mig.run("--status", "--json")
    assert w.returncode == 0, w.describe()
    gpus = json.loads(w.stdout)["gpus"]
    by_uuid = {g["uuid"]: g for g in gpus}
    for label, uuid in instance_uuids(mig).items():
        assert by_uuid[uuid]["mig"] == {"gpu": 0, "gpu_uuid": mig.machine.uuid(0),
                                        "device": int(label.split(":")[1])}
    assert by_uuid[instance_uuids(mig)["0:1"]]["processes"], "the instance's own processes"
    assert "mig" not in by_uuid[mig.machine.uuid(1)]
    text = mig.run("--status")
    assert text.returncode == 0, text.describe()
    for label in instance_uuids(mig):
        assert label in text.stdout, text.stdout


# -- 5. the fake driver's MIG, as CUDA sees it ---------------------------------------------------

def probe(gw: Harness, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([probe_path(), *args], env=gw.machine.env(**extra_env),
                          capture_output=True, text=True, timeout=30)


def uuid_bytes(uuid: str) -> str:
    """The 16 bytes cuDeviceGetUuid_v2 gives, as hex: a MIG instance's are its own, and the probe
    prints every UUID with a GPU- prefix."""
    return uuid.split("-", 1)[1].replace("-", "")


def listed_uuids(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [uuid_bytes(line.split()[1]) for line in result.stdout.splitlines()]


def test_cuda_sees_one_mig_instance_per_process(mig: Harness) -> None:
    wanted = instance_uuids(mig)
    visible = f"{wanted['0:1']},{wanted['0:2']}"
    assert listed_uuids(probe(mig, "list", CUDA_VISIBLE_DEVICES=visible)) == [
        uuid_bytes(wanted["0:1"])]
    assert listed_uuids(probe(mig, "list", CUDA_DEVICE_ORDER="PCI_BUS_ID")) == [
        uuid_bytes(mig.machine.uuid(1))], "a GPU in MIG mode is no CUDA device itself"


def test_cuda_memory_of_an_instance_is_its_own(mig: Harness) -> None:
    wanted = instance_uuids(mig)
    used = probe(mig, "use", "0", "--bytes", str(GiB), CUDA_VISIBLE_DEVICES=wanted["0:2"])
    assert used.returncode == 0, used.stderr
    assert uuid_bytes(used.stdout.split()[1]) == uuid_bytes(wanted["0:2"]), used.stdout
    instance = mig.machine.gpu(0)["mig_devices"][2]
    assert [p["pid"] for p in instance["processes"]], "the context is listed on the instance"
    assert not mig.machine.gpu(0)["processes"], "and not on the GPU as a whole"
