from __future__ import annotations

import pytest

from app.llm.redact import redact


@pytest.mark.parametrize(
    ("text", "secret", "label"),
    [
        ("mail ada@example.com now", "ada@example.com", "[EMAIL]"),
        ("Authorization: Bearer abcdefghijklmnop123", "abcdefghijklmnop123", "[TOKEN]"),
        ("key sk-proj-abcdefghijklmnopqrstuv", "sk-proj-abcdefghijklmnopqrstuv", "[TOKEN]"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx", "[TOKEN]"),
        ("pat ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnop", "[TOKEN]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghij", "github_pat_11ABCDEFG", "[TOKEN]"),
        ("id AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP", "[AWS_KEY]"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIiOiIxIn0", "[JWT]"),
        ("postgres://app:hunter2@db:5432/x", "hunter2", "[URL_CREDENTIALS]"),
        ("Server=db;Password=hunter2;Database=x", "hunter2", "[SECRET]"),
        ('{"api_key": "abc123def"}', "abc123def", "[SECRET]"),
        ("client_secret=s3cr3t&x=1", "s3cr3t", "[SECRET]"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow",
         "[PRIVATE_KEY]"),
        ("from 10.0.3.7:587", "10.0.3.7", "[IP]"),
        ("peer fe80::1ff:fe23:4567:890a up", "fe80::1ff", "[IP]"),
        ("peer 2001:db8::8a2e:370:7334", "2001:db8", "[IP]"),
    ],
)  # fmt: skip
def test_each_kind_is_replaced(text: str, secret: str, label: str) -> None:
    clean, count = redact(text)
    assert secret not in clean
    assert label in clean
    assert count >= 1


def test_ordinary_text_is_left_alone() -> None:
    text = "KeyError at shop/cart.py:42 at 12:30:45, retry 3 of 5, version 2.1"
    assert redact(text) == (text, 0)
