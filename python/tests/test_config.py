"""Configuration precedence is the TypeScript CLI's: argument, then ARCA_* environment, then the login file."""
import json

import pytest

from arca.config import config_file_path, load_config
from arca.errors import ClientError


def write(tmp_path, **settings):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(settings))
    return {"ARCA_CONFIG": str(path), "HOME": str(tmp_path)}


def test_argument_over_environment_over_file(tmp_path):
    env = write(tmp_path, url="http://file", token="file-token", cacheDir="/file-cache")
    assert load_config(env=env).url == "http://file"
    assert load_config(env=env).token == "file-token"
    env2 = {**env, "ARCA_URL": "http://env/", "ARCA_TOKEN": "env-token", "ARCA_CACHE_DIR": "/env-cache"}
    c = load_config(env=env2)
    assert (c.url, c.token, str(c.cache_dir)) == ("http://env", "env-token", "/env-cache")
    c = load_config("http://arg", "arg-token", "/arg-cache", env=env2)
    assert (c.url, c.token, str(c.cache_dir), c.auth) == ("http://arg", "arg-token", "/arg-cache", "token")


def test_file_token_only_for_the_file_url(tmp_path):
    env = write(tmp_path, url="http://file", token="file-token")
    c = load_config("http://elsewhere.execute-api.us-east-1.amazonaws.com", env=env)
    assert c.token is None and c.auth == "sigv4"


def test_default_paths(tmp_path):
    env = {"HOME": str(tmp_path), "ARCA_URL": "http://x", "ARCA_TOKEN": "t"}
    assert config_file_path(env) == tmp_path / ".config" / "arca" / "config.json"
    assert load_config(env=env).cache_dir == tmp_path / ".cache" / "arca"
    assert load_config(env={**env, "XDG_CACHE_HOME": str(tmp_path / "xdg")}).cache_dir == tmp_path / "xdg" / "arca"


def test_missing_url_and_bad_file(tmp_path):
    with pytest.raises(ClientError, match="no registry URL"):
        load_config(env={"HOME": str(tmp_path)})
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ClientError, match="not valid JSON"):
        load_config(env={"ARCA_CONFIG": str(tmp_path / "bad.json")})
