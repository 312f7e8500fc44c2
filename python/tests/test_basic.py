"""Push, resolve, pull, publish, alias, delete and typed errors through the real local registry."""
from pathlib import Path

import pytest

import arca


def test_push_pull_small_files(client, name, tmp_path):
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "weights.bin").write_bytes(b"w" * 1000)
    (src / "sub" / "config.json").write_text('{"a": 1}')
    v = client.push(name, src, description="first", tags=["t"])
    assert v.version == "1.0.0" and v.status == "ready"
    assert sorted(f["path"] for f in v.files) == ["sub/config.json", "weights.bin"]
    out = client.pull(f"{name}:^1", tmp_path / "out")
    assert (out / "weights.bin").read_bytes() == b"w" * 1000
    assert (out / "sub" / "config.json").read_text() == '{"a": 1}'
    # Copies, never links into the cache.
    assert (out / "weights.bin").stat().st_ino != client.cache.blob_path(v.files[1]["sha256"]).stat().st_ino
    again = client.push_result(name, src, description="same bytes")
    assert again.uploaded == 0 and again.skipped == 1008 and again.version["version"] == "1.1.0"


def test_publish_alias_versions_delete(client, name, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("one")
    client.push(name, f)
    f.write_text("two")
    v2 = client.push(name, f, publish=True, alias="prod")
    assert v2.status == "published" and v2.aliases == ["prod"]
    assert client.resolve(f"{name}:prod")["version"] == v2.version
    assert [v.version for v in client.versions(name)] == ["1.1.0", "1.0.0"]
    assert client.get_asset(name)["name"] == name
    assert any(a["name"] == name for a in client.list_assets(prefix="py/"))
    client.delete_version(name, "1.0.0")
    assert [v.version for v in client.versions(name)] == ["1.1.0"]


def test_typed_errors_carry_code_message_request_id(client, name):
    with pytest.raises(arca.NotFound) as e:
        client.get_asset(name + "-missing")
    assert e.value.code == "NotFound" and e.value.status == 404 and e.value.request_id
    client.create_asset(name)
    with pytest.raises(arca.AlreadyExists) as e2:
        client.create_asset(name)
    assert isinstance(e2.value, arca.Conflict) and e2.value.message
    with pytest.raises(arca.ValidationError):
        client.create_asset("Bad Name!")


def test_wrong_token_is_unauthorized(registry, cache_dir, monkeypatch):
    monkeypatch.setenv("ARCA_CONFIG", str(cache_dir.parent / "none.json"))
    with arca.Client(registry.url, "arca_wrong", cache_dir) as c, pytest.raises(arca.Unauthorized):
        c.get_asset("x")
