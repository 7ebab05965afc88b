"""`python -m localdev.make_admin EMAIL`: give a signed-up user the `admin` custom claim (firebase-admin).

Runs against the Auth emulator of `make dev` (FIREBASE_AUTH_EMULATOR_HOST, firebase.json's auth port by
default). The user signs out and in again (or the dashboard refreshes its token) to carry the claim.

`--revoke` removes the claim and revokes the user's refresh tokens: an ID token minted before carries
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
    from firebase_admin import auth

    from shared.core.clients import firebase_app, project_scope

    with project_scope(args.project):
        app = firebase_app()
        try:
            user = auth.get_user_by_email(args.email, app=app)
        except auth.UserNotFoundError:
            print(f"no user {args.email} in project {args.project}: sign up first", file=sys.stderr)
            return 1
        claims = dict(user.custom_claims or {})
        if args.revoke:
            claims.pop("admin", None)
        else:
            claims["admin"] = True
        auth.set_custom_user_claims(user.uid, claims or None, app=app)
        if args.revoke:
            auth.revoke_refresh_tokens(user.uid, app=app)
    if args.revoke:
        print(f"{args.email} ({user.uid}): admin=no; sessions revoked (every token issued before is refused)")
    else:
        print(f"{args.email} ({user.uid}): admin=yes; sign in again to use it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
