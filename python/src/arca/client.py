"""`arca.Client`: the API's routes as methods, and the workflows built on them (push, pull,
load_or_generate, save/load, run outputs), configured as the TypeScript CLI is."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from tqdm import tqdm

from . import _outputs, _pull, _push, persist
from ._http import Api, encode_path
from ._transfer import Transfers
from .cache import BlobCache
from .config import load_config
from .runs import Flow, Run

T = TypeVar("T")
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Version:
    asset: str
    version: str
    status: str
    files: list[dict[str, Any]]
    params: dict[str, Any] | None
    params_hash: str | None
    aliases: list[str]
    raw: dict[str, Any] = field(repr=False)

    @property
    def spec(self) -> str:
        return f"{self.asset}:{self.version}"

    @classmethod
    def of(cls, rec: dict[str, Any]) -> Version:
        return cls(rec["asset"], rec["version"], rec["status"], rec.get("files", []), rec.get("params"),
                   rec.get("paramsHash"), rec.get("aliases", []), rec)


class Client:
    def __init__(self, url: str | None = None, token: str | None = None, cache_dir: PathLike | None = None, *,
                 concurrency: int = 8, multipart_threshold: int = 64 * 1024 * 1024, attempts: int = 5,
                 progress: bool | None = None, credentials: Any = None) -> None:
        """Each setting from the argument, else ARCA_URL / ARCA_TOKEN / ARCA_CACHE_DIR, else the file
        `arca login` writes. `credentials`: botocore credentials for SigV4 (default: the standard chain)."""
        self.config = load_config(url, token, cache_dir)
        self.url = self.config.url
        self.cache_dir = self.config.cache_dir
        self.concurrency = max(1, concurrency)
        self.multipart_threshold = multipart_threshold
        self.attempts = attempts
        self._show_progress = sys.stderr.isatty() if progress is None else progress
        limits = httpx.Limits(max_connections=self.concurrency + 2, max_keepalive_connections=self.concurrency + 2)
        self._http = httpx.Client(limits=limits, timeout=httpx.Timeout(120.0, connect=30.0))
        self._api = Api(self.config, self._http, credentials)
        self.transfers = Transfers(self._http)
        self.cache = BlobCache(self.cache_dir)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _enc(name: str) -> str:
        return encode_path(name)

    def _version_path(self, name: str, version: str) -> str:
        return f"/v1/assets/{encode_path(name)}/-/versions/{quote(version, safe='')}"

    @contextmanager
    def _progress(self, total: int, label: str) -> Iterator[Any]:
        """A tqdm bar on a TTY only; elsewhere (CI logs, notebooks' captured stderr) nothing is printed."""
        with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not self._show_progress or total == 0) as bar:
            yield bar

    def health(self) -> dict[str, Any]:
        return self._api.call("GET", "/v1/health")  # type: ignore[no-any-return]

    # ---- assets ----
    def create_asset(self, name: str, *, type: str = "model", **fields: Any) -> dict[str, Any]:
        return self._api.call("POST", "/v1/assets", body={"name": name, "type": type, **fields})  # type: ignore[no-any-return]

    def get_asset(self, name: str) -> dict[str, Any]:
        return self._api.call("GET", f"/v1/assets/{encode_path(name)}")  # type: ignore[no-any-return]

    def list_assets(self, **query: Any) -> Iterator[dict[str, Any]]:
        """Every asset matching prefix/type/tag/q (sort, order), following cursors."""
        return self._pages("/v1/assets", query)

    def delete_asset(self, name: str, *, force: bool = False, reason: str | None = None) -> Any:
        return self._api.call("DELETE", f"/v1/assets/{encode_path(name)}", query={"force": force or None, "reason": reason})

    # ---- versions ----
    def versions(self, name: str, **query: Any) -> list[Version]:
        """Versions of `name`, newest first (status, paramsHash, includeDeleted filters as the API's)."""
        return [Version.of(v) for v in self._pages(f"/v1/assets/{encode_path(name)}/-/versions", query)]

    def get_version(self, name: str, version: str) -> dict[str, Any]:
        return self._api.call("GET", self._version_path(name, version))  # type: ignore[no-any-return]

    def publish(self, name: str, version: str) -> dict[str, Any]:
        return self._api.call("POST", self._version_path(name, version) + "/publish")  # type: ignore[no-any-return]

    def delete_version(self, name: str, version: str, *, force: bool = False, reason: str | None = None) -> Any:
        return self._api.call("DELETE", self._version_path(name, version), query={"force": force or None, "reason": reason})

    def set_alias(self, name: str, alias: str, version: str) -> dict[str, Any]:
        return self._api.call("PUT", f"/v1/assets/{encode_path(name)}/-/aliases/{quote(alias, safe='')}",  # type: ignore[no-any-return]
                              body={"version": version})

    def resolve(self, spec: str, *, stage: str | None = None) -> dict[str, Any]:
        """`name`, `name:1.2.3`, `name:^1`, `name:alias`, with an optional `/sub/path`: version and file URLs."""
        return self._api.call("GET", f"/v1/resolve/{encode_path(spec)}", query={"stage": stage})  # type: ignore[no-any-return]

    def _commit(self, name: str, version: str) -> dict[str, Any]:
        return self._api.call("POST", self._version_path(name, version) + "/commit")  # type: ignore[no-any-return]

    def _upload_parts(self, name: str, version: str, upload_id: str, start: int) -> dict[str, Any]:
        return self._api.call("POST", f"{self._version_path(name, version)}/uploads/{quote(upload_id, safe='')}/parts",  # type: ignore[no-any-return]
                              body={"from": start})

    def _pages(self, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        q = dict(query)
        while True:
            page = self._api.call("GET", path, query=q)
            yield from page["items"]
            if not page.get("nextCursor"):
                return
            q["cursor"] = page["nextCursor"]

    # ---- workflows ----
    def push(self, name: str, path_or_paths: PathLike | list[PathLike], *, version: str | None = None,
             bump: str | None = None, publish: bool = False, alias: str | None = None, format: str | None = None,
             type: str = "model", resume: bool = True, **metadata: Any) -> Version:
        """Uploads files and directories as a new version; metadata: description, tags, hyperparameters,
        config, metrics, records, params. Only bytes the store lacks are sent."""
        return Version.of(self.push_result(name, path_or_paths, version=version, bump=bump, publish=publish,
                                           alias=alias, format=format, type=type, resume=resume, **metadata).version)

    def push_result(self, name: str, path_or_paths: PathLike | list[PathLike], *, version: str | None = None,
                    bump: str | None = None, publish: bool = False, alias: str | None = None,
                    format: str | None = None, type: str = "model", resume: bool = True,
                    **metadata: Any) -> _push.PushResult:
        """`push`, with what was sent: bytes uploaded, bytes skipped (stored already or resumed)."""
        inputs = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]
        return _push.push(self, name, [Path(p) for p in inputs], version=version, bump=bump, fmt=format,
                          asset_type=type, publish=publish, alias=alias, resume=resume, metadata=metadata)

    def pull(self, spec: str, dest: PathLike | None = None, *, stage: str | None = None) -> Path:
        """Verified files of `spec`: copies under `dest` (returned); without `dest`, the read-only cached
        blob of a one-file spec, or copies under ./<last segment of the asset name> for several files."""
        result = self.pull_result(spec, dest, stage=stage)
        if result.dest is not None:
            return result.dest
        return result.files[0].cache_path

    def pull_result(self, spec: str, dest: PathLike | None = None, *, stage: str | None = None) -> _pull.PullResult:
        """`pull`, with what happened to each file (cached or downloaded) and the bytes downloaded."""
        result = _pull.pull(self, spec, Path(dest) if dest is not None else None, stage)
        if dest is None and len(result.files) > 1:
            out = Path.cwd() / result.asset.rsplit("/", 1)[-1]
            for f in result.files:
                f.out_path = _pull.place(f, out)
            result.dest = out
        return result

    # ---- run outputs (R-OUT; see runs.py for the flow/run layer) ----
    def _output_path(self, flow: str, run: str, name: str | None = None) -> str:
        base = f"/v1/flows/{quote(flow, safe='')}/runs/{quote(run, safe='')}/outputs"
        return base if name is None else f"{base}/{quote(name, safe='')}"

    def _output_parts(self, flow: str, run: str, name: str, upload_id: str, start: int) -> dict[str, Any]:
        return self._api.call("POST", f"{self._output_path(flow, run, name)}/uploads/{quote(upload_id, safe='')}/parts",  # type: ignore[no-any-return]
                              body={"from": start})

    def put_output(self, flow: str, run: str, name: str, path_or_paths: PathLike | list[PathLike], *,
                   ttl_days: int | None = None, metadata: dict[str, Any] | None = None, format: str | None = None,
                   resume: bool = True) -> _outputs.OutputResult:
        """Files and directories as the output `name` of a run (write-once, expiring after `ttl_days`,
        default 7): only bytes the store lacks are sent; a killed multipart upload resumes."""
        inputs = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]
        return _outputs.put_output(self, flow, run, name, [Path(p) for p in inputs], ttl_days=ttl_days,
                                   metadata=metadata, fmt=format, resume=resume)

    def get_output(self, flow: str, run: str, name: str) -> dict[str, Any]:
        """The output record with presigned download URLs; `run` may be "latest"."""
        return self._api.call("GET", self._output_path(flow, run, name))  # type: ignore[no-any-return]

    def list_outputs(self, flow: str, run: str = "latest", **query: Any) -> Iterator[dict[str, Any]]:
        """A run's unexpired outputs in name order, following cursors (`limit` sets the page size)."""
        return self._pages(self._output_path(flow, run), query)

    def pull_output(self, flow: str, run: str, name: str, dest: PathLike | None = None) -> _outputs.OutputPull:
        """An output's verified files into the shared cache (cached blobs are not downloaded again), copied
        under `dest` when given; `run` may be "latest"."""
        out = self.get_output(flow, run, name)
        target = Path(dest) if dest is not None else None
        files, downloaded = _pull.fetch(self, out["files"], target)
        return _outputs.OutputPull(out, files, downloaded, target)

    def promote_output(self, flow: str, run: str, name: str, asset: str, *, version: str | None = None,
                       bump: str | None = None, **fields: Any) -> Version:
        """A version of `asset` (which must exist) from the output's blobs, ready at once, no bytes sent;
        fields: description, tags, metrics, records, params, hyperparameters, config."""
        body = {"asset": asset, **({"version": version} if version else {}), **({"bump": bump} if bump else {}), **fields}
        return Version.of(self._api.call("POST", self._output_path(flow, run, name) + "/promote", body=body))

    def flow(self, flow: str) -> Flow:
        return Flow(self, flow)

    def run(self, flow: str, run: str) -> Run:
        return Run(self, flow, run)

    # ---- parameter-based persistence (see persist.py) ----
    def load_or_generate(self, name: str, params: dict[str, Any], generate: Callable[[], T], *,
                         records: list[str] | None = None, save: Callable[[Any, Path], None] | None = None,
                         load: Callable[[Path], Any] | None = None,
                         validate: Callable[[Any], None] | None = None, **push_options: Any) -> T:
        return persist.load_or_generate(self, name, params, generate, records=records, save=save, load=load,
                                validate=validate, **push_options)

    def persisted(self, name: str, **options: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return persist.persisted(self, name, **options)

    def save(self, obj: Any, name: str, format: str = "pkl", **push_options: Any) -> Version:
        return persist.save(self, obj, name, format, **push_options)

    def load(self, spec: str, validate: Callable[[Any], None] | None = None) -> Any:
        return persist.load(self, spec, validate)
