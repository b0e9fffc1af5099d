"""Teach schemathesis (scripts/schemathesis.sh) the one string format of the API it cannot
invent: ``pem-private-key-and-certificate``, a service principal's private key with the X.509
certificate it belongs to. Without it every generated string is a well-formed request that
the API rightly refuses (422), which the positive checks would count as a failure. Keys are
made once, here, when schemathesis loads this module (SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import datetime as dt

import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import strategies as st

from app.api.schemas import PEM_FORMAT


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, key_first: bool) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "schemathesis")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    parts = [
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
    ]
    return "".join(parts if key_first else parts[::-1])


PEMS = [
    _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048), key_first=True),
    _pem(ec.generate_private_key(ec.SECP256R1()), key_first=False),
]

schemathesis.openapi.format(PEM_FORMAT, st.sampled_from(PEMS))
