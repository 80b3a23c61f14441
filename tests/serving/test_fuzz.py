"""Schemathesis over the OpenAPI schema, in process, with a valid key: no 5xx, no status the
schema does not document, no answer that breaks its own schema, for valid and invalid data."""

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from casecast.serving.app import create_app
from tests.serving.conftest import bearer, serving_settings

# Generated requests per operation and mode; the total is asserted below.
EXAMPLES = {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 40}
MIN_REQUESTS = 1000
# Every check but one: schema-valid data must be accepted. Two rules no JSON schema here
# states are checked by the server instead, with a 422 that says so: the `fields` a model
# reads depend on the model served, and a search takes exactly one of text and case_id.
SKIPPED_CHECKS = [positive_data_acceptance]


@pytest.fixture(scope="module")
def schema(trained_home):
    # The admin's key reaches every operation; no rate limit, so every request is served.
    app = create_app(serving_settings(trained_home, rate_limit_per_minute=0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _fuzzer(
    operation, mode: GenerationMode, auth: dict, sent: dict[str, int], failures: list[str]
) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,  # the same requests in every run
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case) -> None:
        response = case.call(headers=auth)
        sent[operation.label] = sent.get(operation.label, 0) + 1
        try:
            case.validate_response(response, headers=auth, excluded_checks=SKIPPED_CHECKS)
        except Exception as error:
            failures.append(f"{operation.label} [{mode.value}]: {error}"[:1500])
            raise

    return fuzz


def test_generated_requests_find_no_server_error_and_no_undocumented_answer(schema, role_keys):
    auth = bearer(role_keys["admin"])
    sent: dict[str, int] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in EXAMPLES:
            try:
                _fuzzer(operation, mode, auth, sent, failures)()
            except Unsatisfiable:  # no input to make invalid (GET /health, say)
                pass
            except Exception:
                if not failures:  # not a failed check: the harness itself broke
                    raise
    total = sum(sent.values())
    print(f"schemathesis sent {total} requests: {sent}")
    assert not failures, "\n\n".join(failures[:6])
    assert total >= MIN_REQUESTS, sent
    # Every operation of the schema was reached (a GET without parameters at least once).
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert set(sent) == operations and len(operations) >= 16
