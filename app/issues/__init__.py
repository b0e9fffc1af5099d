"""Issues: a fingerprint within a repository, with a state (unresolved, resolved, ignored), an
assignee, and the releases and commits it was seen in. ``events`` is what the rest of the
platform hears; ``releases`` decides regressions; ``codeowners`` names a file's owners."""
