"""Run outputs (R-OUT) from Python against a real local registry: a three-step flow, promotion without
re-upload, outputs shared with the TypeScript CLI, multipart outputs and a killed upload resumed."""
import json
import os
import secrets
from pathlib import Path

import pytest

import arca
from conftest import run_cli
from test_transfers import MIB, big_file, same_bytes, sigkill_after_first_part


@pytest.fixture
def flow() -> str:
    return f"f{os.getpid()}-{secrets.token_hex(4)}"


def step_client(registry, tmp_path: Path, step: str) -> arca.Client:
    """Each step as its own process would be: its own client and cache."""
    return arca.Client(registry.url, registry.token, tmp_path / f"cache-{step}")


def test_three_steps_pass_outputs_and_the_promoted_version_sends_no_bytes(registry, flow, name, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCA_CONFIG", str(tmp_path / "no-config.json"))
    with step_client(registry, tmp_path, "1") as c:
        run = c.run(flow, "r1")
        saved = run.save_output("raw", {"rows": [1, 2, 3]}, metadata={"step": "start"})
        assert saved.output["status"] == "ready" and saved.uploaded > 0 and not saved.resumed
        weights = tmp_path / "weights.bin"
        weights.write_bytes(os.urandom(200_000))
        assert run.save_output("weights", weights, ttl_days=3).output["ttlDays"] == 3

    with step_client(registry, tmp_path, "2") as c:
        run = c.flow(flow).latest_run
        assert run.id == "r1" and run.outputs == ["raw", "weights"]
        raw = run.data.raw
        assert raw == {"rows": [1, 2, 3]} and run.data["raw"] is raw
        run.save_output("features", [x * 10 for x in raw["rows"]])

    with step_client(registry, tmp_path, "3") as c:
        run = c.flow(flow).latest_run
        assert run.data.features == [10, 20, 30]
        blob = run.get_input("weights")
        assert blob.read_bytes() == weights.read_bytes()
        # The same bytes again as another output: the store holds them, nothing is sent.
        again = run.save_output("weights-copy", weights)
        assert again.uploaded == 0 and again.skipped == 200_000 and again.output["status"] == "ready"

        c.create_asset(name)
        before = c.transfers.bytes_uploaded
        version = run.promote("weights", name, version="1.0.0", description="from r1")
        assert c.transfers.bytes_uploaded == before
        assert version.spec == f"{name}:1.0.0" and version.status == "ready"
        assert version.raw["source"] == {"flow": flow, "run": "r1", "name": "weights"}
        assert version.files[0]["sha256"] == c.get_output(flow, "r1", "weights")["files"][0]["sha256"]
        pulled = c.pull_result(version.spec, tmp_path / "promoted")
        assert pulled.downloaded == 0 and pulled.files[0].cached  # step 3's cache had the blob already
        assert (tmp_path / "promoted" / "weights.bin").read_bytes() == weights.read_bytes()
        assert c.promote_output(flow, "r1", "raw", name).version == "1.1.0"  # bump minor by default


def test_absent_outputs_are_not_found(client, flow, tmp_path):
    with pytest.raises(arca.NotFound):
        client.flow(flow).latest_run
    run = client.run(flow, "r1")
    run.save_output("a", 1)
    with pytest.raises(arca.NotFound):
        run.data.missing
    with pytest.raises(arca.NotFound):
        client.get_output(flow, "r2", "a")
    with pytest.raises(arca.ClientError):
        client.run(flow, "latest")
    with pytest.raises(arca.AlreadyExists):
        run.save_output("a", 2)  # write-once: another body under the same name


def test_list_outputs_follows_cursors(client, flow):
    run = client.run(flow, "r1")
    for i in range(3):
        run.save_output(f"o{i}", i)
    assert [o["name"] for o in client.list_outputs(flow, "r1", limit=2)] == ["o0", "o1", "o2"]
    assert [run.data[f"o{i}"] for i in range(3)] == [0, 1, 2]


def test_typescript_cli_output_is_read_by_python(registry, client, flow, tmp_path, cache_dir):
    f = tmp_path / "frame.csv"
    f.write_bytes(b"a,b\n" * 40_000)
    res = run_cli(["outputs", "put", flow, "r1", "frame", str(f), "--ttl-days", "2"], registry.env(cache_dir))
    assert res.returncode == 0, res.stderr
    run = client.flow(flow).latest_run
    pulled = client.pull_output(flow, run.id, "frame", tmp_path / "out")
    assert pulled.downloaded == f.stat().st_size and pulled.output["ttlDays"] == 2
    assert (tmp_path / "out" / "frame.csv").read_bytes() == f.read_bytes()
    assert run.get_input("frame").read_bytes() == f.read_bytes()
    assert client.pull_output(flow, "latest", "frame").downloaded == 0  # the shared cache has it now


def test_python_output_is_read_by_the_typescript_cli(registry, client, flow, name, tmp_path, cache_dir):
    f = tmp_path / "w.bin"
    f.write_bytes(os.urandom(150_000))
    out = client.put_output(flow, "r1", "w", f).output
    client.pull_output(flow, "r1", "w")
    env = registry.env(cache_dir)
    got = run_cli(["outputs", "get", flow, "latest", "w", "--json"], env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["files"][0]["sha256"] == out["files"][0]["sha256"]
    client.create_asset(name)
    v = client.promote_output(flow, "r1", "w", name)
    pulled = run_cli(["pull", v.spec, "-o", str(tmp_path / "ts-out"), "--json"], env)
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["downloaded"] == 0  # the blob Python cached is the CLI's too
    assert (tmp_path / "ts-out" / "w.bin").read_bytes() == f.read_bytes()


def test_multipart_output_round_trips(client, flow, tmp_path):
    size = 70 * MIB + 17
    big = big_file(tmp_path / "src" / "big.bin", size)
    (tmp_path / "src" / "note.txt").write_text("n")
    put = client.put_output(flow, "r1", "ckpt", tmp_path / "src")
    assert put.uploaded == size + 1 and client.transfers.parts_uploaded == 3
    files = client.run(flow, "r1").get_input("ckpt")
    assert sorted(files) == ["big.bin", "note.txt"] and same_bytes(files["big.bin"], big)


def test_sigkilled_multipart_output_resumes_sending_only_missing_parts(registry, flow, tmp_path, cache_dir, monkeypatch):
    size = 70 * MIB + 9
    big = big_file(tmp_path / "big.bin", size)
    states = sigkill_after_first_part('arca.Client(concurrency=1).put_output(sys.argv[1], "r1", "big", sys.argv[2])',
                                      [flow, str(big)], registry.env(cache_dir), cache_dir)
    assert states[0]["version"] == f"output:{flow}/r1/big" and states[0]["asset"] == ""

    monkeypatch.setenv("ARCA_CONFIG", registry.env(cache_dir)["ARCA_CONFIG"])
    with arca.Client(registry.url, registry.token, cache_dir) as c:
        result = c.put_output(flow, "r1", "big", big)
        assert result.resumed and result.uploaded == size - 64 * MIB and c.transfers.parts_uploaded == 1
        assert result.output["status"] == "ready" and not list((cache_dir / "uploads").glob("*.json"))
        assert same_bytes(c.pull_output(flow, "r1", "big", tmp_path / "out").files[0].out_path, big)
