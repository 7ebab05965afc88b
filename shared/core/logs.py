"""Structured JSON logs in the Cloud Logging format (one JSON object per line on stdout)."""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
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


class FaultLog:
    """The log line of a failing dependency (Redis, Stripe), at most once per `interval_s` per process.

    An outage fails every request: one line each would flood the logs and bury everything else. The first
    failure is logged at once; later ones are counted, and the next line (once the interval has passed)
    says how many there were since the last (`count`). Every line carries `fault`, which the log-based
    metrics of the deploy plan (localdev/deploy.py) count, and an alert policy watches."""

    def __init__(
        self, fault: str, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.fault = fault
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_logged: float | None = None
        self._count = 0

    def warning(self, message: str, **fields: Any) -> bool:
        """Count one failure; log it (with the count since the last line) if the interval has passed.
        Returns whether a line was written."""
        with self._lock:
            self._count += 1
            now = self._clock()
            if self._last_logged is not None and now - self._last_logged < self.interval_s:
                return False
            count, self._count, self._last_logged = self._count, 0, now
        log("WARNING", message, fault=self.fault, count=count, interval_s=self.interval_s, **fields)
        return True
