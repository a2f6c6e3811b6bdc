#!/usr/bin/python3
"""Seals a message with Debian's dkimpy ARC signer, as a forwarder would.

usage: arc_sign.py IN OUT SELECTOR DOMAIN KEYFILE SRV_ID ARC_RESULT(none|pass|fail)
Prepends this hop's Authentication-Results (with arc=ARC_RESULT unless none, which dkimpy reads as cv=)
and the ARC set dkimpy computes to the unchanged input bytes.
"""
import sys

import dkim

source, target, selector, domain, keyfile, srv_id, arc_result = sys.argv[1:8]
with open(source, "rb") as f:
    message = f.read()
with open(keyfile, "rb") as f:
    key = f.read()
results = "spf=pass smtp.mailfrom=alice@interop.dkim.test"
if arc_result != "none":
    results = "arc=%s; %s" % (arc_result, results)
message = ("Authentication-Results: %s; %s\r\n" % (srv_id, results)).encode() + message
headers = dkim.arc_sign(message, selector.encode(), domain.encode(), key, srv_id.encode())
if len(headers) != 3:
    sys.exit("dkimpy produced no ARC set")
with open(target, "wb") as f:
    f.write(b"".join(headers) + message)
