"""Start a Chorus service as a real process and wait until it answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """A `python -m module` child with its output in a log file (shown when a wait fails).

    `python` is this interpreter unless given: a torch package's tests start the router from
    the main environment's interpreter, since the two environments never share packages.
    """

    def __init__(
        self,
        name: str,
        module: str,
        port: int,
        env: Mapping[str, str],
        log_dir: Path,
        args: tuple[str, ...] = (),
        python: str = sys.executable,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}-{port}.log"
        self._cmd = [python, "-m", module, *args]
        self._env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(self._cmd, env=self._env, stdout=log, stderr=log)
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait_ready(self, path: str = "/readyz", timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready at {path} in {timeout_s}s:\n{self.log()}")

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit status once the process ends by itself; None if it still runs after
        `timeout_s`."""
        assert self._proc is not None
        try:
            return self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        self._proc.send_signal(sig)

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGCONT)
        self._proc.terminate()
        try:
            self._proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            # Services drain on the first signal; a teardown does not wait for their streams.
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"


def start_provider(
    provider: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
    module: str = "chorus_provider",
) -> ServiceProcess:
    """Provider `provider` (`python -m chorus_provider <provider>`, as `chorus-<provider>`
    runs it; or `module`, given the name, where a test wraps the service) on a free port,
    returned once it is ready."""
    port = free_port()
    prefix = f"CHORUS_{provider.upper()}_"
    variables = {f"{prefix}PORT": str(port), f"{prefix}NAME": provider, **(env or {})}
    process = ServiceProcess(provider, module, port, variables, log_dir, args=(provider,))
    process.start()
    try:
        process.wait_ready(timeout_s=timeout_s)
    except BaseException:
        process.stop()
        raise
    return process
