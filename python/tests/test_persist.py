"""load_or_generate, its decorator, save/load and the validator hook against the real local registry."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import arca

# Two processes at once ask for {"lr": 1.0}; each appends to a log when it actually generates.
LOAD_OR_GENERATE = """
import sys, arca
name, log = sys.argv[1], sys.argv[2]
def generate():
    with open(log, "a") as f:
        f.write("generated\\n")
    return {"weights": [1, 2, 3], "lr": 1.0}
with arca.Client() as c:
    print(c.load_or_generate(name, {"lr": 1.0}, generate))
"""


def test_generate_runs_once_across_two_processes(registry, name, tmp_path, cache_dir):
    log = tmp_path / "log.txt"
    env = registry.env(cache_dir)
    procs = [subprocess.Popen([sys.executable, "-c", LOAD_OR_GENERATE, name, str(log)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert log.read_text() == "generated\n"
    assert all(o[0].strip() == "{'weights': [1, 2, 3], 'lr': 1.0}" for o in outs)
    # Another machine (another cache) asking with the integer 1 finds the same version by its hash.
    other = registry.env(tmp_path / "other-cache")
    third = subprocess.run([sys.executable, "-c", LOAD_OR_GENERATE.replace('{"lr": 1.0}', '{"lr": 1}'), name, str(log)],
                           env=other, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert log.read_text() == "generated\n"


def test_no_params_is_not_empty_params(client, name, tmp_path):
    f = tmp_path / "payload.pkl"
    arca.pickle_save("pushed without params", f)
    plain = client.push(name, f)
    assert plain.params_hash is None
    runs = []
    gen = lambda: runs.append(1) or "generated"
    assert client.load_or_generate(name, {}, gen) == "generated"
    assert client.load_or_generate(name, {}, gen) == "generated"
    assert len(runs) == 1
    assert [v.params for v in client.versions(name)] == [{}, None]


def test_decorator_records_and_validator(client, name, tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n")
    client.push(name + "-data", data)
    calls = []

    @client.persisted(name, records=[f"{name}-data:^1"])
    def train(lr: float, depth: int) -> dict:
        calls.append((lr, depth))
        return {"lr": lr, "depth": depth}

    assert train(lr=0.1, depth=3) == {"lr": 0.1, "depth": 3}
    assert train(depth=3, lr=0.1) == {"lr": 0.1, "depth": 3}
    assert calls == [(0.1, 3)]
    assert client.versions(name)[0].raw["records"] == [f"{name}-data:1.0.0"]

    def must_be_list(obj):
        if not isinstance(obj, list):
            raise ValueError("not a list")

    with pytest.raises(arca.PayloadInvalid):
        client.load_or_generate(name + "-v", {"a": 1}, lambda: "oops", validate=must_be_list)
    with pytest.raises(arca.NotFound):
        client.get_asset(name + "-v")  # nothing was pushed


@pytest.mark.parametrize("fmt", ["pkl", "joblib"])
def test_save_and_load(client, name, fmt):
    obj = {"a": [1, 2.5, "x"], "nested": {"b": None}}
    v = client.save(obj, name, format=fmt, description="an object")
    assert [f["path"] for f in v.files] == [f"payload.{fmt}"]
    assert client.load(f"{name}:^1") == obj
    with pytest.raises(arca.PayloadInvalid):
        client.load(v.spec, validate=lambda o: (_ for _ in ()).throw(ValueError("refused")))


def test_example_notebook_runs(registry, tmp_path, cache_dir):
    example = Path(__file__).parents[1] / "examples" / "notebook.py"
    res = subprocess.run([sys.executable, str(example)], env=registry.env(cache_dir), cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "loaded without retraining: True" in res.stdout
