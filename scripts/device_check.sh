#!/usr/bin/env bash
# GPU checks in one call of a lent accelerator: the gpu-marked tests, the LightGCN epoch
# benchmark against PyG, and an early-stopped default LightGCN on Gowalla within a time budget.
#
#   scripts/device_check.sh prepare   # here, once: copies the datasets it reads into .data/ (git-ignored)
#   scripts/device_check.sh run       # there: device tool, carry [".data"], timeout_s 600; logs under $OUT
#   DEVICE=cpu DATA=ml-100k OUT=/tmp/x scripts/device_check.sh run   # here: a smoke test of the script
#
# The device image has torch + CUDA, torch-geometric, scipy, pandas, pyarrow, networkx, tqdm
# and pytest, which is all these checks import (graphrec runs from the checkout, not installed).
# Stage limits add up to 540 s, so one call fits the tool's 600 s; every stage writes its own
# file, so a stage that fails or times out leaves the others' results. For a longer Gowalla
# fit, a second call on the still-warm machine can continue the same run:
#   python3 -m graphrec.cli evaluate --data gowalla --model lightgcn --device cuda \
#       --param max_minutes=8 --param checkpoint_dir=runs/gowalla --json
# (runs/ is git-ignored, so it stays on the machine between calls; each call resumes it).
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
prepare)
    src="${GRAPHREC_DATA:?set GRAPHREC_DATA to the datasets folder}"
    mkdir -p .data
    for d in gowalla ml-100k lastfm; do
        rm -rf ".data/$d" && cp -r "$src/$d" ".data/$d" || exit 1
    done
    du -sh .data
    ;;
run)
    out="${OUT:?run through the device tool, which sets OUT}" device="${DEVICE:-cuda}" data="${DATA:-gowalla}"
    export GRAPHREC_DATA="$PWD/.data" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
    { nvidia-smi -L; python3 -c 'import torch, torch_geometric as pyg; print("torch", torch.__version__, "cuda", torch.version.cuda, "pyg", pyg.__version__)'; } 2>&1 | tee "$out/machine.txt"
    timeout 100 python3 -m pytest -q -rs -m gpu -p no:cacheprovider \
        tests/models/test_lightgcn.py tests/models/test_rlmrec.py tests/data/test_synthetic.py \
        tests/graph/test_interop.py tests/rank/test_spectral.py tests/rank/test_recommenders.py 2>&1 | tee "$out/gpu_tests.log"
    timeout 140 python3 scripts/bench_lightgcn.py --dataset "$data" --epochs 2 --device "$device" --no-progress \
        2>"$out/bench_lightgcn.err" | tee "$out/bench_lightgcn.jsonl"
    timeout 300 python3 scripts/bench_peers.py --data "$data" --methods lightgcn --device "$device" \
        --lightgcn-minutes "$data=3.5" --no-progress 2>"$out/peers_$data.err" | tee "$out/peers_$data.jsonl"
    ;;
*)
    echo "usage: $0 prepare|run" >&2
    exit 2
    ;;
esac
