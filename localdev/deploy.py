"""The deployment plan, generated from the one function declaration (shared/core/function_registry.py FUNCTIONS).

`deploy_plan(settings)` is pure: it returns the steps (argv lists; a few are lookups whose output later
steps use as ${NAME}: the project's number, secrets' newest versions, the subscriptions Eventarc names)
that deploy the platform, in order:
1. enable the Google Cloud APIs the platform uses; look up the project's number;
2. create the service accounts: one runtime identity per function group (FunctionSpec.identity) and one
   trigger identity that Eventarc and Pub/Sub invoke the event-driven functions as;
3. grant each exactly its roles (IDENTITY_ROLES), and each secret only to the identities of the functions
   that mount it;
4. create Memorystore and the VPC connector, every Pub/Sub topic the functions consume, the publishing
   grants per topic, and the dead-letter topic with the subscription that keeps its messages;
5. deploy every function (gen2): HTTP, Firestore (Eventarc) and Pub/Sub triggers, runtime settings, its
   service account, production environment variables, secrets pinned to versions (Stripe only where
   Stripe is called, Redis and the VPC connector only where the store is used), ingress (internal-only for
   event-driven functions and for send_to_worker, which is not public; internal-and-gclb for the API behind a
   load balancer of ours);
6. let the trigger identity (and nobody else) invoke each event-driven function, and run_job's identity
   send_to_worker (FunctionSpec.invoked_by); set each one's
   subscription's acknowledgement deadline to its timeout and, where retried, its dead-letter topic;
7. create the Cloud Scheduler jobs that publish to the scheduled functions' topics;
8. create the log-based metrics and alert policies: faults the platform survives but must not hide
   (shared/core/logs.FaultLog lines), dead-lettered messages, sweeps and reconcile failing;
9. deploy firestore.rules and firestore.indexes.json with the Firebase CLI, and the TTL policies;
10. deploy the dashboard to Firebase Hosting (`/v1/**` rewritten to the `api` function in the deploy region),
   from build/hosting, which `prepare_hosting` fills before the plan runs (the built SPA, its
   dashboard-config.json and a firebase.json whose rewrite names the region).

Every gcloud command is one the real CLI's parser accepts (tests/unit/test_deploy_plan.py runs it through
localdev/gcloud_args.py).

Usage: python -m localdev.deploy --project P [--region R] [--firestore-location L] [--env N=V]
[--secret N=SECRET[:VERSION]] [--dry-run]. `--dry-run` prints the steps as a shell script and runs nothing;
without it the steps run one by one (`make deploy` builds the source first). Re-running is safe: existing
topics, subscriptions and accounts are kept, scheduler jobs and log metrics updated in place, alert policies
found by name. See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from localdev.emulators import REPO_ROOT
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec, Identity, topics
from shared.core.settings import LOCAL_ONLY_VARIABLES, RUNTIME_VARIABLES

RUNTIME = "python311"
DEFAULT_REGION = "us-central1"
# Eventarc Firestore triggers must be created in the database's location (a multi-region such as nam5, or
# a region): a mismatch is refused at deploy time.
DEFAULT_FIRESTORE_LOCATION = "nam5"
DEFAULT_SOURCE = Path("build/functions")
# Each variable's Secret Manager secret. A function mounts a pinned version, never `latest`: a bad new
# version then breaks nothing until a deploy picks it (and a rollback is a deploy with the older number).
# Without a version here (or in `--secret NAME=SECRET:N`) the plan pins the newest enabled version at deploy
# time (a lookup step of the plan).
DEFAULT_SECRETS: Mapping[str, str] = {
    "STRIPE_SECRET_KEY": "stripe-secret-key",
    "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret",
    # rediss://:<AUTH string>@<Memorystore IP>:6378/0 of MEMORYSTORE_INSTANCE, and the certificate
    # authority of its in-transit encryption (docs/deploy.md, docs/rate-limits.md)
    "REDIS_URL": "redis-url",
    "REDIS_CA_CERT": "redis-ca",
}
STRIPE_SECRETS = frozenset({"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"})
REDIS_SECRETS = frozenset({"REDIS_URL", "REDIS_CA_CERT"})
# The shared store of rate limits and usage, reached through a Serverless VPC Access connector.
MEMORYSTORE_INSTANCE = "platform-limits"
VPC_CONNECTOR = "platform-connector"
VPC_CONNECTOR_RANGE = "10.8.0.0/28"
# The connector's own subnet, in the default network, with Private Google Access: through it a function whose
# egress all goes to the VPC (run_job) reaches Google's APIs, and its calls to internal-only functions
# (send_to_worker) count as internal.
VPC_CONNECTOR_SUBNET = "platform-connector"
VPC_NETWORK = "default"
SCHEDULER_TIME_ZONE = "Etc/UTC"
API_FUNCTION = "api"
HOSTING_DIR = Path("build/hosting")
WEB_DIST = Path("web/dist")
# Stripe requires Stripe.js to be loaded from Stripe itself (never bundled).
STRIPE_JS_URL = "https://js.stripe.com/v3/"
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
    "iam.googleapis.com",
    "redis.googleapis.com",
    "vpcaccess.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
)
# Settings that exist for local development only (shared/core/settings.py refuses them in production too);
# they must never reach a deployed function, neither as plain variables nor as secrets.
LOCAL_ONLY_ENV = frozenset({*LOCAL_ONLY_VARIABLES, "RATE_LIMITS_ENABLED", "PLATFORM_COUNT_RPCS"})
# Set by the plan itself or by the runtime: never from the command line.
RESERVED_ENV = frozenset(
    {"PLATFORM_ENV", "GOOGLE_CLOUD_PROJECT", "FUNCTION_REGION", "THREADS", *RUNTIME_VARIABLES}
)
# Roles of each runtime identity, project-wide. Secret access is granted per secret, below, and only to the
# identities whose functions mount it; publishing per topic (IDENTITY_TOPICS). `firebaseauth.viewer`: the
# API reads users to refuse revoked tokens.
IDENTITY_ROLES: Mapping[Identity, tuple[str, ...]] = {
    Identity.API: ("roles/datastore.user", "roles/firebaseauth.viewer"),
    Identity.STRIPE_EVENTS: ("roles/datastore.user",),
    Identity.WORKERS: ("roles/datastore.user",),
    Identity.WEBHOOK_SENDER: ("roles/datastore.user",),
    # Public, and only verifies signatures: it reads the echo type's secrets and writes nothing.
    Identity.ECHO_WORKER: ("roles/datastore.viewer",),
    # Sends what run_job signed to operators' workers: it reads and writes nothing of ours.
    Identity.JOB_SENDER: (),
}
PUBLISHER = "roles/pubsub.publisher"
# The topics each identity publishes to, granted on each topic (never project-wide): the API sends test
# events and operator retries to the delivery lanes; workers hand jobs to the job workers and events to the
# lanes (run_job, one of the workers, also its type's next turns to `jobs`); a finished delivery attempt
# hands the endpoint's next backlog event to a lane. Scheduler ticks are published by Cloud Scheduler's own
# agent.
DELIVERY_LANES = ("webhook-events", "webhook-events-slow", "webhook-events-test")
IDENTITY_TOPICS: Mapping[Identity, tuple[str, ...]] = {
    Identity.API: DELIVERY_LANES,
    Identity.STRIPE_EVENTS: (),
    Identity.WORKERS: ("jobs", *DELIVERY_LANES),
    Identity.WEBHOOK_SENDER: DELIVERY_LANES,
    Identity.ECHO_WORKER: (),
    Identity.JOB_SENDER: (),
}
# Firestore TTL policies: documents are deleted (within about a day) once this field's time has passed.
# Test-mode jobs, events and delivery attempts carry `delete_at` (30 days: shared/core/retention.py); live
# ones never do (docs/security.md, retention). Webhook rate buckets expire after an hour.
TTL_FIELDS: Mapping[str, str] = {
    "jobs": "delete_at",
    "webhook_events": "delete_at",
    "webhook_deliveries": "delete_at",
    "webhook_rate": "expires_at",
}
# Eventarc (Firestore triggers) and Pub/Sub push subscriptions call event-driven functions as this account;
# it may invoke them (run.invoker, per function) and receive events, nothing else.
TRIGGER_ACCOUNT = "platform-trigger"
TRIGGER_PROJECT_ROLES = ("roles/eventarc.eventReceiver",)
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
# The faults (the `fault` field of shared/core/logs.FaultLog lines, at most one per minute per instance)
# counted by a log-based metric each, with an alert when any was logged within 5 minutes.
FAULT_ALERTS: Mapping[str, str] = {
    "rate_limiter_open": "Rate limiter open: Redis (Memorystore) fails, requests are let through unlimited",
    "stripe_unreachable": "Stripe unreachable: purchases and card changes answer 502/503",
}
ALERT_WINDOW = "300s"
# The sweeps and reconcile: failed runs tolerated per window before an alert (a pass redone a minute later
# is not news; three in a row are), and the metric of their error lines.
PASS_WINDOW = "900s"
PASS_FAILURES_ALLOWED = 2
PASS_ERRORS_METRIC = "background-pass-errors"
# Dead letters: one topic for every retried function (each message names its source subscription in the
# CloudPubSubDeadLetterSourceSubscription attribute) and the pull subscription that keeps them.
DEAD_LETTER_TOPIC = "dead-letters"
DEAD_LETTER_SUBSCRIPTION = "dead-letters-hold"
# Eventarc retries a failed event with backoff between these bounds, for as long as its subscription keeps
# a message (24 h). Each function's attempts are bounded so that even calls that run to their timeout
# before failing are dead-lettered within RETENTION_BUDGET_S, never expired unseen (max_delivery_attempts).
RETRY_DELAYS_S = (10, 600)
EVENT_RETENTION_S = 24 * 3600
RETENTION_BUDGET_S = int(EVENT_RETENTION_S * 0.9)
DELIVERY_ATTEMPTS_RANGE = (5, 100)  # what Pub/Sub accepts
MAX_ACK_DEADLINE_S = 600  # Pub/Sub's most
PROJECT_NUMBER = "PROJECT_NUMBER"
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LOCATION = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SECRET_VALUE = re.compile(r"^((sk|rk|pk)_(live|test)_|whsec_)")
_SECRET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}(:[1-9][0-9]*)?$")


class DeployConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    project: str
    region: str = DEFAULT_REGION
    firestore_location: str = DEFAULT_FIRESTORE_LOCATION
    source: Path = DEFAULT_SOURCE
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
        refused = LOCAL_ONLY_ENV & (set(self.extra_env) | set(self.secrets))
        if refused:
            raise DeployConfigError(f"local-development settings cannot be deployed: {sorted(refused)}")
        if RESERVED_ENV & (set(self.extra_env) | set(self.secrets)):
            raise DeployConfigError(f"{', '.join(sorted(RESERVED_ENV))} are set by the plan or the runtime")
        # Both Stripe secrets are always mounted, each from Secret Manager: `--secret` may point one at
        # another secret or version, never drop one or add another variable.
        if set(self.secrets) != set(DEFAULT_SECRETS):
            raise DeployConfigError(
                f"secrets must be exactly {sorted(DEFAULT_SECRETS)}, got {sorted(self.secrets)}"
            )
        for name, value in self.secrets.items():
            if value.endswith(":latest"):
                raise DeployConfigError(
                    f"{name}: `latest` is never mounted (a bad new version would break new instances "
                    "silently): give a version number, or only the secret's name to pin its newest one now"
                )
            if _SECRET_VALUE.match(value):
                # Never echo it: it may be the secret itself.
                raise DeployConfigError(f"{name}: that is a secret's value; give its Secret Manager name")
            if not _SECRET_REF.match(value):
                raise DeployConfigError(f"{name}: expected SECRET_NAME or SECRET_NAME:VERSION, got {value!r}")
        hops = self.extra_env.get("TRUSTED_PROXY_HOPS", "0")
        if not hops.isdigit():
            raise DeployConfigError(f"TRUSTED_PROXY_HOPS must be a whole number, got {hops!r}")
        if set(self.secrets) & set(self.extra_env):
            raise DeployConfigError("a variable cannot be both a secret and a plain environment variable")

    def secrets_for(self, spec: FunctionSpec) -> dict[str, str]:
        """The variables a function mounts, each with its pinned reference: the Stripe secrets only where
        Stripe is called, the store of rate limits and usage only where it is used."""
        wanted = (STRIPE_SECRETS if spec.calls_stripe else frozenset()) | (
            REDIS_SECRETS if spec.uses_redis else frozenset()
        )
        return {n: self.pinned(n) for n in self.secrets if n in wanted}

    def pinned(self, variable: str) -> str:
        """SECRET:VERSION: the version given, or the one the plan's lookup finds at deploy time."""
        ref = self.secrets[variable]
        return ref if ":" in ref else f"{ref}:{variable_ref(secret_version_variable(variable))}"

    @property
    def behind_load_balancer(self) -> bool:
        """TRUSTED_PROXY_HOPS >= 1: the API is reached through a load balancer of ours (docs/deploy.md)."""
        return int(self.extra_env.get("TRUSTED_PROXY_HOPS", "0")) >= 1

    def service_account(self, name: str) -> str:
        return f"{name}@{self.project}.iam.gserviceaccount.com"

    def runtime_account(self, identity: Identity) -> str:
        return self.service_account(f"platform-{identity.value}")

    @property
    def trigger_account(self) -> str:
        return self.service_account(TRIGGER_ACCOUNT)

    def env_vars(self) -> dict[str, str]:
        return {
            "PLATFORM_ENV": "production",
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FUNCTION_REGION": self.region,
            **self.extra_env,
        }


# ---------------------------------------------------------------------------------------------------
# Steps and lookups: a few values exist only once an earlier step ran (names the server gives, the
# project's number, a secret's newest version). A lookup step prints one; later steps use it as ${NAME}.

_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    # A lookup: its output (stripped) becomes ${sets} in later steps; it must match `shape`. `example` is a
    # value of that shape: what the dry run's parser check puts in its place.
    sets: str | None = None
    shape: str = ""
    example: str = ""

    def uses(self) -> set[str]:
        return {name for arg in self.argv for name in _VARIABLE.findall(arg)}


def command(*argv: str) -> Step:
    return Step(tuple(argv))


def lookup(name: str, argv: list[str], shape: str, example: str) -> Step:
    assert re.fullmatch(shape, example), (name, example)
    return Step(tuple(argv), sets=name, shape=shape, example=example)


def variable_ref(name: str) -> str:
    return "${" + name + "}"


def substitute(argv: tuple[str, ...], values: Mapping[str, str]) -> list[str]:
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise DeployConfigError(f"${{{match.group(1)}}} is used before a step sets it")
        return values[match.group(1)]

    return [_VARIABLE.sub(value, arg) for arg in argv]


def examples(plan: list[Step]) -> dict[str, str]:
    return {step.sets: step.example for step in plan if step.sets is not None}


def with_examples(plan: list[Step]) -> list[list[str]]:
    """Every step with each lookup's example in place of its value: what the parser check reads."""
    values = examples(plan)
    return [substitute(step.argv, values) for step in plan]


def shell_line(step: Step) -> str:
    """The step as a line of a POSIX shell script: the dry run prints a script that runs as it reads."""
    words = []
    for arg in step.argv:
        if _VARIABLE.search(arg):
            # Only the variable is expanded; the rest of the word holds no shell-special character.
            assert re.fullmatch(r"[A-Za-z0-9_=:@./{}$,-]+", arg), arg
            words.append(f'"{arg}"')
        else:
            words.append(shlex.quote(arg))
    line = " ".join(words)
    return f"{step.sets}=$({line})" if step.sets is not None else line


def secret_version_variable(variable: str) -> str:
    return f"{variable}_VERSION"


def secret_version_lookups(settings: DeploySettings, functions: tuple[FunctionSpec, ...]) -> list[Step]:
    """The newest enabled version of each mounted secret named without a version: pinned from here on."""
    mounted = {name for spec in functions for name in settings.secrets_for(spec)}
    steps = []
    for variable, ref in settings.secrets.items():
        if variable not in mounted or ":" in ref:
            continue
        steps.append(
            lookup(
                secret_version_variable(variable),
                [
                    "gcloud",
                    "secrets",
                    "versions",
                    "list",
                    ref,
                    f"--project={settings.project}",
                    "--filter=state=ENABLED",
                    "--sort-by=~createTime",
                    "--limit=1",
                    "--format=value(name.basename())",
                ],
                shape=r"[1-9][0-9]*",
                example="1",
            )
        )
    return steps


def _joined(mapping: Mapping[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in mapping.items())


def retries_failures(spec: FunctionSpec) -> bool:
    """Event-driven functions are retried when they raise (handlers are idempotent on the event id), except
    scheduled sweeps: the next tick redoes their work, and a retried sweep would only overlap with it."""
    return spec.kind is not FunctionKind.HTTP and spec.schedule is None


def ingress(spec: FunctionSpec, settings: DeploySettings) -> str:
    """Event-driven functions: Google's own event delivery only; an HTTP function invoked by an identity of
    ours (send_to_worker): from our VPC only. The API behind a load balancer of ours (TRUSTED_PROXY_HOPS >=
    1): only through it, so nobody can call the function's own URL with a forged X-Forwarded-For (which the
    API would then trust) and dodge or aim the anonymous limit."""
    if spec.kind is not FunctionKind.HTTP or spec.invoked_by is not None:
        return "internal-only"
    if spec.name == API_FUNCTION and settings.behind_load_balancer:
        return "internal-and-gclb"
    return "all"


def trigger_flags(spec: FunctionSpec, settings: DeploySettings) -> list[str]:
    if spec.kind is FunctionKind.HTTP and spec.invoked_by is not None:
        # Not public: only the identity of ours granted run.invoker on it (invoker_command), from our VPC.
        return [
            "--trigger-http",
            "--no-allow-unauthenticated",
            f"--ingress-settings={ingress(spec, settings)}",
        ]
    if spec.kind is FunctionKind.HTTP:
        # Public: the API authenticates every request itself (ID tokens, API keys) and stripe_webhook checks
        # Stripe's signature. Event-driven functions below are invoked only by Eventarc, never publicly.
        return ["--trigger-http", "--allow-unauthenticated", f"--ingress-settings={ingress(spec, settings)}"]
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
    # Only Google's own event delivery reaches them, as the trigger account: no public address at all.
    flags += [
        "--no-allow-unauthenticated",
        f"--ingress-settings={ingress(spec, settings)}",
        f"--trigger-service-account={settings.trigger_account}",
    ]
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
        f"--service-account={settings.runtime_account(spec.identity)}",
        # THREADS: the functions framework's worker threads, so an instance really serves `concurrency`.
        f"--set-env-vars={_joined({**settings.env_vars(), 'THREADS': str(spec.concurrency)})}",
    ]
    # A redeploy keeps what the flags leave out: each function is told exactly what it has.
    if spec.calls_internal_functions:
        # Every request through the VPC (Google's APIs by Private Google Access), so its calls to an
        # internal-only function count as internal; it has no route to the internet at all.
        argv += [f"--vpc-connector={VPC_CONNECTOR}", "--egress-settings=all"]
    elif spec.uses_redis:
        # Memorystore has a private address only; everything else (Stripe, Firestore) stays direct.
        argv += [f"--vpc-connector={VPC_CONNECTOR}", "--egress-settings=private-ranges-only"]
    else:
        argv.append("--clear-vpc-connector")
    mounted = settings.secrets_for(spec)
    # --set-secrets replaces every mounted secret: a redeploy takes away what an older deploy mounted.
    argv.append(f"--set-secrets={_joined(mounted)}" if mounted else "--clear-secrets")
    argv += [*trigger_flags(spec, settings), "--quiet"]
    return argv


def identities(functions: tuple[FunctionSpec, ...]) -> list[Identity]:
    return sorted({spec.identity for spec in functions}, key=list(Identity).index)


def iam_commands(settings: DeploySettings, functions: tuple[FunctionSpec, ...]) -> list[list[str]]:
    """Service accounts and their grants; re-running is safe (existing accounts are kept, bindings are
    idempotent)."""
    project = f"--project={settings.project}"
    plan: list[list[str]] = []
    for name in [f"platform-{identity.value}" for identity in identities(functions)] + [TRIGGER_ACCOUNT]:
        plan.append(
            [
                "gcloud",
                "iam",
                "service-accounts",
                "create",
                name,
                project,
                f"--display-name={name}",
                "--quiet",
            ]
        )

    def bind(account: str, role: str) -> list[str]:
        return [
            "gcloud",
            "projects",
            "add-iam-policy-binding",
            settings.project,
            f"--member=serviceAccount:{account}",
            f"--role={role}",
            "--condition=None",
            "--quiet",
        ]

    for identity in identities(functions):
        plan += [bind(settings.runtime_account(identity), role) for role in IDENTITY_ROLES[identity]]
    plan += [bind(settings.trigger_account, role) for role in TRIGGER_PROJECT_ROLES]
    for variable, ref in sorted(settings.secrets.items(), key=lambda item: item[1]):
        secret = ref.split(":", 1)[0]
        mounting = sorted(
            {spec.identity for spec in functions if variable in settings.secrets_for(spec)},
            key=list(Identity).index,
        )
        for identity in mounting:
            plan.append(
                [
                    "gcloud",
                    "secrets",
                    "add-iam-policy-binding",
                    secret,
                    project,
                    f"--member=serviceAccount:{settings.runtime_account(identity)}",
                    f"--role={SECRET_ACCESSOR}",
                    "--quiet",
                ]
            )
    return plan


def invoker_command(spec: FunctionSpec, settings: DeploySettings) -> list[str]:
    """Who may invoke the function: the trigger account an event-driven one, the declared identity an HTTP
    function that is not public."""
    member = (
        settings.trigger_account if spec.invoked_by is None else settings.runtime_account(spec.invoked_by)
    )
    return [
        "gcloud",
        "functions",
        "add-invoker-policy-binding",
        spec.name,
        f"--project={settings.project}",
        f"--region={settings.region}",
        f"--member=serviceAccount:{member}",
        "--quiet",
    ]


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


def memorystore_commands(settings: DeploySettings) -> list[list[str]]:
    """Memorystore for Redis (basic tier, 1 GB: rate-limit buckets and a minute of usage counts are tiny)
    and the connector the functions reach it through, on a subnet of its own with Private Google Access."""
    return [
        [
            "gcloud",
            "redis",
            "instances",
            "create",
            MEMORYSTORE_INSTANCE,
            f"--project={settings.project}",
            f"--region={settings.region}",
            "--tier=basic",
            "--size=1",
            "--redis-version=redis_7_0",
            # AUTH (a generated string, kept in Secret Manager as part of redis-url) and TLS with server
            # authentication: rediss://, port 6378, verified against the instance's CA (redis-ca).
            "--enable-auth",
            "--transit-encryption-mode=server-authentication",
            "--quiet",
        ],
        [
            "gcloud",
            "compute",
            "networks",
            "subnets",
            "create",
            VPC_CONNECTOR_SUBNET,
            f"--project={settings.project}",
            f"--region={settings.region}",
            f"--network={VPC_NETWORK}",
            f"--range={VPC_CONNECTOR_RANGE}",
            "--enable-private-ip-google-access",
            "--quiet",
        ],
        [
            "gcloud",
            "compute",
            "networks",
            "vpc-access",
            "connectors",
            "create",
            VPC_CONNECTOR,
            f"--project={settings.project}",
            f"--region={settings.region}",
            f"--subnet={VPC_CONNECTOR_SUBNET}",
            "--quiet",
        ],
    ]


def publisher_commands(settings: DeploySettings, functions: tuple[FunctionSpec, ...]) -> list[list[str]]:
    """roles/pubsub.publisher per topic, only for the identities that publish to it (after the topics
    exist; bindings are idempotent)."""
    declared = set(topics(functions))
    plan: list[list[str]] = []
    for identity in identities(functions):
        for topic in IDENTITY_TOPICS[identity]:
            if topic not in declared:
                continue
            plan.append(
                [
                    "gcloud",
                    "pubsub",
                    "topics",
                    "add-iam-policy-binding",
                    topic,
                    f"--project={settings.project}",
                    f"--member=serviceAccount:{settings.runtime_account(identity)}",
                    f"--role={PUBLISHER}",
                    "--quiet",
                ]
            )
    return plan


def ttl_commands(settings: DeploySettings) -> list[list[str]]:
    """The TTL policies (also in firestore.indexes.json's fieldOverrides, which the Firebase CLI deploys;
    both are idempotent)."""
    return [
        [
            "gcloud",
            "firestore",
            "fields",
            "ttls",
            "update",
            field,
            f"--collection-group={collection}",
            "--enable-ttl",
            f"--project={settings.project}",
            "--async",
            "--quiet",
        ]
        for collection, field in TTL_FIELDS.items()
    ]


# ---------------------------------------------------------------------------------------------------
# Event subscriptions: each event-driven function's Eventarc trigger delivers through a Pub/Sub
# subscription Eventarc names. The plan finds it and sets its acknowledgement deadline to the function's
# timeout (else Pub/Sub redelivers a message whose call is still running) and, on retried functions, the
# dead-letter topic: a message that fails max_delivery_attempts() times is kept there for an operator
# instead of being dropped when the subscription's retention (24 h) ends.


def _upper(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def trigger_variable(spec: FunctionSpec) -> str:
    return f"TRIGGER_{_upper(spec.name)}"


def subscription_variable(spec: FunctionSpec) -> str:
    return f"SUBSCRIPTION_{_upper(spec.name)}"


def run_service_name(spec: FunctionSpec) -> str:
    """The Cloud Run service a gen2 function runs as (its name, lower case, `_` as `-`)."""
    return spec.name.replace("_", "-").lower()


def ack_deadline_s(spec: FunctionSpec) -> int:
    return min(spec.timeout_s, MAX_ACK_DEADLINE_S)


def max_delivery_attempts(spec: FunctionSpec) -> int:
    """As many attempts as fit in RETENTION_BUDGET_S when each runs to its deadline and then waits the
    longest backoff (run_job: 68 attempts; a 60 s function: 100, Pub/Sub's most)."""
    low, high = DELIVERY_ATTEMPTS_RANGE
    return max(low, min(high, RETENTION_BUDGET_S // (ack_deadline_s(spec) + RETRY_DELAYS_S[1])))


def pubsub_agent(variable_ref_of_number: str) -> str:
    return f"service-{variable_ref_of_number}@gcp-sa-pubsub.iam.gserviceaccount.com"


def project_number_lookup(settings: DeploySettings) -> Step:
    return lookup(
        PROJECT_NUMBER,
        [
            "gcloud",
            "projects",
            "describe",
            settings.project,
            "--format=value(projectNumber)",
        ],
        shape=r"[1-9][0-9]{5,19}",
        example="123456789012",
    )


def dead_letter_setup(settings: DeploySettings) -> list[Step]:
    """The dead-letter topic, the subscription that keeps its messages for an operator (7 days, the most
    Pub/Sub keeps), and Pub/Sub's own agent allowed to publish there."""
    project = f"--project={settings.project}"
    return [
        command("gcloud", "pubsub", "topics", "create", DEAD_LETTER_TOPIC, project, "--quiet"),
        command(
            "gcloud",
            "pubsub",
            "subscriptions",
            "create",
            DEAD_LETTER_SUBSCRIPTION,
            project,
            f"--topic={DEAD_LETTER_TOPIC}",
            "--message-retention-duration=7d",
            "--expiration-period=never",
            f"--ack-deadline={MAX_ACK_DEADLINE_S}",
            "--quiet",
        ),
        command(
            "gcloud",
            "pubsub",
            "topics",
            "add-iam-policy-binding",
            DEAD_LETTER_TOPIC,
            project,
            f"--member=serviceAccount:{pubsub_agent(variable_ref(PROJECT_NUMBER))}",
            f"--role={PUBLISHER}",
            "--quiet",
        ),
    ]


def subscription_steps(spec: FunctionSpec, settings: DeploySettings) -> list[Step]:
    trigger_location = settings.firestore_location if spec.kind is FunctionKind.FIRESTORE else settings.region
    slug = run_service_name(spec)
    steps = [
        lookup(
            trigger_variable(spec),
            [
                "gcloud",
                "functions",
                "describe",
                spec.name,
                "--gen2",
                f"--project={settings.project}",
                f"--region={settings.region}",
                "--format=value(eventTrigger.trigger)",
            ],
            shape=r"projects/[a-z0-9-]+/locations/[a-z0-9-]+/triggers/[a-z0-9-]+",
            example=f"projects/{settings.project}/locations/{trigger_location}/triggers/{slug}-123456",
        ),
        lookup(
            subscription_variable(spec),
            [
                "gcloud",
                "eventarc",
                "triggers",
                "describe",
                variable_ref(trigger_variable(spec)),
                "--format=value(transport.pubsub.subscription)",
            ],
            shape=r"projects/[a-z0-9-]+/subscriptions/[A-Za-z0-9._~+%-]+",
            example=f"projects/{settings.project}/subscriptions/eventarc-{trigger_location}-{slug}-123456-sub-000",
        ),
    ]
    update = [
        "gcloud",
        "pubsub",
        "subscriptions",
        "update",
        variable_ref(subscription_variable(spec)),
        f"--ack-deadline={ack_deadline_s(spec)}",
    ]
    if retries_failures(spec):
        update += [
            f"--dead-letter-topic=projects/{settings.project}/topics/{DEAD_LETTER_TOPIC}",
            f"--max-delivery-attempts={max_delivery_attempts(spec)}",
            f"--min-retry-delay={RETRY_DELAYS_S[0]}s",
            f"--max-retry-delay={RETRY_DELAYS_S[1]}s",
        ]
    steps.append(command(*update, "--quiet"))
    if retries_failures(spec):
        # Pub/Sub's agent acknowledges the message on the source once it is kept in the dead-letter topic.
        steps.append(
            command(
                "gcloud",
                "pubsub",
                "subscriptions",
                "add-iam-policy-binding",
                variable_ref(subscription_variable(spec)),
                f"--member=serviceAccount:{pubsub_agent(variable_ref(PROJECT_NUMBER))}",
                "--role=roles/pubsub.subscriber",
                "--quiet",
            )
        )
    return steps


# ---------------------------------------------------------------------------------------------------
# Log-based metrics and alert policies


def fault_metric_name(fault: str) -> str:
    return fault.replace("_", "-")


def log_metrics(functions: tuple[FunctionSpec, ...]) -> dict[str, tuple[str, str]]:
    """name -> (description, log filter)."""
    metrics = {
        fault_metric_name(fault): (
            description,
            f'resource.type="cloud_run_revision" AND jsonPayload.fault="{fault}"',
        )
        for fault, description in FAULT_ALERTS.items()
    }
    services = " OR ".join(f'"{run_service_name(spec)}"' for spec in background_passes(functions))
    metrics[PASS_ERRORS_METRIC] = (
        "Error lines of the sweeps and reconcile (an item that failed and was skipped, a pass that failed)",
        f'resource.type="cloud_run_revision" AND resource.labels.service_name=({services}) '
        "AND severity>=ERROR",
    )
    return metrics


def log_metric_command(name: str, description: str, log_filter: str, settings: DeploySettings) -> Step:
    return command(
        "gcloud",
        "logging",
        "metrics",
        "create",
        name,
        f"--project={settings.project}",
        f"--description={description}",
        f"--log-filter={log_filter}",
        "--quiet",
    )


def background_passes(functions: tuple[FunctionSpec, ...]) -> list[FunctionSpec]:
    """The scheduled functions: the sweeps, reconcile, the counter fold and the usage flush."""
    return [spec for spec in functions if spec.schedule is not None]


def _threshold(
    name: str, metric_filter: str, above: float, window: str, aligner: str, group_by: list[str] | None = None
) -> dict[str, object]:
    aggregation: dict[str, object] = {
        "alignmentPeriod": window,
        "perSeriesAligner": aligner,
        "crossSeriesReducer": "REDUCE_SUM",
    }
    if group_by:
        aggregation["groupByFields"] = group_by
    return {
        "displayName": name,
        "conditionThreshold": {
            "filter": metric_filter,
            "comparison": "COMPARISON_GT",
            "thresholdValue": above,
            "duration": "0s",
            "aggregations": [aggregation],
        },
    }


def _policy(display_name: str, content: str, conditions: list[dict[str, object]]) -> dict[str, object]:
    return {
        "displayName": display_name,
        "combiner": "OR",
        "conditions": conditions,
        "documentation": {"content": content, "mimeType": "text/markdown"},
    }


def alert_policy(fault: str) -> dict[str, object]:
    """An alert as soon as one line of the fault was logged within ALERT_WINDOW (the lines are throttled
    to one per minute per instance, so any line means the dependency is failing now)."""
    metric = f"logging.googleapis.com/user/{fault_metric_name(fault)}"
    return _policy(
        FAULT_ALERTS[fault].split(":")[0],
        f"{FAULT_ALERTS[fault]}. See docs/reliability.md.",
        [
            _threshold(
                f"{fault} logged",
                f'metric.type="{metric}" AND resource.type="cloud_run_revision"',
                0,
                ALERT_WINDOW,
                "ALIGN_SUM",
            )
        ],
    )


def dead_letter_policy() -> dict[str, object]:
    """Open while a dead-lettered message waits in DEAD_LETTER_SUBSCRIPTION (an operator replays or
    discards it: docs/reliability.md)."""
    return _policy(
        "Dead-lettered messages",
        "An event failed for its whole retry window and was kept in the dead-letter topic. "
        "See docs/reliability.md, Dead letters: find the cause, then replay or discard.",
        [
            _threshold(
                "messages waiting in dead-letters-hold",
                'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" '
                f'AND resource.type="pubsub_subscription" '
                f'AND resource.labels.subscription_id="{DEAD_LETTER_SUBSCRIPTION}"',
                0,
                ALERT_WINDOW,
                "ALIGN_MAX",
            )
        ],
    )


def background_pass_policy(functions: tuple[FunctionSpec, ...]) -> dict[str, object]:
    """The sweeps and reconcile are not retried (the next tick redoes their work), so a failing one is
    seen only here: runs that failed (an HTTP error answered to the trigger), more than PASS_FAILURES_ALLOWED
    within PASS_WINDOW per function, or any item logged as failed and skipped."""
    services = ",".join(f'"{run_service_name(spec)}"' for spec in background_passes(functions))
    return _policy(
        "Sweeps or reconcile failing",
        "A scheduled pass (sweep_jobs, webhook_retry_sweep, reconcile, fold_counters, flush_usage) fails "
        "or skips items. Their work waits until it passes again. See docs/reliability.md.",
        [
            _threshold(
                "failed runs of a pass",
                'metric.type="run.googleapis.com/request_count" AND resource.type="cloud_run_revision" '
                f"AND resource.labels.service_name=one_of({services}) "
                'AND metric.labels.response_code_class=one_of("4xx","5xx")',
                PASS_FAILURES_ALLOWED,
                PASS_WINDOW,
                "ALIGN_SUM",
                ["resource.labels.service_name"],
            ),
            _threshold(
                "items failed and skipped",
                f'metric.type="logging.googleapis.com/user/{PASS_ERRORS_METRIC}" '
                'AND resource.type="cloud_run_revision"',
                0,
                PASS_WINDOW,
                "ALIGN_SUM",
            ),
        ],
    )


def alert_policies(functions: tuple[FunctionSpec, ...]) -> list[dict[str, object]]:
    return [
        *(alert_policy(fault) for fault in FAULT_ALERTS),
        dead_letter_policy(),
        background_pass_policy(functions),
    ]


def alert_policy_command(policy: Mapping[str, object], settings: DeploySettings) -> Step:
    # Alert policies have commands only in gcloud's alpha track (the `alpha` component: docs/deploy.md).
    return command(
        "gcloud",
        "alpha",
        "monitoring",
        "policies",
        "create",
        f"--project={settings.project}",
        f"--policy={json.dumps(policy, separators=(',', ':'))}",
        "--quiet",
    )


def deploy_plan(settings: DeploySettings, functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> list[Step]:
    project = f"--project={settings.project}"
    event_driven = [spec for spec in functions if spec.kind is not FunctionKind.HTTP]
    plan: list[Step] = [command("gcloud", "services", "enable", *REQUIRED_APIS, project, "--quiet")]
    plan.append(project_number_lookup(settings))
    plan += [command(*argv) for argv in iam_commands(settings, functions)]
    plan += [command(*argv) for argv in memorystore_commands(settings)]
    plan += [
        command("gcloud", "pubsub", "topics", "create", topic, project, "--quiet")
        for topic in topics(functions)
    ]
    plan += [command(*argv) for argv in publisher_commands(settings, functions)]
    plan += dead_letter_setup(settings)
    plan += secret_version_lookups(settings, functions)
    plan += [command(*function_deploy_command(spec, settings)) for spec in functions]
    plan += [command(*invoker_command(spec, settings)) for spec in event_driven]
    plan += [
        command(*invoker_command(spec, settings))
        for spec in functions
        if spec.kind is FunctionKind.HTTP and spec.invoked_by is not None
    ]
    for spec in event_driven:
        plan += subscription_steps(spec, settings)
    plan += [command(*scheduler_command(spec, settings)) for spec in functions if spec.schedule is not None]
    plan += [
        log_metric_command(name, description, log_filter, settings)
        for name, (description, log_filter) in log_metrics(functions).items()
    ]
    plan += [alert_policy_command(policy, settings) for policy in alert_policies(functions)]
    plan.append(
        command(
            "firebase", "deploy", "--only", "firestore:rules,firestore:indexes", "--project", settings.project
        )
    )
    plan += [command(*argv) for argv in ttl_commands(settings)]
    plan.append(
        command(
            "firebase",
            "deploy",
            "--only",
            "hosting",
            "--project",
            settings.project,
            "--config",
            str(HOSTING_DIR / "firebase.json"),
        )
    )
    return plan


def hosting_config(settings: DeploySettings, root: Path = REPO_ROOT) -> dict[str, object]:
    """firebase.json's `hosting`, with the `/v1/**` rewrite pointed at the api function in the deploy region."""
    hosting = json.loads((root / "firebase.json").read_text())["hosting"]
    rewrites = []
    for rewrite in hosting["rewrites"]:
        if "function" in rewrite:
            rewrite = {**rewrite, "function": {**rewrite["function"], "region": settings.region}}
        rewrites.append(rewrite)
    return {"hosting": {**hosting, "public": "public", "rewrites": rewrites}}


def dashboard_config(stripe_publishable_key: str) -> dict[str, object]:
    """The SPA's runtime settings in production: Firebase Hosting serves the web app's Firebase config at
    /__/firebase/init.json (firebase: null tells the SPA to read it); no Auth emulator; Stripe's own JS."""
    if not stripe_publishable_key.startswith("pk_"):
        raise DeployConfigError("the Stripe publishable key starts with pk_ (never a secret key)")
    return {
        "firebase": None,
        "authEmulatorUrl": None,
        "stripeJsUrl": STRIPE_JS_URL,
        "stripePublishableKey": stripe_publishable_key,
    }


def prepare_hosting(settings: DeploySettings, stripe_publishable_key: str, root: Path = REPO_ROOT) -> Path:
    """build/hosting: the built dashboard (web/dist), its dashboard-config.json and the firebase.json."""
    dist = root / WEB_DIST
    if not (dist / "index.html").is_file():
        raise DeployConfigError(f"{dist} is not built: run `make web` first")
    config = dashboard_config(stripe_publishable_key)
    out = root / HOSTING_DIR
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(dist, out / "public")
    (out / "public" / "dashboard-config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "firebase.json").write_text(json.dumps(hosting_config(settings, root), indent=2) + "\n")
    return out


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
    if argv[:4] in (
        ["gcloud", "pubsub", "topics", "create"],
        ["gcloud", "pubsub", "subscriptions", "create"],
        ["gcloud", "iam", "service-accounts", "create"],
        ["gcloud", "redis", "instances", "create"],
    ):
        return []
    if argv[3:6] == ["vpc-access", "connectors", "create"]:
        return []
    if argv[:5] == ["gcloud", "compute", "networks", "subnets", "create"]:
        # Kept, with Private Google Access turned on (send_to_worker's callers need it).
        region = next(arg for arg in argv if arg.startswith("--region="))
        project = next(arg for arg in argv if arg.startswith("--project="))
        return [*argv[:4], "update", argv[5], project, region, "--enable-private-ip-google-access", "--quiet"]
    if argv[:5] == ["gcloud", "scheduler", "jobs", "create", "pubsub"]:
        return [*argv[:3], "update", *argv[4:]]
    if argv[:4] == ["gcloud", "logging", "metrics", "create"]:
        return [*argv[:3], "update", *argv[4:]]
    return None


POLICY_CREATE = ["gcloud", "alpha", "monitoring", "policies", "create"]


def existing_probe(argv: list[str]) -> list[str] | None:
    """A create step whose resource has no name of ours (alert policies: the server names them) is
    looked up by display name first: re-running the plan must not make a second policy."""
    if argv[: len(POLICY_CREATE)] != POLICY_CREATE:
        return None
    policy = json.loads(next(arg for arg in argv if arg.startswith("--policy=")).split("=", 1)[1])
    project = next(arg for arg in argv if arg.startswith("--project="))
    return [
        *POLICY_CREATE[:-1],
        "list",
        project,
        f'--filter=displayName="{policy["displayName"]}"',
        "--format=value(name)",
    ]


def run_plan(plan: list[Step], run: Runner = _run, echo: Callable[[str], None] = print) -> None:
    values: dict[str, str] = {}
    for step in plan:
        argv = substitute(step.argv, values)
        echo(f"$ {shlex.join(argv)}")
        if step.sets is not None:
            found = run(argv)
            value = found.stdout.strip()
            if found.returncode != 0 or not re.fullmatch(step.shape, value):
                raise SystemExit(
                    f"lookup of {step.sets} failed ({found.returncode}, got {value!r}): {shlex.join(argv)}\n"
                    f"{found.stderr}"
                )
            values[step.sets] = value
            echo(f"  {step.sets}={value}")
            continue
        probe = existing_probe(argv)
        if probe is not None:
            found = run(probe)
            if found.returncode == 0 and found.stdout.strip():
                echo("  (exists, kept)")
                continue
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
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra env var")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME=SECRET[:VERSION]",
        help="the secret (and pinned version) a mounted variable comes from; without a version the "
        "newest enabled one is pinned at deploy time; never :latest",
    )
    parser.add_argument(
        "--stripe-publishable-key",
        default=os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        help="pk_... for the dashboard's card form (default: $STRIPE_PUBLISHABLE_KEY)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    try:
        settings = DeploySettings(
            project=args.project,
            region=args.region,
            firestore_location=args.firestore_location,
            source=args.source,
            extra_env=_key_values(args.env),
            # Overrides one at a time: both secrets are always mounted.
            secrets={**DEFAULT_SECRETS, **_key_values(args.secret)},
        )
    except DeployConfigError as exc:
        parser.error(str(exc))
    plan = deploy_plan(settings)
    if args.dry_run:
        # stdout holds only the commands (scripts parse it); the preparation is said on stderr.
        print(
            f"# prepares {HOSTING_DIR}: {WEB_DIST} + dashboard-config.json + firebase.json", file=sys.stderr
        )
        for step in plan:
            print(shell_line(step))
        return 0
    source = settings.source if settings.source.is_absolute() else REPO_ROOT / settings.source
    if not (source / "main.py").is_file() or not (source / "requirements.txt").is_file():
        print(f"{source} is not built: run `make build-functions` first", file=sys.stderr)
        return 2
    try:
        prepare_hosting(settings, args.stripe_publishable_key)
    except DeployConfigError as exc:
        print(f"{exc} (--stripe-publishable-key or STRIPE_PUBLISHABLE_KEY)", file=sys.stderr)
        return 2
    run_plan(plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
