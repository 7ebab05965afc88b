"""Auto top-up (docs/credits.md): when the balance falls below the customer's threshold, one off-session
purchase of their chosen package with their default card.

- One attempt at a time, however many debits cross the threshold together: an attempt is claimed on
  `auto_top_up/{uid}` with a precondition (its `in_flight` names it); its purchase id and Stripe idempotency
  key are derived from the attempt, so a retried trigger resumes it instead of charging twice.
- Never past `monthly_limit_cents`: the price is counted against the month when the attempt is claimed
  (given back if nothing was charged); a cooldown separates attempts.
- A decline (card_declined, authentication_required, no default card, the card deleted) turns auto top-up
  off with `disabled_reason`; nothing retries it until the customer turns it on again.
- Its grant is a purchase's like any other (a `purchase` ledger entry, a paid grant with source
  auto_top_up).

A charge whose answer did not decide (lost, or the payment processing) is decided by Stripe's events: the
trigger on `purchases/{id}` ends the attempt with `conclude_purchase` as the answer would have.

The crossing is seen by the Firestore trigger on `users/{uid}` (shared/webhooks/account_events.py), which
reads nothing unless the balance document's `auto_top_up_below` says auto top-up is on and the balance is
below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.accounts.service import account_ref, get_account
from shared.billing.purchases import charge_off_session, credit_packages, load_purchase, purchase_ref
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.credits.ledger import derived_id
from shared.models import Account, AutoTopUp, AutoTopUpFailure, Purchase, PurchaseStatus, utc_now

COOLDOWN = timedelta(seconds=60)


def settings_ref(user_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(AutoTopUp.collection).document(user_id)


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def read_settings(user_id: str) -> AutoTopUp:
    snapshot = settings_ref(user_id).get()
    if not snapshot.exists:
        return AutoTopUp(enabled=False, threshold=0, package="", monthly_limit_cents=0)
    return AutoTopUp.from_firestore(snapshot.to_dict())


def settings_resource(settings: AutoTopUp, now: datetime | None = None) -> dict[str, Any]:
    month = month_of(now or utc_now())
    return {
        "enabled": settings.enabled,
        "threshold": settings.threshold,
        "package": settings.package or None,
        "monthly_limit_cents": settings.monthly_limit_cents,
        "low_balance_threshold": settings.low_balance_threshold,
        "disabled_reason": settings.disabled_reason.value if settings.disabled_reason else None,
        "month_spent_cents": settings.month_spent_cents if settings.month == month else 0,
        "in_progress": settings.in_flight is not None,
    }


def configure(
    user_id: str,
    *,
    enabled: bool,
    threshold: int,
    package: str | None,
    monthly_limit_cents: int,
    low_balance_threshold: int | None,
) -> dict[str, Any]:
    """Save the settings (turning it on clears a disabled_reason) and the balance document's copy of the
    thresholds the trigger compares with. Refused: an unknown package, one whose credits would not bring
    the balance back to the threshold, a monthly limit below its price."""
    get_account(user_id)
    if enabled:
        packages = credit_packages()
        chosen = packages.get(package or "")
        if chosen is None:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID,
                f"Choose a package: one of {', '.join(sorted(packages))}.",
                param="package",
            )
        if chosen.credits < threshold:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID,
                f"The {package} package ({chosen.credits} credits) cannot bring the balance back to the"
                f" threshold of {threshold}; choose a larger package or a lower threshold.",
                param="package",
            )
        if monthly_limit_cents < chosen.price:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID,
                f"The monthly limit is below the {package} package's price ({chosen.price} cents).",
                param="monthly_limit_cents",
            )

    def attempt() -> AutoTopUp:
        ref = settings_ref(user_id)
        snapshot = ref.get()
        current = (
            AutoTopUp.from_firestore(snapshot.to_dict())
            if snapshot.exists
            else AutoTopUp(enabled=False, threshold=0, package="", monthly_limit_cents=0)
        )
        updated = current.model_copy(
            update={
                "enabled": enabled,
                "threshold": threshold,
                "package": package or "",
                "monthly_limit_cents": monthly_limit_cents,
                "low_balance_threshold": low_balance_threshold,
                "disabled_reason": None if enabled else current.disabled_reason,
                "updated_at": utc_now(),
            }
        )
        batch = firestore_client().batch()
        if snapshot.exists:
            batch.update(
                ref,
                updated.to_firestore(),
                option=firestore_client().write_option(last_update_time=snapshot.update_time),
            )
        else:
            batch.create(ref, updated.to_firestore())
        batch.update(account_ref(user_id), _thresholds(updated))
        batch.commit()
        return updated

    return settings_resource(retry_commit(attempt, what=f"auto top-up of {user_id}"))


def _thresholds(settings: AutoTopUp) -> dict[str, Any]:
    return {
        "auto_top_up_below": settings.threshold if settings.enabled else None,
        "low_balance_below": settings.low_balance_threshold,
    }


@dataclass(frozen=True)
class TopUpOutcome:
    attempt_id: str
    purchase_id: str
    succeeded: bool
    credits: int = 0
    amount_cents: int = 0
    reason: AutoTopUpFailure | None = None


def top_up_if_due(user_id: str, now: datetime | None = None) -> TopUpOutcome | None:
    """Claim an attempt when one is due (or resume the one in flight) and make it. None when nothing is
    due (off, balance at or above the threshold, in cooldown, the month's limit reached) or the attempt's
    payment is still processing (Stripe's events grant it; the next debit below the threshold ends it)."""
    now = now or utc_now()
    ref = settings_ref(user_id)
    snapshot = ref.get()
    if not snapshot.exists:
        return None
    settings = AutoTopUp.from_firestore(snapshot.to_dict())
    attempt_id = settings.in_flight
    if attempt_id is None:
        attempt_id = _claim(user_id, snapshot, settings, now)
        if attempt_id is None:
            return None
        settings = read_settings(user_id)
    return _make_attempt(user_id, settings, attempt_id)


def _claim(user_id: str, snapshot: Any, settings: AutoTopUp, now: datetime) -> str | None:
    if not settings.enabled:
        return None
    account = Account.from_firestore(account_ref(user_id).get().to_dict())
    if account.credits >= settings.threshold:
        return None
    if settings.last_attempt_at is not None and now - settings.last_attempt_at < COOLDOWN:
        return None
    package = credit_packages().get(settings.package)
    if package is None:
        return None
    month = month_of(now)
    spent = settings.month_spent_cents if settings.month == month else 0
    if spent + package.price > settings.monthly_limit_cents:
        return None
    attempt_id = derived_id("att", user_id, str(settings.attempts + 1))
    try:
        ref = settings_ref(user_id)
        ref.update(
            {
                "attempts": settings.attempts + 1,
                "in_flight": attempt_id,
                "last_attempt_at": now,
                "month": month,
                "month_spent_cents": spent + package.price,
            },
            option=firestore_client().write_option(last_update_time=snapshot.update_time),
        )
    except RETRYABLE_COMMIT_ERRORS:  # a concurrent trigger claimed (or changed the settings) first
        return None
    return attempt_id


def _make_attempt(user_id: str, settings: AutoTopUp, attempt_id: str) -> TopUpOutcome | None:
    purchase_id = "pur_" + attempt_id.removeprefix("att_")
    purchase = load_purchase(purchase_id)
    if purchase is None:
        package = credit_packages().get(settings.package)
        if package is None:
            return _end(user_id, attempt_id, purchase_id, None, AutoTopUpFailure.PACKAGE_UNAVAILABLE)
        now = utc_now()
        purchase = Purchase(
            user_id=user_id,
            package=settings.package,
            credits=package.credits,
            amount=package.price,
            currency=package.currency,
            auto_top_up=True,
            created_at=now,
            updated_at=now,
        )
        try:
            purchase_ref(purchase_id).create(purchase.to_firestore())
        except AlreadyExists:
            purchase = load_purchase(purchase_id) or purchase
    if purchase.status is PurchaseStatus.PENDING:
        try:
            charge_off_session(purchase_id, purchase)
        except ApiError as exc:
            if exc.code is ErrorCode.NO_DEFAULT_PAYMENT_METHOD:
                return _end(user_id, attempt_id, purchase_id, purchase, AutoTopUpFailure.NO_DEFAULT_CARD)
            raise  # Stripe unreachable: the attempt stays in flight; the trigger's retry resumes it
        purchase = load_purchase(purchase_id) or purchase
    return _conclude(user_id, attempt_id, purchase_id, purchase)


def attempt_of(purchase_id: str) -> str:
    """The attempt whose purchase this is (the purchase id is derived from the attempt's)."""
    return "att_" + purchase_id.removeprefix("pur_")


def conclude_purchase(purchase_id: str) -> TopUpOutcome | None:
    """An auto top-up's purchase that Stripe's events decided (shared/billing/money_events.py: a payment
    failed, waiting for authentication no one can give off-session, canceled, or paid): end its attempt as
    the charge's own answer would have. None while the payment is undecided, or not an auto top-up's."""
    purchase = load_purchase(purchase_id)
    if purchase is None or not purchase.auto_top_up:
        return None
    return _conclude(purchase.user_id, attempt_of(purchase_id), purchase_id, purchase)


def _conclude(user_id: str, attempt_id: str, purchase_id: str, purchase: Purchase) -> TopUpOutcome | None:
    if purchase.credits_granted:
        return _end(user_id, attempt_id, purchase_id, purchase, None)
    if purchase.status in (PurchaseStatus.PROCESSING, PurchaseStatus.PENDING):
        return None  # not decided yet: the attempt stays in flight
    return _end(user_id, attempt_id, purchase_id, purchase, failure_of(purchase))


def failure_of(purchase: Purchase) -> AutoTopUpFailure:
    code = purchase.failure_code or ""
    if purchase.status is PurchaseStatus.REQUIRES_ACTION or code == "authentication_required":
        return AutoTopUpFailure.AUTHENTICATION_REQUIRED
    if code in ("resource_missing", "invalid_request"):
        return AutoTopUpFailure.CARD_DELETED
    return AutoTopUpFailure.CARD_DECLINED


def _count_late_charge(snapshot: Any, settings: AutoTopUp, attempt_id: str, purchase: Purchase) -> None:
    """A charge that ended its attempt as a failure (authentication required) and was paid later, once the
    customer authenticated it: its grant came like any purchase's, and its price counts against the month
    it was charged in again (once: a marker keyed by the attempt), so the monthly limit still holds."""
    if settings.month != month_of(purchase.created_at):
        return  # a new month began meanwhile: its count starts afresh
    db = firestore_client()
    batch = db.batch()
    batch.update(
        snapshot.reference,
        {"month_spent_cents": settings.month_spent_cents + purchase.amount, "updated_at": utc_now()},
        option=db.write_option(last_update_time=snapshot.update_time),
    )
    Marker(f"auto-top-up-late:{attempt_id}", "auto-top-up", "late_charge").add_to(batch, db)
    try:
        batch.commit()
    except AlreadyExists:
        pass  # counted before


def _end(
    user_id: str,
    attempt_id: str,
    purchase_id: str,
    purchase: Purchase | None,
    failure: AutoTopUpFailure | None,
) -> TopUpOutcome:
    """The attempt ends: in flight no more; a failure turns auto top-up off and gives the month's count
    back (nothing was charged)."""

    def attempt() -> None:
        ref = settings_ref(user_id)
        snapshot = ref.get()
        settings = AutoTopUp.from_firestore(snapshot.to_dict())
        if settings.in_flight != attempt_id:
            if failure is None and purchase is not None:
                _count_late_charge(snapshot, settings, attempt_id, purchase)
            return
        update: dict[str, Any] = {"in_flight": None, "updated_at": utc_now()}
        if failure is not None:
            update |= {
                "enabled": False,
                "disabled_reason": failure.value,
                "month_spent_cents": max(
                    0, settings.month_spent_cents - (purchase.amount if purchase else 0)
                ),
            }
        batch = firestore_client().batch()
        batch.update(
            ref, update, option=firestore_client().write_option(last_update_time=snapshot.update_time)
        )
        if failure is not None:
            batch.update(account_ref(user_id), {"auto_top_up_below": None})
        batch.commit()

    retry_commit(attempt, what=f"auto top-up attempt {attempt_id}")
    return TopUpOutcome(
        attempt_id=attempt_id,
        purchase_id=purchase_id,
        succeeded=failure is None,
        credits=purchase.credits if purchase and failure is None else 0,
        amount_cents=purchase.amount if purchase and failure is None else 0,
        reason=failure,
    )
