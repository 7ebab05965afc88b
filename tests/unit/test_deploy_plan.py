"""`make deploy-plan` against the function declaration: every function, trigger, topic and schedule, nothing else.

Only the plan is checked: nothing here (or anywhere in the tests) runs a gcloud or firebase command. The
installed Google Cloud CLI's own argument parser reads every gcloud command of the plan (localdev/gcloud_args.py:
parsed, never run).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from localdev.deploy import (
    DEAD_LETTER_SUBSCRIPTION,
    DEAD_LETTER_TOPIC,
    DEFAULT_SECRETS,
    EVENT_RETENTION_S,
    FAULT_ALERTS,
    HOSTING_DIR,
    IDENTITY_ROLES,
    IDENTITY_TOPICS,
    LOCAL_ONLY_ENV,
    RETRY_DELAYS_S,
    TTL_FIELDS,
    DeployConfigError,
    DeploySettings,
    deploy_plan,
    existing_probe,
    fallback_for_existing,
    main,
    run_plan,
    with_examples,
)
from localdev.emulators import REPO_ROOT
from shared.core.function_registry import (
    FUNCTIONS,
    OUTSIDE_CALLERS,
    FunctionKind,
    FunctionSpec,
    Identity,
    by_name,
    topics,
)

PROJECT = "demo-deploy-1"
REGION = "europe-west1"
FIRESTORE_LOCATION = "eur3"


@dataclass(frozen=True)
class Command:
    argv: list[str]
    sets: str | None = None  # a lookup line `NAME=$(command)`: later commands use ${NAME}

    @property
    def words(self) -> list[str]:
        """The positional words: the command itself and its resource name."""
        return [arg for arg in self.argv if not arg.startswith("--")]

    def flags(self, name: str) -> list[str]:
        """Values of every `--name=value`; a bare `--name` gives ""."""
        values = []
        for arg in self.argv:
            if arg == f"--{name}":
                values.append("")
            elif arg.startswith(f"--{name}="):
                values.append(arg.split("=", 1)[1])
        return values

    def flag(self, name: str) -> str:
        values = self.flags(name)
        assert len(values) == 1, (name, self.argv)
        return values[0]

    def has(self, name: str) -> bool:
        return bool(self.flags(name))


_LOOKUP_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=\$\((.*)\)$")


def parse_line(line: str) -> Command:
    lookup = _LOOKUP_LINE.match(line)
    if lookup:
        return Command(shlex.split(lookup.group(2)), sets=lookup.group(1))
    return Command(shlex.split(line))


@cache
def make_deploy_plan(*extra: str) -> tuple[Command, ...]:
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "deploy-plan",
            f"PROJECT={PROJECT}",
            f"REGION={REGION}",
            f"FIRESTORE_LOCATION={FIRESTORE_LOCATION}",
            *extra,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(parse_line(line) for line in result.stdout.splitlines() if line.strip())


def commands(prefix: list[str], *extra: str) -> list[Command]:
    return [c for c in make_deploy_plan(*extra) if c.argv[: len(prefix)] == prefix and c.sets is None]


def function_deploys(*extra: str) -> dict[str, Command]:
    deploys = commands(["gcloud", "functions", "deploy"], *extra)
    names = [c.words[3] for c in deploys]
    assert len(names) == len(set(names)), Counter(names)
    return dict(zip(names, deploys, strict=True))


def test_every_declared_function_is_deployed_once_and_nothing_else() -> None:
    assert set(function_deploys()) == {spec.name for spec in FUNCTIONS}


def test_the_plan_holds_only_known_steps_in_order() -> None:
    plan = [c for c in make_deploy_plan() if c.sets is None]
    kinds = [tuple(c.words[:3]) if c.argv[0] == "gcloud" else tuple(c.words[:2]) for c in plan]
    scheduled = [spec for spec in FUNCTIONS if spec.schedule]
    identities = {spec.identity for spec in FUNCTIONS}
    event_driven = [spec for spec in FUNCTIONS if spec.kind is not FunctionKind.HTTP]
    private_http = [spec for spec in FUNCTIONS if spec.kind is FunctionKind.HTTP and spec.invoked_by]
    project_bindings = sum(len(IDENTITY_ROLES[i]) for i in identities) + 1  # + the trigger's eventReceiver
    stripe_identities = {spec.identity for spec in FUNCTIONS if spec.calls_stripe}
    redis_identities = {spec.identity for spec in FUNCTIONS if spec.uses_redis}
    # The two Stripe secrets where Stripe is called; redis-url and redis-ca where Redis is used.
    secret_bindings = 2 * len(stripe_identities) + 2 * len(redis_identities)
    publisher_bindings = sum(len(IDENTITY_TOPICS[i]) for i in identities)
    subscription_steps: list[tuple[str, ...]] = []
    for spec in event_driven:
        subscription_steps.append(("gcloud", "pubsub", "subscriptions"))  # update: deadline, dead letters
        if spec.schedule is None:
            subscription_steps.append(("gcloud", "pubsub", "subscriptions"))  # Pub/Sub's agent may ack
    expected = (
        [("gcloud", "services", "enable")]
        + [("gcloud", "iam", "service-accounts")] * (len(identities) + 1)
        + [("gcloud", "projects", "add-iam-policy-binding")] * project_bindings
        + [("gcloud", "secrets", "add-iam-policy-binding")] * secret_bindings
        # Memorystore, the connector's subnet (Private Google Access), the connector
        + [
            ("gcloud", "redis", "instances"),
            ("gcloud", "compute", "networks"),
            ("gcloud", "compute", "networks"),
        ]
        + [("gcloud", "pubsub", "topics")] * (len(topics()) + publisher_bindings)
        # the dead-letter topic, the subscription keeping its messages, Pub/Sub's agent publishing there
        + [
            ("gcloud", "pubsub", "topics"),
            ("gcloud", "pubsub", "subscriptions"),
            ("gcloud", "pubsub", "topics"),
        ]
        + [("gcloud", "functions", "deploy")] * len(FUNCTIONS)
        + [("gcloud", "functions", "add-invoker-policy-binding")] * (len(event_driven) + len(private_http))
        + subscription_steps
        + [("gcloud", "scheduler", "jobs")] * len(scheduled)
        + [("gcloud", "logging", "metrics")] * (len(FAULT_ALERTS) + 1)
        + [("gcloud", "alpha", "monitoring")] * (len(FAULT_ALERTS) + 2)
        + [("firebase", "deploy")]
        + [("gcloud", "firestore", "fields")] * len(TTL_FIELDS)
        + [("firebase", "deploy")]
    )
    # Topics exist before the functions subscribing to them; schedules publish to deployed functions' topics.
    assert kinds == expected


def test_every_value_a_step_uses_is_looked_up_before_it() -> None:
    known: set[str] = set()
    for c in make_deploy_plan():
        used = {name for arg in c.argv for name in re.findall(r"\$\{([A-Z0-9_]+)\}", arg)}
        assert used <= known, (used - known, c.argv)
        if c.sets is not None:
            assert c.argv[0] == "gcloud" and any(arg.startswith("--format=value(") for arg in c.argv)
            known.add(c.sets)
    assert "PROJECT_NUMBER" in known


def test_the_dry_run_is_a_shell_script(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--project", PROJECT, "--dry-run"]) == 0
    script = tmp_path / "plan.sh"
    script.write_text(capsys.readouterr().out)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_has_its_runtime_settings(spec: FunctionSpec) -> None:
    command = function_deploys()[spec.name]
    assert command.has("gen2")
    assert command.flag("entry-point") == spec.entry_point
    assert command.flag("runtime") == "python311"
    assert command.flag("project") == PROJECT
    assert command.flag("region") == REGION
    assert command.flag("source") == "build/functions"
    assert command.flag("memory") == spec.memory
    assert command.flag("timeout") == f"{spec.timeout_s}s"
    env = dict(pair.split("=", 1) for pair in command.flag("set-env-vars").split(","))
    assert env["PLATFORM_ENV"] == "production"
    assert env["GOOGLE_CLOUD_PROJECT"] == PROJECT
    assert not LOCAL_ONLY_ENV & set(env), "local-development settings must never be deployed"
    assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} & set(env), "secrets come from Secret Manager"
    secrets = mounted_secrets(command)
    expected: dict[str, str] = {}
    if spec.calls_stripe:
        expected |= {
            "STRIPE_SECRET_KEY": "stripe-secret-key:${STRIPE_SECRET_KEY_VERSION}",
            "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:${STRIPE_WEBHOOK_SECRET_VERSION}",
        }
    if spec.uses_redis:
        # The Memorystore address with its AUTH string, and its CA (docs/deploy.md).
        expected |= {
            "REDIS_URL": "redis-url:${REDIS_URL_VERSION}",
            "REDIS_CA_CERT": "redis-ca:${REDIS_CA_CERT_VERSION}",
        }
    # Least privilege: no Stripe secret where Stripe is not called, no Redis where Redis is not used.
    assert secrets == expected
    if expected:
        assert not command.has("clear-secrets"), "--set-secrets already replaces what an older deploy mounted"
    else:
        assert command.has("clear-secrets") and not command.has("set-secrets")
    assert not set(secrets) & set(env), "secrets come from Secret Manager only"
    if spec.calls_internal_functions:
        # All its egress through the VPC: its calls to send_to_worker (internal ingress) count as internal.
        assert command.flag("vpc-connector") == "platform-connector"
        assert command.flag("egress-settings") == "all"
    elif spec.uses_redis:
        assert command.flag("vpc-connector") == "platform-connector"
        assert command.flag("egress-settings") == "private-ranges-only"
    else:
        # A redeploy keeps an omitted connector: it is cleared where Redis is not used.
        assert command.has("clear-vpc-connector") and not command.has("vpc-connector")
        assert not command.has("egress-settings")


def mounted_secrets(command: Command) -> dict[str, str]:
    if not command.has("set-secrets"):
        return {}
    return dict(pair.split("=", 1) for pair in command.flag("set-secrets").split(","))


def test_no_function_mounts_latest_and_each_version_is_pinned_at_deploy_time() -> None:
    lookups = {c.sets: c for c in make_deploy_plan() if c.sets is not None}
    for name, command in function_deploys().items():
        for variable, ref in mounted_secrets(command).items():
            secret, version = ref.split(":")
            assert version == f"${{{variable}_VERSION}}", (name, ref)
            found = lookups[f"{variable}_VERSION"]
            assert found.argv[:5] == ["gcloud", "secrets", "versions", "list", secret]
            assert found.flag("filter") == "state=ENABLED" and found.flag("limit") == "1"
    assert "latest" not in "\n".join(" ".join(c.argv) for c in make_deploy_plan())


# The modules whose code calls the guarded sender (POSTs to URLs customers or operators chose), and the
# functions whose handlers make those calls.
OUTSIDE_CALLING_MODULES = {"shared.webhooks.delivery", "shared.outbound.relay"}
OUTSIDE_CALLING_FUNCTIONS = {
    "deliver_webhook",
    "deliver_webhook_slow",
    "deliver_webhook_test",
    "send_to_worker",
}


def test_only_the_known_modules_call_outside_urls() -> None:
    """Found from the code itself: run_job's module (shared/workers/dispatch.py) must never call the guarded
    sender again."""
    import ast

    callers = set()
    for path in sorted((REPO_ROOT / "shared").rglob("*.py")) + sorted(
        (REPO_ROOT / "functions").rglob("*.py")
    ):
        tree = ast.parse(path.read_text())
        calls = (n for n in ast.walk(tree) if isinstance(n, ast.Call))
        if any(getattr(n.func, "id", getattr(n.func, "attr", None)) == "guarded_post" for n in calls):
            callers.add(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts))
    assert callers == OUTSIDE_CALLING_MODULES


def test_functions_that_call_outside_urls_hold_no_stripe_or_redis_secret() -> None:
    senders = [spec for spec in FUNCTIONS if spec.name in OUTSIDE_CALLING_FUNCTIONS]
    assert {spec.name for spec in senders} == OUTSIDE_CALLING_FUNCTIONS
    # run_job keeps job flow control in Redis and hands every request to send_to_worker: no exception left.
    assert "run_job" not in {spec.name for spec in senders}
    for spec in senders:
        assert spec.identity in OUTSIDE_CALLERS and not (spec.uses_redis or spec.calls_stripe)
        command = function_deploys()[spec.name]
        assert mounted_secrets(command) == {} and command.has("clear-secrets")
        assert command.has("clear-vpc-connector") and not command.has("vpc-connector")
    # Nor does any other function running as one of their identities.
    for spec in FUNCTIONS:
        if spec.identity in OUTSIDE_CALLERS:
            assert mounted_secrets(function_deploys()[spec.name]) == {}, spec.name
    for identity in OUTSIDE_CALLERS:
        with pytest.raises(ValueError, match="holds no Stripe or Redis secret"):
            FunctionSpec("x", "x:y", FunctionKind.PUBSUB, topic="t", identity=identity, uses_redis=True)


def test_the_job_sender_is_reachable_by_run_job_only_and_holds_nothing() -> None:
    sender = by_name("send_to_worker")
    command = function_deploys()[sender.name]
    assert command.flag("service-account") == f"platform-job-sender@{PROJECT}.iam.gserviceaccount.com"
    assert command.has("trigger-http") and command.has("no-allow-unauthenticated")
    assert not command.has("allow-unauthenticated")
    assert command.flag("ingress-settings") == "internal-only"
    assert function_deploys("TRUSTED_PROXY_HOPS=1")[sender.name].flag("ingress-settings") == "internal-only"
    [invoker] = [
        c
        for c in commands(["gcloud", "functions", "add-invoker-policy-binding"])
        if c.words[3] == sender.name
    ]
    assert invoker.flag("member") == f"serviceAccount:platform-workers@{PROJECT}.iam.gserviceaccount.com"
    assert by_name("run_job").identity is Identity.WORKERS
    # No project role and no topic: it reads and writes nothing of ours.
    member = f"serviceAccount:platform-job-sender@{PROJECT}.iam.gserviceaccount.com"
    assert not [
        c for c in commands(["gcloud", "projects", "add-iam-policy-binding"]) if c.flag("member") == member
    ]
    assert not [
        c
        for c in commands(["gcloud", "pubsub", "topics", "add-iam-policy-binding"])
        if c.flag("member") == member
    ]
    assert not [
        c for c in commands(["gcloud", "secrets", "add-iam-policy-binding"]) if c.flag("member") == member
    ]
    # It can wait on a worker as long as run_job can.
    assert sender.timeout_s >= by_name("run_job").timeout_s
    assert (
        sender.max_instances * sender.concurrency
        >= by_name("run_job").max_instances * by_name("run_job").concurrency
    )


def test_run_jobs_calls_to_the_sender_are_internal() -> None:
    """Internal ingress admits a call from another function only through the VPC, with Private Google Access
    on the connector's subnet."""
    [subnet] = commands(["gcloud", "compute", "networks", "subnets", "create"])
    [connector] = commands(["gcloud", "compute", "networks", "vpc-access", "connectors", "create"])
    assert subnet.has("enable-private-ip-google-access") and subnet.flag("network") == "default"
    assert connector.flag("subnet") == subnet.words[5] and not connector.has("range")
    run_job = function_deploys()["run_job"]
    assert run_job.flag("vpc-connector") == connector.words[6] and run_job.flag("egress-settings") == "all"
    # A re-run keeps the subnet and turns Private Google Access on.
    from localdev.deploy import fallback_for_existing

    fallback = fallback_for_existing(subnet.argv)
    assert fallback is not None and fallback[:5] == ["gcloud", "compute", "networks", "subnets", "update"]
    assert "--enable-private-ip-google-access" in fallback


def test_a_given_version_is_mounted_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", PROJECT, "--secret", "REDIS_URL=redis-url:7", "--dry-run"]) == 0
    lines = [parse_line(line) for line in capsys.readouterr().out.splitlines()]
    [api] = [c for c in lines if c.argv[:4] == ["gcloud", "functions", "deploy", "api"]]
    assert mounted_secrets(api)["REDIS_URL"] == "redis-url:7"
    assert "REDIS_URL_VERSION" not in {c.sets for c in lines}


def test_only_the_functions_that_call_stripe_get_its_secrets() -> None:
    mounted = {
        name
        for name, command in function_deploys().items()
        if "STRIPE_SECRET_KEY" in mounted_secrets(command)
    }
    assert mounted == {spec.name for spec in FUNCTIONS if spec.calls_stripe}
    assert mounted == {"api", "stripe_webhook", "on_account_updated"}  # auto top-up charges off-session


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_runs_as_its_own_least_privilege_account(spec: FunctionSpec) -> None:
    command = function_deploys()[spec.name]
    account = command.flag("service-account")
    assert account == f"platform-{spec.identity.value}@{PROJECT}.iam.gserviceaccount.com"
    assert "compute@developer" not in account
    if spec.kind is FunctionKind.HTTP and spec.invoked_by is not None:
        assert command.flag("ingress-settings") == "internal-only"
        assert not command.has("trigger-service-account")
    elif spec.kind is FunctionKind.HTTP:
        assert command.flag("ingress-settings") == "all"
        assert not command.has("trigger-service-account")
        # Behind a load balancer of ours the API is reached only through it: its own URL would let anyone
        # forge the X-Forwarded-For the API then trusts.
        behind = function_deploys("TRUSTED_PROXY_HOPS=1")[spec.name]
        expected = "internal-and-gclb" if spec.name == "api" else "all"
        assert behind.flag("ingress-settings") == expected
        env = dict(pair.split("=", 1) for pair in behind.flag("set-env-vars").split(","))
        assert env["TRUSTED_PROXY_HOPS"] == "1"
    else:
        assert command.flag("ingress-settings") == "internal-only"
        assert (
            command.flag("trigger-service-account") == f"platform-trigger@{PROJECT}.iam.gserviceaccount.com"
        )


def test_service_accounts_are_created_and_granted_only_their_roles() -> None:
    created = {c.words[4] for c in commands(["gcloud", "iam", "service-accounts", "create"])}
    assert created == {f"platform-{i.value}" for i in Identity} | {"platform-trigger"}
    granted: dict[str, set[str]] = {}
    for c in commands(["gcloud", "projects", "add-iam-policy-binding"]):
        assert c.words[3] == PROJECT
        granted.setdefault(c.flag("member"), set()).add(c.flag("role"))
    member = f"serviceAccount:platform-{{}}@{PROJECT}.iam.gserviceaccount.com"
    expected = {member.format(i.value): set(roles) for i, roles in IDENTITY_ROLES.items() if roles}
    expected[member.format("trigger")] = {"roles/eventarc.eventReceiver"}
    assert granted == expected
    assert not any("owner" in r or "editor" in r for roles in granted.values() for r in roles)
    secret_access: dict[str, set[str]] = {}
    for c in commands(["gcloud", "secrets", "add-iam-policy-binding"]):
        assert c.flag("role") == "roles/secretmanager.secretAccessor"
        secret_access.setdefault(c.words[3], set()).add(c.flag("member"))
    readers = {member.format(spec.identity.value) for spec in FUNCTIONS if spec.calls_stripe}
    redis_users = {member.format(spec.identity.value) for spec in FUNCTIONS if spec.uses_redis}
    assert {member.format("api"), member.format("stripe-events")} <= readers
    assert redis_users == {member.format("api"), member.format("workers")}
    # Neither ever reaches the identity that calls outside URLs.
    assert member.format("webhook-sender") not in readers | redis_users
    assert secret_access == {
        "stripe-secret-key": readers,
        "stripe-webhook-secret": readers,
        "redis-url": redis_users,
        "redis-ca": redis_users,
    }
    # Publishing is granted per topic, never project-wide.
    assert not any("pubsub" in role for roles in granted.values() for role in roles)
    publishers: dict[str, set[str]] = {}
    for c in commands(["gcloud", "pubsub", "topics", "add-iam-policy-binding"]):
        assert c.flag("role") == "roles/pubsub.publisher" and c.flag("project") == PROJECT
        publishers.setdefault(c.words[4], set()).add(c.flag("member"))
    assert publishers == {
        "jobs": {member.format("workers")},
        "webhook-events": {member.format(i) for i in ("api", "workers", "webhook-sender")},
        "webhook-events-slow": {member.format(i) for i in ("api", "workers", "webhook-sender")},
        "webhook-events-test": {member.format(i) for i in ("api", "workers", "webhook-sender")},
        # Pub/Sub itself moves poison messages there.
        DEAD_LETTER_TOPIC: {"serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"},
    }
    assert set(publishers) <= {*topics(), DEAD_LETTER_TOPIC}


def test_the_rate_limit_store_has_auth_and_in_transit_encryption() -> None:
    [create] = commands(["gcloud", "redis", "instances", "create"])
    assert create.has("enable-auth") and create.flag("transit-encryption-mode") == "server-authentication"
    users = {spec.name for spec in FUNCTIONS if spec.uses_redis}
    assert users == {"api", "on_job_updated", "flush_usage", "run_job", "sweep_jobs"}
    for name, deploy in function_deploys().items():
        assert ("REDIS_URL" in mounted_secrets(deploy)) == ("REDIS_CA_CERT" in mounted_secrets(deploy))
        assert ("REDIS_URL" in mounted_secrets(deploy)) == (name in users)


def test_test_data_has_ttl_policies_in_the_plan_and_the_index_file() -> None:
    ttl = commands(["gcloud", "firestore", "fields", "ttls", "update"])
    expected = {
        ("delete_at", "jobs"),
        ("delete_at", "webhook_events"),
        ("delete_at", "webhook_deliveries"),
        ("expires_at", "webhook_rate"),
    }
    assert {(c.words[5], c.flag("collection-group")) for c in ttl} == expected
    assert all(c.has("enable-ttl") and c.flag("project") == PROJECT for c in ttl)
    overrides = json.loads((REPO_ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    with_ttl = {(o["fieldPath"], o["collectionGroup"]) for o in overrides if o.get("ttl")}
    assert with_ttl == expected
    # Never the jobs' own expires_at (a queued job's deadline, live jobs too): that would delete live jobs.
    assert ("expires_at", "jobs") not in with_ttl


def test_only_the_trigger_account_may_invoke_event_driven_functions() -> None:
    bindings = [
        c
        for c in commands(["gcloud", "functions", "add-invoker-policy-binding"])
        if by_name(c.words[3]).kind is not FunctionKind.HTTP
    ]
    assert {c.words[3] for c in bindings} == {s.name for s in FUNCTIONS if s.kind is not FunctionKind.HTTP}
    for c in bindings:
        assert c.flag("member") == f"serviceAccount:platform-trigger@{PROJECT}.iam.gserviceaccount.com"
        assert c.flag("region") == REGION


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_has_exactly_its_declared_trigger(spec: FunctionSpec) -> None:
    command = function_deploys()[spec.name]
    is_http = command.has("trigger-http")
    is_topic = command.has("trigger-topic")
    is_event = command.has("trigger-event-filters")
    assert [is_http, is_topic, is_event].count(True) == 1, command.argv
    if spec.kind is FunctionKind.HTTP:
        assert is_http
        # api and stripe_webhook authenticate requests themselves; send_to_worker is run_job's only
        assert command.has("allow-unauthenticated") == (spec.invoked_by is None)
        assert not command.has("retry")
    elif spec.kind is FunctionKind.FIRESTORE:
        assert spec.event_type is not None
        assert sorted(command.flags("trigger-event-filters")) == sorted(
            [f"type={spec.event_type.value}", "database=(default)"]
        )
        assert command.flags("trigger-event-filters-path-pattern") == [f"document={spec.document}"]
        assert command.flag("trigger-location") == FIRESTORE_LOCATION
    else:
        assert command.flag("trigger-topic") == spec.topic
    if spec.kind is not FunctionKind.HTTP:
        assert command.has("no-allow-unauthenticated") and not command.has("allow-unauthenticated")
        # Retried on failure unless a scheduler tick redoes the work anyway.
        assert command.has("retry") == (spec.schedule is None)


def test_every_topic_is_created_and_no_other() -> None:
    created = [c.words[4] for c in commands(["gcloud", "pubsub", "topics", "create"])]
    assert sorted(created) == sorted([*topics(), DEAD_LETTER_TOPIC])
    assert topics() == sorted({spec.topic for spec in FUNCTIONS if spec.topic})
    triggered = {c.flag("trigger-topic") for c in function_deploys().values() if c.has("trigger-topic")}
    assert triggered == set(created) - {DEAD_LETTER_TOPIC}


def test_every_schedule_publishes_to_its_functions_topic() -> None:
    jobs = commands(["gcloud", "scheduler", "jobs", "create", "pubsub"])
    planned = {(c.flag("topic"), c.flag("schedule")) for c in jobs}
    declared = {(spec.topic, spec.schedule) for spec in FUNCTIONS if spec.schedule}
    assert planned == declared and len(jobs) == len(declared)
    for job in jobs:
        assert job.flag("project") == PROJECT
        assert job.flag("location") == REGION
        assert job.flag("time-zone") == "Etc/UTC"


def test_rules_and_indexes_are_deployed_with_firebase() -> None:
    [firebase, _] = [c for c in make_deploy_plan() if c.argv[0] == "firebase"]
    assert firebase.argv == [
        "firebase",
        "deploy",
        "--only",
        "firestore:rules,firestore:indexes",
        "--project",
        PROJECT,
    ]


def test_the_plan_follows_the_declaration_it_is_given() -> None:
    extra = FunctionSpec(
        "nightly_report", "nightly_report", FunctionKind.PUBSUB, topic="reports", schedule="0 3 * * *"
    )
    settings = DeploySettings(project=PROJECT)
    base = deploy_plan(settings)
    grown = deploy_plan(settings, (*FUNCTIONS, extra))
    added = [list(step.argv) for step in grown if step not in base]
    # The sweeps' error metric and alert now watch the new scheduled function too.
    watching = [argv for argv in added if argv[1] in ("logging", "alpha")]
    assert len(watching) == 2 and all("nightly-report" in " ".join(argv) for argv in watching)
    assert [argv[:6] for argv in added if argv not in watching] == [
        ["gcloud", "pubsub", "topics", "create", "reports", f"--project={PROJECT}"],
        ["gcloud", "functions", "deploy", "nightly_report", "--gen2", f"--project={PROJECT}"],
        [
            "gcloud",
            "functions",
            "add-invoker-policy-binding",
            "nightly_report",
            f"--project={PROJECT}",
            "--region=us-central1",
        ],
        ["gcloud", "functions", "describe", "nightly_report", "--gen2", f"--project={PROJECT}"],
        [
            "gcloud",
            "eventarc",
            "triggers",
            "describe",
            "${TRIGGER_NIGHTLY_REPORT}",
            "--format=value(transport.pubsub.subscription)",
        ],
        [
            "gcloud",
            "pubsub",
            "subscriptions",
            "update",
            "${SUBSCRIPTION_NIGHTLY_REPORT}",
            "--ack-deadline=60",
        ],
        ["gcloud", "scheduler", "jobs", "create", "pubsub", "nightly-report-schedule"],
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"project": ""},
        {"project": "Upper-Case"},
        {"project": "demo-deploy-1; rm -rf /"},
        {"project": PROJECT, "region": "us central1"},
        {"project": PROJECT, "extra_env": {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}},
        {"project": PROJECT, "extra_env": {"ALLOW_LOOPBACK_WEBHOOKS": "true"}},
        {"project": PROJECT, "extra_env": {"PLATFORM_ENV": "local"}},
        {"project": PROJECT, "extra_env": {"STRIPE_SECRET_KEY": "sk_live_x"}},
        {"project": PROJECT, "extra_env": {"LOG_LEVEL": "a,b"}},
        {"project": PROJECT, "extra_env": {"STRIPE_API_BASE": "http://127.0.0.1:8420"}},
        {"project": PROJECT, "extra_env": {"K_SERVICE": "api"}},
        # --secret names are validated like --env names: both Stripe secrets, nothing else, well formed.
        {"project": PROJECT, "secrets": {"STRIPE_SECRET_KEY": "stripe-secret-key:3"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "STRIPE_API_BASE": "stripe-base:3"}},
        # `latest` is never mounted: a bad new version would break newly started instances silently.
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "STRIPE_SECRET_KEY": "stripe-secret-key:latest"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "REDIS_URL": "redis-url:0"}},
        {"project": PROJECT, "extra_env": {"TRUSTED_PROXY_HOPS": "one"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "FIRESTORE_EMULATOR_HOST": "x:1"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "PLATFORM_ENV": "env:3"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "STRIPE_WEBHOOK_SECRET": "whsec_literal_value"}},
    ],
)
def test_unsafe_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(DeployConfigError):
        DeploySettings(**settings)  # type: ignore[arg-type]


def test_one_secret_flag_never_drops_the_other_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", PROJECT, "--secret", "STRIPE_SECRET_KEY=stripe-key-v2:3", "--dry-run"]) == 0
    deploys = [parse_line(line) for line in capsys.readouterr().out.splitlines()]
    [api] = [c for c in deploys if c.argv[:4] == ["gcloud", "functions", "deploy", "api"]]
    assert mounted_secrets(api) == {
        "STRIPE_SECRET_KEY": "stripe-key-v2:3",
        "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:${STRIPE_WEBHOOK_SECRET_VERSION}",
        "REDIS_URL": "redis-url:${REDIS_URL_VERSION}",
        "REDIS_CA_CERT": "redis-ca:${REDIS_CA_CERT_VERSION}",
    }


@pytest.mark.parametrize(
    "flag",
    [
        "STRIPE_API_BASE=base:3",
        "OTHER=x:3",
        "STRIPE_SECRET_KEY=sk_live_plaintext",
        "STRIPE_SECRET_KEY=stripe-secret-key:latest",
    ],
)
def test_the_secret_flag_refuses_unknown_names_and_plaintext(flag: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--project", PROJECT, "--secret", flag, "--dry-run"])
    assert exc.value.code == 2


def test_make_deploy_plan_without_a_project_fails_clearly() -> None:
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "deploy-plan"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "not a Google Cloud project id" in result.stderr


# ---------------------------------------------------------------------------------------------------
# Re-running a deploy: what happens when a create step meets an existing resource (a recording runner,
# never gcloud itself)


def looked_up(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    """The answer a lookup step gets from gcloud (a recording runner's stand-in), or None for other steps."""
    answers = {
        ("projects", "describe"): "123456789012",
        ("secrets", "versions"): "4",
        (
            "functions",
            "describe",
        ): f"projects/{PROJECT}/locations/us-central1/triggers/{argv[3].replace('_', '-')}-1",
        ("eventarc", "triggers"): f"projects/{PROJECT}/subscriptions/sub-{argv[4].rsplit('/', 1)[-1]}",
    }
    answer = answers.get((argv[1], argv[2]))
    return None if answer is None else subprocess.CompletedProcess(argv, 0, f"{answer}\n", "")


def test_lookups_feed_later_steps_and_a_malformed_answer_stops_the_deploy() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        return looked_up(argv) or subprocess.CompletedProcess(argv, 0, "", "")

    run_plan(deploy_plan(DeploySettings(project=PROJECT)), run=runner, echo=lambda _line: None)
    assert not any("${" in arg for argv in ran for arg in argv)
    [api] = [argv for argv in ran if argv[:4] == ["gcloud", "functions", "deploy", "api"]]
    assert (
        "--set-secrets=STRIPE_SECRET_KEY=stripe-secret-key:4,STRIPE_WEBHOOK_SECRET=stripe-webhook-secret:4,"
        "REDIS_URL=redis-url:4,REDIS_CA_CERT=redis-ca:4" in api
    )
    update = f"projects/{PROJECT}/subscriptions/sub-run-job-1"
    assert ["gcloud", "pubsub", "subscriptions", "update", update] in [argv[:5] for argv in ran]
    agent = "--member=serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert any(
        argv[:4] == ["gcloud", "pubsub", "subscriptions", "add-iam-policy-binding"] and agent in argv
        for argv in ran
    )

    def wrong_version(argv: list[str]) -> subprocess.CompletedProcess[str]:
        if argv[1:3] == ["secrets", "versions"]:
            return subprocess.CompletedProcess(argv, 0, "latest\n", "")
        return looked_up(argv) or subprocess.CompletedProcess(argv, 0, "", "")

    with pytest.raises(SystemExit, match="lookup of STRIPE_SECRET_KEY_VERSION failed"):
        run_plan(deploy_plan(DeploySettings(project=PROJECT)), run=wrong_version, echo=lambda _line: None)


def test_rerunning_keeps_topics_and_updates_schedules() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        exists = argv[:4] in (
            ["gcloud", "pubsub", "topics", "create"],
            ["gcloud", "pubsub", "subscriptions", "create"],
            ["gcloud", "scheduler", "jobs", "create"],
            ["gcloud", "iam", "service-accounts", "create"],
        )
        answer = looked_up(argv)
        if answer is not None:
            return answer
        return subprocess.CompletedProcess(
            argv, 1 if exists else 0, "", "ERROR: ALREADY_EXISTS" if exists else ""
        )

    plan = deploy_plan(DeploySettings(project=PROJECT, secrets=dict(DEFAULT_SECRETS)))
    run_plan(plan, run=runner, echo=lambda _line: None)
    assert [argv for argv in ran if argv[:4] == ["gcloud", "iam", "service-accounts", "create"]]
    updates = [argv for argv in ran if argv[:4] == ["gcloud", "scheduler", "jobs", "update"]]
    assert len(updates) == len([spec for spec in FUNCTIONS if spec.schedule])
    probes = [argv for argv in ran if argv[:5] == ["gcloud", "alpha", "monitoring", "policies", "list"]]
    assert len(probes) == len(FAULT_ALERTS) + 2  # none found: each policy is created
    assert len(ran) == len(plan) + len(updates) + len(probes)


def test_a_failing_step_stops_the_deploy() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        failed = argv[:3] == ["gcloud", "functions", "deploy"]
        answer = looked_up(argv)
        if answer is not None:
            return answer
        return subprocess.CompletedProcess(
            argv, 1 if failed else 0, "", "ERROR: permission denied" if failed else ""
        )

    with pytest.raises(SystemExit, match="permission denied"):
        run_plan(deploy_plan(DeploySettings(project=PROJECT)), run=runner, echo=lambda _line: None)
    assert ran[-1][:4] == ["gcloud", "functions", "deploy", FUNCTIONS[0].name]
    assert not [argv for argv in ran if argv[:3] == ["gcloud", "scheduler", "jobs"]]


def test_the_dashboard_is_deployed_to_hosting_last() -> None:
    hosting = make_deploy_plan()[-1]
    assert hosting.argv == [
        "firebase",
        "deploy",
        "--only",
        "hosting",
        "--project",
        PROJECT,
        "--config",
        str(HOSTING_DIR / "firebase.json"),
    ]


def test_hosting_rewrites_v1_to_the_api_function_of_the_deploy_region(tmp_path: Path) -> None:
    from localdev.deploy import prepare_hosting

    settings = DeploySettings(project=PROJECT, region=REGION, firestore_location=FIRESTORE_LOCATION)
    (tmp_path / "web" / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "web" / "dist" / "index.html").write_text("<!doctype html>")
    (tmp_path / "firebase.json").write_text((REPO_ROOT / "firebase.json").read_text())
    out = prepare_hosting(settings, "pk_test_123", root=tmp_path)
    config = json.loads((out / "firebase.json").read_text())["hosting"]
    assert config["public"] == "public"
    assert {"source": "/v1/**", "function": {"functionId": "api", "region": REGION}} in config["rewrites"]
    assert config["rewrites"][-1] == {"source": "**", "destination": "/index.html"}
    dashboard = json.loads((out / "public" / "dashboard-config.json").read_text())
    assert dashboard["stripePublishableKey"] == "pk_test_123"
    assert dashboard["authEmulatorUrl"] is None  # production never points at an emulator
    assert (out / "public" / "index.html").is_file()


def test_hosting_refuses_a_secret_key_or_an_unbuilt_dashboard(tmp_path: Path) -> None:
    from localdev.deploy import prepare_hosting

    settings = DeploySettings(project=PROJECT)
    with pytest.raises(DeployConfigError, match="not built"):
        prepare_hosting(settings, "pk_test_123", root=tmp_path)
    (tmp_path / "web" / "dist").mkdir(parents=True)
    (tmp_path / "web" / "dist" / "index.html").write_text("<!doctype html>")
    with pytest.raises(DeployConfigError, match="publishable"):
        prepare_hosting(settings, "sk_live_oops", root=tmp_path)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_carries_its_scaling_settings(spec: FunctionSpec) -> None:
    command = function_deploys()[spec.name]
    assert command.flag("concurrency") == str(spec.concurrency)
    assert command.flag("cpu") == spec.cpu
    assert command.flag("max-instances") == str(spec.max_instances)
    assert command.flag("min-instances") == str(spec.min_instances)
    env = dict(pair.split("=", 1) for pair in command.flag("set-env-vars").split(","))
    assert env["THREADS"] == str(spec.concurrency)  # the framework serves as many at once as allowed
    if spec.concurrency > 1:
        assert float(spec.cpu) >= 1


def test_scaling_follows_the_capacity_analysis() -> None:
    specs = {spec.name: spec for spec in FUNCTIONS}
    assert specs["api"].min_instances >= 1 and specs["api"].concurrency > 1
    assert specs["api"].max_instances * specs["api"].concurrency >= 100_000 * 0.05  # in flight at 50 ms
    for spec in FUNCTIONS:
        if spec.schedule is not None:
            assert (spec.max_instances, spec.concurrency) == (1, 1), "sweeps never overlap"


def test_each_fault_has_a_log_based_metric_and_an_alert_on_it() -> None:
    metrics = {c.words[4]: c for c in commands(["gcloud", "logging", "metrics", "create"])}
    faults = {f.replace("_", "-") for f in FAULT_ALERTS}
    assert set(metrics) == {"rate-limiter-open", "stripe-unreachable", "background-pass-errors"}
    assert faults < set(metrics)
    for fault in FAULT_ALERTS:
        command = metrics[fault.replace("_", "-")]
        assert command.flag("project") == PROJECT
        # The field shared/core/logs.FaultLog writes on every line of the fault.
        assert f'jsonPayload.fault="{fault}"' in command.flag("log-filter")
    policies = alert_policies_planned()
    watched = sorted(
        c["conditionThreshold"]["filter"].split('"')[1] for p in policies for c in p["conditions"]
    )
    assert sorted(f"logging.googleapis.com/user/{name}" for name in metrics) == sorted(
        w for w in watched if w.startswith("logging.googleapis.com/user/")
    )
    for policy in policies:
        for condition in policy["conditions"]:
            assert condition["conditionThreshold"]["comparison"] == "COMPARISON_GT"


def alert_policies_planned() -> list[dict[str, Any]]:
    return [
        json.loads(c.flag("policy"))
        for c in commands(["gcloud", "alpha", "monitoring", "policies", "create"])
    ]


def test_dead_letters_and_the_sweeps_failing_raise_alerts() -> None:
    by_name = {p["displayName"]: p for p in alert_policies_planned()}
    [dead] = by_name["Dead-lettered messages"]["conditions"]
    assert f'subscription_id="{DEAD_LETTER_SUBSCRIPTION}"' in dead["conditionThreshold"]["filter"]
    assert dead["conditionThreshold"]["thresholdValue"] == 0
    failing, skipped = by_name["Sweeps or reconcile failing"]["conditions"]
    services = {spec.name.replace("_", "-") for spec in FUNCTIONS if spec.schedule}
    assert {"sweep-jobs", "webhook-retry-sweep", "reconcile"} <= services
    for service in services:
        assert f'"{service}"' in failing["conditionThreshold"]["filter"]
    assert 'response_code_class=one_of("4xx","5xx")' in failing["conditionThreshold"]["filter"]
    assert "background-pass-errors" in skipped["conditionThreshold"]["filter"]
    [errors] = [
        c
        for c in commands(["gcloud", "logging", "metrics", "create"])
        if c.words[4] == "background-pass-errors"
    ]
    assert "severity>=ERROR" in errors.flag("log-filter")
    assert all(f'"{service}"' in errors.flag("log-filter") for service in services)


def subscription_updates() -> dict[str, Command]:
    """Each event-driven function's subscription update, by function (found through its lookups)."""
    plan = make_deploy_plan()
    owner = {}
    for c in plan:
        if c.sets is not None and c.sets.startswith("SUBSCRIPTION_"):
            owner["${" + c.sets + "}"] = c.sets.removeprefix("SUBSCRIPTION_").lower()
    updates = {owner[c.words[4]]: c for c in commands(["gcloud", "pubsub", "subscriptions", "update"])}
    return updates


@pytest.mark.parametrize(
    "spec", [s for s in FUNCTIONS if s.kind is not FunctionKind.HTTP], ids=lambda s: s.name
)
def test_each_event_subscription_waits_for_its_function_and_keeps_its_poison_messages(
    spec: FunctionSpec,
) -> None:
    update = subscription_updates()[spec.name]
    # Pub/Sub must not redeliver a message whose call is still running (600 s is Pub/Sub's most).
    assert update.flag("ack-deadline") == str(min(spec.timeout_s, 600))
    if spec.schedule is not None:
        assert not update.has("dead-letter-topic")  # not retried: the next tick redoes the work
        return
    assert update.flag("dead-letter-topic") == f"projects/{PROJECT}/topics/{DEAD_LETTER_TOPIC}"
    attempts = int(update.flag("max-delivery-attempts"))
    assert 5 <= attempts <= 100
    # Even attempts that each run to the deadline and wait the longest backoff end in the dead-letter
    # topic before the subscription's 24 h retention would drop the message unseen.
    assert attempts * (min(spec.timeout_s, 600) + RETRY_DELAYS_S[1]) < EVENT_RETENTION_S
    assert (update.flag("min-retry-delay"), update.flag("max-retry-delay")) == ("10s", "600s")
    grants = [
        c
        for c in commands(["gcloud", "pubsub", "subscriptions", "add-iam-policy-binding"])
        if c.words[4] == update.words[4]
    ]
    assert [(g.flag("role"), g.flag("member")) for g in grants] == [
        (
            "roles/pubsub.subscriber",
            "serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com",
        )
    ]


def test_dead_letters_are_kept_for_an_operator() -> None:
    [_topic] = [
        c for c in commands(["gcloud", "pubsub", "topics", "create"]) if c.words[4] == DEAD_LETTER_TOPIC
    ]
    [hold] = commands(["gcloud", "pubsub", "subscriptions", "create"])
    assert hold.words[4] == DEAD_LETTER_SUBSCRIPTION and hold.flag("topic") == DEAD_LETTER_TOPIC
    assert hold.flag("message-retention-duration") == "7d" and hold.flag("expiration-period") == "never"
    assert not hold.has("push-endpoint")  # a pull subscription: nothing consumes it but an operator
    [grant] = [
        c
        for c in commands(["gcloud", "pubsub", "topics", "add-iam-policy-binding"])
        if c.words[4] == DEAD_LETTER_TOPIC
    ]
    assert grant.flag("role") == "roles/pubsub.publisher"
    assert (
        grant.flag("member")
        == "serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
    )


# ---------------------------------------------------------------------------------------------------
# The real Google Cloud CLI's parser reads every gcloud command of the plan (never runs one)


@pytest.mark.parametrize("hops", ["0", "1"])
def test_every_gcloud_command_of_the_plan_is_accepted_by_the_real_parser(hops: str) -> None:
    from localdev.gcloud_args import refusals

    plan = deploy_plan(
        DeploySettings(
            project=PROJECT,
            region=REGION,
            firestore_location=FIRESTORE_LOCATION,
            extra_env={"TRUSTED_PROXY_HOPS": hops},
        )
    )
    gcloud = [argv for argv in with_examples(plan) if argv[0] == "gcloud"]
    # What re-running adds: the alert policies' lookups and the updates of existing resources.
    gcloud += [probe for argv in gcloud if (probe := existing_probe(argv)) is not None]
    gcloud += [fallback for argv in gcloud if (fallback := fallback_for_existing(argv))]
    assert len(gcloud) > len(FUNCTIONS) * 3
    assert refusals(gcloud) == []


def test_the_parser_check_refuses_what_gcloud_refuses() -> None:
    from localdev.gcloud_args import refusals

    ga_policy = ["gcloud", "monitoring", "policies", "create", f"--project={PROJECT}", "--policy={}"]
    bad_ingress = [
        "gcloud",
        "functions",
        "deploy",
        "api",
        "--gen2",
        "--ingress-settings=internal-and-cloud-load-balancing",
    ]
    unknown_flag = ["gcloud", "pubsub", "subscriptions", "update", "s", "--ack-deadline-seconds=60"]
    typo = json.dumps(
        {"displayName": "x", "combinr": "OR", "conditions": [{"conditionThreshold": {"comparison": "GT"}}]}
    )
    bad_policy = [
        "gcloud",
        "alpha",
        "monitoring",
        "policies",
        "create",
        f"--project={PROJECT}",
        f"--policy={typo}",
    ]
    refused = dict(
        (tuple(argv), message)
        for argv, message in refusals([ga_policy, bad_ingress, unknown_flag, bad_policy])
    )
    assert "alternate release tracks" in refused[tuple(ga_policy)]
    assert "internal-and-gclb" in refused[tuple(bad_ingress)]  # gcloud suggests the real choice
    assert "unrecognized arguments" in refused[tuple(unknown_flag)]
    # The policy's JSON, read only when the command runs, is checked against the API's own messages.
    assert "policy.combinr" in refused[tuple(bad_policy)]
    assert "conditionThreshold.comparison" in refused[tuple(bad_policy)]
