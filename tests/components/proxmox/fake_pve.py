"""A local HTTPS server implementing the few Proxmox VE API endpoints the wait/convert step calls.

Response shapes follow the PVE API documentation (https://pve.proxmox.com/pve-docs/api-viewer/): every body
is ``{"data": ...}``; errors are HTTP status codes whose *reason phrase* carries the message (that is how
pve-http-server reports them, and what proxmoxer puts in ``ResourceException.content``); asynchronous
operations return a task ``UPID`` string whose ``/tasks/{upid}/status`` reports ``stopped`` with
``exitstatus: OK``. The guest agent's ``file-read`` answers HTTP 500 "QEMU guest agent is not running"
until the scripted guest has an agent.

Each VM follows a *script*: a list of ``(status, bake_status_line | None)`` steps, one consumed per
``status/current`` call (the last one repeats). ``None`` as line means the agent does not answer yet.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN = "root@pam!golden=3f6c1a52-9d3e-4c7a-9e55-6a1f0b2d7c11"


@dataclass
class FakeVm:
    """One VM of the fake node."""

    vmid: int
    script: list[tuple[str, str | None]] = field(default_factory=lambda: [("running", None)])
    template: bool = False
    description: str = ""
    tags: str = ""
    name: str = "builder"
    cicustom: str | None = "user=local:snippets/golden.yaml"
    polls: int = 0
    disks: dict[str, str] = field(default_factory=dict)
    """Disk keys (``scsi0``) → volume ids; a linked clone's volume names its template's base volume."""

    @property
    def step(self) -> tuple[str, str | None]:
        return self.script[min(self.polls, len(self.script) - 1)]


@dataclass
class FakePve:
    """State and request log of the fake API."""

    node: str = "pve1"
    vms: dict[int, FakeVm] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    upids: int = 0
    fail_template: bool = False
    deny_agent: bool = False
    task_exit: dict[str, str] = field(default_factory=dict)
    """Task type (``qmtemplate``, ``qmdestroy``, ``qmstop``) → the exit status its task ends with (default OK)."""
    hung_tasks: set[str] = field(default_factory=set)
    """Task types whose tasks stay ``running`` forever."""

    def add(self, vm: FakeVm) -> FakeVm:
        self.vms[vm.vmid] = vm
        return vm

    def ops(self) -> list[str]:
        """``"<METHOD> <path after /qemu/>"`` of every call, in order (reads of status included)."""
        return [f"{m} {p.split('/qemu', 1)[-1] or '/'}" for m, p, _ in self.calls]

    def upid(self, kind: str, vmid: int) -> str:
        self.upids += 1
        return f"UPID:{self.node}:0000{self.upids:04X}:00ABCDEF:6560A1B2:{kind}:{vmid}:root@pam!golden:"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        # An IP SAN: with the certificate trusted (REQUESTS_CA_BUNDLE) verification succeeds for 127.0.0.1.
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "pve.crt", directory / "pve.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _handler(state: FakePve) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``state.calls`` instead."""

        def _reply(self, code: int, data: Any = None, reason: str | None = None) -> None:
            body = json.dumps({"data": data} if code < 400 else {"data": None, "message": reason}).encode()
            self.send_response(code, reason)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _form(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            if method in ("POST", "PUT"):
                params.update(self._form())
            state.calls.append((method, url.path, params))
            state.auth_headers.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != f"PVEAPIToken={TOKEN}":
                self._reply(401, reason="authentication failure")
                return
            prefix = f"/api2/json/nodes/{state.node}"
            if not url.path.startswith(prefix):
                self._reply(500, reason=f"hostname lookup '{url.path}' failed")
                return
            parts = url.path[len(prefix) :].strip("/").split("/")
            if parts[0] == "tasks" and len(parts) == 3 and parts[2] == "status":
                kind = parts[1].split(":")[5] if parts[1].count(":") >= 6 else ""
                if kind in state.hung_tasks:
                    self._reply(200, {"upid": parts[1], "status": "running", "node": state.node})
                    return
                exit_status = state.task_exit.get(kind, "OK")
                self._reply(
                    200,
                    {"upid": parts[1], "status": "stopped", "exitstatus": exit_status, "node": state.node},
                )
                return
            if parts[0] != "qemu":
                self._reply(501, reason=f"Method '{method} {url.path}' not implemented")
                return
            if len(parts) == 1 and method == "GET":
                self._reply(
                    200,
                    [
                        {
                            "vmid": vm.vmid,
                            "name": vm.name,
                            "status": vm.step[0],
                            "tags": vm.tags,
                            **({"template": 1} if vm.template else {}),
                        }
                        for vm in state.vms.values()
                    ],
                )
                return
            vmid = int(parts[1])
            vm = state.vms.get(vmid)
            if vm is None:
                self._reply(
                    500,
                    reason=f"Configuration file 'nodes/{state.node}/qemu-server/{vmid}.conf' does not exist",
                )
                return
            rest = "/".join(parts[2:])
            if method == "DELETE" and rest == "":
                base = f"base-{vmid}-disk-"
                if any(
                    base in v
                    for other in state.vms.values()
                    if other.vmid != vmid
                    for v in other.disks.values()
                ):
                    # What PVE's storage layer answers when a template's base volume backs a linked clone.
                    self._reply(
                        500, reason=f"base volume 'local-lvm:{base}0' is still in use by linked cloned"
                    )
                    return
                del state.vms[vmid]
                self._reply(200, state.upid("qmdestroy", vmid))
            elif method == "GET" and rest == "config":
                config: dict[str, Any] = {"name": vm.name, "description": vm.description, "tags": vm.tags}
                if vm.template:
                    config["template"] = 1
                if vm.cicustom:
                    config["cicustom"] = vm.cicustom
                config.update(vm.disks)
                self._reply(200, config)
            elif method == "PUT" and rest == "config":
                if params.get("delete") == "cicustom":
                    vm.cicustom = None
                self._reply(200, None)
            elif method == "GET" and rest == "status/current" and vm.step[0] == "gone":
                # The builder deleted from outside mid-wait (another run, an operator): PVE's own answer.
                del state.vms[vmid]
                self._reply(
                    500,
                    reason=f"Configuration file 'nodes/{state.node}/qemu-server/{vmid}.conf' does not exist",
                )
            elif method == "GET" and rest == "status/current":
                status, _ = vm.step
                vm.polls += 1
                self._reply(200, {"vmid": vmid, "status": status, "qmpstatus": status, "agent": 1})
            elif method == "GET" and rest == "agent/file-read" and state.deny_agent:
                self._reply(403, reason=f"Permission check failed (/vms/{vmid}, VM.GuestAgent.FileRead)")
            elif method == "GET" and rest == "agent/file-read":
                status, line = vm.script[min(max(vm.polls - 1, 0), len(vm.script) - 1)]
                if status != "running" or line is None:
                    self._reply(500, reason="QEMU guest agent is not running")
                else:
                    self._reply(200, {"content": line + "\n", "truncated": False})
            elif method == "POST" and rest == "status/stop":
                vm.script = [("stopped", None)]
                vm.polls = 0
                self._reply(200, state.upid("qmstop", vmid))
            elif method == "POST" and rest == "template":
                if state.fail_template:
                    self._reply(500, reason="you can't convert a VM to template if VM is running")
                    return
                vm.template = True
                self._reply(200, state.upid("qmtemplate", vmid))
            else:
                self._reply(501, reason=f"Method '{method} {url.path}' not implemented")

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


def serve(directory: Path) -> Iterator[tuple[str, FakePve]]:
    """Run a fake PVE on ``https://127.0.0.1:<free port>/`` (self-signed) and yield its endpoint and state."""
    state = FakePve()
    cert, key = _self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
