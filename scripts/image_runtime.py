"""Running a built image the way the chart runs its pods, with whatever this machine allows.

- Docker: `docker run --read-only --user 10001:10001 --cap-drop ALL
  --security-opt no-new-privileges --tmpfs /tmp`.
- Where no runtime can start a container (here `podman run` fails: the sandbox's OCI runtimes
  cannot set RLIMIT_NOFILE/NPROC), the image's root filesystem (`podman image mount`) runs
  under `unshare --mount`: bound read-only, a tmpfs on /tmp (and on the router's data
  directory), then `setpriv --no-new-privs chroot --userspec=10001:10001`. The process then
  holds no capabilities (a non-root uid after setuid keeps none) and cannot gain any.

Every container shares the host's network: each service listens on its own 127.0.0.1 port.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

UID = 10001
# The chart's writable mounts: /tmp for every pod, /var/lib/chorus for the router's data.
DATA_DIR = "/var/lib/chorus"


@dataclass
class Spec:
    """One container: image, its 127.0.0.1 port, environment, command (None: the image's),
    files copied into its /tmp, and whether it gets the router's data directory."""

    name: str
    image: str
    port: int
    env: dict[str, str]
    command: list[str] | None = None
    files: dict[str, Path] = field(default_factory=dict)  # name in /tmp -> host file
    data_dir: bool = False


class Container(Protocol):
    name: str

    def stop(self) -> None: ...

    def log(self) -> str: ...

    def alive(self) -> bool: ...

    def identity(self) -> dict[str, str]: ...


class Runtime(Protocol):
    description: str

    def start(self, spec: Spec, logs: Path) -> Container: ...

    def close(self) -> None: ...


def engine_command() -> list[str]:
    """Docker when a daemon answers, else podman (vfs storage, as scripts/images.sh builds)."""
    if os.environ.get("ENGINE", "docker") == "docker" and _ok(["docker", "info"]):
        return ["docker"]
    return ["podman", "--storage-driver", os.environ.get("PODMAN_STORAGE_DRIVER", "vfs")]


def runtime_for(engine: list[str], probe_image: str) -> Runtime:
    """A container runtime when one can start this image, else the rootfs runner."""
    if engine[0] == "docker":
        return DockerRuntime(engine)
    probe = [*engine, "run", "--rm", "--entrypoint", "true", probe_image]
    if _ok(probe):
        return DockerRuntime(engine)  # podman run takes docker's flags
    return RootfsRuntime(engine)


class _Process:
    """A container as a local process group (its log in a file)."""

    def __init__(self, name: str, command: list[str], log: Path) -> None:
        self.name = name
        self._log = log
        with log.open("wb") as out:
            self._proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self._proc.poll() is None

    def log(self) -> str:
        return self._log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.alive():
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(5)

    def service_pid(self) -> int | None:
        """unshare's forked child, which execs through setpriv and chroot into the service."""
        try:
            children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children").read_text()
        except OSError:
            return None
        first = children.split()
        return int(first[0]) if first else None


class RootfsContainer(_Process):
    def identity(self) -> dict[str, str]:
        """uid, capabilities, no_new_privs and the root mount, as the kernel reports them."""
        pid = self.service_pid()
        if pid is None:
            return {}
        status = dict(
            line.split(":\t", 1)
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if ":\t" in line
        )
        root = next(
            line.split()[5]
            for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
            if line.split()[4] == "/"
        )
        return {
            "uid": status["Uid"].split()[0],
            "cap_eff": status["CapEff"].strip(),
            "cap_prm": status["CapPrm"].strip(),
            "no_new_privs": status["NoNewPrivs"].strip(),
            "root_mount": root,
        }


class RootfsRuntime:
    description = (
        "image root filesystems under unshare + chroot (no runtime can start a container here)"
    )

    def __init__(self, engine: list[str]) -> None:
        self._engine = engine
        self._mounted: list[str] = []

    def start(self, spec: Spec, logs: Path) -> Container:
        root = subprocess.check_output([*self._engine, "image", "mount", spec.image], text=True)
        self._mounted.append(spec.image)
        config = json.loads(
            subprocess.check_output([*self._engine, "image", "inspect", spec.image], text=True)
        )[0]["Config"]
        env = dict(item.split("=", 1) for item in config.get("Env") or [])
        env |= spec.env
        command = spec.command or [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        # buildah records WORKDIR without creating it (runtimes create it at start; this
        # read-only root cannot), and no Chorus service reads its working directory.
        workdir = config.get("WorkingDir") or "/"
        if not (Path(root.strip()) / workdir.lstrip("/")).is_dir():
            workdir = "/"
        inside = [
            "/usr/bin/env",
            "-i",
            "-C",
            workdir,
            *(f"{k}={v}" for k, v in env.items()),
            *command,
        ]
        steps = [
            "set -e",
            "r=$(mktemp -d)",
            f'mount --bind {shlex.quote(root.strip())} "$r"',
            'mount -o remount,bind,ro "$r"',
            'mount --rbind /proc "$r/proc"',
            'mount --rbind /dev "$r/dev"',
            'mount -t tmpfs -o size=1g,mode=1777 tmpfs "$r/tmp"',
        ]
        if spec.data_dir:
            # The image has no /var/lib/chorus to mount on (the kubelet would create it).
            steps += [
                'mount -t tmpfs -o size=256m,mode=755 tmpfs "$r/var/lib"',
                f'mkdir "$r{DATA_DIR}" && chown {UID}:{UID} "$r{DATA_DIR}"',
            ]
        for name, host in spec.files.items():
            steps.append(f'cp {shlex.quote(str(host))} "$r/tmp/{name}"')
            steps.append(f'chown {UID}:{UID} "$r/tmp/{name}"')
        steps.append(
            f'exec setpriv --no-new-privs chroot --userspec={UID}:{UID} "$r" '
            + " ".join(shlex.quote(word) for word in inside)
        )
        unshare = ["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c"]
        return RootfsContainer(spec.name, [*unshare, "\n".join(steps)], logs / f"{spec.name}.log")

    def close(self) -> None:
        for image in self._mounted:
            subprocess.run([*self._engine, "image", "unmount", image], capture_output=True)


class DockerContainer(_Process):
    def __init__(self, name: str, engine: list[str], command: list[str], log: Path) -> None:
        super().__init__(name, command, log)
        self._engine = engine

    def identity(self) -> dict[str, str]:
        return {}  # docker's flags say it; nothing to read from outside

    def stop(self) -> None:
        subprocess.run([*self._engine, "rm", "-f", self.name], capture_output=True)
        super().stop()


class DockerRuntime:
    description = "docker run --read-only --user 10001:10001 --cap-drop ALL"

    def __init__(self, engine: list[str]) -> None:
        self._engine = engine

    def start(self, spec: Spec, logs: Path) -> Container:
        flags = [
            "run", "--rm", "--name", spec.name, "--network", "host", "--read-only",
            "--user", f"{UID}:{UID}", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--tmpfs", "/tmp:mode=1777",
        ]  # fmt: skip
        if spec.data_dir:
            flags += ["--tmpfs", f"{DATA_DIR}:uid={UID},gid={UID}"]
        env = dict(spec.env)
        for name, host in spec.files.items():
            flags += ["-v", f"{host}:/etc/chorus-test/{name}:ro"]
            env = {k: v.replace(f"/tmp/{name}", f"/etc/chorus-test/{name}") for k, v in env.items()}
        for key, value in env.items():
            flags += ["-e", f"{key}={value}"]
        command = spec.command or []
        if command:
            flags += ["--entrypoint", command[0]]
        argv = [*self._engine, *flags, spec.image, *command[1:]]
        return DockerContainer(spec.name, self._engine, argv, logs / f"{spec.name}.log")

    def close(self) -> None:
        return None


def _ok(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def wait_for(check: object, timeout_s: float) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return bool(check())
