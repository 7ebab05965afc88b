"""Structured JSON logs in the Cloud Logging format (one JSON object per line on stdout)."""

from __future__ import annotations

import json
import sys
import traceback
from datetime import UTC, datetime
from typing import Any


def log(severity: str, message: str, **fields: Any) -> None:
    entry: dict[str, Any] = {
        "severity": severity,
        "message": message,
        "time": datetime.now(UTC).isoformat(),
    }
    request_id = fields.pop("request_id", None)
    if request_id:
        entry["logging.googleapis.com/labels"] = {"request_id": str(request_id)}
    entry.update(fields)
    sys.stdout.write(json.dumps(entry, default=str) + "\n")
    sys.stdout.flush()


def info(message: str, **fields: Any) -> None:
    log("INFO", message, **fields)


def warning(message: str, **fields: Any) -> None:
    log("WARNING", message, **fields)


def error(message: str, **fields: Any) -> None:
    log("ERROR", message, **fields)


def exception(message: str, exc: BaseException, **fields: Any) -> None:
    """Log an unexpected exception with its stack trace (for Error Reporting), never shown to callers."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log("ERROR", f"{message}\n{trace}", exception_type=type(exc).__name__, **fields)


def request_log(request: Any, status: int, seconds: float, request_id: str) -> None:
    """One line per request, with Cloud Logging's httpRequest fields (never the Authorization header)."""
    log(
        "WARNING" if status >= 500 else "INFO",
        f"{request.method} {request.path} {status}",
        request_id=request_id,
        httpRequest={
            "requestMethod": request.method,
            "requestUrl": request.path,
            "status": status,
            "latency": f"{seconds:.6f}s",
            "userAgent": request.headers.get("User-Agent", ""),
        },
    )
