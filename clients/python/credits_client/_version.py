"""The client's version: the one source (pyproject.toml reads it; the User-Agent names it)."""

__version__ = "1.1.0"
