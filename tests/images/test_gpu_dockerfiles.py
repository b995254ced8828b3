"""GPU provider images (one shared Dockerfile, a build per provider): pinned bases, a CUDA
runtime, torch's CUDA build at the locked version, no weights inside, offline Hugging Face,
and the chart's user, port and entrypoint."""

from __future__ import annotations

import re

import pytest

from chorus_operator import naming, render
from images.dockerfiles import PINNED, REPO, Service, exec_form, gpu_services

GPU_SERVICES = gpu_services()


def test_the_gpu_providers_are_found() -> None:
    assert "chorus-dia" in {s.package for s in GPU_SERVICES}


@pytest.mark.parametrize("service", GPU_SERVICES, ids=lambda s: s.package)
def test_gpu_image_policy(service: Service) -> None:
    built = service.stages()
    names = {s.name for s in built}
    for stage in built:
        assert stage.base in names or PINNED.match(stage.base), stage.base
    final = built[-1]
    assert re.match(r"^nvidia/cuda:12\.[\d.]+-", final.base)
    installs = "\n".join(s.run_text() for s in built)
    # torch from PyTorch's CUDA index at exactly the version the tests ran on CPU, then the
    # rest of the provider's lock (the one make test-gpu installs) without resolution.
    lock = f"services/providers/{service.directory.name}/requirements.lock"
    assert (REPO / lock).is_file()
    assert re.search(r'--index-url "\$\{TORCH_INDEX\}"', installs)
    assert f"sed -n 's/^torch==//p' {lock}" in installs
    assert re.search(rf"--no-deps\s+-r {lock}", installs)
    # No weights in the image, and none fetched at run time.
    assert "snapshot_download" not in installs
    assert "huggingface-cli" not in installs
    env = final.env()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env[f"{service.env_prefix}HOST"] == "0.0.0.0"
    assert env[f"{service.env_prefix}PORT"] == str(naming.PROVIDER_PORT)
    assert final.values("USER")[-1] == f"{render.RUN_AS_USER}:{render.RUN_AS_USER}"
    assert final.values("EXPOSE") == [str(naming.PROVIDER_PORT)]
    assert final.env()[f"{service.env_prefix}DEVICE"] == "cuda"
    # The command that serves the one provider in the image; the package is that provider.
    (entrypoint,) = final.values("ENTRYPOINT")
    assert exec_form(entrypoint) == ["chorus-provider"]
    assert service.package in service.scripts
    title = f'org.opencontainers.image.title="{service.package}"'
    assert final.values("LABEL")[0].startswith(title)
