"""Write the API's OpenAPI document to frontend/openapi.json (the SPA's typed client is
generated from it). ``--check`` fails when the checked-in document is not current."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.main import create_app
from app.settings import Settings

TARGET = Path(__file__).resolve().parents[1] / "frontend" / "openapi.json"


def render() -> str:
    # Settings of its own: the document must not depend on the caller's environment.
    app = create_app(Settings(spa_dir=Path("/nonexistent")))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.is_file() or TARGET.read_text() != text:
            print(
                "frontend/openapi.json is not the API's current OpenAPI document: run "
                "`bash scripts/gen-api-client` and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
