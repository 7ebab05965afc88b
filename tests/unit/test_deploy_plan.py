"""`make deploy-plan` against the function declaration: every function, trigger, topic and schedule, nothing else.

Only the plan is checked: nothing here (or anywhere in the tests) runs gcloud or firebase.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pytest

from localdev.deploy import (
    DEFAULT_SECRETS,
    LOCAL_ONLY_ENV,
    DeployConfigError,
    DeploySettings,
    deploy_plan,
    run_plan,
)
from localdev.emulators import REPO_ROOT
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec, topics

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
    expected = (
        [("gcloud", "services", "enable")]
        + [("gcloud", "pubsub", "topics")] * len(topics())
        + [("gcloud", "functions", "deploy")] * len(FUNCTIONS)
        + [("gcloud", "scheduler", "jobs")] * len(scheduled)
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
    secrets = dict(pair.split("=", 1) for pair in command.flag("set-secrets").split(","))
    assert secrets == {
        "STRIPE_SECRET_KEY": "stripe-secret-key:latest",
        "STRIPE_WEBHOOK_SECRET": "stripe-webhook-secret:latest",
    }
    assert not set(secrets) & set(env), "secrets come from Secret Manager only"


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
    [firebase] = [c for c in make_deploy_plan() if c.argv[0] == "firebase"]
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
    ],
)
def test_unsafe_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(DeployConfigError):
        DeploySettings(**settings)  # type: ignore[arg-type]


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
        exists = argv[:4] == ["gcloud", "pubsub", "topics", "create"] or argv[:4] == [
            "gcloud",
            "scheduler",
            "jobs",
            "create",
        ]
        return subprocess.CompletedProcess(
            argv, 1 if exists else 0, "", "ERROR: ALREADY_EXISTS" if exists else ""
        )

    plan = deploy_plan(DeploySettings(project=PROJECT, secrets=dict(DEFAULT_SECRETS)))
    run_plan(plan, run=runner, echo=lambda _line: None)
    updates = [argv for argv in ran if argv[:4] == ["gcloud", "scheduler", "jobs", "update"]]
    assert len(updates) == len([spec for spec in FUNCTIONS if spec.schedule])
    assert len(ran) == len(plan) + len(updates)


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
