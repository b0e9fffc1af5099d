"""The OpenAPI document says what the API answers."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def test_every_api_operation_declares_its_problem_answers(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "detail" in schema["components"]["schemas"]["Problem"]["required"]
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    ]
    assert operations
    for path, method, op in operations:
        responses = op["responses"]
        for status in ("422", "503"):
            assert PROBLEM in responses[status]["content"], (path, method, status)
        if "{" in path:
            assert PROBLEM in responses["404"]["content"], (path, method)
        if method == "post":
            assert PROBLEM in responses["413"]["content"], (path, method)
    assert "Retry-After" in schema["paths"]["/api/v1/reports"]["get"]["responses"]["503"]["headers"]
    repeat = schema["paths"]["/api/v1/logs/diagnose"]["post"]["responses"]["200"]
    assert repeat["content"]["application/json"]["schema"]["$ref"].endswith("/DiagnoseAccepted")


async def test_a_documented_problem_matches_what_is_answered(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["Problem"]
    answer = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": ""}})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert set(schema["required"]) <= body.keys()
    assert set(body) <= set(schema["properties"])
