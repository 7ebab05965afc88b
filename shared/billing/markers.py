"""Stripe events' markers: `processed_events/stripe:{event_id}` (the one marker type, shared.core.markers)."""

from __future__ import annotations

from shared.core.markers import Marker


def stripe_marker(event_id: str, event_type: str) -> Marker:
    return Marker(marker_id=f"stripe:{event_id}", source="stripe", event_type=event_type)
