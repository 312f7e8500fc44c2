"""push (R-CLIENT, R-UPLOAD): hash each file and its parts in one pass, declare the version, upload only
what the store lacks (parts in parallel, retried), resume an interrupted multipart upload of the same
request from the state the TypeScript client also keeps (uploads/<sha256>.json), then commit."""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .cache import CHUNK, ResumeStore
from .errors import AlreadyExists, ArcaError, ClientError, NotFound
from ._transfer import TransferError, run_pool, with_retries

if TYPE_CHECKING:
    from .client import Client

MIB = 1024 * 1024
MIN_PART_SIZE = 64 * MIB
MAX_PARTS = 10_000
COMMIT_DEADLINE_S = 15 * 60


def part_size_for(size: int) -> int:
    """The service's function of size (R-UPLOAD): max(64 MiB, ceil(size / 10000 / 1 MiB) MiB)."""
    return max(MIN_PART_SIZE, -(-size // (MAX_PARTS * MIB)) * MIB)


@dataclass
class LocalFile:
    path: str
    source: Path
    size: int


def collect_files(inputs: list[Path]) -> list[LocalFile]:
    """Files keep their base name; a directory's files keep their path relative to it."""
    files: list[LocalFile] = []
    for root in inputs:
        if not root.exists():
            raise ClientError(f"no such file or directory: {root}")
        if root.is_dir():
            # Symlinked files are followed; symlinked directories are not (they can loop).
            for dirpath, _dirs, names in os.walk(root):
                for n in names:
                    full = Path(dirpath, n)
                    if full.is_file():
                        files.append(LocalFile(full.relative_to(root).as_posix(), full, full.stat().st_size))
        else:
            files.append(LocalFile(root.name, root, root.stat().st_size))
    if not files:
        raise ClientError(f"nothing to push: {', '.join(map(str, inputs))} holds no files")
    seen: set[str] = set()
    for f in files:
        if f.path in seen:
            raise ClientError(f'two inputs give the same path "{f.path}" in the version; push them from one directory')
        seen.add(f.path)
    return sorted(files, key=lambda f: f.path.encode("utf-16-be"))


def hash_file(path: Path, size: int, with_parts: bool, on_bytes: Callable[[int], None] | None = None) -> dict[str, Any]:
    """One pass: the whole file's SHA-256 and, with parts, each part's (part size fixed by the size)."""
    ps = part_size_for(size)
    whole = hashlib.sha256()
    parts: list[str] = []
    part = hashlib.sha256()
    in_part = 0
    read = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            whole.update(chunk)
            read += len(chunk)
            if on_bytes:
                on_bytes(len(chunk))
            view = memoryview(chunk)
            while with_parts and view:
                take = min(len(view), ps - in_part)
                part.update(view[:take])
                in_part += take
                view = view[take:]
                if in_part == ps:
                    parts.append(part.hexdigest())
                    part, in_part = hashlib.sha256(), 0
    if read != size:
        raise ClientError(f"{path} changed while it was read ({size} bytes expected, {read} read)")
    if with_parts and (in_part or not parts):
        parts.append(part.hexdigest())
    digest: dict[str, Any] = {"size": size, "sha256": whole.hexdigest()}
    if with_parts:
        digest["parts"] = parts
    return digest


class DigestCache:
    """Digests of files already hashed (the TypeScript client's digests/ entries): keyed by device, inode,
    size, mtime and ctime in nanoseconds, so any change to a file misses."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = Path(cache_dir) / "digests"

    @staticmethod
    def key(path: Path, with_parts: bool) -> str:
        st = path.stat()
        raw = "|".join(map(str, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))) + (
            "|true" if with_parts else "|false")
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            d: dict[str, Any] = json.loads((self.dir / key).read_text("utf-8"))
            return d
        except (OSError, ValueError):
            return None

    def set(self, key: str, digest: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f"{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(digest), "utf-8")
        os.replace(tmp, self.dir / key)


@dataclass
class PushResult:
    version: dict[str, Any]
    uploaded: int
    skipped: int
    resumed: bool


METADATA_KEYS = ("description", "tags", "hyperparameters", "config", "metrics", "records", "params")


def declare_files(client: Client, files: list[LocalFile], fmt: str | None) -> list[dict[str, Any]]:
    """Each file's declaration (size, SHA-256, parts above the multipart threshold), digests cached."""
    digests = DigestCache(client.cache_dir)
    declared: list[dict[str, Any]] = []
    with client._progress(sum(f.size for f in files), "hash") as bar:
        for f in files:
            with_parts = f.size > client.multipart_threshold
            key = digests.key(f.source, with_parts)
            digest = digests.get(key)
            if not digest or digest.get("size") != f.size:
                digest = hash_file(f.source, f.size, with_parts, bar.update)
                digests.set(key, digest)
            else:
                bar.update(f.size)
            decl: dict[str, Any] = {"path": f.path, "size": f.size, "sha256": digest["sha256"]}
            if fmt:
                decl["format"] = fmt
            if with_parts:
                decl["parts"] = digest["parts"]
            declared.append(decl)
    return declared


def request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


@dataclass
class Target:
    """What a declaration's uploads belong to (a version or a run output). `state` holds the resume-state
    fields naming it (api, asset, version, idempotencyKey, requestHash); `parts(upload_id, start)` asks for
    fresh part URLs of one of its multipart uploads."""
    state: dict[str, Any]
    parts: Callable[[str, int], dict[str, Any]]


@dataclass
class Sent:
    uploaded: int
    skipped: int
    multipart: list[str]  # files with a resume state, removed once committed


def upload(client: Client, target: Target, records: list[dict[str, Any]], files: list[LocalFile],
           store: ResumeStore, resumed: bool) -> Sent:
    """Sends what the declaration's answer asks for: nothing for `present` files, one PUT, or the parts of a
    multipart upload not recorded done in the resume state of the same upload (kept per part as they land)."""
    by_path = {f.path: f for f in files}
    tasks: list[dict[str, Any]] = []
    states: dict[str, dict[str, Any]] = {}
    skipped = 0
    for rec in records:
        file = by_path.get(rec["path"])
        if file is None:
            raise ClientError(f"the service declared a file that was not sent: {rec['path']}")
        if rec.get("state") == "present":
            skipped += rec["size"]
        elif rec.get("upload"):
            tasks.append({"file": file, "sha": rec["sha256"], "start": 0, "end": rec["size"], "part": None,
                          "url": rec["upload"]["url"], "headers": rec["upload"].get("headers", {})})
        elif rec.get("multipart"):
            mp = rec["multipart"]
            prior = store.load(rec["sha256"]) if resumed else None
            state = {**target.state, "uploadId": mp["uploadId"], "partSize": mp["partSize"],
                     "done": list(prior["done"]) if prior and prior["uploadId"] == mp["uploadId"] else []}
            states[rec["sha256"]] = state
            store.save(rec["sha256"], state)
            done = set(state["done"])
            # A replayed declaration hands back the first answer's URLs, which may have expired: ask for fresh ones.
            for p in _all_part_urls(target, mp, resumed):
                start = (p["partNumber"] - 1) * mp["partSize"]
                end = min(rec["size"], start + mp["partSize"])
                if p["partNumber"] in done:
                    skipped += end - start
                else:
                    tasks.append({"file": file, "sha": rec["sha256"], "start": start, "end": end,
                                  "part": p["partNumber"], "url": p["url"], "headers": p.get("headers", {})})
        else:
            raise ClientError(f"the service gave no upload instructions for {rec['path']}")

    before = client.transfers.bytes_uploaded
    lock = threading.Lock()
    with client._progress(sum(t["end"] - t["start"] for t in tasks), "upload") as bar:
        def send(task: dict[str, Any]) -> None:
            def attempt() -> None:
                try:
                    client.transfers.put(task["url"], task["headers"], task["file"].source, task["start"],
                                         task["end"], bar.update)
                except TransferError as err:
                    # Create-only blob writes: 412 means another upload stored these bytes first.
                    if err.status == 412 and task["part"] is None:
                        return
                    if err.status == 403 and task["part"] is not None:
                        # An expired part URL: a fresh one, then another try.
                        fresh = target.parts(states[task["sha"]]["uploadId"], task["part"])
                        p = next(x for x in fresh["parts"] if x["partNumber"] == task["part"])
                        task["url"], task["headers"] = p["url"], p.get("headers", {})
                        raise TransferError(str(err), 503) from err
                    raise
            with_retries(client.attempts, attempt)
            if task["part"] is not None:
                with lock:
                    state = states[task["sha"]]
                    state["done"].append(task["part"])
                    store.save(task["sha"], state)

        run_pool(tasks, client.concurrency, send)
    return Sent(client.transfers.bytes_uploaded - before, skipped, list(states))


def push(client: Client, name: str, inputs: list[Path], *, version: str | None, bump: str | None, fmt: str | None,
         asset_type: str, publish: bool, alias: str | None, resume: bool, metadata: dict[str, Any]) -> PushResult:
    unknown = set(metadata) - set(METADATA_KEYS)
    if unknown:
        raise ClientError(f"unknown push metadata: {', '.join(sorted(unknown))} (known: {', '.join(METADATA_KEYS)})")
    files = collect_files(inputs)
    declared = declare_files(client, files, fmt)

    request: dict[str, Any] = {}
    if version:
        request["version"] = version
    if bump:
        request["bump"] = bump
    request["files"] = declared
    request.update({k: metadata[k] for k in METADATA_KEYS if metadata.get(k) is not None})

    store = ResumeStore(client.cache_dir)
    req_hash = request_hash(request)
    multipart_shas = [d["sha256"] for d in declared if "parts" in d]
    previous = _find_resumable(client, store, name, req_hash, multipart_shas) if resume else None
    idem = previous["idempotencyKey"] if previous else str(uuid.uuid4())
    created = _create_ensuring_asset(client, name, request, idem, asset_type)
    resumed = previous is not None and previous["version"] == created["version"]

    target = Target({"api": client.url, "asset": name, "version": created["version"], "idempotencyKey": idem,
                     "requestHash": req_hash},
                    lambda upload_id, start: client._upload_parts(name, created["version"], upload_id, start))
    sent = upload(client, target, created["files"], files, store, resumed)

    record = commit_until_ready(f"{name}:{created['version']}", lambda: client._commit(name, created["version"]))
    for sha in sent.multipart:
        store.remove(sha)
    if publish:
        record = client.publish(name, record["version"])
    if alias:
        client.set_alias(name, alias, record["version"])
    if publish or alias:
        record = client.get_version(name, record["version"])
    return PushResult(record, sent.uploaded, sent.skipped, resumed)


def _find_resumable(client: Client, store: ResumeStore, name: str, request_hash: str, shas: list[str]) -> dict[str, Any] | None:
    for sha in shas:
        state = store.load(sha)
        if not state or state.get("api") != client.url or state.get("asset") != name or state["requestHash"] != request_hash:
            continue
        try:
            current = client.get_version(name, state["version"])
        except ArcaError:
            current = None
        if current and current.get("status") == "pending":
            return state
        store.remove(sha)
    return None


def _create_ensuring_asset(client: Client, name: str, request: dict[str, Any], idem: str, asset_type: str) -> dict[str, Any]:
    path = f"/v1/assets/{client._enc(name)}/-/versions"
    try:
        return client._api.call("POST", path, body=request, headers={"idempotency-key": idem})  # type: ignore[no-any-return]
    except NotFound:
        # First push of a new asset: create it (a concurrent creator is fine), then declare the version.
        try:
            client.create_asset(name, type=asset_type)
        except AlreadyExists:
            pass
        return client._api.call("POST", path, body=request, headers={"idempotency-key": idem})  # type: ignore[no-any-return]


def _all_part_urls(target: Target, mp: dict[str, Any], fresh: bool) -> list[dict[str, Any]]:
    page = target.parts(mp["uploadId"], 1) if fresh else mp
    urls = list(page["parts"])
    while page.get("nextPart") is not None:
        page = target.parts(mp["uploadId"], page["nextPart"])
        urls.extend(page["parts"])
    return urls


def commit_until_ready(label: str, commit: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Commit is idempotent; a 202 (a large file still being hashed) or a transient failure is retried."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            committed = commit()
            if committed["status"] != "pending":
                return committed
        except ArcaError as err:
            transient = err.code in ("NetworkError", "Throttled") or (err.status or 0) >= 500
            if not transient or time.monotonic() - started > COMMIT_DEADLINE_S:
                raise
        if time.monotonic() - started > COMMIT_DEADLINE_S:
            raise ClientError(f"{label} is still being verified after 15 min; commit it again later")
        time.sleep(min(10.0, 1.0 * attempt))
