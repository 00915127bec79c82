"""Bearer JWTs: HS256 in development, RS256 and EdDSA against the identity provider's JWKS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from dudao.auth.principal import Role
from dudao.auth.tokens import TokenVerifier, issue_dev_token
from dudao.config import Settings
from dudao.errors import Unauthenticated

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def _jwks() -> dict[str, Any]:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ed_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ED_KEY.public_key()))
    return {
        "keys": [
            {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
            {**ed_jwk, "kid": "ed-1", "alg": "EdDSA", "use": "sig"},
        ]
    }


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """A stand-in identity provider on loopback that serves its public keys."""
    body = json.dumps(_jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "u-42",
        "name": "李督学",
        "roles": ["inspector"],
        "division": "450102",
        "org": "兴宁区督导室",
        "iat": now,
        "exp": now + 600,
        "iss": "https://idp.example",
        "aud": "dudao",
        **overrides,
    }


def _production(jwks_url: str) -> Settings:
    return Settings(
        environment="production",
        jwks_url=jwks_url,
        jwt_algorithms=["RS256", "EdDSA"],
        jwt_issuer="https://idp.example",
        jwt_audience="dudao",
    )


async def test_development_tokens_carry_the_principal() -> None:
    settings = Settings(environment="development")
    token = issue_dev_token(
        settings,
        sub="u-1",
        name="王主任",
        roles=["supervision_office"],
        division="450100",
        org="南宁市督导室",
    )
    who = await TokenVerifier(settings).verify(token)
    assert (who.sub, who.name, who.division, who.org) == ("u-1", "王主任", "450100", "南宁市督导室")
    assert who.roles == frozenset({Role.SUPERVISION_OFFICE})
    assert who.jurisdictions == ("4501",)


@pytest.mark.parametrize(
    ("algorithm", "key", "kid"), [("RS256", RSA_KEY, "rsa-1"), ("EdDSA", ED_KEY, "ed-1")]
)
async def test_production_verifies_tokens_against_the_jwks(
    jwks_url: str, algorithm: str, key: Any, kid: str
) -> None:
    token = jwt.encode(_claims(), key, algorithm=algorithm, headers={"kid": kid})
    who = await TokenVerifier(_production(jwks_url)).verify(token)
    assert (who.sub, who.division, who.roles) == ("u-42", "450102", frozenset({Role.INSPECTOR}))


async def test_production_refuses_shared_secret_tokens(jwks_url: str) -> None:
    settings = _production(jwks_url)
    forged = jwt.encode(_claims(), settings.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(Unauthenticated, match="not accepted"):
        await TokenVerifier(settings).verify(forged)
    with pytest.raises(RuntimeError):
        issue_dev_token(settings, sub="x", name="x", roles=["inspector"], division="450102")


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (_claims(exp=int(time.time()) - 10), "expired"),
        (_claims(aud="someone-else"), "not valid"),
        (_claims(iss="https://evil.example"), "not valid"),
        (_claims(division="45"), "division"),
        (_claims(roles=["emperor"]), "roles"),
    ],
)
async def test_invalid_tokens_are_refused(jwks_url: str, claims: dict[str, Any], message: str) -> None:
    token = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated, match=message):
        await TokenVerifier(_production(jwks_url)).verify(token)


async def test_a_token_signed_by_an_unknown_key_is_refused(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated):
        await TokenVerifier(_production(jwks_url)).verify(token)


def test_production_never_accepts_the_shared_secret_even_if_configured(jwks_url: str) -> None:
    lenient = Settings(environment="production", jwks_url=jwks_url, jwt_algorithms=["HS256", "RS256"])
    assert TokenVerifier(lenient).algorithms == {"RS256"}
    with pytest.raises(RuntimeError, match="asymmetric"):
        TokenVerifier(Settings(environment="production", jwks_url=jwks_url, jwt_algorithms=["HS256"]))
