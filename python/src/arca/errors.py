"""Typed errors: one class per service error code (R-ERR), each carrying code, message and request id."""
from __future__ import annotations

import json
from typing import Any


class ArcaError(Exception):
    """Base of every error the SDK raises; `code` is the service's (or `ClientError` / `NetworkError`)."""

    code = "ClientError"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 request_id: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details

    def __str__(self) -> str:
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{rid}"


class ValidationError(ArcaError): code = "ValidationError"
class Unauthorized(ArcaError): code = "Unauthorized"
class Forbidden(ArcaError): code = "Forbidden"
class NotFound(ArcaError): code = "NotFound"
class Conflict(ArcaError): code = "Conflict"
class AlreadyExists(Conflict): code = "AlreadyExists"
class VersionCapReached(Conflict): code = "VersionCapReached"
class VersionPublished(Conflict): code = "VersionPublished"
class VersionNotReady(Conflict): code = "VersionNotReady"
class AliasInUse(Conflict): code = "AliasInUse"
class UploadIncomplete(Conflict): code = "UploadIncomplete"
class PreconditionFailed(ArcaError): code = "PreconditionFailed"
class PayloadTooLarge(ArcaError): code = "PayloadTooLarge"
class ChecksumMismatch(ArcaError): code = "ChecksumMismatch"
class Throttled(ArcaError): code = "Throttled"
class Internal(ArcaError): code = "Internal"
class NetworkError(ArcaError): code = "NetworkError"
class ClientError(ArcaError): code = "ClientError"

_BY_CODE: dict[str, type[ArcaError]] = {
    c.code: c for c in (ValidationError, Unauthorized, Forbidden, NotFound, AlreadyExists, VersionCapReached,
                        VersionPublished, VersionNotReady, AliasInUse, UploadIncomplete, PreconditionFailed,
                        PayloadTooLarge, ChecksumMismatch, Throttled, Internal)
}
_BY_STATUS = {400: ValidationError, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
              412: PreconditionFailed, 413: PayloadTooLarge, 422: ChecksumMismatch, 429: Throttled}


def error_from_response(status: int, text: str, request_id: str | None) -> ArcaError:
    """The service's error shape when the body has it; a status-based error when a gateway answered."""
    try:
        err = json.loads(text).get("error") or {}
        if err.get("code") and err.get("message"):
            cls = _BY_CODE.get(err["code"], ArcaError)
            return cls(err["message"], code=err["code"], status=status,
                       request_id=err.get("requestId") or request_id, details=err.get("details"))
    except (ValueError, AttributeError):
        pass
    cls = _BY_STATUS.get(status, Internal if status >= 500 else ValidationError)
    return cls(f"HTTP {status}: {text[:200]}", status=status, request_id=request_id)
