"""Commits with a chosen author and date, for repositories the tests build."""

from __future__ import annotations

import os
from datetime import datetime


def commit_env(author: str, email: str, when: datetime) -> dict[str, str]:
    """An environment for ``git commit`` that dates the commit ``when``, whatever the user's
    own git configuration says."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
