"""`policykeeper serve` on the embedded default: a SQLite file, a bundled pack, a master key made on first run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from policykeeper.notify import SmtpMailer

from ..conftest import Inbox


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (a local test server)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKEEPER_")}
    env["POLICYKEEPER_HOME"] = str(home)
    return subprocess.Popen([sys.executable, "-m", "policykeeper", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read() if proc.stdout else "serve exited")
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer in time")


def test_serve_starts_on_the_embedded_default_and_makes_its_keys_on_first_run(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _port()
    proc = _serve(home, port)
    try:
        _wait(f"http://127.0.0.1:{port}/v1/health", proc)
        status, health = _get(f"http://127.0.0.1:{port}/v1/health")
        assert status == 200 and health["pack"] == "kokkok" and health["database"] == "sqlite"
        assert (home / "policykeeper.db").exists() and (home / "keys").exists()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"created the master key in {home / 'keys'}" in output
    key = next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("admin API key"))
    assert "mailbox" in output  # no mail server: it says where mail goes
    # a second run reuses the keystore, makes no new admin key, and the first key still works
    port = _port()
    proc = _serve(home, port)
    try:
        _wait(f"http://127.0.0.1:{port}/v1/health", proc)
        status, _ = _get(f"http://127.0.0.1:{port}/v1/audit/verify", {"Authorization": f"Bearer {key.strip()}"})
        assert status == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "created the master key" not in output and "admin API key" not in output


def test_the_quickstart_run_command_fills_the_demo_and_serves_every_page(tmp_path: Path) -> None:
    """The README's run command, without its venv set-up: demo, then serve; the pages a newcomer clicks answer."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    run = readme.split("## Quickstart", 1)[1].split("```", 2)[1].splitlines()[1]
    steps = [part.strip().removeprefix(".venv/bin/") for part in run.split("&&") if "policykeeper " in part]
    assert steps == ["policykeeper demo", "policykeeper serve"]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKEEPER_")}
    env["POLICYKEEPER_HOME"] = str(home)
    demo = subprocess.run([sys.executable, "-m", "policykeeper", "demo"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "overdue requests: " in demo.stdout and "overdue requests: 0" not in demo.stdout
    port = _port()
    proc = _serve(home, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/v1/health", proc)
        for path in ("/", "/policy", "/admin/signin"):
            with urllib.request.urlopen(base + path, timeout=5) as resp:  # noqa: S310 (a local test server)
                assert resp.status == 200 and "text/html" in resp.headers["content-type"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    key = next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("admin API key")).strip()
    proc = _serve(home, port := _port())
    try:
        _wait(f"http://127.0.0.1:{port}/v1/health", proc)
        status, queue = _get(f"http://127.0.0.1:{port}/v1/requests", {"Authorization": f"Bearer {key}"})
        assert status == 200 and any(r["state"] == "overdue" for r in queue)  # type: ignore[attr-defined,index]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_serve_with_two_workers_shares_sessions_and_limits_through_the_database(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _inbox, mailer = smtp
    home, port = tmp_path / "home", _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKEEPER_")}
    env.update({"POLICYKEEPER_HOME": str(home), "POLICYKEEPER_SMTP_URL": f"smtp://{mailer.host}:{mailer.port}"})
    proc = subprocess.Popen([sys.executable, "-m", "policykeeper", "serve", "--port", str(port), "--workers", "2",
                             "--database-url", db_url], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/v1/health", proc)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2, children  # two web processes (and uvicorn's own helpers)
        answers = []
        for i in range(31):  # the limit per client is counted in the database, whichever process answers
            req = urllib.request.Request(f"{base}/v1/session/code", method="POST",
                                         data=json.dumps({"identifier": f"p{i}", "email": f"p{i}@example.com"}).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (a local test server)
                    answers.append(resp.status)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        assert answers == [202] * 30 + [429]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=60)[0]
    assert "2 web processes" in output and "Traceback" not in output


def test_serve_with_workers_needs_a_mail_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKEEPER_")}
    env["POLICYKEEPER_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, "-m", "policykeeper", "serve", "--port", str(_port()), "--workers", "2"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "needs a mail server" in done.stderr


def test_the_listener_for_several_workers_gives_accepted_connections_tcp_nodelay() -> None:
    """serve --workers N binds the socket its processes share; asyncio sets TCP_NODELAY on accepted connections only
    when the listener says TCP, and without it each kept-alive response waits ~40 ms for a delayed ACK."""
    import asyncio

    from policykeeper.cli import tcp_listener

    sock = tcp_listener("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(accept_one())
    assert seen and seen[0] != 0


def test_serve_refuses_a_company_database_named_by_half(tmp_path: Path) -> None:
    """A dataset map without its URL, or the reverse, is refused by name. (The address cannot be bound: were the
    check gone, serve would stop at once rather than run on.)"""
    from typer.testing import CliRunner

    from policykeeper.cli import app

    from ..conftest import DATA

    for half in (["--dataset", str(DATA / "dataset_shop.yaml")], ["--dataset-url", "sqlite:///shop.db"]):
        result = CliRunner().invoke(app, ["serve", "--home", str(tmp_path / "home"), "--host", "256.0.0.0", *half])
        assert result.exit_code != 0 and "--dataset and --dataset-url" in result.output, result.output
