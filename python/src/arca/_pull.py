"""pull (R-CLIENT, R-STORE): resolve a spec, bring each blob into the shared cache (cached blobs are
re-hashed and reused, large files come as parallel ranged GETs), verify SHA-256 before a blob is adopted
(a mismatch keeps nothing), then COPY (or reflink) files into the destination, each replaced atomically.
Never hard links: whoever can write through a link to a read-only blob (root can) would corrupt the cache."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import CHUNK
from .errors import ChecksumMismatch, ClientError
from ._transfer import run_pool, with_retries

if TYPE_CHECKING:
    from .client import Client

MIB = 1024 * 1024
RANGED_THRESHOLD = 64 * MIB
RANGE_SIZE = 32 * MIB
FICLONE = 0x40049409


@dataclass
class PulledFile:
    path: str
    size: int
    sha256: str
    format: str
    cache_path: Path
    cached: bool
    out_path: Path | None = None


@dataclass
class PullResult:
    asset: str
    version: str
    status: str
    files: list[PulledFile] = field(default_factory=list)
    downloaded: int = 0
    dest: Path | None = None


def pull(client: Client, spec: str, dest: Path | None, stage: str | None) -> PullResult:
    resolved = client.resolve(spec, stage=stage)
    client.cache.save_manifest(resolved, complete="/" not in spec.split(":", 1)[-1])
    pulled, downloaded = fetch(client, resolved["files"], dest)
    return PullResult(resolved["asset"], resolved["version"], resolved["status"], pulled, downloaded, dest)


def fetch(client: Client, files: list[dict[str, Any]], dest: Path | None) -> tuple[list[PulledFile], int]:
    """Files with presigned `url`s (a version's or a run output's) into the cache, then copies under `dest`;
    with the bytes downloaded (cached blobs cost none)."""
    before = client.transfers.bytes_downloaded
    pulled: list[PulledFile] = []
    lock = threading.Lock()
    with client._progress(sum(f["size"] for f in files), "pull") as bar:
        def one(f: dict[str, Any]) -> None:
            cached = client.cache.has(f["sha256"], f["size"])
            if cached:
                bar.update(f["size"])
            else:
                _download(client, f, bar.update)
            with lock:
                pulled.append(PulledFile(f["path"], f["size"], f["sha256"], f.get("format", ""),
                                         client.cache.blob_path(f["sha256"]), cached))

        # Small files share the pool; a large one uses the pool for its own ranges.
        run_pool([f for f in files if f["size"] < RANGED_THRESHOLD], client.concurrency, one)
        for f in files:
            if f["size"] >= RANGED_THRESHOLD:
                one(f)
    pulled.sort(key=lambda p: p.path)
    if dest is not None:
        for p in pulled:
            p.out_path = place(p, dest)
    return pulled, client.transfers.bytes_downloaded - before


def _download(client: Client, f: dict[str, Any], on_bytes: Any) -> None:
    tmp = client.cache.temp_path()
    try:
        if f["size"] < RANGED_THRESHOLD:
            def whole() -> str:
                h = hashlib.sha256()
                client.transfers.get(f["url"], tmp, 0, f["size"], whole=True, hasher=h, on_bytes=on_bytes)
                return h.hexdigest()
            digest = with_retries(client.attempts, whole)
        else:
            digest = _ranged(client, f, tmp, on_bytes)
        if digest != f["sha256"]:
            raise ChecksumMismatch(f"{f['path']}: downloaded bytes hash to {digest}, not {f['sha256']}; nothing was kept")
        client.cache.adopt(tmp, f["sha256"])
    finally:
        tmp.unlink(missing_ok=True)


def _ranged(client: Client, f: dict[str, Any], tmp: Path, on_bytes: Any) -> str:
    """Parallel ranged GETs into a preallocated file, then one hashing pass over what landed on disk."""
    with open(tmp, "wb") as out:
        out.truncate(f["size"])
    ranges = [(s, min(f["size"], s + RANGE_SIZE)) for s in range(0, f["size"], RANGE_SIZE)]
    run_pool(ranges, client.concurrency, lambda r: with_retries(
        client.attempts, lambda: client.transfers.get(f["url"], tmp, r[0], r[1], whole=False, on_bytes=on_bytes)))
    h = hashlib.sha256()
    with open(tmp, "rb") as src:
        while chunk := src.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def place(p: PulledFile, dest: Path) -> Path:
    root = dest.resolve()
    target = root.joinpath(*p.path.split("/")).resolve()
    if root not in target.parents:
        raise ClientError(f"refusing to write {p.path} outside {root}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{p.sha256[:12]}.{os.getpid()}.{threading.get_ident()}.arca-tmp"
    tmp.unlink(missing_ok=True)
    _copy(p.cache_path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def _copy(src: Path, dst: Path) -> None:
    """A reflink where the file system has them (no bytes copied, no shared inode), else a copy."""
    try:
        import fcntl

        with open(src, "rb") as s, open(dst, "wb") as d:
            fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
        return
    except (ImportError, OSError):
        pass
    shutil.copyfile(src, dst)
