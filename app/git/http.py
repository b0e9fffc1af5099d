"""The HTTP machinery the provider clients share: caching, conditional requests, rate limits,
bounded retries, bounded concurrency per token, capped response sizes, and errors that never
carry a token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from app.git.cache import CachedResponse, ResponseCache
from app.git.types import (
    BadCredentials,
    GitProviderError,
    ProviderUnavailable,
    RateLimited,
    Refused,
    RepositoryNotFound,
)

if TYPE_CHECKING:
    from app.git.tokens import TokenSource

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class HttpPolicy:
    timeout_s: float = 20.0
    # Wait at most this long for a rate limit to lift before giving up with RateLimited.
    max_wait_s: float = 10.0
    max_retries: int = 3
    concurrency: int = 4
    max_bytes: int = DEFAULT_MAX_BYTES


# Per-token state shared by every client in the process: how many requests may be in flight,
# and until when the provider told us to stop.
_semaphores: dict[str, asyncio.Semaphore] = {}
_blocked_until: dict[str, float] = {}


def token_id(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: httpx.Headers
    from_cache: bool = False

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ProviderUnavailable("the provider answered with invalid JSON") from exc


def _retry_after(headers: httpx.Headers, now: float) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or a date) or ``X-RateLimit-Reset``."""
    value = headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None
    if (
        headers.get("x-ratelimit-remaining") == "0"
        and headers.get("x-ratelimit-reset", "").isdigit()
    ):
        return max(float(headers["x-ratelimit-reset"]) - time.time(), 0.0)
    return None


class ProviderHttp:
    """One provider endpoint with one credential: a fixed token in ``auth_headers``, or a
    ``token_source`` asked before each request (tokens that expire)."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        auth_headers: dict[str, str],
        token: str | None,
        cache: ResponseCache,
        cache_scope: str,
        policy: HttpPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        token_source: TokenSource | None = None,
    ) -> None:
        self.provider = provider
        self._source = token_source
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self.cache_scope = cache_scope
        self.policy = policy or HttpPolicy()
        self._token_id = token_source.key if token_source is not None else token_id(token)
        self._client = httpx.AsyncClient(
            headers=auth_headers,
            timeout=self.policy.timeout_s,
            transport=transport,
            follow_redirects=False,
        )
        self.requests = 0

    def __repr__(self) -> str:
        return f"ProviderHttp({self.provider}, {self.base_url})"

    async def aclose(self) -> None:
        await self._client.aclose()

    def _key(self, method: str, url: str, accept: str, body: Any) -> str:
        raw = json.dumps([self.cache_scope, method, url, accept, body], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        accept: str = "application/json",
        json_body: Any = None,
        immutable: bool,
        not_found: GitProviderError,
        max_bytes: int | None = None,
        content_type: str | None = None,
        forbidden: GitProviderError | None = None,
        cacheable: bool = True,
    ) -> Answer:
        """``cacheable=False`` for writes (an issue created is not a cached answer);
        ``forbidden`` replaces the read-oriented error of a 403 (a write the token may not
        do); ``content_type`` for bodies that are not plain JSON (a JSON Patch)."""
        # An absolute URL is one the client derived itself (GitHub's GraphQL endpoint).
        absolute = path.startswith(("https://", "http://"))
        url = str(httpx.URL(path if absolute else self.base_url + path, params=params))
        if not cacheable:
            headers = {"Accept": accept, **({"Content-Type": content_type} if content_type else {})}
            return await self._send(
                method, url, headers, json_body, not_found, max_bytes, forbidden=forbidden
            )
        key = self._key(method, url, accept, json_body)
        cached = await self.cache.get(key)
        if cached is not None and cached.immutable:
            return Answer(200, cached.body, httpx.Headers({"link": cached.link or ""}), True)
        headers = {"Accept": accept}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        answer = await self._send(method, url, headers, json_body, not_found, max_bytes)
        if answer.status == 304 and cached is not None:
            return Answer(200, cached.body, httpx.Headers({"link": cached.link or ""}), True)
        etag = answer.headers.get("etag")
        if immutable or etag:
            await self.cache.put(
                key,
                CachedResponse(answer.body, etag, answer.headers.get("link"), immutable),
            )
        return answer

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        not_found: GitProviderError,
        max_bytes: int | None,
        *,
        forbidden: GitProviderError | None = None,
    ) -> Answer:
        policy = self.policy
        semaphore = _semaphores.setdefault(self._token_id, asyncio.Semaphore(policy.concurrency))
        for attempt in range(policy.max_retries + 1):
            await self._wait_if_blocked()
            try:
                async with semaphore:
                    self.requests += 1
                    answer = await self._once(method, url, headers, json_body, max_bytes)
            except httpx.TransportError as exc:
                if attempt < policy.max_retries:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise ProviderUnavailable(
                    f"{self.provider} could not be reached ({type(exc).__name__})"
                ) from None
            wait = _retry_after(answer.headers, time.time())
            limited = answer.status == 429 or (answer.status == 403 and wait is not None)
            if limited:
                wait = wait if wait is not None else self._backoff(attempt)
                if wait <= policy.max_wait_s and attempt < policy.max_retries:
                    await asyncio.sleep(wait)
                    continue
                _blocked_until[self._token_id] = time.time() + wait
                raise RateLimited(
                    f"{self.provider} rate limit reached; requests resume at {_when(wait)}",
                    datetime.fromtimestamp(time.time() + wait, UTC),
                )
            if answer.status >= 500:
                if attempt < policy.max_retries:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise ProviderUnavailable(f"{self.provider} answered {answer.status}")
            if (
                answer.status == 401
                and self._source is not None
                and attempt == 0 < policy.max_retries
            ):
                # A token the provider revoked early (an app uninstalled, an identity removed):
                # drop it and ask the source once more, which mints anew or says why it cannot.
                forget = getattr(self._source, "forget_token", None)
                if forget is not None:
                    forget()
                    continue
            self._note_budget(answer.headers)
            if answer.status == 403 and forbidden is not None:
                raise forbidden
            return self._checked(answer, not_found)
        raise ProviderUnavailable(f"{self.provider} did not answer")  # pragma: no cover

    async def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        max_bytes: int | None,
    ) -> Answer:
        limit = max_bytes or self.policy.max_bytes
        if self._source is not None:
            fresh = await self._source.token()
            if fresh:
                headers = {**headers, "Authorization": f"Bearer {fresh}"}
        if json_body is not None and "Content-Type" in headers:
            # A JSON body under its own media type (application/json-patch+json).
            content = json.dumps(json_body).encode()
            request = self._client.build_request(method, url, headers=headers, content=content)
        else:
            request = self._client.build_request(method, url, headers=headers, json=json_body)
        response = await self._client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise Refused(f"{self.provider} answered with more than {limit} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
        return Answer(response.status_code, b"".join(chunks), response.headers)

    def _checked(self, answer: Answer, not_found: GitProviderError) -> Answer:
        if answer.status in (200, 201, 304):
            return answer
        if answer.status == 410:  # gone for good: GitHub's answer when Issues are turned off
            raise not_found
        if answer.status == 401:
            raise BadCredentials(f"{self.provider} rejected the token (401): check or replace it")
        if answer.status == 403:
            raise RepositoryNotFound(
                f"{self.provider} refused access (403): the token lacks permission to read it"
            )
        if answer.status in (404, 422, 409):
            raise not_found
        raise ProviderUnavailable(f"{self.provider} answered {answer.status}")

    def _note_budget(self, headers: httpx.Headers) -> None:
        """Stop early: when the provider says the budget is spent, the next request is not
        sent until it resets (or fails at once with the time it resets)."""
        if headers.get("x-ratelimit-remaining") == "0":
            wait = _retry_after(headers, time.time())
            if wait:
                _blocked_until[self._token_id] = time.time() + wait

    async def _wait_if_blocked(self) -> None:
        until = _blocked_until.get(self._token_id)
        if until is None:
            return
        remaining = until - time.time()
        if remaining > self.policy.max_wait_s:
            raise RateLimited(
                f"{self.provider} rate limit reached; requests resume at {_when(remaining)}",
                datetime.fromtimestamp(until, UTC),
            )
        if remaining > 0:
            await asyncio.sleep(remaining)
        _blocked_until.pop(self._token_id, None)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(0.25 * 2**attempt + random.uniform(0, 0.1), 8.0))  # noqa: S311


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class RestClient:
    """What the REST provider clients share: one ``ProviderHttp`` for their credential, its
    request count, and closing it."""

    provider = ""

    def __init__(
        self,
        token: str | TokenSource | None,
        *,
        base_url: str,
        auth_headers: dict[str, str],
        cache: ResponseCache,
        cache_scope: str,
        policy: HttpPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = ProviderHttp(
            provider=self.provider,
            base_url=base_url,
            auth_headers={**auth_headers, "User-Agent": "log-dawg-cloud"},
            token=token if isinstance(token, str) else None,
            cache=cache,
            cache_scope=cache_scope,
            policy=policy,
            transport=transport,
            token_source=None if token is None or isinstance(token, str) else token,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.http.base_url})"

    @property
    def requests(self) -> int:
        return self.http.requests

    async def aclose(self) -> None:
        await self.http.aclose()
