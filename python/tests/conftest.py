"""A real local registry for the suite: `local/main.ts` on the repository's pinned Node, on a free port and
its own data folder, ready once GET /v1/health answers. Each test gets its own cache folder and config."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
NODE = REPO / "node_modules" / ".bin" / "node"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def env(self, cache_dir: Path, **extra: str) -> dict[str, str]:
        """Environment for a child process (Python or the TypeScript CLI) talking to this registry."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCA_")}
        env.update(ARCA_URL=self.url, ARCA_TOKEN=self.token, ARCA_CACHE_DIR=str(cache_dir),
                   ARCA_CONFIG=str(cache_dir.parent / "no-config.json"), **extra)
        return env


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    data = tmp_path_factory.mktemp("registry")
    port = free_port()
    log = open(data / "server.log", "wb")
    env = {**os.environ, "ARCA_PORT": str(port), "ARCA_DATA_DIR": str(data / "data")}
    proc = subprocess.Popen([str(NODE), "--import", "tsx", "local/main.ts"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the local registry exited ({proc.returncode}): {(data / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the local registry did not answer /v1/health within 180 s")
            time.sleep(0.3)
        yield Registry(url, (data / "data" / "token").read_text().strip())
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def client(registry: Registry, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["arca.Client"]:
    import arca

    monkeypatch.setenv("ARCA_CONFIG", str(cache_dir.parent / "no-config.json"))
    with arca.Client(registry.url, registry.token, cache_dir) as c:
        yield c


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """An asset name of its own per test (and per run: the registry lives for the session only)."""
    return f"py/{request.node.name.replace('_', '-').replace('[', '-').strip(']')[:40].lower().strip('-')}-{os.getpid()}"


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The TypeScript CLI exactly as `npx arca` starts it."""
    return subprocess.run([str(NODE), str(REPO / "client" / "cli" / "arca.js"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
