"""Make the pipeline's one SPA build this stack's, at deploy time (``scripts/deploy.sh``).

    python scripts/spa_config.py SITE_DIR API_URL

writes ``SITE_DIR/config.json`` (``{"apiBaseUrl": "<the API's origin>"}``, read by the SPA
before its first API call) and adds that origin to the ``connect-src`` of the Content Security
Policy in ``SITE_DIR/staticwebapp.config.json``, so the browser lets the SPA call it. Nothing
else in the build is touched: the bundle that reaches dev, a PR stack and prod is the same.
Exit 2 with a message on a URL or a build it cannot use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

RUNTIME_CONFIG = "config.json"
SWA_CONFIG = "staticwebapp.config.json"
CSP = "Content-Security-Policy"
# Plain http only where no browser would call it from an https page: this machine.
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class Unusable(ValueError):
    """The URL or the build cannot be deployed as asked."""


def api_origin(url: str) -> str:
    """The origin (scheme and host) of the API's URL, as a browser's ``Origin`` spells it."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise Unusable(f"API URL {url!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and host not in (h.strip("[]") for h in LOOPBACK):
        raise Unusable(f"API URL {url!r} is plain http: an https page cannot call it")
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return f"{parts.scheme}://{netloc}"


def configure(site: Path, api_url: str) -> str:
    """Write the runtime configuration into the built ``site``; returns the API's origin."""
    origin = api_origin(api_url)
    swa = site / SWA_CONFIG
    if not (site / "index.html").is_file() or not swa.is_file():
        raise Unusable(f"{site} is not a built SPA (index.html and {SWA_CONFIG} expected)")
    config = json.loads(swa.read_text())
    policy: str = config["globalHeaders"][CSP]
    directives = [d.strip() for d in policy.split(";")]
    connect = [i for i, d in enumerate(directives) if d.split(" ", 1)[0] == "connect-src"]
    if len(connect) != 1:
        raise Unusable(f"{SWA_CONFIG}: its {CSP} has no single connect-src directive")
    sources = directives[connect[0]].split()
    if origin not in sources:
        sources.insert(2 if sources[1:2] == ["'self'"] else 1, origin)
    directives[connect[0]] = " ".join(sources)
    config["globalHeaders"][CSP] = "; ".join(directives)
    swa.write_text(json.dumps(config, indent=2) + "\n")
    (site / RUNTIME_CONFIG).write_text(json.dumps({"apiBaseUrl": origin}) + "\n")
    return origin


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/spa_config.py SITE_DIR API_URL", file=sys.stderr)
        return 2
    try:
        origin = configure(Path(argv[0]), argv[1])
    except (Unusable, KeyError, json.JSONDecodeError) as error:
        print(f"spa_config: {error}", file=sys.stderr)
        return 2
    print(f"spa_config: the SPA calls its API at {origin}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
