"""SigV4 requests are signed by botocore: service execute-api, the stage's region, the signed headers."""
import hashlib
import json
import re

import httpx
from botocore.credentials import Credentials

import arca

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


def capture(monkeypatch, tmp_path, call):
    monkeypatch.setenv("ARCA_CONFIG", str(tmp_path / "none.json"))
    for k in ("ARCA_URL", "ARCA_TOKEN", "ARCA_AUTH", "ARCA_REGION", "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"name": "a", "type": "model"})

    c = arca.Client(URL, cache_dir=tmp_path / "cache", credentials=Credentials("AKIDEXAMPLE", "secret"))
    c._api.http = httpx.Client(transport=httpx.MockTransport(handler))
    call(c)
    return seen[0]


def test_requests_are_signed_by_botocore(monkeypatch, tmp_path):
    req = capture(monkeypatch, tmp_path, lambda c: c.create_asset("team/model"))
    auth = req.headers["authorization"]
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/eu-west-1/execute-api/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
    assert m, auth
    assert re.fullmatch(r"\d{8}T\d{6}Z", req.headers["x-amz-date"]) and req.headers["x-amz-date"].startswith(m.group(1))
    signed = m.group(2).split(";")
    assert {"host", "x-amz-date", "x-amz-content-sha256", "content-type"} <= set(signed)
    assert req.headers["x-amz-content-sha256"] == hashlib.sha256(req.content).hexdigest()
    assert json.loads(req.content) == {"name": "team/model", "type": "model"}


def test_signature_depends_on_the_body(monkeypatch, tmp_path):
    a = capture(monkeypatch, tmp_path, lambda c: c.create_asset("a"))
    b = capture(monkeypatch, tmp_path, lambda c: c.create_asset("b"))
    assert a.headers["authorization"].split("Signature=")[1] != b.headers["authorization"].split("Signature=")[1]


def test_token_wins_when_given(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCA_CONFIG", str(tmp_path / "none.json"))
    c = arca.Client("http://127.0.0.1:1", "tok", tmp_path / "cache")
    assert c.config.auth == "token"
