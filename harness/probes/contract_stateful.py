"""The contract's linked scenarios: schemathesis' state machine follows the document's OpenAPI
links (create -> read -> update -> delete), each step sent and judged like any other case;
and the whole run, operations first."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import requests
from schemathesis.core.transport import Response
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.schemas import BaseSchema

from harness.probes.contract import Budget, ContractRun, run_operations, settings
from harness.probes.contract_send import Case, Sender

_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def count_links(document: dict[str, Any]) -> int:
    """How many OpenAPI links the document's responses declare."""
    total = 0
    for item in (document.get("paths") or {}).values():
        for method, operation in (item or {}).items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            for response in (operation.get("responses") or {}).values():
                if isinstance(response, dict):
                    total += len(response.get("links") or {})
    return total


def run_scenarios(schema: BaseSchema, sender: Sender, run: ContractRun, budget: Budget) -> None:
    """``budget.scenarios`` sequences of up to ``budget.steps`` calls along the links."""
    base: Any = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc]
        def step(self, input: StepInput) -> StepOutput:
            if input.transition is not None and input.is_applied:
                run.linked_steps += 1
            result: StepOutput = super().step(input)
            return result

        def call(self, case: Case, **kwargs: Any) -> Response:
            try:
                return sender.send(case)
            except requests.RequestException as exc:
                run.unanswered(case, "stateful", sender, exc)
                raise _NoAnswer from None

        def validate_response(self, response: Response, case: Case, *_: Any, **__: Any) -> None:
            run.record(case, response, "stateful", sender, recorder=self.recorder)

    # nothing is shrunk (``settings``): an unanswered step ends the scenarios at once
    with contextlib.suppress(_NoAnswer):
        Machine.run(settings=settings(budget.scenarios, stateful_step_count=budget.steps))


class _NoAnswer(Exception):
    """A step got no answer: the scenarios stop, the finding is in the run."""


def run_contract(schema: BaseSchema, sender: Sender, source: str, budget: Budget) -> ContractRun:
    """The whole contract: every operation on its own, then the linked scenarios."""
    started = time.monotonic()
    run = ContractRun(source)
    run_operations(schema, sender, run, budget)
    run.links = count_links(schema.raw_schema)
    if run.links:
        run_scenarios(schema, sender, run, budget)
    run.seconds = time.monotonic() - started
    return run
