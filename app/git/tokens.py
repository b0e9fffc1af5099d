"""Where a provider client gets the credential it sends: a token source.

A pasted personal access token is a ``StaticToken``. Tokens that expire are fetched when a
request is about to be sent and reused until ``REFRESH_MARGIN_S`` before their expiry, so a
token that is expired (or about to be) is never sent:

- ``InstallationTokenSource``: a GitHub App installation token, minted by the platform's app
  (``GitHubApp``) for one repository with read permissions;
- ``EntraTokenSource``: an Entra ID access token for Azure DevOps from an azure-identity
  ``TokenCredential`` (the worker's own identity, or a customer's service principal).

A source's ``key`` is what the process-wide rate-limit and concurrency state is counted by:
GitHub counts an app's rate limit per installation, so every repository of an installation
shares one key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import jwt

from app.git.http import token_id
from app.git.types import (
    BadCredentials,
    GitProviderError,
    ProviderUnavailable,
    RepositoryNotFound,
    parse_datetime,
)

# Renew a token this long before it expires; a job's requests then never meet an expired one.
REFRESH_MARGIN_S = 300.0
# Azure DevOps' resource id in Entra ID (the same in every tenant).
AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
GITHUB_API_VERSION = "2022-11-28"
# What an installation token may do: read the code and its metadata, nothing else.
READ_PERMISSIONS = {"contents": "read", "metadata": "read"}
# Write-back (an issue from a report, a comment on the suspect commit's pull request): the app
# must have been granted these when it was installed.
WRITE_PERMISSIONS = {**READ_PERMISSIONS, "issues": "write", "pull_requests": "write"}

Clock = Callable[[], float]

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


class TokenSource(Protocol):
    @property
    def key(self) -> str:
        """What rate limits are counted by; never the token itself."""
        ...

    async def token(self) -> str | None:
        """A token valid for at least ``REFRESH_MARGIN_S`` more (None: anonymous)."""
        ...


class StaticToken:
    """A token someone pasted (a personal access token); it is what it is."""

    def __init__(self, value: str | None) -> None:
        self._value = value
        self.key = token_id(value)

    def __repr__(self) -> str:
        return "StaticToken(...)"

    async def token(self) -> str | None:
        return self._value


class InstallationGone(GitProviderError):
    """The GitHub App was uninstalled, or no longer grants this repository. Someone must
    reinstall it or grant the repository: retrying cannot help."""

    transient = False


@dataclass(frozen=True)
class Minted:
    token: str
    expires_at: float  # seconds since the epoch


class _Cached:
    """One token and the lock that makes concurrent jobs wait for one mint, not race."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.minted: Minted | None = None


class GitHubApp:
    """The platform's GitHub App: app JWTs, installation tokens (cached per installation and
    repository, shared by every job of the process), and the app's own endpoints."""

    def __init__(
        self,
        *,
        app_id: int,
        private_key_pem: str,
        api_url: str = "https://api.github.com",
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.time,
        margin_s: float = REFRESH_MARGIN_S,
        timeout_s: float = 20.0,
        web_url: str = "https://github.com",
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        self.app_id = app_id
        self.web_url = web_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._key = private_key_pem
        self.api_url = api_url.rstrip("/")
        self._transport = transport
        self._clock = clock
        self._margin_s = margin_s
        self._timeout_s = timeout_s
        self._cache: dict[tuple[int, str | None, bool], _Cached] = {}
        self.minted = 0  # how many installation tokens this process asked for

    def __repr__(self) -> str:
        return f"GitHubApp({self.app_id}, {self.api_url})"

    def app_jwt(self) -> str:
        """RS256, ``iat`` 60 s in the past (clock drift), ``exp`` 9 minutes ahead: GitHub
        refuses one that lives longer than 10 minutes."""
        now = int(time.time())
        payload = {"iat": now - 60, "exp": now + 540, "iss": str(self.app_id)}
        try:
            return jwt.encode(payload, self._key, algorithm="RS256")
        except (ValueError, TypeError) as exc:
            # The message of a key parsing error can quote the key: say only what is wrong.
            raise BadCredentials(
                f"the GitHub App's private key cannot sign ({type(exc).__name__}): check "
                "LOGDAWG_GITHUB_APP_PRIVATE_KEY"
            ) from None

    async def _call(
        self, method: str, path: str, *, bearer: str, json_body: Any = None
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {bearer}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": "log-dawg-cloud",
        }
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout_s, follow_redirects=False
            ) as client:
                return await client.request(
                    method, self.api_url + path, headers=headers, json=json_body
                )
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"GitHub could not be reached ({type(exc).__name__})"
            ) from None

    def _checked(self, response: httpx.Response, installation_id: int) -> Any:
        status = response.status_code
        if status in (200, 201):
            try:
                return response.json()
            except ValueError:
                raise ProviderUnavailable("GitHub answered with invalid JSON") from None
        if status == 404:
            raise InstallationGone(
                f"the GitHub App installation {installation_id} no longer exists (the app was "
                "uninstalled): install it again and register the repository with it"
            )
        if status == 401:
            raise BadCredentials(
                "GitHub refused the app's JWT (401): check LOGDAWG_GITHUB_APP_ID and the "
                "app's private key"
            )
        if status == 403:
            raise InstallationGone(
                f"the GitHub App installation {installation_id} is suspended or may not read "
                "this repository (403)"
            )
        if status == 422:
            raise InstallationGone(
                f"the GitHub App installation {installation_id} does not grant this "
                "repository: add it to the installation's repositories on GitHub"
            )
        if status == 429 or status >= 500:
            raise ProviderUnavailable(f"GitHub answered {status}")
        raise RepositoryNotFound(f"GitHub answered {status} for the app installation")

    async def mint(
        self, installation_id: int, repository: str | None, *, write: bool = False
    ) -> Minted:
        """A new installation token, narrowed to ``repository`` (its name, without the owner)
        and read permissions (with ``write``: also issues and pull requests, for write-back)."""
        body: dict[str, Any] = {"permissions": WRITE_PERMISSIONS if write else READ_PERMISSIONS}
        if repository is not None:
            body["repositories"] = [repository]
        response = await self._call(
            "POST",
            f"/app/installations/{installation_id}/access_tokens",
            bearer=self.app_jwt(),
            json_body=body,
        )
        answer = self._checked(response, installation_id)
        self.minted += 1
        token = answer.get("token") if isinstance(answer, dict) else None
        expires = parse_datetime(answer.get("expires_at")) if isinstance(answer, dict) else None
        if not isinstance(token, str) or expires is None:
            raise ProviderUnavailable("GitHub answered an installation token without an expiry")
        return Minted(token, expires.timestamp())

    async def token(
        self, installation_id: int, repository: str | None, *, write: bool = False
    ) -> str:
        """The cached token for the installation and repository, renewed when it has less
        than the margin left."""
        cached = self._cache.setdefault((installation_id, repository, write), _Cached())
        async with cached.lock:
            minted = cached.minted
            if minted is None or minted.expires_at - self._margin_s <= self._clock():
                minted = cached.minted = await self.mint(installation_id, repository, write=write)
            if minted.expires_at <= self._clock():
                raise ProviderUnavailable("GitHub answered an installation token already expired")
            return minted.token

    def forget(self, installation_id: int) -> None:
        """Drop the installation's cached tokens (it was uninstalled or changed)."""
        for key in [k for k in self._cache if k[0] == installation_id]:
            del self._cache[key]

    @property
    def verifies_users(self) -> bool:
        return bool(self._client_id and self._client_secret)

    async def _user_token(self, code: str) -> str | None:
        """The authorisation ``code`` (one-time) exchanged for the GitHub user's token; None
        when GitHub refuses it."""
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout_s, follow_redirects=False
            ) as client:
                exchanged = await client.post(
                    f"{self.web_url}/login/oauth/access_token",
                    headers={"Accept": "application/json", "User-Agent": "log-dawg-cloud"},
                    data={
                        "client_id": self._client_id or "",
                        "client_secret": self._client_secret or "",
                        "code": code,
                    },
                )
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"GitHub could not be reached ({type(exc).__name__})"
            ) from None
        try:
            user_token = exchanged.json().get("access_token") if exchanged.is_success else None
        except ValueError:
            user_token = None
        return user_token if isinstance(user_token, str) and user_token else None

    async def who(self, code: str) -> tuple[int, str] | None:
        """The id and login of the GitHub user who authorised ``code`` (``GET /user``); their
        token is used for this one question and then forgotten."""
        user_token = await self._user_token(code)
        if user_token is None:
            return None
        response = await self._call("GET", "/user", bearer=user_token)
        try:
            found = response.json() if response.status_code == 200 else None
        except ValueError:
            found = None
        if not isinstance(found, dict) or not isinstance(found.get("id"), int):
            return None
        return int(found["id"]), str(found.get("login") or "")[:100]

    async def person_can_see(self, code: str, installation_id: int) -> bool:
        """Whether the GitHub user who authorised ``code`` (sent with the install's redirect
        when the app requests user authorisation) can access the installation. Their token
        is used for this one question and then forgotten."""
        user_token = await self._user_token(code)
        if user_token is None:
            return False
        page = 1
        while page <= 10:
            response = await self._call(
                "GET", f"/user/installations?per_page=100&page={page}", bearer=user_token
            )
            if response.status_code != 200:
                return False
            try:
                found = response.json().get("installations") or []
            except ValueError:
                return False
            if any(isinstance(i, dict) and i.get("id") == installation_id for i in found):
                return True
            if len(found) < 100:
                return False
            page += 1
        return False

    def source(self, installation_id: int, repository: str | None) -> InstallationTokenSource:
        return InstallationTokenSource(self, installation_id, repository)

    async def installation(self, installation_id: int) -> dict[str, Any]:
        """``GET /app/installations/{id}``: whose installation it is (``account``)."""
        response = await self._call(
            "GET", f"/app/installations/{installation_id}", bearer=self.app_jwt()
        )
        answer = self._checked(response, installation_id)
        return answer if isinstance(answer, dict) else {}

    async def repositories(
        self, installation_id: int, *, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """``GET /installation/repositories``: what the installation grants (paged)."""
        bearer = await self.token(installation_id, None)
        found: list[dict[str, Any]] = []
        page = 1
        while len(found) < limit:
            response = await self._call(
                "GET", f"/installation/repositories?per_page=100&page={page}", bearer=bearer
            )
            answer = self._checked(response, installation_id)
            batch = answer.get("repositories") if isinstance(answer, dict) else None
            if not batch:
                break
            found.extend(r for r in batch if isinstance(r, dict))
            if len(batch) < 100:
                break
            page += 1
        return found[:limit]


class InstallationTokenSource:
    def __init__(
        self, app: GitHubApp, installation_id: int, repository: str | None, *, write: bool = False
    ) -> None:
        self._app = app
        self.installation_id = installation_id
        self._repository = repository
        self._write = write
        self.key = f"github-installation:{installation_id}"
        self.api_url = app.api_url

    def for_writing(self) -> InstallationTokenSource:
        """The same installation and repository, with tokens that may also write issues and
        pull request comments."""
        return InstallationTokenSource(
            self._app, self.installation_id, self._repository, write=True
        )

    def __repr__(self) -> str:
        return f"InstallationTokenSource({self.installation_id})"

    async def token(self) -> str | None:
        return await self._app.token(self.installation_id, self._repository, write=self._write)

    def forget_token(self) -> None:
        """GitHub refused the cached token (401): the next request mints a new one."""
        self._app.forget(self.installation_id)


class EntraTokenSource:
    """Azure DevOps with an Entra ID token from ``credential`` (``DefaultAzureCredential`` for
    the worker's own identity, ``ClientSecretCredential`` for a customer's service principal).
    The credential is asked again once the token is within the margin of its expiry."""

    def __init__(
        self,
        credential: TokenCredential,
        *,
        key: str,
        clock: Clock = time.time,
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._credential = credential
        self.key = key
        self._clock = clock
        self._margin_s = margin_s
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_on = 0.0
        self.fetched = 0

    def __repr__(self) -> str:
        return f"EntraTokenSource({self.key})"

    def forget_token(self) -> None:
        """Azure DevOps refused the token (401): ask the credential again next time."""
        self._token, self._expires_on = None, 0.0

    async def token(self) -> str | None:
        async with self._lock:
            if self._token is None or self._expires_on - self._margin_s <= self._clock():
                try:
                    access = await asyncio.to_thread(self._credential.get_token, AZURE_DEVOPS_SCOPE)
                except Exception as exc:  # azure-identity raises ClientAuthenticationError
                    raise BadCredentials(
                        "no Entra ID token for Azure DevOps "
                        f"({type(exc).__name__}): check the identity's set-up"
                    ) from None
                self.fetched += 1
                self._token, self._expires_on = access.token, float(access.expires_on)
                if self._expires_on <= self._clock():
                    raise BadCredentials("Entra ID issued an Azure DevOps token already expired")
            return self._token
