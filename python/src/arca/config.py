"""Configuration with the TypeScript CLI's precedence: arguments, then ARCA_* environment, then the file
`arca login` writes ($ARCA_CONFIG, else $XDG_CONFIG_HOME/arca/config.json, else ~/.config/arca/config.json)."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import ClientError


@dataclass(frozen=True)
class Config:
    url: str
    token: str | None
    auth: str
    region: str | None
    cache_dir: Path


def config_file_path(env: Mapping[str, str]) -> Path:
    if env.get("ARCA_CONFIG"):
        return Path(env["ARCA_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".config")
    return Path(base, "arca", "config.json")


def default_cache_dir(env: Mapping[str, str], platform: str = sys.platform) -> Path:
    home = env.get("HOME") or str(Path.home())
    if platform == "darwin":
        return Path(home, "Library", "Caches", "arca")
    if platform == "win32":
        return Path(env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "arca", "cache")
    return Path(env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "arca")


def read_config_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as err:
        raise ClientError(f'config file {path} is not valid JSON ({err}); fix it or run "arca login" again') from err
    return {k: v for k, v in data.items() if isinstance(v, str)}


def load_config(url: str | None = None, token: str | None = None, cache_dir: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    file = read_config_file(config_file_path(env))

    def pick(*values: str | None) -> str | None:
        return next((v for v in values if v), None)

    chosen = pick(url, env.get("ARCA_URL"), file.get("url"))
    if not chosen:
        raise ClientError('no registry URL: pass url=, set ARCA_URL, or run "arca login --url URL"')
    # The login file's token belongs to the login file's URL: never send it to another registry.
    same = "url" not in file or file["url"].rstrip("/") == chosen.rstrip("/")
    tok = pick(token, env.get("ARCA_TOKEN"), file.get("token") if same else None)
    auth = pick(env.get("ARCA_AUTH"), file.get("auth")) or ("token" if tok else "sigv4")
    if auth == "token" and not tok:
        raise ClientError('auth is "token" but no token is set: pass token=, set ARCA_TOKEN, or run "arca login"')
    cache = pick(str(cache_dir) if cache_dir is not None else None, env.get("ARCA_CACHE_DIR"), file.get("cacheDir"))
    return Config(url=chosen.rstrip("/"), token=tok, auth=auth,
                  region=pick(env.get("ARCA_REGION"), env.get("AWS_REGION"), file.get("region")),
                  cache_dir=Path(cache) if cache else default_cache_dir(env))
