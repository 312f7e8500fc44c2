"""JSON calls to the API: a bearer token in local mode, SigV4 (botocore, standard credential chain,
service execute-api) against a deployed stage. Reads and idempotent writes are retried on 429/5xx."""
from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any, Mapping
from urllib.parse import quote, urlencode

import httpx

from .config import Config
from .errors import ArcaError, ClientError, NetworkError, error_from_response

USER_AGENT = "arca-python/0.1.0"


def encode_path(s: str) -> str:
    """Each `/`-separated segment encoded, the slashes kept: names and specs sit in paths as they are."""
    return "/".join(quote(seg, safe="") for seg in s.split("/"))


def region_from_url(url: str) -> str | None:
    host = httpx.URL(url).host
    m = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$", host) or re.search(
        r"\.lambda-url\.([a-z0-9-]+)\.on\.aws$", host)
    return m.group(1) if m else None


class SigV4Signer:
    """Signs with botocore's SigV4Auth; credentials from botocore's default chain unless given."""

    def __init__(self, region: str, credentials: Any = None) -> None:
        import botocore.session
        from botocore.auth import SigV4Auth

        creds = credentials or botocore.session.get_session().get_credentials()
        if creds is None:
            raise ClientError("no AWS credentials found in the standard chain (env, profile, SSO, instance role)")
        self._auth = SigV4Auth(creds, "execute-api", region)

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        from botocore.awsrequest import AWSRequest

        # The payload's digest is sent and signed, as the TypeScript SDK's signer does: the request is then
        # bound to its body even where the gateway does not hash bodies itself.
        headers = {**headers, "x-amz-content-sha256": hashlib.sha256(body or b"").hexdigest()}
        req = AWSRequest(method=method, url=url, headers=headers, data=body or b"")
        self._auth.add_auth(req)
        return dict(req.headers.items())


class Api:
    def __init__(self, config: Config, http: httpx.Client, credentials: Any = None) -> None:
        self.config = config
        self.http = http
        self._signer: SigV4Signer | None = None
        self._credentials = credentials

    def _headers(self, method: str, url: str, body: bytes | None, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"accept": "application/json", "user-agent": USER_AGENT, **extra}
        if body is not None:
            headers["content-type"] = "application/json"
        if self.config.auth == "token":
            headers["authorization"] = f"Bearer {self.config.token}"
            return headers
        if self._signer is None:
            region = self.config.region or region_from_url(self.config.url)
            if not region:
                raise ClientError(f"cannot tell the AWS region of {self.config.url}: set AWS_REGION")
            self._signer = SigV4Signer(region, self._credentials)
        return self._signer.sign(method, url, headers, body)

    def call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None, body: Any = None,
             headers: Mapping[str, str] | None = None) -> Any:
        q = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items() if v is not None}
        url = self.config.url + path + (f"?{urlencode(q)}" if q else "")
        data = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        extra = dict(headers or {})
        attempts = 4 if method == "GET" or "idempotency-key" in extra else 1
        for attempt in range(1, attempts + 1):
            try:
                res = self.http.request(method, url, content=data, headers=self._headers(method, url, data, extra))
            except httpx.TransportError as err:
                if attempt >= attempts:
                    raise NetworkError(f"{method} {url}: {err}") from err
                time.sleep(0.2 * 2 ** attempt)
                continue
            if res.is_success:
                return res.json() if res.content else None
            if (res.status_code == 429 or res.status_code >= 500) and attempt < attempts:
                time.sleep(0.2 * 2 ** attempt)
                continue
            raise error_from_response(res.status_code, res.text, res.headers.get("x-request-id"))
        raise ArcaError("unreachable")  # pragma: no cover
