"""`make deploy-plan` against the function declaration: every function, trigger, topic and schedule, nothing else.

Only the plan is checked: nothing here (or anywhere in the tests) runs gcloud or firebase.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from localdev.deploy import (
    DEFAULT_SECRETS,
    FAULT_ALERTS,
    HOSTING_DIR,
    IDENTITY_ROLES,
    IDENTITY_TOPICS,
    LOCAL_ONLY_ENV,
    TTL_FIELDS,
    DeployConfigError,
    DeploySettings,
    deploy_plan,
    main,
    run_plan,
)
from localdev.emulators import REPO_ROOT
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec, Identity, topics

PROJECT = "demo-deploy-1"
REGION = "europe-west1"
FIRESTORE_LOCATION = "eur3"


@dataclass(frozen=True)
class Command:
    argv: list[str]

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


@cache
def make_deploy_plan() -> tuple[Command, ...]:
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
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(Command(shlex.split(line)) for line in result.stdout.splitlines() if line.strip())


def commands(prefix: list[str]) -> list[Command]:
    return [c for c in make_deploy_plan() if c.argv[: len(prefix)] == prefix]


def function_deploys() -> dict[str, Command]:
    deploys = commands(["gcloud", "functions", "deploy"])
    names = [c.words[3] for c in deploys]
    assert len(names) == len(set(names)), Counter(names)
    return dict(zip(names, deploys, strict=True))


def test_every_declared_function_is_deployed_once_and_nothing_else() -> None:
    assert set(function_deploys()) == {spec.name for spec in FUNCTIONS}


def test_the_plan_holds_only_known_steps_in_order() -> None:
    kinds = [tuple(c.words[:3]) if c.argv[0] == "gcloud" else tuple(c.words[:2]) for c in make_deploy_plan()]
    scheduled = [spec for spec in FUNCTIONS if spec.schedule]
    identities = {spec.identity for spec in FUNCTIONS}
    event_driven = [spec for spec in FUNCTIONS if spec.kind is not FunctionKind.HTTP]
    project_bindings = sum(len(IDENTITY_ROLES[i]) for i in identities) + 1  # + the trigger's eventReceiver
    stripe_identities = {spec.identity for spec in FUNCTIONS if spec.calls_stripe}
    # The two Stripe secrets where Stripe is called; redis-url and redis-ca everywhere.
    secret_bindings = 2 * len(stripe_identities) + (len(DEFAULT_SECRETS) - 2) * len(identities)
    publisher_bindings = sum(len(IDENTITY_TOPICS[i]) for i in identities)
    expected = (
        [("gcloud", "services", "enable")]
        + [("gcloud", "iam", "service-accounts")] * (len(identities) + 1)
        + [("gcloud", "projects", "add-iam-policy-binding")] * project_bindings
        + [("gcloud", "secrets", "add-iam-policy-binding")] * secret_bindings
        + [("gcloud", "redis", "instances"), ("gcloud", "compute", "networks")]  # Memorystore, connector
        + [("gcloud", "pubsub", "topics")] * (len(topics()) + publisher_bindings)
        + [("gcloud", "functions", "deploy")] * len(FUNCTIONS)
        + [("gcloud", "functions", "add-invoker-policy-binding")] * len(event_driven)
        + [("gcloud", "scheduler", "jobs")] * len(scheduled)
        + [("gcloud", "logging", "metrics")] * len(FAULT_ALERTS)
        + [("gcloud", "monitoring", "policies")] * len(FAULT_ALERTS)
        + [("firebase", "deploy")]
        + [("gcloud", "firestore", "fields")] * len(TTL_FIELDS)
        + [("firebase", "deploy")]
    )
    # Topics exist before the functions subscribing to them; schedules publish to deployed functions' topics.
    assert kinds == expected


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
    secrets = dict(pair.split("=", 1) for pair in command.flag("set-secrets").split(","))
    # The Memorystore address with its AUTH string, and its CA (docs/deploy.md), everywhere.
    redis = {"REDIS_URL": "redis-url:latest", "REDIS_CA_CERT": "redis-ca:latest"}
    if spec.calls_stripe:
        assert secrets == {
            "STRIPE_SECRET_KEY": "stripe-secret-key:latest",
            "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:latest",
            **redis,
        }
    else:
        # Least privilege: no Stripe secret where Stripe is not called (deliver_webhook calls customer URLs).
        assert secrets == redis
    assert not command.has("clear-secrets"), "--set-secrets already replaces what an older deploy mounted"
    assert not set(secrets) & set(env), "secrets come from Secret Manager only"
    assert command.flag("vpc-connector") == "platform-connector"
    assert command.flag("egress-settings") == "private-ranges-only"


def test_only_the_functions_that_call_stripe_get_its_secrets() -> None:
    mounted = {
        name for name, command in function_deploys().items() if "STRIPE" in command.flag("set-secrets")
    }
    assert mounted == {"api", "stripe_webhook"}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_runs_as_its_own_least_privilege_account(spec: FunctionSpec) -> None:
    command = function_deploys()[spec.name]
    account = command.flag("service-account")
    assert account == f"platform-{spec.identity.value}@{PROJECT}.iam.gserviceaccount.com"
    assert "compute@developer" not in account
    if spec.kind is FunctionKind.HTTP:
        assert command.flag("ingress-settings") == "all"
        assert not command.has("trigger-service-account")
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
    expected = {member.format(i.value): set(roles) for i, roles in IDENTITY_ROLES.items()}
    expected[member.format("trigger")] = {"roles/eventarc.eventReceiver"}
    assert granted == expected
    assert not any("owner" in r or "editor" in r for roles in granted.values() for r in roles)
    secret_access: dict[str, set[str]] = {}
    for c in commands(["gcloud", "secrets", "add-iam-policy-binding"]):
        assert c.flag("role") == "roles/secretmanager.secretAccessor"
        secret_access.setdefault(c.words[3], set()).add(c.flag("member"))
    readers = {member.format("api"), member.format("stripe-events")}
    everyone = {member.format(i.value) for i in Identity}
    assert secret_access == {
        "stripe-secret-key": readers,
        "stripe-webhook-secret": readers,
        "redis-url": everyone,
        "redis-ca": everyone,
    }
    # Publishing is granted per topic, never project-wide.
    assert not any("pubsub" in role for roles in granted.values() for role in roles)
    publishers: dict[str, set[str]] = {}
    for c in commands(["gcloud", "pubsub", "topics", "add-iam-policy-binding"]):
        assert c.flag("role") == "roles/pubsub.publisher" and c.flag("project") == PROJECT
        publishers.setdefault(c.words[4], set()).add(c.flag("member"))
    assert publishers == {
        "jobs": {member.format(i) for i in ("workers", "webhook-sender")},
        "webhook-events": {member.format(i) for i in ("api", "workers", "webhook-sender")},
        "webhook-events-slow": {member.format(i) for i in ("api", "workers", "webhook-sender")},
        "webhook-events-test": {member.format(i) for i in ("api", "workers", "webhook-sender")},
    }
    assert set(publishers) <= set(topics())


def test_the_rate_limit_store_has_auth_and_in_transit_encryption() -> None:
    [create] = commands(["gcloud", "redis", "instances", "create"])
    assert create.has("enable-auth") and create.flag("transit-encryption-mode") == "server-authentication"
    for deploy in function_deploys().values():
        mounted = dict(item.split("=", 1) for item in deploy.flag("set-secrets").split(","))
        assert mounted["REDIS_URL"] == "redis-url:latest" and mounted["REDIS_CA_CERT"] == "redis-ca:latest"


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
    bindings = commands(["gcloud", "functions", "add-invoker-policy-binding"])
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
        assert command.has("allow-unauthenticated")  # api and stripe_webhook authenticate requests themselves
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
    assert sorted(created) == topics() == sorted({spec.topic for spec in FUNCTIONS if spec.topic})
    triggered = {c.flag("trigger-topic") for c in function_deploys().values() if c.has("trigger-topic")}
    assert triggered == set(created)


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
    added = [argv for argv in grown if argv not in base]
    assert [argv[:6] for argv in added] == [
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
        {"project": PROJECT, "secrets": {"STRIPE_SECRET_KEY": "stripe-secret-key:latest"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "STRIPE_API_BASE": "stripe-base:latest"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "FIRESTORE_EMULATOR_HOST": "x:1"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "PLATFORM_ENV": "env:latest"}},
        {"project": PROJECT, "secrets": {**DEFAULT_SECRETS, "STRIPE_WEBHOOK_SECRET": "whsec_literal_value"}},
    ],
)
def test_unsafe_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(DeployConfigError):
        DeploySettings(**settings)  # type: ignore[arg-type]


def test_one_secret_flag_never_drops_the_other_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", PROJECT, "--secret", "STRIPE_SECRET_KEY=stripe-key-v2:3", "--dry-run"]) == 0
    deploys = [Command(shlex.split(line)) for line in capsys.readouterr().out.splitlines()]
    [api] = [c for c in deploys if c.argv[:4] == ["gcloud", "functions", "deploy", "api"]]
    secrets = dict(pair.split("=", 1) for pair in api.flag("set-secrets").split(","))
    assert secrets == {
        "STRIPE_SECRET_KEY": "stripe-key-v2:3",
        "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:latest",
        "REDIS_URL": "redis-url:latest",
        "REDIS_CA_CERT": "redis-ca:latest",
    }


@pytest.mark.parametrize(
    "flag", ["STRIPE_API_BASE=base:latest", "OTHER=x:latest", "STRIPE_SECRET_KEY=sk_live_plaintext"]
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


def test_rerunning_keeps_topics_and_updates_schedules() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        exists = argv[:4] in (
            ["gcloud", "pubsub", "topics", "create"],
            ["gcloud", "scheduler", "jobs", "create"],
            ["gcloud", "iam", "service-accounts", "create"],
        )
        return subprocess.CompletedProcess(
            argv, 1 if exists else 0, "", "ERROR: ALREADY_EXISTS" if exists else ""
        )

    plan = deploy_plan(DeploySettings(project=PROJECT, secrets=dict(DEFAULT_SECRETS)))
    run_plan(plan, run=runner, echo=lambda _line: None)
    assert [argv for argv in ran if argv[:4] == ["gcloud", "iam", "service-accounts", "create"]]
    updates = [argv for argv in ran if argv[:4] == ["gcloud", "scheduler", "jobs", "update"]]
    assert len(updates) == len([spec for spec in FUNCTIONS if spec.schedule])
    probes = [argv for argv in ran if argv[:4] == ["gcloud", "monitoring", "policies", "list"]]
    assert len(probes) == len(FAULT_ALERTS)  # none found: each policy is created
    assert len(ran) == len(plan) + len(updates) + len(probes)


def test_a_failing_step_stops_the_deploy() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        failed = argv[:3] == ["gcloud", "functions", "deploy"]
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
    assert (
        set(metrics)
        == {"rate-limiter-open", "stripe-unreachable"}
        == {f.replace("_", "-") for f in FAULT_ALERTS}
    )
    for fault in FAULT_ALERTS:
        command = metrics[fault.replace("_", "-")]
        assert command.flag("project") == PROJECT
        # The field shared/core/logs.FaultLog writes on every line of the fault.
        assert f'jsonPayload.fault="{fault}"' in command.flag("log-filter")
    policies = [
        json.loads(c.flag("policy")) for c in commands(["gcloud", "monitoring", "policies", "create"])
    ]
    watched = sorted(p["conditions"][0]["conditionThreshold"]["filter"].split('"')[1] for p in policies)
    assert watched == sorted(f"logging.googleapis.com/user/{name}" for name in metrics)
    for policy in policies:
        threshold = policy["conditions"][0]["conditionThreshold"]
        assert (threshold["comparison"], threshold["thresholdValue"]) == ("COMPARISON_GT", 0)


def test_rerunning_keeps_alert_policies_and_updates_metrics() -> None:
    ran: list[list[str]] = []

    def runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        if argv[:4] == ["gcloud", "monitoring", "policies", "list"]:
            return subprocess.CompletedProcess(argv, 0, "projects/p/alertPolicies/123\n", "")
        exists = argv[:4] == ["gcloud", "logging", "metrics", "create"]
        return subprocess.CompletedProcess(
            argv, 1 if exists else 0, "", "ERROR: ALREADY_EXISTS" if exists else ""
        )

    run_plan(deploy_plan(DeploySettings(project=PROJECT)), run=runner, echo=lambda _line: None)
    assert not [argv for argv in ran if argv[:4] == ["gcloud", "monitoring", "policies", "create"]]
    assert len([argv for argv in ran if argv[:4] == ["gcloud", "logging", "metrics", "update"]]) == len(
        FAULT_ALERTS
    )
