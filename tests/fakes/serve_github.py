"""The GitHub stand-in as a process, for the browser tests: ``python -m tests.fakes.serve_github
<dir> <token>`` builds the sample repository in ``dir``, serves it on 127.0.0.1, prints one JSON
line (its URL), then prints one JSON line per issue or comment created, until stdin closes."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from tests.fakes.git_servers import GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo


def main() -> None:
    root, token = Path(sys.argv[1]), sys.argv[2]
    with serve(GitHubHandler, build_sample_repo(root), token=token) as fake:
        print(json.dumps({"url": fake.url}), flush=True)
        closed = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
        told = 0
        while not closed.is_set():
            with fake.lock:
                fresh = fake.issues[told:]
            for issue in fresh:
                print(json.dumps({"issue": issue}), flush=True)
            told += len(fresh)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
