#!/usr/bin/python3
"""A recording next hop for the delivery tests, on Debian's aiosmtpd: SMTP or LMTP, TCP or a Unix socket.

usage: nexthop.py --out DIR (--port N | --socket PATH) [--lmtp] [--defer-data N] [--reject-rcpt TEXT] [--defer-rcpt TEXT]
                  [--lmtp-reject TEXT] [--reject-data] [--tls-cert PEM --tls-key PEM] [--auth USER:PASSWORD]
                  [--broken-starttls] [--quit-delay SECONDS]
Each accepted message is written to DIR/<n>.eml (n goes on from the files already there) (exact bytes after dot-unstuffing) with DIR/<n>.rcpt (one
recipient per line) and DIR/<n>.tls ("tls" or "clear": how the session was protected). --defer-data N answers
the first N DATA with 451; --reject-rcpt refuses matching RCPTs with 550 5.1.1 (--defer-rcpt: 451); every RCPT is
appended to DIR/rcpt.log (recipient probes are counted there) and every QUIT to DIR/quit.log (--quit-delay: then waits before the 221); --lmtp-reject gives matching
recipients 550 after DATA (LMTP); --reject-data answers 554 to DATA. --tls-cert/--tls-key offer STARTTLS with
that certificate (--broken-starttls: offers it, answers 220 and then sends no TLS); --auth requires SMTP AUTH (PLAIN/LOGIN, only after STARTTLS) with these credentials.
Prints "ready" once listening.
"""
import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--port", type=int)
parser.add_argument("--socket")
parser.add_argument("--lmtp", action="store_true")
parser.add_argument("--defer-data", type=int, default=0)
parser.add_argument("--reject-rcpt")
parser.add_argument("--defer-rcpt")
parser.add_argument("--lmtp-reject")
parser.add_argument("--reject-data", action="store_true")
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
parser.add_argument("--auth")
parser.add_argument("--broken-starttls", action="store_true")
parser.add_argument("--quit-delay", type=float, default=0)
args = parser.parse_args()
options = {"decode_data": False, "enable_SMTPUTF8": True}
if args.tls_cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    options["tls_context"] = context
if args.auth:
    user, password = args.auth.encode().split(b":", 1)

    def check(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = auth_data.login == user and auth_data.password == password
        return AuthResult(success=ok, handled=False)

    options.update(authenticator=check, auth_required=True, auth_require_tls=True)
# Numbering goes on after what a previous run left in --out (a next hop restarted on the same folder).
counter = itertools.count(1 + max([int(name[:-4]) for name in os.listdir(args.out) if name.endswith(".eml") and name[:-4].isdigit()], default=0))
deferred = [0]


class Handler:
    async def handle_QUIT(self, server, session, envelope):
        with open(os.path.join(args.out, "quit.log"), "a") as f:
            f.write("QUIT\n")
        await asyncio.sleep(args.quit_delay)
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with open(os.path.join(args.out, "rcpt.log"), "a") as f:
            f.write(address + "\n")
        if args.defer_rcpt and args.defer_rcpt in address:
            return "451 4.3.0 <%s>: Try again later" % address
        if args.reject_rcpt and args.reject_rcpt in address:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if args.reject_data:
            return "554 5.7.1 Message refused by policy"
        if deferred[0] < args.defer_data:
            deferred[0] += 1
            return "451 4.3.0 Try again later"
        n = next(counter)
        path = os.path.join(args.out, "%d" % n)
        with open(path + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(path + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        with open(path + ".tls", "w") as f:
            f.write("tls" if session.ssl else "clear")
        os.rename(path + ".eml.tmp", path + ".eml")
        if not args.lmtp:
            return "250 2.0.0 Ok: queued as %d" % n
        replies = []
        for rcpt in envelope.rcpt_tos:
            if args.lmtp_reject and args.lmtp_reject in rcpt:
                replies.append("550 5.1.1 <%s> User unknown" % rcpt)
            else:
                replies.append("250 2.0.0 <%s> delivered" % rcpt)
        return "\r\n".join(replies)


class LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, **options)


class BrokenTlsSmtp(SMTP):
    async def smtp_STARTTLS(self, arg):
        await self.push("220 2.0.0 Ready to start TLS")
        self.transport.write(b"this is not a TLS handshake\r\n")


class SmtpController(Controller):
    def factory(self):
        return (BrokenTlsSmtp if args.broken_starttls else SMTP)(self.handler, **options)


class LmtpSocketController(UnixSocketController):
    def factory(self):
        return LMTP(self.handler, **options)


if args.socket:
    controller = LmtpSocketController(Handler(), unix_socket=args.socket)
elif args.lmtp:
    controller = LmtpController(Handler(), hostname="127.0.0.1", port=args.port)
else:
    controller = SmtpController(Handler(), hostname="127.0.0.1", port=args.port)
controller.start()
print("ready", flush=True)
try:
    sys.stdin.read() if not sys.stdin.isatty() else None
    while True:
        asyncio.run(asyncio.sleep(3600))
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
