"""paramsHash, byte for byte the service's: SHA-256 of the RFC 8785 canonical JSON of
`{"params": params, "dependencies": [{"spec", "paramsHash"}...]}`, dependencies sorted by spec."""
from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


def as_service_reads(value: Any) -> Any:
    """The value as the service holds it once JSON.parse has read it: every number is a double, so an
    integer beyond 2^53 is rounded to the nearest one (rfc8785 refuses such ints rather than guess)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value) if abs(value) > MAX_SAFE_INTEGER else value
    if isinstance(value, Mapping):
        return {k: as_service_reads(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_service_reads(v) for v in value]
    return value


def params_hash(params: Mapping[str, Any] | None, dependencies: Sequence[Mapping[str, Any]] = ()) -> str:
    # JavaScript compares strings by UTF-16 code units; UTF-16-BE bytes sort the same way.
    deps = sorted(({"spec": d["spec"], "paramsHash": d.get("paramsHash")} for d in dependencies),
                  key=lambda d: d["spec"].encode("utf-16-be"))
    body = rfc8785.dumps({"params": as_service_reads(dict(params) if params is not None else {}), "dependencies": deps})
    return hashlib.sha256(body).hexdigest()
