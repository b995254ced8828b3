# The entry points a person types. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv/bin
# The torch packages (libs/torch-engine, GPU providers) live in their own environments.
GPU_PKGS := $(shell scripts/gpu_env.sh packages 2>/dev/null)
MYPY_PATHS := $(filter-out $(addsuffix /src,$(GPU_PKGS)),$(wildcard libs/*/src services/providers/*/src))
PYTEST_ARGS ?=
# The tests keep the bytecode Python compiles, under .run/pycache, even where the environment
# says not to write it (PYTHONDONTWRITEBYTECODE, as CI's does): the suite starts hundreds of
# router, provider and CLI processes, and each would compile every module it imports again.
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/.run/pycache
# `make bench BENCH=text-front-end` runs one section.
BENCH ?=

.PHONY: run test test-gpu test-gpu-image test-cuda gpu-wheels lint lint-gpu fmt bench soak clean bootstrap images test-images

bootstrap:
	@scripts/bootstrap.sh

## Start the router on http://127.0.0.1:8000 with the local providers behind it (Ctrl-C stops all).
run: bootstrap
	@mkdir -p .run
	@echo "Chorus: router on http://127.0.0.1:8000/v1 (providers: config/providers.yaml)"
	@exec $(VENV)/supervisord -c config/supervisord.conf

## Install what the tests need and run the whole suite. No tests collected counts as failure.
test:
	@scripts/bootstrap.sh --test
	@$(KEEP_BYTECODE) $(VENV)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc
	@$(KEEP_BYTECODE) scripts/gpu_env.sh test
	@$(MAKE) --no-print-directory test-gpu-image

## The torch packages' tests on CPU, each in its environment: one "NAME: N passed" line each.
test-gpu:
	@$(KEEP_BYTECODE) scripts/gpu_env.sh test

## The packages make test-cuda serves, on CPU with the GPU image's transformers and Hugging Face
## libraries (scripts/gpu-image-pins.txt), which test-cuda keeps: a lock ahead of them fails here.
test-gpu-image:
	@$(KEEP_BYTECODE) GPU_ENV_IMAGE_PINS=scripts/gpu-image-pins.txt \
	  scripts/gpu_env.sh test $$(grep -v '^#' scripts/gpu-wheels-packages.txt)

## On a GPU machine with CUDA PyTorch + transformers and no network: the torch packages' tests
## on CUDA and the batching bench, one summary (docs/adding-a-provider.md). Needs .gpu-wheels.
test-cuda:
	@scripts/test_cuda.sh

## Download the wheels test-cuda installs offline into .gpu-wheels/ (GPU_WHEELS_PYTHONS=3.12).
gpu-wheels:
	@scripts/gpu_wheels.sh

lint: bootstrap
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy $(MYPY_PATHS) services/router/src operator/src

## mypy --strict on the torch packages, in their environments.
lint-gpu:
	@for pkg in $(GPU_PKGS); do env=$$(scripts/gpu_env.sh env $$pkg) && \
	  $$env/bin/mypy $$pkg/src || exit 1; done

fmt: bootstrap
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

## Side-by-side speed figures (router vs direct, service vs raw library and local-tts-studio),
## printed, kept in bench/results.json and rendered into docs/performance.md.
bench:
	@scripts/bootstrap.sh --bench
	@PYTHONPATH=tests $(VENV)/python -m bench $(BENCH)

## Build every CPU image (GPU ones too with GPU_IMAGES=1): Docker, else podman. Not in `make test`.
images:
	@scripts/images.sh

## Run the built images as the chart runs them and send OpenAI SDK requests through them.
test-images:
	@scripts/bootstrap.sh --test
	@$(VENV)/python scripts/test_images.py

## Mixed clients at ~80% of measured capacity, providers killed every 2 min (SOAK_SECONDS=600).
soak: bootstrap
	@PYTHONPATH=tests $(VENV)/python -m bench.soak

clean:
	rm -rf .run .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
