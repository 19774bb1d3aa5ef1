"""``bench/bench_device.py --quick`` runs (in a subprocess, as CI runs it) and reports, for every estimator of the
registry, its time against the device's forward limit, and for the one that takes gradients against the forward +
backward limit too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pyimportance import registry

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (\w+) \| ([\d.]+) \| ([\d.]+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+)x \| (-|[\d.]+x) \|$")


@pytest.mark.keras
def test_the_quick_device_bench_reports_each_estimator_against_the_limits(tmp_path):
    out = tmp_path / "device.md"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_device.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=environment, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert report in done.stdout
    rows = {match.group(1): match.groups() for line in report.splitlines() if (match := ROW.match(line))}
    assert sorted(rows) == sorted(entry.name for entry in registry.ESTIMATORS)
    for name, (_, cold, warm, forward_rows, gradient_rows, versus_forward, versus_both) in rows.items():
        assert float(cold) > 0 and float(warm) > 0 and float(versus_forward) > 0, name
        assert int(forward_rows.replace(",", "")) >= 48, name  # at least one prediction per row
        takes_gradients = name == "sensitivity"
        assert (int(gradient_rows.replace(",", "")) > 0) is takes_gradients, name
        assert (versus_both != "-") is takes_gradients, name
    settings = registry.estimator("sensitivity").defaults()
    assert int(rows["sensitivity"][4].replace(",", "")) == 48 * settings["n_steps"]  # one per path point and row
    assert "Device: CPU" in report and "--quick" in report
