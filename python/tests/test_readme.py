"""The README's Python block, run as a newcomer would: verbatim, in an empty folder holding `model/`, against the
local registry, with `train` being the newcomer's own (zero-argument) training function. Run twice, the second
run trains nothing: load_or_generate finds the version the first one pushed."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, Registry

TRAIN = '''
import pathlib
def train():
    marker = pathlib.Path("trained")
    marker.write_text(marker.read_text() + "x" if marker.exists() else "x")
    return {"weights": [0.25, 0.75]}
'''
CHECK = '''
print(repr(model), path)
'''


def readme_python_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert blocks, "the README has no python block"
    return blocks[0]


def test_readme_python_block_runs_and_trains_once(registry: Registry, tmp_path: Path) -> None:
    block = readme_python_block()
    assert "import arca" in block and "load_or_generate" in block
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(b"a churn model")
    env = registry.env(tmp_path / "cache")
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", TRAIN + block + CHECK], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("{'weights': [0.25, 0.75]}")
    assert (tmp_path / "trained").read_text() == "x"
    pulled = Path(done.stdout.split()[-1])
    pulled = pulled if pulled.is_absolute() else tmp_path / pulled
    assert (pulled / "model.pkl").read_bytes() == b"a churn model"
