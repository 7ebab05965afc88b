"""The clients as published (`make clients-dist`: clients/dist), installed as a developer installs them: the
wheel on the lowest Python the package supports (its requires-python), and each artifact (wheel, sdist, npm
tarball) into a clean environment of its own, where the README's quickstart runs against the local platform
with only CREDITS_API_KEY and CREDITS_BASE_URL set; the npm package loads with require() and import and
carries its types. Installs are offline: from clients/dist/wheelhouse and npm's cache (make fills both)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.support.platform import create_account, create_api_key

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
DIST = CLIENTS / "dist"
WHEELHOUSE = DIST / "wheelhouse"
TSC = CLIENTS / "typescript" / "node_modules" / ".bin" / "tsc"


def version() -> str:
    return str(json.loads((CLIENTS / "typescript" / "package.json").read_text())["version"])


def artifact(pattern: str) -> Path:
    [found] = DIST.glob(pattern)
    return found


def lowest_python() -> str:
    stated = tomllib.loads((CLIENTS / "python" / "pyproject.toml").read_text())["project"]["requires-python"]
    floor = re.fullmatch(r">=(\d+\.\d+)", stated)
    assert floor, stated
    found = shutil.which(f"python{floor[1]}")
    assert found, f"python{floor[1]} (requires-python {stated}) is not installed here"
    return found


def run(command: list[str | Path], **options: object) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=300, **options
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return str(done.stdout)


def clean_python(root: Path, interpreter: str) -> Path:
    run([interpreter, "-m", "venv", root])
    return root / "bin" / "python"


def pip_install(python: Path, target: Path) -> None:
    run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", WHEELHOUSE, target])


def python_quickstart() -> str:
    readme = (CLIENTS / "python" / "README.md").read_text()
    return readme.split("## Quickstart", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def typescript_quickstart() -> str:
    readme = (CLIENTS / "typescript" / "README.md").read_text()
    return readme.split("## Quickstart", 1)[1].split("```ts\n", 1)[1].split("```", 1)[0]


def quickstart_env(project: Project) -> dict[str, str]:
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "test")
    return {
        "PATH": os.environ["PATH"],
        "CREDITS_API_KEY": key,
        "CREDITS_BASE_URL": project.function_url("api"),
    }


def test_the_versions_agree_with_the_changelog() -> None:
    init = (CLIENTS / "python" / "credits_client" / "_version.py").read_text()
    assert f'__version__ = "{version()}"' in init
    newest = re.search(r"^## (\S+)", (CLIENTS / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert newest and newest[1] == version()
    assert artifact("*.whl").name == f"credits_client-{version()}-py3-none-any.whl"


def test_the_wheel_installs_and_imports_on_the_lowest_supported_python(tmp_path: Path) -> None:
    interpreter = lowest_python()
    python = clean_python(tmp_path / "venv", interpreter)
    pip_install(python, artifact("*.whl"))
    printed = run(
        [
            python,
            "-c",
            "import sys, credits_client, credits_client.generated.api.jobs.get_job;"
            "from credits_client.models import JobStatus;"
            "print(sys.version_info[:2], credits_client.__version__, JobStatus('from_a_newer_server'))",
        ]
    )
    expected_python = run([interpreter, "-c", "import sys; print(sys.version_info[:2])"]).strip()
    assert printed.split(")")[0] + ")" == expected_python
    assert f"{version()} from_a_newer_server" in printed


@pytest.mark.parametrize("kind", ["*.whl", "*.tar.gz"])
def test_each_python_artifact_runs_the_quickstart_in_a_clean_environment(
    project: Project, tmp_path: Path, kind: str
) -> None:
    python = clean_python(tmp_path / "venv", lowest_python())
    pip_install(python, artifact(kind))
    out = run([python, "-c", python_quickstart()], env=quickstart_env(project), cwd=tmp_path)
    assert out.startswith("completed world ['job_"), out
    metadata = run(
        [
            python,
            "-c",
            "import importlib.metadata as m; d = m.metadata('credits-client');"
            "print(d['Version'], d['License-Expression'], d['Requires-Python'], len(d.get_all('Project-URL')))",
        ]
    )
    assert metadata.split() == [version(), "MIT", ">=3.11", "4"]


def test_the_npm_tarball_installs_with_types_and_runs_the_quickstart(
    project: Project, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "app", "private": True, "type": "module"}))
    tarball = artifact("*.tgz")
    run(["npm", "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], cwd=app)
    installed = app / "node_modules" / "credits-client"
    assert (installed / "dist" / "index.d.ts").is_file() and (
        installed / "dist" / "cjs" / "index.d.ts"
    ).is_file()
    assert (installed / "LICENSE").is_file() and (installed / "CHANGELOG.md").is_file()
    # The quickstart as written, type-checked against the installed package's types, then run under Node.
    (app / "quickstart.ts").write_text(typescript_quickstart())
    run(
        [
            TSC,
            "--noEmit",
            "--strict",
            "--target",
            "ES2022",
            "--module",
            "NodeNext",
            "--moduleResolution",
            "NodeNext",
            "--lib",
            "ES2022,DOM,DOM.Iterable",
            "--types",
            "",
            "quickstart.ts",
        ],
        cwd=app,
    )
    (app / "quickstart.mjs").write_text(typescript_quickstart())
    out = run(["node", "quickstart.mjs"], env=quickstart_env(project), cwd=app)
    assert out.startswith("completed world req_"), out
    # CommonJS and ESM both load it.
    loaded = run(
        [
            "node",
            "-e",
            "const c = require('credits-client'); console.log(typeof c.createClient, c.TERMINAL_JOB_STATUSES.length)",
        ],
        cwd=app,
    )
    assert loaded.strip() == "function 3"
    imported = run(
        [
            "node",
            "--input-type=module",
            "-e",
            "import { createClient } from 'credits-client'; console.log(typeof createClient)",
        ],
        cwd=app,
    )
    assert imported.strip() == "function"
