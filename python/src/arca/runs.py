"""A Metaflow-like layer over run outputs (R-OUT): `client.flow("train").latest_run`, a run's `save_output`,
`get_input` / `data.<name>`, `outputs` and `promote`. Thin over the HTTP routes: a Run holds its flow and
run names only, every read asks the service (outputs expire there, not here)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ClientError
from .persist import FORMATS, payload_file

if TYPE_CHECKING:
    from ._outputs import OutputResult
    from .client import Client, Version


def _as_paths(obj: Any) -> list[Path] | None:
    """Paths are `os.PathLike` values (or a non-empty list of them); anything else, str included, is an object."""
    if isinstance(obj, os.PathLike):
        return [Path(obj)]
    if isinstance(obj, list) and obj and all(isinstance(p, os.PathLike) for p in obj):
        return [Path(p) for p in obj]
    return None


class Flow:
    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    def run(self, run_id: str) -> Run:
        return Run(self.client, self.name, run_id)

    @property
    def latest_run(self) -> Run:
        """The run whose output was declared last (one request); NotFound when the flow has none."""
        page = self.client._api.call("GET", self.client._output_path(self.name, "latest"), query={"limit": 1})
        return Run(self.client, self.name, page["run"])

    def __repr__(self) -> str:
        return f"Flow({self.name!r})"


class Run:
    def __init__(self, client: Client, flow: str, run_id: str) -> None:
        if run_id == "latest":
            raise ClientError('"latest" is not a run name: use client.flow(name).latest_run')
        self.client = client
        self.flow = flow
        self.id = run_id
        self.data = RunData(self)

    def __repr__(self) -> str:
        return f"Run({self.flow!r}, {self.id!r})"

    def save_output(self, name: str, obj_or_paths: Any, *, format: str = "pkl", ttl_days: int | None = None,
                    metadata: dict[str, Any] | None = None) -> OutputResult:
        """Paths (os.PathLike, or a list of them) are put as they are; any other object is serialized with
        `save`'s serializers (pkl, joblib) into one file payload.<format>."""
        paths = _as_paths(obj_or_paths)
        if paths is not None:
            return self.client.put_output(self.flow, self.id, name, list(paths), ttl_days=ttl_days, metadata=metadata)
        with payload_file(obj_or_paths, format) as path:
            return self.client.put_output(self.flow, self.id, name, [path], ttl_days=ttl_days, metadata=metadata)

    def get_input(self, name: str) -> Any:
        """The output `name` through the shared cache: the object of a one-payload output (payload.pkl or
        payload.joblib), else the read-only cached blob of a one-file output, else {path: cached blob}."""
        pulled = self.client.pull_output(self.flow, self.id, name)
        if len(pulled.files) == 1:
            f = pulled.files[0]
            stem, _, ext = f.path.rpartition(".")
            if stem == "payload" and ext in FORMATS:
                return FORMATS[ext][1](f.cache_path)
            return f.cache_path
        return {f.path: f.cache_path for f in pulled.files}

    @property
    def outputs(self) -> list[str]:
        """Names of the run's unexpired outputs, in name order."""
        return [o["name"] for o in self.client.list_outputs(self.flow, self.id)]

    def promote(self, name: str, asset: str, *, version: str | None = None, bump: str | None = None,
                **fields: Any) -> Version:
        return self.client.promote_output(self.flow, self.id, name, asset, version=version, bump=bump, **fields)


class RunData:
    """`run.data.features` (or `run.data["features"]` for names that are no identifiers): `get_input`,
    loaded on first access and kept on this object (outputs are write-once, so it cannot go stale)."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._run.get_input(name)
        return self._loaded[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __dir__(self) -> list[str]:
        return self._run.outputs
