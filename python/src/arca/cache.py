"""The content-addressed cache shared with the TypeScript client (layout in docs/cache.md):
blobs/sha256/<hex> (read-only, re-hashed before reuse), manifests/<asset>/<version>.json, tmp/, uploads/."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CHUNK = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class BlobCache:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root)

    def blob_path(self, sha256: str) -> Path:
        return self.dir / "blobs" / "sha256" / sha256

    def temp_path(self) -> Path:
        """On the cache's own file system, so the final rename is atomic."""
        tmp = self.dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / f"{os.getpid()}-{secrets.token_hex(6)}"

    def has(self, sha256: str, size: int) -> bool:
        """Re-hashes the blob: one damaged on disk or edited through a link is removed and fetched again."""
        path = self.blob_path(sha256)
        try:
            intact = path.stat().st_size == size and sha256_file(path) == sha256
        except OSError:
            return False
        if not intact:
            path.unlink(missing_ok=True)
            return False
        os.utime(path)
        return True

    def adopt(self, tmp: Path, sha256: str) -> Path:
        path = self.blob_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
        return path

    def _manifest_path(self, asset: str, version: str) -> Path:
        return self.dir.joinpath("manifests", *asset.split("/"), f"{version}.json")

    def save_manifest(self, resolved: dict[str, Any], complete: bool) -> None:
        prior = self.read_manifest(resolved["asset"], resolved["version"])
        files = {f["path"]: f for f in (prior or {}).get("files", [])}
        for f in resolved["files"]:
            files[f["path"]] = {k: f[k] for k in ("path", "size", "sha256", "format")}
        manifest = {
            "asset": resolved["asset"], "version": resolved["version"], "status": resolved["status"],
            "complete": complete or bool(prior and prior.get("complete")),
            "files": [files[p] for p in sorted(files)],
            "savedAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        path = self._manifest_path(resolved["asset"], resolved["version"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.temp_path()
        tmp.write_text(json.dumps(manifest), "utf-8")
        os.replace(tmp, path)

    def read_manifest(self, asset: str, version: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._manifest_path(asset, version).read_text("utf-8"))
            return data
        except (OSError, ValueError):
            # Never pulled, or torn: nothing to serve offline.
            return None


class ResumeStore:
    """Multipart resume state, the TypeScript client's format: uploads/<sha256>.json."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = Path(cache_dir) / "uploads"

    def _file(self, sha256: str) -> Path:
        return self.dir / f"{sha256}.json"

    def load(self, sha256: str) -> dict[str, Any] | None:
        try:
            s = json.loads(self._file(sha256).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        keys = ("uploadId", "version", "idempotencyKey", "requestHash")
        if not all(isinstance(s.get(k), str) for k in keys) or not isinstance(s.get("done"), list):
            return None
        return dict(s)

    def save(self, sha256: str, state: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._file(sha256).with_suffix(f".{os.getpid()}.{secrets.token_hex(3)}.tmp")
        tmp.write_text(json.dumps({**state, "done": sorted(state["done"])}), "utf-8")
        os.replace(tmp, self._file(sha256))

    def remove(self, sha256: str) -> None:
        self._file(sha256).unlink(missing_ok=True)
