"""Model diagnosers for Azure OpenAI, OpenAI and Anthropic, over their REST APIs with httpx.

At most two model answers per diagnosis: one, and one re-ask when the first is not valid JSON
of the answer schema. A second invalid answer is a ``DiagnoserError`` — the engine then keeps
the heuristic diagnosis and says so, it never labels a fallback as the model's success. HTTP
429, 5xx, timeouts and connection errors are retried with exponential backoff and jitter,
honouring ``Retry-After``, within ``max_retries`` and ``max_retry_wait_s``; 4xx errors are not
retried. Keys and tokens never appear in errors.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
from pydantic import ValidationError

from app.analysis.diagnoser import DiagnoserError, Diagnosis, DiagnosisContext
from app.analysis.report import DiagnoserInfo, Usage
from app.llm.prompt import ANSWER_SCHEMA, REPAIR, Answer, build_prompt
from app.llm.redact import redact

Vendor = Literal["openai", "azure_openai", "anthropic"]
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"


class TokenCredential(Protocol):
    """azure-identity's credential protocol (``DefaultAzureCredential``, managed identity)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class LlmConfig:
    vendor: Vendor
    model: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    deployment: str | None = None
    api_version: str = "2024-10-21"
    timeout_s: float = 60.0
    max_retries: int = 3
    max_retry_wait_s: float = 30.0
    prompt_token_budget: int = 12_000
    max_output_tokens: int = 1_500
    # US dollars per million tokens, for the estimate recorded on the report.
    price_input_per_mtok: float = 0.0
    price_output_per_mtok: float = 0.0


@dataclass
class _Call:
    text: str
    prompt_tokens: int
    completion_tokens: int


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def _json_text(text: str) -> str:
    """The JSON object of an answer, without a Markdown fence some models add."""
    text = text.strip()
    fenced = _FENCE.match(text)
    return fenced.group(1) if fenced else text


class ModelDiagnoser:
    """The shared machinery; subclasses speak one vendor's API."""

    def __init__(
        self,
        config: LlmConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._transport = transport
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.vendor}, {self.config.model})"

    @property
    def name(self) -> str:
        return self.config.vendor

    async def diagnose(self, context: DiagnosisContext) -> Diagnosis:
        prompt = build_prompt(context, self.config.prompt_token_budget)
        messages: list[dict[str, str]] = [{"role": "user", "content": prompt.user}]
        prompt_tokens = completion_tokens = 0
        async with httpx.AsyncClient(
            timeout=self.config.timeout_s, transport=self._transport
        ) as client:
            for attempt in (1, 2):
                call = await self._complete(client, prompt.system, messages)
                prompt_tokens += call.prompt_tokens
                completion_tokens += call.completion_tokens
                try:
                    answer = Answer.model_validate_json(_json_text(call.text))
                    break
                except ValidationError as exc:
                    problem = "; ".join(
                        f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                        for e in exc.errors()[:5]
                    )
                    if attempt == 2:
                        raise DiagnoserError(
                            f"{self.name} answered with invalid JSON twice ({problem})"
                        ) from None
                    messages += [
                        {"role": "assistant", "content": call.text[:8000]},
                        {"role": "user", "content": REPAIR.format(problem=problem)},
                    ]
        cost = (
            prompt_tokens * self.config.price_input_per_mtok
            + completion_tokens * self.config.price_output_per_mtok
        ) / 1_000_000
        return Diagnosis(
            title=answer.title,
            summary=answer.summary,
            root_cause=answer.root_cause,
            error_analysis=answer.error_analysis,
            recommendations=answer.recommendations,
            confidence=answer.confidence,
            category=answer.category,
            diagnoser=DiagnoserInfo(name=self.name, model=self.config.model),
            usage=Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                estimated_cost_usd=round(cost, 6),
            ),
        )

    async def _complete(
        self, client: httpx.AsyncClient, system: str, messages: list[dict[str, str]]
    ) -> _Call:
        raise NotImplementedError

    async def _post(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        """POST with bounded retries; the answer's JSON, or a DiagnoserError."""
        config = self.config
        for attempt in range(config.max_retries + 1):
            last = attempt == config.max_retries
            try:
                response = await client.post(url, headers=headers, json=body)
            except httpx.TimeoutException:
                if last:
                    raise DiagnoserError(
                        f"{self.name} did not answer within {config.timeout_s:g} s "
                        f"({attempt + 1} attempt(s))"
                    ) from None
                await self._sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                if last:
                    raise DiagnoserError(
                        f"{self.name} could not be reached ({type(exc).__name__})"
                    ) from None
                await self._sleep(self._backoff(attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                wait = self._retry_after(response) or self._backoff(attempt)
                if last or wait > config.max_retry_wait_s:
                    raise DiagnoserError(
                        f"{self.name} answered {response.status_code}"
                        f"{' (rate limited)' if response.status_code == 429 else ''} "
                        f"after {attempt + 1} attempt(s): {self._vendor_message(response)}"
                    )
                await self._sleep(wait)
                continue
            if response.status_code >= 400:
                raise DiagnoserError(
                    f"{self.name} refused the request ({response.status_code}): "
                    f"{self._vendor_message(response)}"
                )
            try:
                payload = response.json()
            except ValueError:
                raise DiagnoserError(f"{self.name} answered with a body that is not JSON") from None
            if not isinstance(payload, dict):
                raise DiagnoserError(f"{self.name} answered with an unexpected body")
            return payload
        raise DiagnoserError(f"{self.name} did not answer")  # pragma: no cover

    def _vendor_message(self, response: httpx.Response) -> str:
        try:
            error = response.json().get("error")
            message = error.get("message") if isinstance(error, dict) else str(error or "")
        except (ValueError, AttributeError):
            message = response.text
        message, _ = redact(str(message)[:300])
        if self.config.api_key:
            message = message.replace(self.config.api_key, "[KEY]")
        return message or response.reason_phrase

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        millis = response.headers.get("retry-after-ms")
        if millis and millis.replace(".", "", 1).isdigit():
            return float(millis) / 1000
        seconds = response.headers.get("retry-after")
        if seconds and seconds.replace(".", "", 1).isdigit():
            return float(seconds)
        return None

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(0.5 * 2**attempt, 8.0) + random.uniform(0, 0.25))  # noqa: S311


class OpenAIDiagnoser(ModelDiagnoser):
    """OpenAI Chat Completions with a strict JSON schema response format."""

    def _url(self) -> str:
        return f"{self.config.base_url.rstrip('/')}/chat/completions"

    async def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_key}"}

    def _body(self, system: str, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": [{"role": "system", "content": system}, *messages],
            "max_tokens": self.config.max_output_tokens,
            "temperature": 0.1,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "diagnosis", "strict": True, "schema": ANSWER_SCHEMA},
            },
        }

    async def _complete(
        self, client: httpx.AsyncClient, system: str, messages: list[dict[str, str]]
    ) -> _Call:
        payload = await self._post(
            client, self._url(), await self._headers(), self._body(system, messages)
        )
        try:
            text = payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise DiagnoserError(f"{self.name} answered without a message") from None
        usage = payload.get("usage") or {}
        return _Call(
            str(text), int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        )


class AzureOpenAIDiagnoser(OpenAIDiagnoser):
    """Azure OpenAI: a deployment's chat completions; an Entra ID token from azure-identity
    (a managed identity needs no key), or an api-key."""

    def __init__(
        self,
        config: LlmConfig,
        *,
        credential: TokenCredential | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(config, transport=transport, sleep=sleep)
        if credential is None and not config.api_key:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._credential = credential

    @property
    def name(self) -> str:
        return "azure_openai"

    def _url(self) -> str:
        base = self.config.base_url.rstrip("/")
        return (
            f"{base}/openai/deployments/{self.config.deployment}/chat/completions"
            f"?api-version={self.config.api_version}"
        )

    async def _headers(self) -> dict[str, str]:
        if self._credential is None:
            return {"api-key": self.config.api_key or ""}
        credential = self._credential
        token = await asyncio.to_thread(credential.get_token, AZURE_SCOPE)
        return {"Authorization": f"Bearer {token.token}"}


class AnthropicDiagnoser(ModelDiagnoser):
    """Anthropic Messages API; the JSON object is asked for in the system prompt."""

    async def _complete(
        self, client: httpx.AsyncClient, system: str, messages: list[dict[str, str]]
    ) -> _Call:
        payload = await self._post(
            client,
            f"{self.config.base_url.rstrip('/')}/v1/messages",
            {"x-api-key": self.config.api_key or "", "anthropic-version": "2023-06-01"},
            {
                "model": self.config.model,
                "system": system,
                "messages": messages,
                "max_tokens": self.config.max_output_tokens,
                "temperature": 0.1,
            },
        )
        blocks = payload.get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
        usage = payload.get("usage") or {}
        return _Call(text, int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))


DEFAULTS: dict[Vendor, tuple[str, str, float, float]] = {
    # model, base URL, $ per million input tokens, $ per million output tokens (list prices
    # when written; set LOGDAWG_LLM_PRICE_* for yours).
    "openai": ("gpt-4o-mini", "https://api.openai.com/v1", 0.15, 0.60),
    "azure_openai": ("gpt-4o-mini", "", 0.15, 0.60),
    "anthropic": ("claude-3-5-haiku-latest", "https://api.anthropic.com", 0.80, 4.00),
}


def build_diagnoser(
    config: LlmConfig,
    *,
    credential: TokenCredential | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ModelDiagnoser:
    if config.vendor == "openai":
        return OpenAIDiagnoser(config, transport=transport)
    if config.vendor == "azure_openai":
        return AzureOpenAIDiagnoser(config, credential=credential, transport=transport)
    return AnthropicDiagnoser(config, transport=transport)


def config_from_settings(settings: Any) -> LlmConfig | None:
    """The model configuration the settings ask for; None for the heuristic diagnoser."""
    vendor = settings.diagnoser
    if vendor == "heuristic":
        return None
    model, base_url, price_in, price_out = DEFAULTS[vendor]
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return LlmConfig(
        vendor=vendor,
        model=settings.llm_model or model,
        base_url=settings.llm_base_url or base_url,
        api_key=key,
        deployment=settings.llm_deployment,
        api_version=settings.llm_api_version,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        prompt_token_budget=settings.llm_prompt_token_budget,
        price_input_per_mtok=(
            settings.llm_price_input_per_mtok
            if settings.llm_price_input_per_mtok is not None
            else price_in
        ),
        price_output_per_mtok=(
            settings.llm_price_output_per_mtok
            if settings.llm_price_output_per_mtok is not None
            else price_out
        ),
    )
