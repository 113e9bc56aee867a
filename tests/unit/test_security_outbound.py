"""Webhook delivery's SSRF guard (chalicelib.services.outbound), without the internet: the resolver
(socket.getaddrinfo) is patched to give hostile answers, socket connects are recorded, and the only
real connections go to receivers on 127.0.0.1 (allowed on the local stage alone)."""
from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib.services import events, outbound

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"


@pytest.fixture
def stage(monkeypatch):
    """Set STAGE (and whether we run inside Lambda) for one test; settings re-read both ways."""
    from chalicelib.config import reset_settings
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    def set_stage(name: str | None, *, in_lambda: bool = False) -> None:
        if name is None:
            monkeypatch.delenv("STAGE", raising=False)
        else:
            monkeypatch.setenv("STAGE", name)
        if in_lambda:
            monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "aftersales-prod-record_events")
        reset_settings()
    yield set_stage
    monkeypatch.undo()
    reset_settings()


class Resolver:
    """A hostile getaddrinfo: answer n (from 0) is answers[min(n, last)]; every call is recorded."""

    def __init__(self, *answers: str | list[str]) -> None:
        self.answers = [a if isinstance(a, list) else [a] for a in answers]
        self.calls: list[tuple] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.calls.append((host, port))
        addresses = self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]
        out = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port), 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port))))
        return out


@pytest.fixture
def connects(monkeypatch):
    """Every socket connect in the process is recorded and refused: nothing leaves the machine."""
    seen: list[tuple] = []

    def refuse(self, address):
        seen.append(tuple(address[:2]))
        raise ConnectionRefusedError("test: no network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return seen


# --- which addresses -------------------------------------------------------------------------

BLOCKED = [
    "127.0.0.1", "127.1.2.3", "10.0.0.8", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "192.88.99.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1", "ff0e::1", "2001:db8::1", "100::1",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::5db8:d822",  # NAT64 of 127.0.0.1, the metadata service, and a public one
    "64:ff9b:1::a00:8", "64:ff9b:1:ffff::5db8:d822",  # local-use NAT64
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:5db8:d822::1",  # 6to4
    "::127.0.0.1", "::169.254.169.254", "::93.184.216.34",  # IPv4-compatible
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:93.184.216.34", "::ffff:0:127.0.0.1",  # mapped, translated
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1",  # Teredo
]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_and_transition_addresses_are_refused(address):
    assert outbound.address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", "1.1.1.1", PUBLIC_V6, "2606:4700:4700::1111"])
def test_public_unicast_addresses_pass(address):
    assert outbound.address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address, inner", [("64:ff9b::7f00:1", "127.0.0.1"), ("2002:a9fe:a9fe::1", "169.254.169.254"),
                                            ("::10.0.0.1", "10.0.0.1"), ("::ffff:192.168.0.1", "192.168.0.1"),
                                            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45")])
def test_the_embedded_ipv4_is_named(address, inner):
    assert outbound.embedded_ipv4(ipaddress.ip_address(address)) == ipaddress.ip_address(inner)
    assert inner in outbound.address_problem(ipaddress.ip_address(address))


def test_only_loopback_is_let_through_where_loopback_is_allowed():
    assert outbound.address_problem(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert outbound.address_problem(ipaddress.ip_address("::1"), allow_loopback=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "64:ff9b::7f00:1"):
        assert outbound.address_problem(ipaddress.ip_address(address), allow_loopback=True) is not None


# --- hostile resolvers -----------------------------------------------------------------------

@pytest.mark.parametrize("answers", [
    "127.0.0.1", "169.254.169.254", "::1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::ffff:127.0.0.1",
    "::127.0.0.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "fe80::1", "224.0.0.1",
    [PUBLIC_V4, "10.0.0.1"], [PUBLIC_V6, "fd00::1"],  # one internal answer among public ones refuses the lot
])
def test_a_host_resolving_to_any_internal_address_is_never_connected(stage, monkeypatch, connects, answers):
    stage("prod")
    resolver = Resolver(answers)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    status, error = outbound.post("https://hooks.example.com/in", b"{}", {}, 2.0)
    assert status is None and "non-public" in error
    assert connects == [] and len(resolver.calls) == 1


@pytest.mark.parametrize("first", [PUBLIC_V4, PUBLIC_V6])
def test_dns_rebinding_cannot_move_the_connection(stage, monkeypatch, connects, first):
    """Public on the first lookup, 127.0.0.1 on every later one: the host is resolved once and the
    connection goes to the address that was checked (here refused by the test, so nothing leaves)."""
    stage("prod")
    resolver = Resolver(first, "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    status, error = outbound.post("https://rebind.example.com/in", b"{}", {}, 2.0)
    assert status is None and "no network" in error
    assert connects == [(first, 443)]  # the checked address, never 127.0.0.1
    assert resolver.calls == [("rebind.example.com", 443)]  # one lookup: no second answer was ever asked for


def test_the_delivery_path_uses_the_guard(stage, monkeypatch, connects):
    """events.attempt's default transport is the guarded one: the check sits where it connects."""
    assert events.transport is events.guarded_transport is events.urllib_transport
    stage("prod")
    resolver = Resolver(PUBLIC_V4, "169.254.169.254")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    status, _error = events.transport("https://rebind.example.com/in", b"{}", {"X": "1"}, 1.0)
    assert status is None and connects == [(PUBLIC_V4, 443)] and len(resolver.calls) == 1
    assert "non-public" in events.blocked_address("https://169.254.169.254/latest/meta-data")


# --- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, why", [
    ("http://hooks.example.com/in", "https"), ("ftp://hooks.example.com/in", "https"),
    ("https://user:pw@hooks.example.com/in", "credentials"), ("https:///in", "no host"),
    ("https://127.0.0.1/in", "non-public"), ("https://[::1]/in", "non-public"), ("https://[64:ff9b::7f00:1]/", "non-public"),
    ("https://169.254.169.254/latest/meta-data", "non-public"), ("https://localhost/in", "non-public"),
    ("https://api.localhost/in", "non-public"), ("https://hooks.example.com:99999/in", "malformed"),
])
def test_urls_refused_before_any_lookup(stage, monkeypatch, url, why):
    stage("prod")
    resolver = Resolver(PUBLIC_V4)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(outbound.Refused, match=why):
        outbound.check_url(url)
    assert resolver.calls == []


def test_registration_applies_the_static_checks(stage):
    from chalicelib.errors import ValidationFailed
    from chalicelib.services import webhooks
    stage("prod")
    for url in ("https://10.0.0.8/hook", "https://user:pw@hooks.example.com/", "http://127.0.0.1:8080/hook",
                "https://[::ffff:169.254.169.254]/"):
        with pytest.raises(ValidationFailed) as caught:
            webhooks._parse({"url": url})
        assert caught.value.details[0]["path"] == "url"
    assert webhooks._parse({"url": "https://hooks.example.com/in"}).url == "https://hooks.example.com/in"


# --- stages: no deployed function can allow loopback ----------------------------------------------

@pytest.mark.parametrize("name, in_lambda, allowed", [
    ("local", False, True), (None, False, True),  # `make run` / the tests: STAGE=local or unset
    ("local", True, False), (None, True, False),  # a Lambda function never, whatever STAGE says
    ("dev", False, False), ("prod", False, False), ("staging", False, False),
])
def test_loopback_only_on_the_local_stage_outside_lambda(stage, monkeypatch, connects, name, in_lambda, allowed):
    stage(name, in_lambda=in_lambda)
    assert outbound.loopback_allowed() is allowed
    monkeypatch.setattr(socket, "getaddrinfo", Resolver("127.0.0.1"))
    status, error = outbound.post("http://127.0.0.1:9/in", b"{}", {}, 1.0)
    assert status is None
    assert (connects == [("127.0.0.1", 9)]) is allowed and ("non-public" in error or "https" in error) is not allowed


def test_every_deployed_stage_names_itself():
    """.chalice/config.json: the local stage is the only one with STAGE=local; the others set their
    own name (and the guard above does not rely on it: inside Lambda loopback is refused anyway)."""
    config = json.load(open(".chalice/config.json"))
    assert "STAGE" not in config.get("environment_variables", {})
    for name, stage_config in config["stages"].items():
        env = stage_config.get("environment_variables", {})
        assert env.get("STAGE") == name, name
        for function in stage_config.get("lambda_functions", {}).values():
            assert function.get("environment_variables", {}).get("STAGE", name) == name


# --- real connections to local receivers ---------------------------------------------------------

class _Receiver(BaseHTTPRequestHandler):
    status = 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((self.path, self.headers["Host"], body))
        self.send_response(self.server.status)
        if self.server.status in (301, 302, 307, 308):
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/followed")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    servers = []

    def start(status=204, tls_context=None):
        server = HTTPServer(("127.0.0.1", 0), _Receiver)
        server.seen, server.status = [], status
        if tls_context is not None:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_rebinding_on_the_local_stage_still_reaches_the_checked_address(stage, monkeypatch, receiver):
    """Local stage: the first answer (127.0.0.1, our receiver) is checked and used; the later
    answer (another address) is never asked for; the Host header keeps the URL's host name."""
    stage("local")
    server = receiver()
    resolver = Resolver("127.0.0.1", "10.1.2.3")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    status, error = outbound.post(f"http://hooks.localhost:{server.server_port}/in?x=1", b'{"a":1}',
                                  {"Content-Type": "application/json", "Host": "evil.example"}, 2.0)
    assert (status, error) == (204, None)
    assert server.seen == [("/in?x=1", f"hooks.localhost:{server.server_port}", b'{"a":1}')]
    assert len(resolver.calls) == 1


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_redirects_are_not_followed(stage, receiver, code):
    stage("local")
    server = receiver(status=code)
    status, error = outbound.post(f"http://127.0.0.1:{server.server_port}/hook", b"{}", {}, 2.0)
    assert status == code and "redirects are not followed" in error
    assert [path for path, _host, _body in server.seen] == ["/hook"]  # /followed was never requested


def _certificate(tmp_path, host: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = tmp_path / f"{host}.crt", tmp_path / f"{host}.key"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_pem.decode(), str(cert_file), str(key_file)


def _tls_server_context(cert_file: str, key_file: str, names: list):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    return context


def test_tls_keeps_sni_and_certificate_checks_for_the_host_name(stage, monkeypatch, receiver, tmp_path):
    """Connected to the vetted IP, TLS still speaks to and verifies the URL's host name."""
    stage("local")
    cert_pem, cert_file, key_file = _certificate(tmp_path, "hooks.localhost")
    names: list = []
    server = receiver(tls_context=_tls_server_context(cert_file, key_file, names))
    monkeypatch.setattr(socket, "getaddrinfo", Resolver("127.0.0.1", "10.9.9.9"))
    trust = ssl.create_default_context(cadata=cert_pem)
    status, error = outbound.post(f"https://hooks.localhost:{server.server_port}/in", b"{}", {}, 3.0, context=trust)
    assert (status, error) == (204, None)
    assert names == ["hooks.localhost"] and server.seen[0][1] == f"hooks.localhost:{server.server_port}"


def test_tls_refuses_a_certificate_for_another_name(stage, monkeypatch, receiver, tmp_path):
    stage("local")
    cert_pem, cert_file, key_file = _certificate(tmp_path, "other.localhost")
    server = receiver(tls_context=_tls_server_context(cert_file, key_file, []))
    monkeypatch.setattr(socket, "getaddrinfo", Resolver("127.0.0.1"))
    trust = ssl.create_default_context(cadata=cert_pem)
    status, error = outbound.post(f"https://hooks.localhost:{server.server_port}/in", b"{}", {}, 3.0, context=trust)
    assert status is None and "certificate" in error.lower()
    assert server.seen == []
