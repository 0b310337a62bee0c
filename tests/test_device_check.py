"""scripts/device_check.sh: the one prepared device call, smoke-tested on the CPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "device_check.sh"


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@needs_bash
def test_fits_stage_runs_each_fit_side_by_side_and_keeps_its_log(tmp_path: Path) -> None:
    env = {
        **os.environ, "OUT": str(tmp_path), "DEVICE": "cpu", "DATA": "synthetic", "STAGES": "fits",
        "BUDGET_S": "400",  # a cap, not a duration: two 2-epoch fits, with room for a loaded machine
        "FITS": "whole=epochs=2,patience=none,dim=8 carve=epochs=2,dim=8,eval_every=1,negative_selection=mean",
    }
    done = subprocess.run(["bash", str(SCRIPT), "run"], env=env, capture_output=True, text=True, timeout=500, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check.log", "synthetic_carve.log", "synthetic_whole.log"]
    logs = {n: (tmp_path / f"synthetic_{n}.log").read_text() for n in ("whole", "carve")}
    assert all(logs.values()), (tmp_path / "check.log").read_text()  # an empty log: the fit was killed
    whole, carve = (json.loads(logs[n].strip().splitlines()[-1]) for n in ("whole", "carve"))
    assert whole["params"]["patience"] is None and whole["training"]["valid_curve"] == []
    assert carve["params"]["negative_selection"] == "mean" and len(carve["training"]["valid_curve"]) == 2
    assert whole["training"]["epochs_run"] == carve["training"]["epochs_run"] == 2
    assert "fits done" in (tmp_path / "check.log").read_text()


@needs_bash
def test_unknown_verb_is_refused() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "go"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "usage" in done.stderr
