"""Model diagnosers for Azure OpenAI, OpenAI and Anthropic, through the vendors' official
Python SDKs (``openai``, ``anthropic``).

At most two model answers per diagnosis: one, and one re-ask when the first is not valid JSON
of the answer schema (asked for as OpenAI structured output, or as Anthropic's forced tool
input). A second invalid answer is a ``DiagnoserError`` — the engine then keeps the heuristic
diagnosis and says so, it never labels a fallback as the model's success. Retries are the
SDKs' own (429, 5xx, timeouts and connection errors, with backoff, honouring
``Retry-After``), bounded by ``max_retries`` and ``timeout_s``; 4xx errors are not retried.
Their typed errors become ``DiagnoserError``s a person can read; keys and tokens never
appear in them. Redaction, framing and the token budget are ours (``app.llm.prompt``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import ValidationError

from app.analysis.diagnoser import DiagnoserError, Diagnosis, DiagnosisContext
from app.analysis.report import DiagnoserInfo, Usage
from app.llm.prompt import ANSWER_SCHEMA, REPAIR, Answer, build_prompt
from app.llm.redact import redact

if TYPE_CHECKING:
    import anthropic
    import openai
    from anthropic.types import MessageParam, ToolParam
    from azure.core.credentials import TokenCredential
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

Vendor = Literal["openai", "azure_openai", "anthropic"]
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"
TOOL = "diagnosis"


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
    # What to send back before a re-ask (the vendor's own shape of the assistant's turn).
    assistant: Any = None
    tool_use_id: str | None = None


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def _json_text(text: str) -> str:
    """The JSON object of an answer, without a Markdown fence some models add."""
    text = text.strip()
    fenced = _FENCE.match(text)
    return fenced.group(1) if fenced else text


class ModelDiagnoser:
    """The shared machinery; subclasses speak one vendor's SDK."""

    def __init__(self, config: LlmConfig) -> None:
        self.config = config
        # One SDK client (and so one connection pool, one TLS context) for every diagnosis
        # of this diagnoser: a client per call loaded the CA bundle anew each time.
        self._sdk: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.vendor}, {self.config.model})"

    @property
    def name(self) -> str:
        return self.config.vendor

    async def diagnose(self, context: DiagnosisContext) -> Diagnosis:
        prompt = build_prompt(context, self.config.prompt_token_budget)
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt.user}]
        prompt_tokens = completion_tokens = 0
        if self._sdk is None:
            self._sdk = self._client()
        client = self._sdk
        for attempt in (1, 2):
            call = await self._guarded(self._complete(client, prompt.system, messages))
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
                messages += self._repair(call, REPAIR.format(problem=problem))
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

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    def _client(self) -> Any:
        raise NotImplementedError

    async def _complete(self, client: Any, system: str, messages: list[dict[str, Any]]) -> _Call:
        raise NotImplementedError

    def _repair(self, call: _Call, repair: str) -> list[dict[str, Any]]:
        return [
            {"role": "assistant", "content": call.text[:8000]},
            {"role": "user", "content": repair},
        ]

    async def _guarded(self, pending: Any) -> _Call:
        """The SDK call, its typed errors turned into messages a person can act on."""
        import anthropic
        import openai

        config = self.config
        attempts = config.max_retries + 1
        try:
            result: _Call = await pending
        except (openai.APITimeoutError, anthropic.APITimeoutError):
            raise DiagnoserError(
                f"{self.name} did not answer within {config.timeout_s:g} s ({attempts} attempt(s))"
            ) from None
        except (openai.APIConnectionError, anthropic.APIConnectionError) as exc:
            raise DiagnoserError(
                f"{self.name} could not be reached ({type(exc.__cause__ or exc).__name__})"
            ) from None
        except (openai.APIStatusError, anthropic.APIStatusError) as exc:
            status = exc.status_code
            message = self._vendor_message(exc.body, exc.message)
            if status == 429 or status >= 500:
                raise DiagnoserError(
                    f"{self.name} answered {status}{' (rate limited)' if status == 429 else ''} "
                    f"after {attempts} attempt(s): {message}"
                ) from None
            raise DiagnoserError(f"{self.name} refused the request ({status}): {message}") from None
        except (openai.OpenAIError, anthropic.AnthropicError) as exc:
            raise DiagnoserError(f"{self.name} failed ({type(exc).__name__})") from None
        return result

    def _vendor_message(self, body: object, fallback: str) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else (error or fallback)
        text, _ = redact(str(message)[:300])
        if self.config.api_key:
            text = text.replace(self.config.api_key, "[KEY]")
        return text


class OpenAIDiagnoser(ModelDiagnoser):
    """OpenAI Chat Completions with a strict JSON schema response format (structured output)."""

    def _client(self) -> openai.AsyncOpenAI:
        import openai

        return openai.AsyncOpenAI(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
        )

    async def _complete(
        self, client: openai.AsyncOpenAI, system: str, messages: list[dict[str, Any]]
    ) -> _Call:
        schema = {
            "type": "json_schema",
            "json_schema": {"name": TOOL, "strict": True, "schema": ANSWER_SCHEMA},
        }
        response = await client.chat.completions.create(
            model=self._model(),
            messages=cast(
                "list[ChatCompletionMessageParam]",
                [{"role": "system", "content": system}, *messages],
            ),
            max_tokens=self.config.max_output_tokens,
            temperature=0.1,
            response_format=cast("ResponseFormatJSONSchema", schema),
        )
        if not response.choices:
            raise DiagnoserError(f"{self.name} answered without a message")
        text = response.choices[0].message.content or ""
        usage = response.usage
        return _Call(
            text,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    def _model(self) -> str:
        return self.config.model


class AzureOpenAIDiagnoser(OpenAIDiagnoser):
    """Azure OpenAI: a deployment's chat completions; an Entra ID token from azure-identity's
    bearer-token provider (a managed identity needs no key), or an api-key."""

    def __init__(self, config: LlmConfig, *, credential: TokenCredential | None = None) -> None:
        super().__init__(config)
        if credential is None and not config.api_key:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._credential = credential

    @property
    def name(self) -> str:
        return "azure_openai"

    def _model(self) -> str:
        return self.config.deployment or self.config.model

    def _client(self) -> openai.AsyncAzureOpenAI:
        import openai

        token_provider: Callable[[], Awaitable[str]] | None = None
        if self._credential is not None:
            from azure.identity import get_bearer_token_provider

            fetch = get_bearer_token_provider(self._credential, AZURE_SCOPE)

            async def entra_token() -> str:
                # The credential may call the managed identity endpoint: off the event loop.
                return await asyncio.to_thread(fetch)

            token_provider = entra_token

        return openai.AsyncAzureOpenAI(
            azure_endpoint=self.config.base_url,
            azure_deployment=self.config.deployment,
            api_version=self.config.api_version,
            api_key=None if token_provider else self.config.api_key,
            azure_ad_token_provider=token_provider,
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
        )


class AnthropicDiagnoser(ModelDiagnoser):
    """Anthropic Messages API; the answer is the input of a forced tool whose input schema is
    the answer's JSON schema."""

    def _client(self) -> anthropic.AsyncAnthropic:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
        )

    async def _complete(
        self, client: anthropic.AsyncAnthropic, system: str, messages: list[dict[str, Any]]
    ) -> _Call:
        tool = {
            "name": TOOL,
            "description": "Record the diagnosis of the error.",
            "input_schema": ANSWER_SCHEMA,
        }
        response = await client.messages.create(
            model=self.config.model,
            system=system,
            messages=cast("list[MessageParam]", messages),
            max_tokens=self.config.max_output_tokens,
            tools=[cast("ToolParam", tool)],
            tool_choice={"type": "tool", "name": TOOL},
        )
        text, tool_use_id = "", None
        for block in response.content:
            if block.type == "tool_use" and block.name == TOOL:
                text, tool_use_id = json.dumps(block.input), block.id
                break
            if block.type == "text":
                text += block.text
        return _Call(
            text,
            response.usage.input_tokens,
            response.usage.output_tokens,
            assistant=[b.model_dump(exclude_none=True) for b in response.content],
            tool_use_id=tool_use_id,
        )

    def _repair(self, call: _Call, repair: str) -> list[dict[str, Any]]:
        if call.tool_use_id is None:
            return super()._repair(call, repair)
        # A tool call is answered with its result: the problem, marked as an error.
        return [
            {"role": "assistant", "content": call.assistant},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call.tool_use_id,
                        "content": repair,
                        "is_error": True,
                    }
                ],
            },
        ]


DEFAULTS: dict[Vendor, tuple[str, str, float, float]] = {
    # model, base URL, $ per million input tokens, $ per million output tokens (list prices
    # when written; set LOGDAWG_LLM_PRICE_* for yours).
    "openai": ("gpt-4o-mini", "https://api.openai.com/v1", 0.15, 0.60),
    "azure_openai": ("gpt-4o-mini", "", 0.15, 0.60),
    "anthropic": ("claude-3-5-haiku-latest", "https://api.anthropic.com", 0.80, 4.00),
}


def build_diagnoser(
    config: LlmConfig, *, credential: TokenCredential | None = None
) -> ModelDiagnoser:
    if config.vendor == "openai":
        return OpenAIDiagnoser(config)
    if config.vendor == "azure_openai":
        return AzureOpenAIDiagnoser(config, credential=credential)
    return AnthropicDiagnoser(config)


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
