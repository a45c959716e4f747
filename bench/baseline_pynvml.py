"""Baseline: what many Python tools do, polling NVML through nvidia-ml-py once a second until a GPU
has no compute process, then running the command on it.
Usage: baseline_pynvml.py PERIOD GPU[,GPU...] COMMAND [ARG...]"""
import os
import sys
import time

import pynvml

period, gpus, command = float(sys.argv[1]), [int(g) for g in sys.argv[2].split(",")], sys.argv[3:]
pynvml.nvmlInit()
handles = {g: pynvml.nvmlDeviceGetHandleByIndex(g) for g in gpus}
while True:
    for g, h in handles.items():
        if not pynvml.nvmlDeviceGetComputeRunningProcesses(h):
            os.environ["CUDA_VISIBLE_DEVICES"] = str(g)
            os.execvp(command[0], command)
    time.sleep(period)
