"""The deployment plan, generated from the one function declaration (shared/core/function_registry.py FUNCTIONS).

`deploy_plan(settings)` is pure: it returns the commands (argv lists) that deploy the platform, in order:
1. enable the Google Cloud APIs the platform uses;
2. create every Pub/Sub topic the functions consume;
3. deploy every function (gen2): HTTP, Firestore (Eventarc) and Pub/Sub triggers, runtime settings,
   production environment variables and the Stripe secrets from Secret Manager;
4. create the Cloud Scheduler jobs that publish to the scheduled functions' topics;
5. deploy firestore.rules and firestore.indexes.json with the Firebase CLI.

Usage: python -m localdev.deploy --project P [--region R] [--firestore-location L] [--dry-run]
`--dry-run` prints every command (shell-quoted) and runs nothing; without it the commands run one by one
(`make deploy` builds the source first). Re-running is safe: existing topics are kept and existing
scheduler jobs are updated in place. See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from localdev.emulators import REPO_ROOT
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec, topics

RUNTIME = "python311"
DEFAULT_REGION = "us-central1"
# Eventarc Firestore triggers must be created in the database's location (a multi-region such as nam5, or
# a region): a mismatch is refused at deploy time.
DEFAULT_FIRESTORE_LOCATION = "nam5"
DEFAULT_SOURCE = Path("build/functions")
DEFAULT_SECRETS: Mapping[str, str] = {
    "STRIPE_SECRET_KEY": "stripe-secret-key:latest",
    "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:latest",
}
SCHEDULER_TIME_ZONE = "Etc/UTC"
REQUIRED_APIS = (
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "cloudscheduler.googleapis.com",
    "secretmanager.googleapis.com",
    "firestore.googleapis.com",
)
# Settings that exist for local development only; they must never reach a deployed function.
LOCAL_ONLY_ENV = frozenset(
    {
        "FIREBASE_AUTH_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "ALLOW_LOOPBACK_WEBHOOKS",
        "STRIPE_API_BASE",
        "FUNCTIONS_BASE_URL",
        "PLATFORM_EXTRA_FUNCTIONS",
        "PLATFORM_COUNT_RPCS",
    }
)
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LOCATION = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class DeployConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    project: str
    region: str = DEFAULT_REGION
    firestore_location: str = DEFAULT_FIRESTORE_LOCATION
    source: Path = DEFAULT_SOURCE
    service_account: str | None = None  # runtime identity; the default compute account when None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SECRETS))

    def __post_init__(self) -> None:
        if not _PROJECT_ID.match(self.project):
            raise DeployConfigError(f"not a Google Cloud project id: {self.project!r}")
        for name, value in (("region", self.region), ("firestore location", self.firestore_location)):
            if not _LOCATION.match(value):
                raise DeployConfigError(f"not a {name}: {value!r}")
        for name, value in {**self.extra_env, **self.secrets}.items():
            if not _ENV_NAME.match(name) or "," in value or not value:
                raise DeployConfigError(f"unusable variable {name}={value!r} (names upper case, no commas)")
        refused = LOCAL_ONLY_ENV & set(self.extra_env)
        if refused:
            raise DeployConfigError(f"local-development settings cannot be deployed: {sorted(refused)}")
        if {"PLATFORM_ENV", "GOOGLE_CLOUD_PROJECT", "FUNCTION_REGION", "THREADS"} & set(self.extra_env):
            raise DeployConfigError(
                "PLATFORM_ENV, GOOGLE_CLOUD_PROJECT, FUNCTION_REGION and THREADS are set by the plan"
            )
        if set(self.secrets) & set(self.extra_env):
            raise DeployConfigError("a variable cannot be both a secret and a plain environment variable")

    def env_vars(self) -> dict[str, str]:
        return {
            "PLATFORM_ENV": "production",
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FUNCTION_REGION": self.region,
            **self.extra_env,
        }


def _joined(mapping: Mapping[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in mapping.items())


def retries_failures(spec: FunctionSpec) -> bool:
    """Event-driven functions are retried when they raise (handlers are idempotent on the event id), except
    scheduled sweeps: the next tick redoes their work, and a retried sweep would only overlap with it."""
    return spec.kind is not FunctionKind.HTTP and spec.schedule is None


def trigger_flags(spec: FunctionSpec, settings: DeploySettings) -> list[str]:
    if spec.kind is FunctionKind.HTTP:
        # Public: the API authenticates every request itself (ID tokens, API keys) and stripe_webhook checks
        # Stripe's signature. Event-driven functions below are invoked only by Eventarc, never publicly.
        return ["--trigger-http", "--allow-unauthenticated"]
    if spec.kind is FunctionKind.FIRESTORE:
        assert spec.event_type is not None and spec.document is not None  # checked by FunctionSpec
        flags = [
            f"--trigger-event-filters=type={spec.event_type.value}",
            "--trigger-event-filters=database=(default)",
            f"--trigger-event-filters-path-pattern=document={spec.document}",
            f"--trigger-location={settings.firestore_location}",
        ]
    else:
        flags = [f"--trigger-topic={spec.topic}"]
    flags.append("--no-allow-unauthenticated")
    if retries_failures(spec):
        flags.append("--retry")
    return flags


def function_deploy_command(spec: FunctionSpec, settings: DeploySettings) -> list[str]:
    argv = [
        "gcloud",
        "functions",
        "deploy",
        spec.name,
        "--gen2",
        f"--project={settings.project}",
        f"--region={settings.region}",
        f"--runtime={RUNTIME}",
        f"--source={settings.source}",
        f"--entry-point={spec.entry_point}",
        f"--memory={spec.memory}",
        f"--cpu={spec.cpu}",
        f"--concurrency={spec.concurrency}",
        f"--max-instances={spec.max_instances}",
        f"--min-instances={spec.min_instances}",
        f"--timeout={spec.timeout_s}s",
        # THREADS: the functions framework's worker threads, so an instance really serves `concurrency`.
        f"--set-env-vars={_joined({**settings.env_vars(), 'THREADS': str(spec.concurrency)})}",
        f"--set-secrets={_joined(settings.secrets)}",
        *trigger_flags(spec, settings),
    ]
    if settings.service_account:
        argv.append(f"--service-account={settings.service_account}")
    argv.append("--quiet")
    return argv


def scheduler_job_name(spec: FunctionSpec) -> str:
    return f"{spec.name.replace('_', '-')}-schedule"


def scheduler_command(spec: FunctionSpec, settings: DeploySettings, verb: str = "create") -> list[str]:
    assert spec.schedule is not None and spec.topic is not None
    return [
        "gcloud",
        "scheduler",
        "jobs",
        verb,
        "pubsub",
        scheduler_job_name(spec),
        f"--project={settings.project}",
        f"--location={settings.region}",
        f"--schedule={spec.schedule}",
        f"--time-zone={SCHEDULER_TIME_ZONE}",
        f"--topic={spec.topic}",
        "--message-body={}",
        "--quiet",
    ]


def deploy_plan(settings: DeploySettings, functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> list[list[str]]:
    plan: list[list[str]] = [
        ["gcloud", "services", "enable", *REQUIRED_APIS, f"--project={settings.project}", "--quiet"]
    ]
    plan += [
        ["gcloud", "pubsub", "topics", "create", topic, f"--project={settings.project}", "--quiet"]
        for topic in topics(functions)
    ]
    plan += [function_deploy_command(spec, settings) for spec in functions]
    plan += [scheduler_command(spec, settings) for spec in functions if spec.schedule is not None]
    plan.append(
        ["firebase", "deploy", "--only", "firestore:rules,firestore:indexes", "--project", settings.project]
    )
    return plan


# ---------------------------------------------------------------------------------------------------
# Running the plan (never in tests: they check the plan only)

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def _already_exists(result: subprocess.CompletedProcess[str]) -> bool:
    output = f"{result.stdout}\n{result.stderr}"
    return "ALREADY_EXISTS" in output or "already exists" in output


def fallback_for_existing(argv: list[str]) -> list[str] | None:
    """What to do when a create step finds its resource: topics are kept; scheduler jobs are updated."""
    if argv[:4] == ["gcloud", "pubsub", "topics", "create"]:
        return []
    if argv[:5] == ["gcloud", "scheduler", "jobs", "create", "pubsub"]:
        return [*argv[:3], "update", *argv[4:]]
    return None


def run_plan(plan: list[list[str]], run: Runner = _run, echo: Callable[[str], None] = print) -> None:
    for argv in plan:
        echo(f"$ {shlex.join(argv)}")
        result = run(argv)
        if result.returncode != 0 and _already_exists(result):
            fallback = fallback_for_existing(argv)
            if fallback == []:
                echo("  (exists, kept)")
                continue
            if fallback is not None:
                echo(f"  (exists) $ {shlex.join(fallback)}")
                result = run(fallback)
        if result.returncode != 0:
            raise SystemExit(f"deploy step failed ({result.returncode}): {shlex.join(argv)}\n{result.stderr}")


def _key_values(pairs: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise DeployConfigError(f"expected NAME=VALUE, got {pair!r}")
        parsed[name] = value
    return parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy the platform from the function declaration.")
    parser.add_argument("--project", required=True, help="Google Cloud / Firebase project id")
    parser.add_argument("--region", default=DEFAULT_REGION, help="functions and scheduler region")
    parser.add_argument(
        "--firestore-location", default=DEFAULT_FIRESTORE_LOCATION, help="Firestore database location"
    )
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="built source (make build-functions)"
    )
    parser.add_argument("--service-account", default=None, help="runtime service account of the functions")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra env var")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME=SECRET:VERSION",
        help="replaces the default secrets",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    try:
        settings = DeploySettings(
            project=args.project,
            region=args.region,
            firestore_location=args.firestore_location,
            source=args.source,
            service_account=args.service_account,
            extra_env=_key_values(args.env),
            secrets=_key_values(args.secret) if args.secret else dict(DEFAULT_SECRETS),
        )
    except DeployConfigError as exc:
        parser.error(str(exc))
    plan = deploy_plan(settings)
    if args.dry_run:
        for command in plan:
            print(shlex.join(command))
        return 0
    source = settings.source if settings.source.is_absolute() else REPO_ROOT / settings.source
    if not (source / "main.py").is_file() or not (source / "requirements.txt").is_file():
        print(f"{source} is not built: run `make build-functions` first", file=sys.stderr)
        return 2
    run_plan(plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
