"""The deploy source: generated requirements.txt and a root main.py exposing every declared entry point."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from localdev.build_functions import build_functions
from localdev.emulators import REPO_ROOT
from shared.core.function_registry import FUNCTIONS


def declared_dependencies() -> dict[str, Requirement]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"]["dependencies"]
    return {canonicalize_name(r.name): r for r in map(Requirement, declared)}


def listed_requirements(build: Path) -> dict[str, Requirement]:
    lines = (build / "requirements.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    listed: dict[str, Requirement] = {canonicalize_name(r.name): r for r in requirements}
    assert len(listed) == len(requirements), "a dependency is listed twice"
    return listed


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built through the command line, as `make build-functions` does."""
    out = tmp_path_factory.mktemp("deploy") / "functions"
    result = subprocess.run(
        [sys.executable, "-m", "localdev.build_functions", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_requirements_list_every_runtime_dependency_pinned_to_what_was_tested(build: Path) -> None:
    declared = declared_dependencies()
    listed = listed_requirements(build)
    assert set(listed) == set(declared)
    for name, requirement in listed.items():
        [pin] = list(requirement.specifier)
        assert pin.operator == "=="
        assert pin.version == importlib.metadata.version(name)
        assert declared[name].specifier.contains(pin.version, prereleases=True)


def test_unpinned_requirements_keep_the_declared_ranges(tmp_path: Path) -> None:
    out = build_functions(tmp_path / "functions", pin=False)
    listed = listed_requirements(out)
    assert {name: str(r.specifier) for name, r in listed.items()} == {
        name: str(r.specifier) for name, r in declared_dependencies().items()
    }


def test_dev_dependencies_are_not_deployed(build: Path) -> None:
    listed = listed_requirements(build)
    for dev_only in ("pytest", "localstripe", "ruff", "mypy"):
        assert dev_only not in listed
    assert "standardwebhooks" in listed  # the echo worker verifies its dispatches with it


def test_the_build_holds_only_the_deployed_code(build: Path) -> None:
    assert sorted(p.name for p in build.iterdir()) == ["functions", "main.py", "requirements.txt", "shared"]
    assert not list(build.rglob("__pycache__"))
    for package in ("functions", "shared"):
        sources = sorted(p.relative_to(REPO_ROOT / package) for p in (REPO_ROOT / package).rglob("*.py"))
        copied = sorted(p.relative_to(build / package) for p in (build / package).rglob("*.py"))
        assert copied == sources


def test_main_exposes_every_entry_point_from_the_build_alone(build: Path) -> None:
    # A fresh interpreter whose first import location is the build directory, as on Cloud Functions; the
    # module files prove that nothing came from the repository checkout.
    probe = (
        "import json, main, functions, shared\n"
        "print(json.dumps({\n"
        "  'callable': sorted(n for n in dir(main) if not n.startswith('_') and callable(getattr(main, n))),\n"
        "  'all': sorted(main.__all__),\n"
        "  'files': [main.__file__, functions.__file__, shared.__file__],\n"
        "}))\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.endswith("_EMULATOR_HOST") and not k.startswith("STRIPE_")
    }
    env["PLATFORM_ENV"] = "production"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=build,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    exposed = json.loads(result.stdout.splitlines()[-1])
    entry_points = sorted(spec.entry_point for spec in FUNCTIONS)
    assert exposed["all"] == entry_points
    assert set(entry_points) <= set(exposed["callable"])
    for file in exposed["files"]:
        assert Path(file).resolve().is_relative_to(build.resolve()), file
