"""Byte transfers to and from presigned URLs: streamed from and to disk in chunks, exactly the headers the
service signed, every byte counted (tests assert what moved), thread-safe for the part and range pools."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence, TypeVar

import httpx

STREAM_CHUNK = 1024 * 1024
T = TypeVar("T")


class TransferError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        """Network errors, throttling and server faults; a 4xx is not worth repeating as it was."""
        return self.status is None or self.status in (408, 429) or self.status >= 500


class Transfers:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.bytes_uploaded = 0
        self.bytes_downloaded = 0
        self.parts_uploaded = 0
        self._lock = threading.Lock()

    def _count(self, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self.bytes_uploaded += up
            self.bytes_downloaded += down

    def put(self, url: str, signed: dict[str, str], path: Path, start: int, end: int,
            on_bytes: Callable[[int], None] | None = None) -> None:
        length = end - start
        headers = {k.lower(): v for k, v in signed.items()}
        headers.setdefault("content-length", str(length))
        if headers["content-length"] != str(length):
            raise TransferError(f"the service signed content-length {headers['content-length']} for {length} bytes")

        def body() -> Iterator[bytes]:
            with open(path, "rb") as f:
                f.seek(start)
                left = length
                while left > 0:
                    chunk = f.read(min(STREAM_CHUNK, left))
                    if not chunk:
                        raise TransferError(f"{path} shrank while it was uploaded")
                    left -= len(chunk)
                    self._count(up=len(chunk))
                    if on_bytes:
                        on_bytes(len(chunk))
                    yield chunk

        try:
            res = self.http.put(url, content=body(), headers=headers)
        except httpx.TransportError as err:
            raise TransferError(f"PUT {_short(url)}: {err}") from err
        if res.status_code != 200:
            raise TransferError(f"PUT {_short(url)} answered {res.status_code}: {res.text[:300]}", res.status_code)
        with self._lock:
            self.parts_uploaded += 1

    def get(self, url: str, path: Path, start: int, end: int, *, whole: bool, hasher: Any = None,
            on_bytes: Callable[[int], None] | None = None) -> None:
        """GETs [start, end) into `path` at its offset; fails unless exactly that many bytes arrive."""
        headers = {} if whole else {"range": f"bytes={start}-{end - 1}"}
        received = 0
        try:
            with self.http.stream("GET", url, headers=headers) as res:
                if res.status_code != (200 if whole else 206):
                    res.read()
                    raise TransferError(f"GET {_short(url)} answered {res.status_code}: {res.text[:300]}", res.status_code)
                with open(path, "wb" if whole else "r+b") as f:
                    f.seek(start)
                    for chunk in res.iter_bytes(STREAM_CHUNK):
                        f.write(chunk)
                        received += len(chunk)
                        self._count(down=len(chunk))
                        if hasher is not None:
                            hasher.update(chunk)
                        if on_bytes:
                            on_bytes(len(chunk))
        except httpx.TransportError as err:
            raise TransferError(f"GET {_short(url)}: {err}") from err
        if received != end - start:
            raise TransferError(f"GET {_short(url)}: {received} bytes arrived, {end - start} expected")


def _short(url: str) -> str:
    return url.split("?", 1)[0]


def with_retries(attempts: int, fn: Callable[[], T]) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except TransferError as err:
            if not err.retryable or attempt >= attempts:
                raise
            time.sleep(min(5.0, 0.25 * 2 ** attempt))
    raise AssertionError("unreachable")


def run_pool(items: Sequence[T], workers: int, fn: Callable[[T], Any]) -> None:
    """Runs `fn` over `items` on `workers` threads; the first failure is raised once all have stopped."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        for fut in [pool.submit(fn, it) for it in items]:
            fut.result()
