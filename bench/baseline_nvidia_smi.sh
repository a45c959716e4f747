#!/usr/bin/env bash
# Baseline: the common shell loop, asking nvidia-smi once a second until a GPU has no compute
# process, then running the command on it.
# Usage: baseline_nvidia_smi.sh GPU COMMAND [ARG...]
gpu=$1; shift
select=(-i "$gpu")
[ "$gpu" = all ] && select=()
while [ -n "$(nvidia-smi --query-compute-apps=pid --format=csv,noheader "${select[@]}")" ]; do
  sleep 1
done
CUDA_VISIBLE_DEVICES=$gpu exec "$@"
