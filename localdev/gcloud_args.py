"""Checks gcloud command lines with the installed Google Cloud CLI's own argument parser, without running them.

`refusals(commands)` starts gcloud's bundled interpreter on this file once; it builds the CLI the way `gcloud`
does (`googlecloudsdk.gcloud_main.CreateCLI`) and hands each command line to that CLI's parser, resource
arguments included (what `gcloud` does before a command's Run), and never runs a command: no credentials
are read and no request is made. An alert policy's JSON (`monitoring policies create --policy`), which the
command reads only when it runs, is built as its Run builds it, offline, and checked field by field. Each refused command comes back with gcloud's own message (an unknown
flag, a command that exists only in another release track, a bad choice or format).

This file runs under gcloud's interpreter too: only the standard library at module level.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any


class GcloudMissing(RuntimeError):
    pass


def sdk_root() -> Path:
    """The Google Cloud CLI's install folder (bin/gcloud's parent's parent, links resolved)."""
    found = shutil.which("gcloud")
    if found is None:
        raise GcloudMissing("gcloud is not installed (the Google Cloud CLI: see docs/deploy.md)")
    return Path(found).resolve().parent.parent


def sdk_python(root: Path) -> str:
    """The interpreter `gcloud` itself runs on: CLOUDSDK_PYTHON, else the bundled one, else python3."""
    configured = os.environ.get("CLOUDSDK_PYTHON")
    if configured:
        return configured
    bundled = root / "platform" / "bundledpythonunix" / "bin" / "python3"
    return str(bundled) if bundled.is_file() else "python3"


def refusals(commands: Sequence[Sequence[str]], timeout: float = 300) -> list[tuple[list[str], str]]:
    """The commands (each starting with "gcloud") the real parser refuses, each with its message."""
    root = sdk_root()
    with tempfile.TemporaryDirectory(prefix="gcloud-args-") as config:
        env = {
            **os.environ,
            # A configuration of its own: nothing of the user's (accounts, project) is read or changed.
            "CLOUDSDK_CONFIG": config,
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
            "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        }
        result = subprocess.run(
            [sdk_python(root), str(Path(__file__).resolve()), str(root / "lib")],
            input=json.dumps([list(argv) for argv in commands]),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"gcloud's parser could not be started:\n{result.stderr}")
    return [(argv, message) for argv, message in json.loads(result.stdout)]


def _parse_each(lib: str, commands: list[list[str]]) -> list[tuple[list[str], str]]:
    """Runs under gcloud's interpreter: every command through the CLI's parser, none run."""
    sys.path[:0] = [str(Path(lib) / "third_party"), lib]
    from googlecloudsdk import gcloud_main

    cli = gcloud_main.CreateCLI([])
    parser = cli._CLI__parser  # the top element's parser, which CLI.Execute hands the arguments to
    refused: list[tuple[list[str], str]] = []
    for argv in commands:
        if not argv or argv[0] != "gcloud":
            refused.append((argv, "not a gcloud command"))
            continue
        with tempfile.TemporaryFile(mode="w+") as errors:
            try:
                # gcloud's log writes to the stream it found at start-up: its messages are caught at fd 2.
                with _fd2_to(errors):
                    args = parser.parse_args(argv[1:])
                    if args.CONCEPT_ARGS is not None:
                        args.CONCEPT_ARGS.ParseConcepts()
                    path = args._GetCommand().GetPath()
                    if path[-3:] == ["monitoring", "policies", "create"]:
                        fields = _unknown_policy_fields(args)
                        if fields:
                            refused.append((argv, f"not fields or values of an AlertPolicy: {fields}"))
            except SystemExit:
                errors.seek(0)
                refused.append((argv, errors.read().strip() or "refused"))
            except Exception as exc:
                refused.append((argv, f"{type(exc).__name__}: {exc}"))
    return refused


def _unknown_policy_fields(args: Any) -> list[str]:
    """The policy built from the parsed flags exactly as the command's Run builds it (offline: only the
    Monitoring API's message classes), and every field or enum value those classes do not know."""
    from googlecloudsdk.api_lib.util import apis
    from googlecloudsdk.command_lib.monitoring import util

    policy = util.CreateAlertPolicyFromArgs(args, apis.GetMessagesModule("monitoring", "v3"))

    def unknown(message: Any, path: str) -> list[str]:
        found = [f"{path}.{name}" for name in message.all_unrecognized_fields()]
        for field in message.all_fields():
            value = getattr(message, field.name)
            for item in value if isinstance(value, list) else [value]:
                if hasattr(item, "all_unrecognized_fields"):
                    found += unknown(item, f"{path}.{field.name}")
        return found

    return unknown(policy, "policy")


@contextlib.contextmanager
def _fd2_to(target: IO[str]) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


if __name__ == "__main__":
    # Parser messages go to stderr; stdout carries only the JSON answer.
    answer = _parse_each(sys.argv[1], json.load(sys.stdin))
    sys.stdout.write(json.dumps(answer))
