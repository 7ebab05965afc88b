"""Start and stop the local platform's processes: the emulators, localstripe and the functions host.

Shared by the test fixtures and `make dev`. Every process runs in its own process group so that stopping
it also stops children (the emulator wrappers are shell scripts that start a `java` child), under a guard
(localdev/child_guard.py) that ends the group when the process that started it dies, even by SIGKILL:
nothing is left behind holding a port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
CHILD_GUARD = Path(__file__).resolve().parent / "child_guard.py"
INSTALL_ADVICE = (
    "The Google Cloud CLI emulators were not found. Install them with\n"
    "  gcloud components install cloud-firestore-emulator pubsub-emulator\n"
    "(or the Debian packages google-cloud-cli-firestore-emulator and google-cloud-cli-pubsub-emulator),\n"
    "or set FIRESTORE_EMULATOR_BIN / PUBSUB_EMULATOR_BIN to the emulator start scripts,\n"
    "or point FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST at running emulators. Java 17+ is required."
)


class EmulatorMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_holder(port: int) -> str | None:
    """Who listens on a loopback TCP port: "pid N (command line)", "an unknown process" when the socket
    is found but not its owner (another user's), or None when nothing listens (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if str(fd.readlink()) in inodes:
                    command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {proc.name} ({command.strip()[:200]})"
        except OSError:
            continue
    return "an unknown process (another user's?)"


def sdk_root() -> Path | None:
    explicit = os.environ.get("GCLOUD_SDK_ROOT")
    if explicit:
        return Path(explicit)
    gcloud = shutil.which("gcloud")
    if gcloud:
        try:
            out = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            ).stdout.strip()
            if out:
                return Path(out)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for candidate in ("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"):
        if Path(candidate).is_dir():
            return Path(candidate)
    return None


def emulator_binary(env_var: str, relative: str) -> Path:
    explicit = os.environ.get(env_var)
    if explicit:
        path = Path(explicit)
    else:
        root = sdk_root()
        if root is None:
            raise EmulatorMissing(INSTALL_ADVICE)
        path = root / relative
    if not path.exists():
        raise EmulatorMissing(f"{path} does not exist.\n{INSTALL_ADVICE}")
    if shutil.which("java") is None:
        raise EmulatorMissing(f"java is not on PATH.\n{INSTALL_ADVICE}")
    return path


# How long a starting process may take to answer. A process that dies fails at once; a loaded machine (the
# Auth emulator's Node start took 112 s at a load average of 18) only takes longer.
START_TIMEOUT_S = 300.0


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes] | None, timeout: float = START_TIMEOUT_S
) -> None:
    """Poll an HTTP endpoint until it answers (any status); fail early if the process died."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (urllib.error.URLError, OSError):
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
    raise TimeoutError(f"{url} was not ready after {timeout:.0f} s")


def wait_until_redis(port: int, process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """Poll a redis-server until it answers PING (it speaks its own protocol, not HTTP)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server on {port} exited with {process.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise TimeoutError(f"redis-server on {port} was not ready after {timeout:.0f} s")


@dataclass
class ManagedProcess:
    name: str
    args: Sequence[str]
    ready_url: str
    env: dict[str, str] | None = None
    log_path: Path | None = None
    redis_port: int | None = None  # readiness by PING instead of ready_url
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = START_TIMEOUT_S) -> ManagedProcess:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            # The guard ends the whole group when this process dies, even by SIGKILL (child_guard.py).
            [sys.executable, str(CHILD_GUARD), "--", *self.args],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,  # own process group: stopping it stops the JVM child too
            cwd=REPO_ROOT,
        )
        try:
            if self.redis_port is not None:
                wait_until_redis(self.redis_port, self.process, timeout)
            else:
                wait_until_ready(self.ready_url, self.process, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 10.0) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # The group may outlive its leader (the JVM child of the wrapper script): kill what is left.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if process.poll() is None:
            process.wait(timeout=grace)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.process = None


def firestore_emulator(port: int, functions_host: str | None, log_dir: Path | None = None) -> ManagedProcess:
    binary = emulator_binary(
        "FIRESTORE_EMULATOR_BIN", "platform/cloud-firestore-emulator/cloud_firestore_emulator"
    )
    args = [str(binary), "start", "--host=127.0.0.1", f"--port={port}"]
    if functions_host:
        args.append(f"--functions_emulator={functions_host}")
    return ManagedProcess(
        "firestore",
        args,
        f"http://127.0.0.1:{port}/",
        log_path=log_dir / "firestore.log" if log_dir else None,
    )


def pubsub_emulator(port: int, log_dir: Path | None = None) -> ManagedProcess:
    binary = emulator_binary("PUBSUB_EMULATOR_BIN", "platform/pubsub-emulator/bin/cloud-pubsub-emulator")
    return ManagedProcess(
        "pubsub",
        [str(binary), "--host=127.0.0.1", f"--port={port}"],
        f"http://127.0.0.1:{port}/",
        log_path=log_dir / "pubsub.log" if log_dir else None,
    )


def localstripe_server(port: int, log_dir: Path | None = None) -> ManagedProcess:
    """localstripe on `port`, from an empty Stripe; a restart by the supervisor keeps its data and webhook
    registrations (localdev/localstripe_server.py), in a file beside the logs."""
    from localdev.localstripe_server import DATA_FILE_VARIABLE, webhooks_file

    data_file = (log_dir or Path(tempfile.mkdtemp(prefix="localstripe-"))) / f"localstripe-{port}.pickle"
    for stale in (data_file, webhooks_file(data_file)):
        stale.unlink(missing_ok=True)
    return ManagedProcess(
        "localstripe",
        [sys.executable, "-m", "localdev.localstripe_server", "--port", str(port)],
        f"http://127.0.0.1:{port}/v1/customers",
        env={**os.environ, DATA_FILE_VARIABLE: str(data_file)},
        log_path=log_dir / "localstripe.log" if log_dir else None,
    )


def functions_host(
    port: int, env: dict[str, str], log_dir: Path | None = None, journal_dir: Path | None = None
) -> ManagedProcess:
    """The functions host on `port`. Its journal of trigger calls (localdev/host.py) starts empty and is
    kept across a restart by the supervisor: the restarted host runs the calls its predecessor accepted
    and did not finish."""
    journal = journal_dir or (log_dir or Path(tempfile.mkdtemp(prefix="functions-host-"))) / f"journal-{port}"
    shutil.rmtree(journal, ignore_errors=True)
    return ManagedProcess(
        "functions-host",
        [sys.executable, "-m", "localdev.host", "--port", str(port), "--journal", str(journal)],
        f"http://127.0.0.1:{port}/_host/ready",
        env=env,
        log_path=log_dir / "functions-host.log" if log_dir else None,
    )


REDIS_ADVICE = (
    "redis-server was not found: `make dev` and `make test` install it (apt-get install -y redis-server),\n"
    "or set REDIS_SERVER_BIN to it, or point REDIS_URL at a running one."
)


def redis_server(port: int, log_dir: Path | None = None) -> ManagedProcess:
    """The shared store of rate limits and usage (Memorystore in production): loopback only, in memory."""
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if not binary:
        raise EmulatorMissing(REDIS_ADVICE)
    return ManagedProcess(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        f"redis://127.0.0.1:{port}/0",
        log_path=log_dir / "redis.log" if log_dir else None,
        redis_port=port,
    )
