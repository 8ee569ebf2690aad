"""Test helpers: the API description every request is checked against, and a fake Zoom API answering from it.

`specs/zoom/zoom-api-v2.oas2.json.gz` is the vendor's description, kept in the repository with its
source, version, license and checksum recorded in `specs/README.md`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from sagemcp.testing import OpenAPIValidator, Operation

DESCRIPTION = Path(__file__).resolve().parents[2] / "specs" / "zoom" / "zoom-api-v2.oas2.json"
"""The API description (a `.json` name is read from `.json.gz` when only that is stored)."""

Responder = Callable[[httpx.Request], httpx.Response]


def load_description() -> OpenAPIValidator:
    return OpenAPIValidator.from_file(DESCRIPTION)


def expected_auth(token: str) -> tuple[str, str]:
    """The header, and its value, that a `oauth2` credential holding `token` puts on every request."""
    return "authorization", f"Bearer {token}"


def example(validator: OpenAPIValidator, operation: Operation, status: str = "200") -> Any:
    """The example body the description gives for `operation`'s `status` answer.

    The fixtures are the vendor description's own examples, so each is labelled by the operation it
    belongs to and changes with the description. Recorded answers go in cassettes instead
    (`sagemcp.testing.vcr_config`, credentials scrubbed).
    """
    response = _resolve(validator, (operation.raw.get("responses") or {}).get(status))
    for media in (response.get("content") or {}).values():  # OpenAPI 3
        if "example" in media:
            return media["example"]
        for named in (media.get("examples") or {}).values():
            named = _resolve(validator, named)
            if "value" in named:
                return named["value"]
    examples = response.get("examples") or {}  # Swagger 2
    if "application/json" in examples:
        return examples["application/json"]
    raise AssertionError(
        f"{DESCRIPTION.name} gives no example for {operation.operation_id or operation.path} ({status}); "
        "answer that operation with FakeZoom(..., responses={operation_id: function})"
    )


def _resolve(validator: OpenAPIValidator, node: Any) -> Mapping[str, Any]:
    """`node`, or what its local `$ref` points at."""
    if not isinstance(node, Mapping):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = validator.document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, Mapping) else {}
        return _resolve(validator, target)
    return node


class FakeZoom:
    """A fake Zoom API for `httpx.MockTransport`.

    Every request is first checked against the description (one it does not describe fails the test,
    it is not answered), then answered with the example of the operation it calls, or by
    `responses[operation_id](request)`. `requests` and `operations` keep what it received.
    """

    def __init__(self, validator: OpenAPIValidator, responses: Mapping[str, Responder] | None = None) -> None:
        self.validator = validator
        self.responses = dict(responses or {})
        self.requests: list[httpx.Request] = []
        self.operations: list[Operation] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        operation = self.validator.validate_request(request)
        self.operations.append(operation)
        respond = self.responses.get(operation.operation_id or "")
        if respond is not None:
            return respond(request)
        return httpx.Response(200, json=example(self.validator, operation))
