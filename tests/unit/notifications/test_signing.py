"""The outbound webhook's signature, as the README tells a receiver to check it."""

from __future__ import annotations

import hashlib
import hmac

from app.notifications.channels import retry_after, sign, verify

SECRET = "whsec-0123456789abcdef"
BODY = b'{"type":"notification","title":"x"}'


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1764530000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1764530000, BODY) == f"sha256={expected}"


def test_a_receiver_accepts_fresh_and_rejects_replays_and_tampering() -> None:
    signature = sign(SECRET, 1764530000, BODY)
    assert verify(SECRET, "1764530000", BODY, signature, now=1764530000 + 299)
    assert not verify(SECRET, "1764530000", BODY, signature, now=1764530000 + 301)  # a replay
    assert not verify(SECRET, "1764530000", BODY + b" ", signature, now=1764530000)
    assert not verify("another-secret-0000", "1764530000", BODY, signature, now=1764530000)
    # The timestamp is signed: moving it forward to look fresh breaks the signature.
    assert not verify(SECRET, "1764530299", BODY, signature, now=1764530300)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert retry_after("soon") is None and retry_after(None) is None
