"""smtp_server.py - a recording SMTP peer for tests, on Debian's python3-aiosmtpd.

SmtpPeer listens on 127.0.0.1 (a free port), records every accepted message to a folder
(NNNN.eml: the data exactly as received after dot-unstuffing; NNNN.json: envelope, EHLO name,
TLS, AUTH mechanism and login, connection number) and counts connections (total, most at
once) and QUITs. Its answers follow the addresses:

    MAIL FROM or RCPT TO containing "hard"  -> 550 5.1.1 ... user unknown
                                    "soft"  -> 451 4.3.0 ... try again later
                                    "drop"  -> the connection is closed, no reply
                                    "slow"  -> the reply comes after SLOW_SECONDS
    data with a header "X-Test-Reply: NNN"  -> NNN ... refused (after the data)

Options: tls=None | "starttls" (required before MAIL) | "implicit"; auth={login: password}
(then AUTH is required); auth_exclude=["LOGIN"] to offer only some mechanisms; idle_timeout
(seconds) after which an idle connection is closed without a reply.

As a program (for manual runs): smtp_server.py DIR [--tls starttls|implicit --cert C --key K]
[--auth USER:PASS]; prints the port and serves until interrupted.
"""
import asyncio
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

SLOW_SECONDS = 8


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Counting(SMTP):
    """Counts client connections; the controller's own start-up probe is not one."""

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first and self.event_handler.ready:
            self._crier_conn = self.event_handler.opened()

    def connection_lost(self, error):
        if getattr(self, "_crier_conn", None):
            self.event_handler.closed()
            self._crier_conn = None
        super().connection_lost(error)


class _Handler:
    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()
        self.ready = False
        self.seq = 0
        self.current = self.total = self.most = self.quits = 0

    def opened(self):
        with self.lock:
            self.total += 1
            self.current += 1
            self.most = max(self.most, self.current)
            return self.total

    def closed(self):
        with self.lock:
            self.current -= 1

    async def _rule(self, server, address, what):
        if "drop" in address:
            server.transport.close()
            return "421 4.4.2 closing"  # never reaches the client
        if "slow" in address:
            await asyncio.sleep(SLOW_SECONDS)
        if "hard" in address:
            return f"550 5.1.1 <{address}>: {what} unknown"
        if "soft" in address:
            return f"451 4.3.0 <{address}>: try again later"
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        refused = await self._rule(server, address, "sender")
        if refused:
            return refused
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refused = await self._rule(server, address, "user")
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content
        for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            if line.lower().startswith(b"x-test-reply:"):
                return line.split(b":", 1)[1].strip().decode() + " 5.7.1 message refused"
        auth = getattr(session, "crier_auth", None)
        with self.lock:
            self.seq += 1
            seq = self.seq
        base = os.path.join(self.folder, f"{seq:04d}")
        with open(base + ".eml", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "helo": session.host_name,
                       "tls": server.transport.get_extra_info("ssl_object") is not None,
                       "auth": auth, "conn": getattr(server, "_crier_conn", None)}, f)
        return f"250 2.0.0 Ok: queued as Q{seq:04d}"

    async def handle_QUIT(self, server, session, envelope):
        with self.lock:
            self.quits += 1
        return "221 2.0.0 Bye"


class SmtpPeer:
    def __init__(self, folder, tls=None, cert=None, key=None, auth=None, auth_exclude=(),
                 idle_timeout=300):
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.handler = _Handler(folder)
        ctx = None
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
        kwargs = {"timeout": idle_timeout}  # then the connection is closed without a word
        if auth is not None:
            def authenticator(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword)
                      and auth.get(data.login.decode()) == data.password.decode())
                if ok:
                    session.crier_auth = {"mechanism": mechanism, "login": data.login.decode()}
                return AuthResult(success=ok, handled=False)  # False: send the 535
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=(tls is not None),
                          auth_exclude_mechanism=list(auth_exclude))
        if tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        elif tls == "implicit":
            kwargs.update(ssl_context=ctx)
        self.port = free_port()

        class _Controller(Controller):
            def factory(self):
                return _Counting(self.handler, **self.SMTP_kwargs)

        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                      server_hostname="smtp.test", **kwargs)
        self.started = False

    def start(self):
        self.controller.start()
        self.started = True
        self.handler.ready = True
        return self.port

    def stop(self):
        if self.started:
            self.started = False
            self.controller.stop()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def messages(self):
        """The recorded messages in arrival order: envelope dicts with "data" (bytes)."""
        out = []
        for name in sorted(os.listdir(self.folder)):
            if name.endswith(".json"):
                with open(os.path.join(self.folder, name)) as f:
                    m = json.load(f)
                with open(os.path.join(self.folder, name[:-5] + ".eml"), "rb") as f:
                    m["data"] = f.read()
                out.append(m)
        return out

    @property
    def connections(self):
        return self.handler.total

    @property
    def most_at_once(self):
        return self.handler.most

    @property
    def quits(self):
        return self.handler.quits


def main():
    import argparse
    import signal
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--tls", choices=["starttls", "implicit"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth", help="USER:PASSWORD")
    a = ap.parse_args()
    auth = dict([a.auth.split(":", 1)]) if a.auth else None
    peer = SmtpPeer(a.dir, tls=a.tls, cert=a.cert, key=a.key, auth=auth)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    print(peer.start(), flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        peer.stop()


if __name__ == "__main__":
    sys.exit(main())
