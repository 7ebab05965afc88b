"""Facts of the API's OpenAPI description that the hand-written layer follows (written by
clients/generate.py; never edited by hand)."""

TERMINAL_JOB_STATUSES: frozenset[str] = frozenset({"canceled", "completed", "failed"})
