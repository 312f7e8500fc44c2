"""Parameter-based persistence (persistable-style): the version of `name` made from `params` (and the exact
versions of its `records`) is found by the service's paramsHash; only when none exists does `generate` run,
its payload is saved to a file, validated, and pushed with those params.

A version pushed WITHOUT params has no paramsHash and is never a match, not even for `{}`: only a version
pushed with `params={}` explicitly is. Matches are also checked to carry params, so a registry that still
hashes absent params as `{}` cannot hand one back either."""
from __future__ import annotations

import fcntl
import functools
import pickle
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TypeVar

from .errors import ArcaError, ClientError, NotFound
from .params import params_hash

if TYPE_CHECKING:
    from .client import Client, Version

T = TypeVar("T")


class PayloadInvalid(ArcaError):
    """The validator hook refused a payload (generated or loaded)."""

    code = "PayloadInvalid"


def pickle_save(obj: Any, path: Path) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def pickle_load(path: Path) -> Any:
    with open(path, "rb") as f:
        return pickle.load(f)


def joblib_save(obj: Any, path: Path) -> None:
    _joblib().dump(obj, path)


def joblib_load(path: Path) -> Any:
    return _joblib().load(path)


def _joblib() -> Any:
    try:
        import joblib
    except ImportError as err:
        raise ClientError('format "joblib" needs joblib: pip install "arca[joblib]"') from err
    return joblib


FORMATS: dict[str, tuple[Callable[[Any, Path], None], Callable[[Path], Any]]] = {
    "pkl": (pickle_save, pickle_load),
    "joblib": (joblib_save, joblib_load),
}


def _validated(obj: T, validate: Callable[[Any], None] | None, what: str) -> T:
    if validate is not None:
        try:
            validate(obj)
        except Exception as err:
            raise PayloadInvalid(f"{what}: {err}") from err
    return obj


def dependencies(client: Client, records: list[str]) -> list[dict[str, Any]]:
    """Each record's exact `name:version` and its own paramsHash, as the service stores them."""
    deps = []
    for spec in records:
        resolved = client.resolve(spec)
        v = client.get_version(resolved["asset"], resolved["version"])
        deps.append({"spec": f"{resolved['asset']}:{resolved['version']}", "paramsHash": v.get("paramsHash")})
    return deps


def find_match(client: Client, name: str, hash_: str) -> Version | None:
    try:
        found = client.versions(name, paramsHash=hash_, limit=100)
    except NotFound:
        return None
    # Newest first; a pending one is an upload under way (or abandoned), not something to load.
    return next((v for v in found if v.status in ("ready", "published") and v.params is not None), None)


@contextmanager
def _local_lock(client: Client, hash_: str) -> Iterator[None]:
    """Two processes on one machine asking for the same params wait for each other, so one generates."""
    locks = client.cache_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / hash_, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def load_or_generate(client: Client, name: str, params: dict[str, Any], generate: Callable[[], T], *,
                     records: list[str] | None = None, save: Callable[[Any, Path], None] | None = None,
                     load: Callable[[Path], Any] | None = None, validate: Callable[[Any], None] | None = None,
                     filename: str = "payload.pkl", **push_options: Any) -> T:
    if not isinstance(params, dict):
        raise ClientError("params must be a dict of JSON values")
    save = save or pickle_save
    load = load or pickle_load
    hash_ = params_hash(params, dependencies(client, records or []))
    with _local_lock(client, hash_):
        match = find_match(client, name, hash_)
        if match is not None:
            return _validated(load(client.pull(f"{match.spec}/{filename}")), validate, match.spec)  # type: ignore[no-any-return]
        obj = _validated(generate(), validate, f"generated payload for {name}")
        with tempfile.TemporaryDirectory(prefix="arca-") as tmp:
            path = Path(tmp, filename)
            save(obj, path)
            version = client.push(name, path, params=params, records=records or None, **push_options)
        if version.params_hash != hash_:
            raise ClientError(f"the service hashed these params to {version.params_hash}, the SDK to {hash_}")
        return obj


def persisted(client: Client, name: str, **options: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form: the function's keyword arguments are the params."""
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def inner(**params: Any) -> T:
            return load_or_generate(client, name, params, lambda: fn(**params), **options)
        return inner
    return wrap


@contextmanager
def payload_file(obj: Any, format: str) -> Iterator[Path]:
    """`obj` serialized into a temporary payload.<format> (what `load` and a run's `get_input` read back)."""
    if format not in FORMATS:
        raise ClientError(f'unknown format "{format}" (known: {", ".join(FORMATS)})')
    with tempfile.TemporaryDirectory(prefix="arca-") as tmp:
        path = Path(tmp, f"payload.{format}")
        FORMATS[format][0](obj, path)
        yield path


def save(client: Client, obj: Any, name: str, format: str = "pkl", **push_options: Any) -> Version:
    with payload_file(obj, format) as path:
        return client.push(name, path, **push_options)


def load(client: Client, spec: str, validate: Callable[[Any], None] | None = None) -> Any:
    """The payload of a version written by `save` (its one `payload.<format>` file)."""
    resolved = client.resolve(spec)
    payloads = [f for f in resolved["files"] if f["path"].rsplit(".", 1)[-1] in FORMATS]
    if len(payloads) != 1:
        raise ClientError(f"{spec}: expected one payload.pkl or payload.joblib file, found {len(payloads)}")
    f = payloads[0]
    path = client.pull(f"{resolved['asset']}:{resolved['version']}/{f['path']}")
    return _validated(FORMATS[f["path"].rsplit(".", 1)[-1]][1](path), validate, spec)
