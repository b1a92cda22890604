#!/usr/bin/env python3
"""Loopback stand-ins for the services that hand out AWS role credentials, for the
credential-chain tests:

- STS: moto, without signature checks (AssumeRoleWithWebIdentity is unsigned in
  AWS too), answering AssumeRoleWithWebIdentity;
- IMDSv2: PUT /latest/api/token, then GET /latest/meta-data/iam/security-credentials/
  and .../<role>, each GET requiring the session token;
- the container agent: GET /container-credentials, requiring
  "Authorization: container-token".

Every credentials answer carries a new access key (AKIDFAKE0001, ...2, ...) and
expires EXPIRES_IN seconds later; GET /count tells how many were handed out, so a
test sees a refresh. Prints one JSON line once ready,
  {"sts": ..., "metadata": ..., "container": ...}
and serves until its standard input closes.
"""
import contextlib
import datetime
import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.server import ThreadedMotoServer

ROLE = "fruits-node-role"
IMDS_TOKEN = "imds-session-token"
CONTAINER_TOKEN = "container-token"
counter = itertools.count(1)
issued = {"count": 0}


def credentials(expires_in):
    number = next(counter)
    issued["count"] = number
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    return {
        "Code": "Success", "Type": "AWS-HMAC",
        "AccessKeyId": f"AKIDFAKE{number:04d}", "SecretAccessKey": f"secret-{number}", "Token": f"token-{number}",
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def expires_in(self):
        # ?expires=N on any path sets how long the next credentials last (default 1 h).
        return int(self.path.partition("expires=")[2] or 3600)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, IMDS_TOKEN)
        self.answer(400, "bad token request")

    def do_GET(self):
        path = self.path.partition("?")[0]
        if path == "/count":
            return self.answer(200, str(issued["count"]))
        if path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.answer(401, "IMDSv2 session token required")
            if path == "/latest/meta-data/iam/security-credentials/":
                return self.answer(200, ROLE)
            if path == f"/latest/meta-data/iam/security-credentials/{ROLE}":
                return self.answer(200, json.dumps(credentials(Server.expires_in)), "application/json")
        if path == "/container-credentials":
            if self.headers.get("Authorization") != CONTAINER_TOKEN:
                return self.answer(401, "bad authorization token")
            return self.answer(200, json.dumps(credentials(Server.expires_in)), "application/json")
        if path == "/expires":
            Server.expires_in = self.expires_in()
            return self.answer(200, str(Server.expires_in))
        self.answer(404, "not found")


class Server:
    expires_in = 3600


def main():
    sts = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    with contextlib.redirect_stdout(sys.stderr):  # moto announces itself on stdout
        sts.start()
    sts_host, sts_port = sts.get_host_and_port()
    fakes = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fakes.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{fakes.server_address[1]}"
    print(json.dumps({"sts": f"http://{sts_host}:{sts_port}/", "metadata": base,
                      "container": f"{base}/container-credentials"}), flush=True)
    sys.stdin.read()
    fakes.shutdown()
    sts.stop()


if __name__ == "__main__":
    main()
