"""Schemathesis, driven from each spec, against the generated server and the demo service
under uvicorn on 127.0.0.1: no server error, and no answer the spec does not allow.

Bounded in count and in time. `make test` runs a small budget; `make fuzz` a long one:
FUZZ_EXAMPLES is the number of cases per operation (split over four kinds of case),
FUZZ_SECONDS the most one kind may take, FUZZ_RANDOM=1 draws new cases each run.

The four kinds, for every operation:
- valid / pinned: schema-valid requests with the supported api-version and
  `extra-parameters: pass-through`, so every body reaches the service: they must succeed, or
  be refused by the service with 422 (the pages: "Returns a 422 error if the model doesn't
  support the value or parameter").
- valid / free: schema-valid requests with the headers drawn too (the api-version still the
  supported one): also 400 for an unknown extra-parameters mode, or for extra properties in
  the default `error` mode.
- invalid / pinned and invalid / free: schema-invalid requests (body, headers; with free,
  the api-version too): they must be refused with a 4xx.
Every answer, whatever the kind, must conform to the spec: a documented status, JSON, the
response schema for that status, the documented headers, and auth that is not ignored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import SPEC_DIR, serve
from tests.server.demo_apps import VERSIONS, demo_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "48"))
#: Every parametrization must actually try at least this many cases within its time budget
#: (or all of its examples, when fewer are asked for): a budget spent early fails the test.
MIN_CASES = min(10, max(1, EXAMPLES // 4))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "20"))
# `make test` draws the same cases every run; `make fuzz` (FUZZ_RANDOM=1) new ones each time.
DERANDOMIZE = not os.environ.get("FUZZ_RANDOM")
KINDS = ("valid-pinned", "valid-free", "invalid-pinned", "invalid-free")
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance, response_headers_conformance]
# Why a schema-valid request may still be refused with 400 when its headers are drawn freely.
VALID_BUT_REFUSED = {"InvalidHeaderValue", "ExtraParametersNotAllowed"}

SCHEMAS = {version: schemathesis.openapi.from_path(
    SPEC_DIR / ("openai-v1.yaml" if version == "v1" else f"{version}.yaml")) for version in VERSIONS}
CASES = [pytest.param(version, op.ok().label, kind, id=f"{version}-{op.ok().label}-{kind}")
         for version, schema in SCHEMAS.items() for op in schema.get_all_operations()
         for kind in KINDS
         # with the api-version pinned, a request without a body (GET /info) has nothing
         # left to make invalid
         if not (kind == "invalid-pinned" and not op.ok().body)]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    urls: dict[str, str] = {}
    with serve(demo_app("2024-05-01-preview", "k")) as new, \
            serve(demo_app("2024-04-01-preview", "k")) as old, \
            serve(demo_app("v1", "k")) as v1:
        urls["2024-05-01-preview"], urls["2024-04-01-preview"], urls["v1"] = new, old, v1
        yield urls


def _auth_headers(version: str) -> dict[str, str]:
    return VERSIONS[version]["auth"]("k")


@pytest.mark.parametrize(("version", "label", "kind"), CASES)
def test_fuzz(servers: dict[str, str], version: str, label: str, kind: str) -> None:
    schema = SCHEMAS[version]
    operation = next(op.ok() for op in schema.get_all_operations() if op.ok().label == label)
    url = servers[version]
    auth = _auth_headers(version)
    valid = kind.startswith("valid")
    pinned = kind.endswith("pinned")
    fixed: dict[str, Any] = {}
    takes_version = version != "v1"  # OpenAI v1 has neither api-version nor extra-parameters
    if (pinned or valid) and takes_version:  # a valid request names the one supported version
        fixed["query"] = {"api-version": version}
    if pinned and takes_version:
        fixed["headers"] = {"extra-parameters": "pass-through"}
    strategy = operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE if valid else GenerationMode.NEGATIVE, **fixed)
    checks: list[Callable[..., Any]] = [*CONFORMANCE, ignored_auth if valid else negative_data_rejection]
    deadline = time.monotonic() + SECONDS
    failures: dict[str, str] = {}
    seen: dict[int, int] = {}

    @settings(max_examples=max(1, EXAMPLES // len(KINDS)), deadline=None, database=None,
              derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(case: Any) -> None:
        if time.monotonic() > deadline:
            return  # the time budget is spent: the remaining examples pass untried
        response = case.call(base_url=url, headers=auth, timeout=10)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        problems = []
        try:
            case.validate_response(response, checks=checks, headers=auth)
        except (AssertionError, BaseExceptionGroup) as exc:
            problems.append(str(exc)[:2000])
        if valid and response.status_code >= 300:
            code = (response.headers.get("x-ms-error-code") or [None])[0]
            allowed = response.status_code == 422 or (
                response.status_code == 400 and not pinned and code in VALID_BUT_REFUSED)
            if not allowed:
                problems.append(f"a valid request was refused: {response.status_code} {code} "
                                f"{response.text[:300]}")
        for problem in problems:
            failures.setdefault(problem.splitlines()[0], f"{problem}\n{case.as_curl_command()}")

    fuzz()
    print(f"\n{version} {label} {kind}: {sum(seen.values())} cases, statuses {sorted(seen.items())}")
    assert not failures, "\n\n".join(failures.values())
    assert not any(status >= 500 for status in seen), seen
    tried = sum(seen.values())
    assert tried >= MIN_CASES, (f"only {tried} cases ran within {SECONDS} s (at least "
                                f"{MIN_CASES} must): the rest passed untried")
    if valid and pinned and version == "2024-05-01-preview" and label == "POST /embeddings":
        assert seen.get(200), f"no request succeeded: {seen}"  # the budget reached the service
