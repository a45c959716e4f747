"""A minimal CUDA program through ctypes and the driver API, for benchmarks: starts in a fraction
of a second where `import torch` takes seconds.
  cuda_user.py occupy           take a context and 1 GiB on the visible GPU, say "ready", sleep
  cuda_user.py first FILE DELAY wait DELAY s, take a context, write the time to FILE, sleep 1 s"""
import ctypes
import sys
import time

cuda = ctypes.CDLL("libcuda.so.1")


def check(rc, what):
    if rc != 0:
        sys.exit(f"cuda_user: {what} failed with CUresult {rc}")


def context():
    check(cuda.cuInit(0), "cuInit")
    dev, ctx = ctypes.c_int(), ctypes.c_void_p()
    check(cuda.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
    check(cuda.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
    check(cuda.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")


if sys.argv[1] == "occupy":
    context()
    ptr = ctypes.c_uint64()
    check(cuda.cuMemAlloc_v2(ctypes.byref(ptr), ctypes.c_size_t(1 << 30)), "cuMemAlloc_v2")
    print("ready", flush=True)
    time.sleep(100000)
else:
    time.sleep(float(sys.argv[3]))
    context()
    open(sys.argv[2], "w").write(repr(time.time()))
    time.sleep(1)
