"""put_output (R-OUT): a run output's files hashed, declared, uploaded and committed with push's own code
(an output's declaration answers with the same upload instructions as a version's). A killed multipart
upload resumes: the same declaration again answers the stored output with its uploadIds, and the parts
recorded done in uploads/<sha256>.json are skipped."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._pull import PulledFile
from ._push import LocalFile, Target, collect_files, commit_until_ready, declare_files, request_hash, upload
from .cache import ResumeStore

if TYPE_CHECKING:
    from .client import Client


@dataclass
class OutputResult:
    output: dict[str, Any]
    uploaded: int
    skipped: int
    resumed: bool


@dataclass
class OutputPull:
    output: dict[str, Any]
    files: list[PulledFile]
    downloaded: int
    dest: Path | None


def put_output(client: Client, flow: str, run: str, name: str, inputs: list[Path], *, ttl_days: int | None,
               metadata: dict[str, Any] | None, fmt: str | None, resume: bool) -> OutputResult:
    files: list[LocalFile] = collect_files(inputs)
    request: dict[str, Any] = {"files": declare_files(client, files, fmt)}
    if ttl_days is not None:
        request["ttlDays"] = ttl_days
    if metadata is not None:
        request["metadata"] = metadata
    path = client._output_path(flow, run, name)
    # A resume state that names no asset and a version no push can have: a version push never takes it.
    target = Target({"api": client.url, "asset": "", "version": f"output:{flow}/{run}/{name}", "idempotencyKey": "",
                     "requestHash": request_hash(request)},
                    lambda upload_id, start: client._output_parts(flow, run, name, upload_id, start))
    store = ResumeStore(client.cache_dir)
    resumed = resume and any(_same_target(store.load(d["sha256"]), target) for d in request["files"] if "parts" in d)
    declared = client._api.call("PUT", path, body=request)
    sent = upload(client, target, declared["files"], files, store, resumed)
    output = declared if declared["status"] == "ready" else commit_until_ready(
        f"output {flow}/{run}/{name}", lambda: client._api.call("POST", path + "/commit"))
    for sha in sent.multipart:
        store.remove(sha)
    return OutputResult(output, sent.uploaded, sent.skipped, resumed)


def _same_target(state: dict[str, Any] | None, target: Target) -> bool:
    return state is not None and all(state.get(k) == v for k, v in target.state.items())
