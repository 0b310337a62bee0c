#!/usr/bin/env bash
# GPU checks in one call of a lent accelerator: the gpu-marked tests, the LightGCN epoch
# benchmark against PyG, and four LightGCN fits on Gowalla side by side in the time left
# (all of train vs the default early-stopped protocol, x negative_selection mean vs hardest).
#
#   scripts/device_check.sh prepare   # here, once: copies the datasets it reads into .data/ (git-ignored)
#   scripts/device_check.sh run       # there: device tool, carry [".data"], timeout_s 600; logs under $OUT
#   DEVICE=cpu DATA=ml-100k OUT=/tmp/x scripts/device_check.sh run   # here: a smoke test of the script
#
# The device image has torch + CUDA, torch-geometric, scipy, pandas, pyarrow, networkx, tqdm
# and pytest, which is all these checks import (graphrec runs from the checkout, not installed).
# The whole run keeps to BUDGET_S (540 s), so one call fits the tool's 600 s. It writes six
# files (the tool returns at most eight); a stage that fails or times out leaves the others'
# results. For a longer Gowalla fit, a second call on the still-warm machine can continue one:
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
    budget="${BUDGET_S:-540}" t0=$SECONDS
    export GRAPHREC_DATA="$PWD/.data" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
    log="$out/check.log"
    { nvidia-smi -L; python3 -c 'import torch, torch_geometric as pyg; print("torch", torch.__version__, "cuda", torch.version.cuda, "pyg", pyg.__version__)'; } >"$log" 2>&1
    timeout 90 python3 -m pytest -q -rs -m gpu -p no:cacheprovider \
        tests/models/test_lightgcn.py tests/models/test_rlmrec.py tests/data/test_synthetic.py \
        tests/graph/test_interop.py tests/rank/test_spectral.py tests/rank/test_recommenders.py >>"$log" 2>&1
    echo "gpu tests: exit $? after $((SECONDS - t0)) s" >>"$log"
    timeout 150 python3 scripts/bench_lightgcn.py --dataset "$data" --epochs 2 --device "$device" --no-progress \
        >"$out/bench_lightgcn.jsonl" 2>>"$log"
    echo "bench_lightgcn: exit $? after $((SECONDS - t0)) s" >>"$log"
    # LightGCN fits in what is left, side by side on the one device: on all of train for the
    # whole budget (the reproduction), and the default protocol (validation carve, early
    # stopping, refit) whose validation curve compares the two negative selections honestly.
    left=$((budget - (SECONDS - t0) - 45))
    minutes=$(python3 -c "print(round(max($left, 30) / 60, 2))")
    echo "fits: max_minutes=$minutes each" >>"$log"
    for protocol in full carve; do
        for selection in mean hardest; do
            extra=(); [ "$protocol" = full ] && extra=(--param patience=none)
            timeout $((left + 40)) python3 -m graphrec.cli --threads 4 evaluate --data "$data" --model lightgcn --device "$device" \
                --param max_minutes="$minutes" --param negative_selection="$selection" "${extra[@]}" --json \
                >"$out/${data}_${protocol}_${selection}.log" 2>&1 &
        done
    done
    wait
    echo "fits done after $((SECONDS - t0)) s" >>"$log"
    ;;
*)
    echo "usage: $0 prepare|run" >&2
    exit 2
    ;;
esac
