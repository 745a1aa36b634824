"""README command 1 on a new machine: `python -m bot` with an empty model cache and no index.

It prepares the embedding model (the one-time ONNX export) and builds the sample index,
saying so in plain lines, with no warnings and none of the exporter's or the quantizer's
own output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docket_harness import CONFIG, REPO

from index.embed import export_pending
from index.settings import ModelSettings


@pytest.mark.slow
def test_a_first_run_says_what_it_does_and_nothing_alarming(tmp_path: Path) -> None:
    cache, data = tmp_path / "cache", tmp_path / "var"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKET", "DISCORD_")) and k != "XDG_CACHE_HOME"}
    env.update({"PYTHONPATH": str(REPO), "DOCKET_CONFIG": str(CONFIG), "DOCKET_DATA_DIR": str(data),
                "XDG_CACHE_HOME": str(cache), "NO_COLOR": "1",
                "DOCKET_FEEDS": str(tmp_path / "no-feeds.toml")})
    (tmp_path / "no-feeds.toml").write_text("", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot"], input="/quit\n", text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=900)
    err = proc.stderr
    assert proc.returncode == 0, err
    assert proc.stdout.startswith("Docket, terminal mode (no DISCORD_TOKEN): "), proc.stdout

    # What it does, in order, in words.
    steps = ["Preparing the embedding model for this machine (first run only",
             f"No index in {data} yet: building one from the bundled sample corpus",
             "articles: "]
    positions = [err.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), err
    # Nothing alarming: no warnings, no advice to run another command, no library chatter.
    assert "WARNING" not in err and "Traceback" not in err, err
    assert "python -m index ingest" not in err, err
    assert "torchvision" not in err and "pre-processing" not in err, err
    assert not re.search(r"^[IWE]\d{4} ", err, re.M), err  # torch's own log format
    assert "onnx" not in err.lower(), err
    # The model it prepared is kept: the next start has nothing to prepare.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        assert not export_pending(ModelSettings())
