"""schemathesis against /api/schema of a live gunicorn instance: generated requests for every
operation (valid and invalid ones), with real credentials where the operation needs them.
Bounded: a few dozen examples per operation. Every answer is checked: never a 5xx, a documented
status and content type, and a body that matches the schema (error bodies included)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.resilience.conftest import Clusters, Databases
from tests.resilience.harness import MASTER, Caller, Instance, new_client_user, token_for

pytestmark = pytest.mark.slow

EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzz_target(
    resilience_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, dict[str, str]]]:
    databases = Databases(resilience_template)
    clusters = Clusters(databases, Path(tmp_path_factory.mktemp("fuzz")))
    try:
        instance = clusters.start(1)[0]
        caller = Caller()
        user = new_client_user(instance, caller, "fuzzy")
        token = token_for(instance, caller, user)["access_token"]
        yield instance, {"api_key": user.api_key, "token": token}
    finally:
        clusters.stop_all()
        databases.drop_all()


@pytest.fixture(scope="module")
def live_schema(fuzz_target: tuple[Instance, dict[str, str]]) -> Any:
    instance, _ = fuzz_target
    return schemathesis.openapi.from_url(f"{instance.url}/api/schema?format=json")


def credentials_for(path: str, secrets: dict[str, str]) -> dict[str, Any]:
    """What a legitimate caller of this operation sends (the fuzzer varies the rest)."""
    if path.startswith("/api/clients"):
        basic = base64.b64encode(f"{MASTER[0]}:{MASTER[1]}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    return {"Authorization": f"Bearer {secrets['token']}", "x-api-key": secrets["api_key"]}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(operation: Any, mode: GenerationMode, instance: Instance, secrets: dict[str, str]) -> None:
    """Hypothesis drives schemathesis' strategy for one operation (its pytest plugin does not
    load under pytest 9, so the loop is ours)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        headers = {
            **credentials_for(case.path, secrets),
            "X-Forwarded-For": "10.250.0.1",
            "Connection": "close",
        }
        case.call_and_validate(base_url=instance.url, headers=headers, checks=CHECKS, timeout=30)

    run()


def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_schema(
    live_schema: Any, fuzz_target: tuple[Instance, dict[str, str]]
) -> None:
    instance, secrets = fuzz_target
    failures: dict[str, str] = {}
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) >= 15  # every app's operations are in the schema
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, instance, secrets)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to negate: no parameters
            except Exception as error:  # a failure report: collect all, then fail once
                failures[f"{operation.label} ({mode.value})"] = str(error)[:1500]
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
