"""`python -m localdev.make_admin EMAIL`: give a signed-up user the `admin` custom claim (firebase-admin).

Runs against the Auth emulator of `make dev` (FIREBASE_AUTH_EMULATOR_HOST, firebase.json's auth port by
default). The user signs out and in again (or the dashboard refreshes its token) to carry the claim.

Granting also writes the server's record `admins/{uid}` (security rules honour the claim only while it
exists); `--revoke` deletes it, so rules stop honouring an old token at once, removes the claim and
revokes the user's refresh tokens: an ID token minted before carries
`admin: true` for up to its hour, and the API refuses every token issued before the revocation (it checks
each token against the user's record, as `verify_id_token(check_revoked=True)` does; cached for 10 s), so
the demoted admin is out within seconds, not an hour. The user signs in again, without the claim.
"""

from __future__ import annotations

import argparse
import os
import sys

from localdev.auth_emulator import configured_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("email")
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-platform"))
    parser.add_argument("--revoke", action="store_true", help="remove the admin claim instead")
    args = parser.parse_args(argv)
    # Only ever the local emulator: this tool must not touch a real project's users.
    os.environ.setdefault("PLATFORM_ENV", "local")
    os.environ.setdefault("FIREBASE_AUTH_EMULATOR_HOST", f"127.0.0.1:{configured_port()}")
    os.environ.setdefault("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{_firestore_port()}")
    from firebase_admin import auth

    from shared.core.clients import firebase_app, project_scope
    from shared.system.admins import grant_admin, revoke_admin

    with project_scope(args.project):
        app = firebase_app()
        try:
            user = auth.get_user_by_email(args.email, app=app)
        except auth.UserNotFoundError:
            print(f"no user {args.email} in project {args.project}: sign up first", file=sys.stderr)
            return 1
        claims = dict(user.custom_claims or {})
        if args.revoke:
            revoke_admin(user.uid)  # first: the rules stop honouring every token at once
            claims.pop("admin", None)
        else:
            claims["admin"] = True
        auth.set_custom_user_claims(user.uid, claims or None, app=app)
        if args.revoke:
            auth.revoke_refresh_tokens(user.uid, app=app)
        else:
            grant_admin(user.uid, user.email)
    if args.revoke:
        print(f"{args.email} ({user.uid}): admin=no; sessions revoked (every token issued before is refused)")
    else:
        print(f"{args.email} ({user.uid}): admin=yes; sign in again to use it")
    return 0


def _firestore_port() -> int:
    import json

    from localdev.emulators import REPO_ROOT

    return int(json.loads((REPO_ROOT / "firebase.json").read_text())["emulators"]["firestore"]["port"])


if __name__ == "__main__":
    sys.exit(main())
