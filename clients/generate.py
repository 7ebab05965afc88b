"""Generates the customers' clients from the OpenAPI description the code builds (no server needed).

    python clients/generate.py          # writes clients/openapi.json and the generated parts of both clients
    python clients/generate.py --check  # generates into a temporary folder; fails when the committed differ

Outputs, each wholly generated (never edited by hand):
- clients/openapi.json: functions.routes.openapi_document(), the document GET /v1/openapi.json serves
  (without `servers`, which names the address a request reached);
- clients/python/credits_client/generated/: openapi-python-client (pinned in pyproject.toml), formatted with
  ruff, whose version pyproject.toml also pins to one minor release (its formatting style is stable within one);
  with this repository's templates (clients/python/templates: enums keep values a newer server sends);
- clients/typescript/src/schema.ts: openapi-typescript (pinned in clients/typescript/package-lock.json);
- clients/python/credits_client/_described.py and clients/typescript/src/described.ts: facts of the
  description the hand-written layers follow (the job statuses listed under `x-terminal`).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent
DOCUMENT = Path("openapi.json")
PYTHON_GENERATED = Path("python/credits_client/generated")
TYPESCRIPT_SCHEMA = Path("typescript/src/schema.ts")
PYTHON_DESCRIBED = Path("python/credits_client/_described.py")
TYPESCRIPT_DESCRIBED = Path("typescript/src/described.ts")
OUTPUTS = (DOCUMENT, PYTHON_GENERATED, TYPESCRIPT_SCHEMA, PYTHON_DESCRIBED, TYPESCRIPT_DESCRIBED)
PYTHON_GENERATOR_CONFIG = CLIENTS / "python" / "generator.yaml"
PYTHON_TEMPLATES = CLIENTS / "python" / "templates"
OPENAPI_TYPESCRIPT = CLIENTS / "typescript" / "node_modules" / ".bin" / "openapi-typescript"


def document_text() -> str:
    from functions.routes import openapi_document

    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def terminal_job_statuses(document: dict[str, Any]) -> list[str]:
    """The statuses after which a job never changes (JobStatus's `x-terminal`)."""
    statuses = document["components"]["schemas"]["JobStatus"]["x-terminal"]
    return sorted(str(status) for status in statuses)


def described_python(document: dict[str, Any]) -> str:
    terminal = ", ".join(f'"{status}"' for status in terminal_job_statuses(document))
    return (
        '"""Facts of the API\'s OpenAPI description that the hand-written layer follows (written by\n'
        'clients/generate.py; never edited by hand)."""\n\n'
        f"TERMINAL_JOB_STATUSES: frozenset[str] = frozenset({{{terminal}}})\n"
    )


def described_typescript(document: dict[str, Any]) -> str:
    terminal = ", ".join(f'"{status}"' for status in terminal_job_statuses(document))
    return (
        "// Facts of the API's OpenAPI description that the hand-written layer follows (written by\n"
        "// clients/generate.py; never edited by hand).\n\n"
        f"export const TERMINAL_JOB_STATUSES: readonly string[] = [{terminal}];\n"
    )


def lenient(document: dict[str, Any]) -> dict[str, Any]:
    """The description the Python models are generated from: schemas without `additionalProperties: false`,
    so that a field a newer server adds is kept in the model's `additional_properties` (never dropped)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: walk(value)
                for key, value in node.items()
                if not (key == "additionalProperties" and value is False)
            }
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return {**document, "components": walk(document["components"])}


def _bin(name: str) -> str:
    """A tool of this interpreter's environment (the project's .venv)."""
    return str(Path(sys.executable).with_name(name))


def generate(root: Path) -> None:
    """Write every output under `root` (CLIENTS, or a temporary folder for --check)."""
    document = root / DOCUMENT
    document.parent.mkdir(parents=True, exist_ok=True)
    text = document_text()
    document.write_text(text)
    described = json.loads(text)
    for path, content in (
        (PYTHON_DESCRIBED, described_python(described)),
        (TYPESCRIPT_DESCRIBED, described_typescript(described)),
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)

    python_out = root / PYTHON_GENERATED
    python_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "generated"
        python_document = Path(scratch) / "openapi.json"
        python_document.write_text(json.dumps(lenient(described)))
        subprocess.run(
            [
                _bin("openapi-python-client"),
                "generate",
                "--path",
                str(python_document),
                "--meta",
                "none",
                "--config",
                str(PYTHON_GENERATOR_CONFIG),
                "--custom-template-path",
                str(PYTHON_TEMPLATES),
                "--output-path",
                str(staged),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Formatted here rather than by the generator's hooks: the same ruff, the client's own settings.
        ruff = [_bin("ruff"), "--config", str(CLIENTS / "python" / "pyproject.toml")]
        subprocess.run([*ruff, "check", "--fix-only", "--exit-zero", "-q", str(staged)], check=True)
        subprocess.run([*ruff, "format", "-q", str(staged)], check=True)
        shutil.rmtree(python_out, ignore_errors=True)
        shutil.copytree(staged, python_out)

    schema = root / TYPESCRIPT_SCHEMA
    schema.parent.mkdir(parents=True, exist_ok=True)
    if not OPENAPI_TYPESCRIPT.exists():
        sys.exit(f"{OPENAPI_TYPESCRIPT} is missing: run `npm ci` in clients/typescript (make clients does).")
    subprocess.run(
        [
            str(OPENAPI_TYPESCRIPT),
            str(document),
            "--root-types",  # `Job` besides components["schemas"]["Job"]
            "--root-types-no-schema-prefix",
            "--default-non-nullable=false",  # a body field with a default may be left out
            "--output",
            str(schema),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def differences(expected: Path, actual: Path) -> list[str]:
    """Paths (relative to the clients folder) that differ between two generated trees."""
    found: list[str] = []

    def walk(comparison: filecmp.dircmp[str], prefix: Path) -> None:
        found.extend(str(prefix / name) for name in comparison.left_only + comparison.right_only)
        found.extend(str(prefix / name) for name in comparison.diff_files + comparison.funny_files)
        for name, sub in comparison.subdirs.items():
            walk(sub, prefix / name)

    for output in OUTPUTS:
        left, right = expected / output, actual / output
        if left.is_dir() and right.is_dir():
            walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), output)
        elif not (left.is_file() and right.is_file() and filecmp.cmp(left, right, shallow=False)):
            found.append(str(output))
    return sorted(found)


def check() -> list[str]:
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        generate(fresh)
        return differences(fresh, CLIENTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed clients differ")
    if parser.parse_args().check:
        stale = check()
        if stale:
            sys.exit(
                "The committed clients differ from the description; run `make clients`:\n  "
                + "\n  ".join(stale)
            )
        print("clients are up to date")
    else:
        generate(CLIENTS)
        print("generated", ", ".join(str(CLIENTS / output) for output in OUTPUTS))


if __name__ == "__main__":
    main()
