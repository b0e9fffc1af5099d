"""Entra ID access tokens, really signed, checked against keys served over HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from app.auth.tokens import EntraVerifier, InvalidToken, IssuerUnavailable
from tests.fakes.entra import (
    API_APP_ID,
    OTHER_TENANT,
    SCOPE,
    TENANT,
    FakeEntra,
    SigningKey,
    fake_entra,
)


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with fake_entra() as server:
        yield server


def verifier(
    entra: FakeEntra, tenant: str = TENANT, allowed: tuple[str, ...] = ()
) -> EntraVerifier:
    return EntraVerifier(
        authority=entra.url,
        tenant=tenant,
        audiences=(API_APP_ID,),
        allowed_tenants=allowed,
        scope=SCOPE,
        leeway_s=30,
    )


async def refused(v: EntraVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await v.verify(token)
    await v.aclose()
    return str(caught.value)


async def test_a_valid_token_names_the_person_by_tenant_and_object_id(entra: FakeEntra) -> None:
    v = verifier(entra)
    identity = await v.verify(entra.token(oid="0b6c1e7a-2f4d-4c59-8e3a-9d1b2c3d4e5f"))
    await v.aclose()
    assert identity.tenant_id == TENANT
    assert identity.object_id == "0b6c1e7a-2f4d-4c59-8e3a-9d1b2c3d4e5f"
    assert identity.name == "Ada Lovelace"
    assert identity.email == "ada@contoso.example"


async def test_keys_are_fetched_once_and_reused(entra: FakeEntra) -> None:
    v = verifier(entra)
    for _ in range(5):
        await v.verify(entra.token())
    await v.aclose()
    assert sum("keys" in r for r in entra.requests) == 1
    assert sum("openid-configuration" in r for r in entra.requests) == 1


async def test_an_expired_token_is_refused(entra: FakeEntra) -> None:
    now = int(time.time())
    message = await refused(verifier(entra), entra.token(iat=now - 7200, exp=now - 3600))
    assert "expired" in message


async def test_expiry_has_a_small_leeway_only(entra: FakeEntra) -> None:
    now = int(time.time())
    v = verifier(entra)
    await v.verify(entra.token(exp=now - 10))  # within the 30 s leeway
    assert "expired" in await refused(v, entra.token(exp=now - 120))


async def test_a_token_not_valid_yet_is_refused(entra: FakeEntra) -> None:
    assert "not valid yet" in await refused(
        verifier(entra), entra.token(nbf=int(time.time()) + 600)
    )


async def test_a_token_for_another_audience_is_refused(entra: FakeEntra) -> None:
    message = await refused(
        verifier(entra), entra.token(aud="00000003-0000-0000-c000-000000000000")
    )
    assert "audience" in message


async def test_a_token_from_another_issuer_is_refused(entra: FakeEntra) -> None:
    message = await refused(verifier(entra), entra.token(iss=f"https://sts.windows.net/{TENANT}/"))
    assert "issuer" in message


async def test_a_token_from_another_tenant_is_refused(entra: FakeEntra) -> None:
    message = await refused(verifier(entra), entra.token(tid=OTHER_TENANT))
    assert "tenant" in message


async def test_organizations_accepts_any_tenant_with_its_own_issuer(entra: FakeEntra) -> None:
    v = verifier(entra, tenant="organizations")
    assert (await v.verify(entra.token(tid=OTHER_TENANT))).tenant_id == OTHER_TENANT
    # ... but the issuer must be the token's own tenant's.
    forged = entra.token(tid=OTHER_TENANT, iss=entra.issuer(TENANT))
    assert "issuer" in await refused(v, forged)


async def test_organizations_with_an_allow_list(entra: FakeEntra) -> None:
    v = verifier(entra, tenant="organizations", allowed=(TENANT,))
    assert (await v.verify(entra.token())).tenant_id == TENANT
    assert "not allowed" in await refused(v, entra.token(tid=OTHER_TENANT))


async def test_an_unknown_kid_fetches_the_keys_again_then_refuses(entra: FakeEntra) -> None:
    v = verifier(entra)
    await v.verify(entra.token())
    stranger = SigningKey.new()
    with pytest.raises(InvalidToken, match="key the issuer does not publish"):
        await v.verify(entra.token(key=stranger))
    assert sum("keys" in r for r in entra.requests) == 2  # refetched once
    # A flood of made-up key ids does not turn into a flood of requests to Entra.
    for _ in range(5):
        with pytest.raises(InvalidToken):
            await v.verify(entra.token(key=SigningKey.new()))
    await v.aclose()
    assert sum("keys" in r for r in entra.requests) == 2


async def test_a_rolled_over_key_is_picked_up(entra: FakeEntra) -> None:
    v = verifier(entra)
    await v.verify(entra.token())
    new_key = SigningKey.new()
    entra.published.append(new_key)
    assert (await v.verify(entra.token(key=new_key))).tenant_id == TENANT
    await v.aclose()


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_alg_none_is_refused(entra: FakeEntra) -> None:
    claims = entra.claims()
    header = {"alg": "none", "typ": "JWT", "kid": entra.published[0].kid}
    token = f"{_b64(header)}.{_b64(claims)}."
    assert "'none'" in await refused(verifier(entra), token)


async def test_hs256_signed_with_the_public_key_is_refused(entra: FakeEntra) -> None:
    public_pem = (
        entra.published[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": entra.published[0].kid}
    signing_input = f"{_b64(header)}.{_b64(entra.claims())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert "HS256" in await refused(verifier(entra), token)


async def test_a_tampered_token_is_refused(entra: FakeEntra) -> None:
    head, body, signature = entra.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["oid"] = "11111111-2222-4333-8444-555555555555"
    assert (
        "signature"
        in (await refused(verifier(entra), f"{head}.{_b64(claims)}.{signature}")).lower()
    )


async def test_a_token_without_the_api_scope_is_refused(entra: FakeEntra) -> None:
    assert "scope" in await refused(verifier(entra), entra.token(scp="User.Read"))


async def test_a_v1_token_is_refused(entra: FakeEntra) -> None:
    assert "v2.0" in await refused(verifier(entra), entra.token(ver="1.0"))


async def test_missing_oid_is_refused(entra: FakeEntra) -> None:
    assert "oid" in await refused(verifier(entra), entra.token(oid=None))


async def test_garbage_is_not_a_jwt(entra: FakeEntra) -> None:
    assert "not a JWT" in await refused(verifier(entra), "not-a-token")


async def test_an_unreachable_issuer_is_unavailable_not_invalid() -> None:
    v = EntraVerifier(
        authority="http://127.0.0.1:9", tenant=TENANT, audiences=(API_APP_ID,),
        allowed_tenants=(), scope=SCOPE, leeway_s=30,
    )  # fmt: skip
    with pytest.raises(IssuerUnavailable):
        await v.verify(jwt.encode({"a": 1}, "k" * 32, algorithm="HS256").replace("HS256", "RS256"))
    await v.aclose()


async def test_an_app_only_token_is_a_service_principal(entra: FakeEntra) -> None:
    v = verifier(entra)
    identity = await v.verify(entra.token(scp=None, roles=["Logdawg.Ingest"], name=None))
    await v.aclose()
    assert identity.app and identity.roles == ("Logdawg.Ingest",)
    assert identity.email is None


async def test_a_token_with_neither_scope_nor_roles_is_refused(entra: FakeEntra) -> None:
    assert "scope" in await refused(verifier(entra), entra.token(scp=None))
