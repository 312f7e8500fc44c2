"""One measured Python transfer of bench/transfer.ts (its own process, so /usr/bin/time sees only it).

  python-push  URL TOKEN FILE CACHE_DIR          arca.Client.push (one-pass hash + parts in parallel + commit)
  python-pull  URL TOKEN SPEC OUT_DIR CACHE_DIR  arca.Client.pull into an empty cache (ranged GETs + verify)
"""
import sys

import arca

mode, url, token, *rest = sys.argv[1:]
if mode == "python-push":
    file, cache = rest
    with arca.Client(url, token, cache, progress=False) as c:
        v = c.push("bench/file", file, resume=False)
        if v.status != "ready":
            raise SystemExit(f"push ended {v.status}")
elif mode == "python-pull":
    spec, out, cache = rest
    with arca.Client(url, token, cache, progress=False) as c:
        c.pull(spec, out)
else:
    raise SystemExit(f"unknown mode {mode}")
