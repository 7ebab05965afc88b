"""Lazily created, cached Google Cloud clients (never at import time).

Production serves one project per process. The local functions host serves several (tests isolate
themselves by project id), so the host sets `current_project` per request; everything here keys its
cache by that project.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from shared.core.settings import get_settings, require_redis_url

if TYPE_CHECKING:
    import redis
    from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

_project_override: ContextVar[str | None] = ContextVar("project_override", default=None)
_lock = threading.Lock()
_firestore: dict[str, firestore.Client] = {}
_publisher: list[pubsub_v1.PublisherClient] = []
_firebase_apps: dict[str, Any] = {}
_redis: list[redis.Redis] = []
# The shared store sits on the request path: a slow or absent one must cost milliseconds, not seconds.
REDIS_TIMEOUT_S = 0.25


def current_project() -> str:
    return _project_override.get() or get_settings().project_id


@contextmanager
def project_scope(project_id: str) -> Iterator[None]:
    """Run a block against another project (used by the local host and tests, never in production)."""
    token = _project_override.set(project_id)
    try:
        yield
    finally:
        _project_override.reset(token)


def firestore_client() -> firestore.Client:
    project = current_project()
    client = _firestore.get(project)
    if client is None:
        from google.cloud import firestore

        with _lock:
            client = _firestore.get(project)
            if client is None:
                client = firestore.Client(project=project)
                _firestore[project] = client
    return client


def publisher() -> pubsub_v1.PublisherClient:
    if not _publisher:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        with _lock:
            if not _publisher:
                # Every caller waits for its publish's acknowledgement, so the default 10 ms batching
                # window is pure latency on each trigger (the emulator's triggers run one at a time:
                # bench/counters); 1 ms still batches a sweep's burst of publishes.
                settings = pubsub_v1.types.BatchSettings(max_latency=0.001)
                _publisher.append(pubsub_v1.PublisherClient(batch_settings=settings))
    return _publisher[0]


def redis_client() -> redis.Redis | None:
    """The shared store (Memorystore in production, a local redis-server under `make dev` and the tests),
    or None when REDIS_URL is unset (local runs without one: no limits, no usage)."""
    if not _redis:
        settings = get_settings()
        url = require_redis_url(settings)
        if url is None:
            return None
        import redis

        # rediss:// (production: Memorystore's in-transit encryption) verifies the server against the
        # instance's own certificate authority.
        tls: dict[str, Any] = {}
        if url.startswith("rediss://") and settings.redis_ca_cert:
            tls = {"ssl_ca_data": settings.redis_ca_cert}
        with _lock:
            if not _redis:
                _redis.append(
                    redis.Redis.from_url(
                        url,
                        socket_timeout=REDIS_TIMEOUT_S,
                        socket_connect_timeout=REDIS_TIMEOUT_S,
                        health_check_interval=30,
                        **tls,
                    )
                )
    return _redis[0]


def topic_path(topic: str) -> str:
    return f"projects/{current_project()}/topics/{topic}"


def publish(topic: str, data: bytes, **attributes: str) -> str:
    """Publish and wait for the server's acknowledgement, so a caller never reports success for a loss."""
    return start_publish(topic, data, **attributes)()


def start_publish(topic: str, data: bytes, **attributes: str) -> Callable[[], str]:
    """Send now, wait later: returns the wait for the acknowledgement (the caller must call it), so other
    work can overlap the round trip."""
    future = publisher().publish(topic_path(topic), data, **attributes)
    return lambda: str(future.result(timeout=30))


def firebase_app() -> Any:
    """A firebase-admin app per project (ID tokens are checked against the project as audience)."""
    project = current_project()
    app = _firebase_apps.get(project)
    if app is None:
        import firebase_admin

        with _lock:
            app = _firebase_apps.get(project)
            if app is None:
                # A bounded wait: user lookups (revocation checks) sit on the request path.
                options = {"projectId": project, "httpTimeout": 10}
                app = firebase_admin.initialize_app(options=options, name=f"app-{project}")
                _firebase_apps[project] = app
    return app


def close_project_clients(project: str) -> None:
    """Drop and close a project's cached clients (tests use one project each; keeps channels bounded)."""
    with _lock:
        client = _firestore.pop(project, None)
        app = _firebase_apps.pop(project, None)
    if client is not None:
        client.close()
    if app is not None:
        import firebase_admin

        firebase_admin.delete_app(app)
