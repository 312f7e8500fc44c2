"""Large files, the cache shared with the TypeScript CLI, corruption, and resuming a killed multipart push."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import arca
from conftest import run_cli

MIB = 1024 * 1024


def big_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(path.name.encode()).digest() * (MIB // 32)
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(block[i % 7:] + block[: i % 7])
        f.write(os.urandom(size % MIB))
    return path


def same_bytes(a: Path, b: Path) -> bool:
    def digest(p: Path) -> str:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(4 * MIB):
                h.update(chunk)
        return h.hexdigest()
    return a.stat().st_size == b.stat().st_size and digest(a) == digest(b)


def test_directory_with_70_mib_file_round_trip(client, name, tmp_path):
    src = tmp_path / "src"
    big = big_file(src / "data" / "big.bin", 70 * MIB + 123)
    (src / "README.txt").write_text("hello")
    result = client.push_result(name, src)
    assert result.uploaded == 70 * MIB + 123 + 5
    assert client.transfers.parts_uploaded == 3  # two parts of the big file, one PUT of the small one
    out = client.pull(f"{name}:^1", tmp_path / "out")
    assert same_bytes(out / "data" / "big.bin", big)
    assert (out / "README.txt").read_text() == "hello"
    pulled = client.pull_result(f"{name}:^1", tmp_path / "out2")
    assert pulled.downloaded == 0 and all(f.cached for f in pulled.files)


def test_cache_shared_python_then_typescript(registry, client, name, tmp_path, cache_dir):
    f = tmp_path / "weights.bin"
    f.write_bytes(os.urandom(300_000))
    v = client.push(name, f)
    client.pull(v.spec, tmp_path / "py-out")
    res = run_cli(["pull", v.spec, "--offline", "-o", str(tmp_path / "ts-out")], registry.env(cache_dir))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "ts-out" / "weights.bin").read_bytes() == f.read_bytes()


def test_cache_shared_typescript_then_python(registry, name, tmp_path, cache_dir, monkeypatch):
    f = tmp_path / "data.csv"
    f.write_bytes(b"a,b\n" * 50_000)
    env = registry.env(cache_dir)
    assert run_cli(["push", name, str(f)], env).returncode == 0
    res = run_cli(["pull", f"{name}:1.0.0"], env)
    assert res.returncode == 0, res.stderr
    monkeypatch.setenv("ARCA_CONFIG", env["ARCA_CONFIG"])
    with arca.Client(registry.url, registry.token, cache_dir) as c:
        pulled = c.pull_result(f"{name}:1.0.0", tmp_path / "out")
    assert pulled.downloaded == 0 and pulled.files[0].cached
    assert (tmp_path / "out" / "data.csv").read_bytes() == f.read_bytes()


def test_corrupted_cache_blob_is_detected_and_fetched_again(client, name, tmp_path):
    f = tmp_path / "m.bin"
    f.write_bytes(os.urandom(200_000))
    v = client.push(name, f)
    client.pull(v.spec, tmp_path / "a")
    blob = client.cache.blob_path(v.files[0]["sha256"])
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as b:
        b.write(b"\0\0\0\0")
    pulled = client.pull_result(v.spec, tmp_path / "b")
    assert pulled.downloaded == 200_000 and not pulled.files[0].cached
    assert (tmp_path / "b" / "m.bin").read_bytes() == f.read_bytes()
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == v.files[0]["sha256"]


def test_a_bad_download_keeps_nothing(client, name, tmp_path, monkeypatch):
    f = tmp_path / "m.bin"
    f.write_bytes(os.urandom(1000))
    v = client.push(name, f)
    real = client.resolve
    monkeypatch.setattr(client, "resolve", lambda spec, stage=None: {
        **real(spec), "files": [{**x, "sha256": "0" * 64} for x in real(spec)["files"]]})
    with pytest.raises(arca.ChecksumMismatch):
        client.pull(v.spec, tmp_path / "out")
    assert not (tmp_path / "out" / "m.bin").exists() and not client.cache.blob_path("0" * 64).exists()


# An upload that stalls forever after its first part, as a dying network would; `{call}` is the SDK call.
STALLING = """
import sys, threading, arca, arca._transfer as t
real = t.Transfers.put
def put(self, *a, **k):
    if self.parts_uploaded >= 1:
        threading.Event().wait()
    return real(self, *a, **k)
t.Transfers.put = put
{call}
"""


def sigkill_after_first_part(call: str, args: list[str], env: dict[str, str], cache_dir: Path) -> list[dict]:
    """Runs `call` in a child until its resume state records part 1 done, SIGKILLs it, returns the states."""
    child = subprocess.Popen([sys.executable, "-c", STALLING.format(call=call), *args], env=env)
    uploads = cache_dir / "uploads"
    deadline = time.monotonic() + 300
    while True:
        states = [json.loads(p.read_text()) for p in uploads.glob("*.json")] if uploads.exists() else []
        if states and states[0]["done"] == [1]:
            break
        assert child.poll() is None, "the upload ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return states


def test_sigkilled_multipart_push_resumes_sending_only_missing_parts(registry, name, tmp_path, cache_dir, monkeypatch):
    size = 70 * MIB + 5
    big = big_file(tmp_path / "big.bin", size)
    states = sigkill_after_first_part("arca.Client(concurrency=1).push(sys.argv[1], sys.argv[2])", [name, str(big)],
                                      registry.env(cache_dir), cache_dir)
    uploads = cache_dir / "uploads"

    monkeypatch.setenv("ARCA_CONFIG", registry.env(cache_dir)["ARCA_CONFIG"])
    with arca.Client(registry.url, registry.token, cache_dir) as c:
        result = c.push_result(name, big)
        assert result.resumed and result.version["version"] == states[0]["version"]
        assert result.uploaded == size - 64 * MIB and c.transfers.parts_uploaded == 1
        assert result.version["status"] == "ready"
        assert not list(uploads.glob("*.json"))
        assert same_bytes(c.pull(f"{name}:{states[0]['version']}", tmp_path / "out") / "big.bin", big)
