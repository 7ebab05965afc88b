"""The revocation rule of shared/accounts/auth_users.py, as firebase-admin's check_revoked applies it."""

from __future__ import annotations

from shared.accounts.auth_users import UserStatus


def test_an_active_users_token_passes() -> None:
    status = UserStatus(exists=True, tokens_valid_after_s=1000)
    assert status.active and status.refuses_token(1000) is None and status.refuses_token(2000) is None


def test_tokens_issued_before_a_revocation_are_refused() -> None:
    assert (
        UserStatus(exists=True, tokens_valid_after_s=1000).refuses_token(999)
        == "the session has been revoked"
    )


def test_disabled_and_deleted_users_are_refused_whatever_the_token() -> None:
    disabled = UserStatus(exists=True, disabled=True)
    deleted = UserStatus(exists=False)
    assert not disabled.active and disabled.refuses_token(10**10) == "the user is disabled"
    assert not deleted.active and deleted.refuses_token(10**10) == "the user no longer exists"
