#!/usr/bin/env python3
"""A real S3-protocol server for the tests: moto on loopback with SigV4
checking on, plus a fault-injecting proxy in front of it.

Prints one JSON line once ready:
  {"endpoint": ..., "faulty_endpoint": ..., "access_key": ..., "secret_key": ..., "region": ...}
and serves until its standard input closes (the test process ended).

moto checks signatures only after INITIAL_NO_AUTH_ACTION_COUNT unauthenticated
calls; those are spent creating an IAM user, its access key and an allow-all
policy, so every later request must be signed with that key (a wrong secret
gets 403 SignatureDoesNotMatch).

The proxy fails two requests of every three: the first of each three is
forwarded, the second answered 503 SlowDown, the third's connection closed
without an answer. The first CompleteMultipartUpload of each upload is
answered 200 with an <Error> body, as S3 may do.

A second proxy ("fault_endpoint") forwards everything except the objects it
is told to fail, each with its own answer: POST /_faults with a JSON object
{"/bucket/key": {"status": 403, "code": "InvalidObjectState", "message": "..."}}
adds rules ("/bucket/*" fails every object of that bucket); GET
/_faults?path=/bucket/key answers how many requests that path has had. Rules
and counts are per path, so tests in their own buckets do not meet. A second proxy injects no
fault but holds every request FRUITS_S3_LATENCY_MS (30) ms before forwarding
it ("slow_endpoint", `latency_relay.py`): S3's latency, for benchmarks. With
FRUITS_S3_REQUEST_LOG set to a file, it appends a line per request to it.

moto (5.1 and 5.2) checks an S3 signature against the *decoded* request path
and query (with only spaces re-encoded), while AWS signs them as sent; keys
with "+", "=", "&", "%" or non-ASCII, and prefixes with "/", then fail for
every client, boto3 included. `sign_s3_requests_as_sent` makes moto use the
request target as sent, as AWS does.
"""
import collections
import http.client
import itertools
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SETUP_CALLS = 3
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_CALLS)
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

import boto3  # noqa: E402
from urllib.parse import parse_qs, urlparse  # noqa: E402
from moto.core.responses import ActionAuthenticatorMixin, BaseResponse  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from latency_relay import make_latency_relay  # noqa: E402

REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_proxy(target_port, keyed=False):
    """The rotating-fault proxy, or with `keyed` the per-object one."""
    counter = itertools.count()
    lock = threading.Lock()
    completed_once = set()
    rules = {}
    requests = collections.Counter()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the body waits
        # for the client's delayed ACK of the headers (up to 200 ms on Linux),
        # a stall no real S3 adds.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if keyed:
                self.handle_keyed(body)
                return
            with lock:
                n = next(counter)
                upload_id = parse_qs(urlparse(self.path).query).get("uploadId", [None])[0]
                first_complete = self.command == "POST" and upload_id and upload_id not in completed_once
                if first_complete:
                    completed_once.add(upload_id)
            if first_complete:
                # S3 may report a failed CompleteMultipartUpload inside a 200.
                self.send_error_document(200, "InternalError", "injected: complete failed")
                return
            if n % 3 == 1:
                self.send_error_document(503, "SlowDown", "injected fault")
                return
            if n % 3 == 2:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.forward(body)

        def handle_keyed(self, body):
            url = urlparse(self.path)
            if url.path == "/_faults":
                if self.command == "POST":
                    with lock:
                        rules.update(json.loads(body))
                    self.send_payload(200, b"{}")
                else:
                    path = parse_qs(url.query).get("path", [""])[0]
                    with lock:
                        count = requests[path]
                    self.send_payload(200, json.dumps({"requests": count}).encode())
                return
            bucket = url.path.split("/")[1] if url.path.count("/") >= 2 else ""
            with lock:
                requests[url.path] += 1
                rule = rules.get(url.path) or rules.get(f"/{bucket}/*")
            if rule:
                self.send_error_document(rule["status"], rule["code"], rule.get("message", "injected"))
            else:
                self.forward(body)

        def send_error_document(self, status, code, message):
            payload = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
            self.send_payload(status, payload)

        def send_payload(self, status, payload):
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def forward(self, body):
            upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
            headers = {k: v for k, v in self.headers.items()}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            upstream.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sign_s3_requests_as_sent():
    setup = BaseResponse.setup_class
    check = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def keep_raw_uri(self, request, full_url, headers, *args, **kwargs):
        self.fruits_raw_uri = getattr(request, "environ", {}).get("RAW_URI")
        return setup(self, request, full_url, headers, *args, **kwargs)

    def check_as_sent(self, iam_request_cls, resource="*"):
        raw = getattr(self, "fruits_raw_uri", None)
        if iam_request_cls.__name__ != "S3IAMRequest" or not raw:
            return check(self, iam_request_cls, resource)
        sent = urlparse(raw)
        decoded_uri = self.uri
        self.uri = urlparse(decoded_uri)._replace(path=sent.path, query=sent.query).geturl()
        try:
            return check(self, iam_request_cls, resource)
        finally:
            self.uri = decoded_uri

    BaseResponse.setup_class = keep_raw_uri
    ActionAuthenticatorMixin._authenticate_and_authorize_action = check_as_sent


def main():
    sign_s3_requests_as_sent()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="fruits")
    key = iam.create_access_key(UserName="fruits")["AccessKey"]
    iam.put_user_policy(UserName="fruits", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    proxy = make_proxy(port)
    fault_proxy = make_proxy(port, keyed=True)
    request_log = os.environ.get("FRUITS_S3_REQUEST_LOG")
    slow_port, stop_slow = make_latency_relay(port, float(os.environ.get("FRUITS_S3_LATENCY_MS", "30")) / 1000,
                                              log=open(request_log, "a") if request_log else None)
    print(json.dumps({
        "endpoint": endpoint,
        "faulty_endpoint": f"http://127.0.0.1:{proxy.server_address[1]}",
        "fault_endpoint": f"http://127.0.0.1:{fault_proxy.server_address[1]}",
        "slow_endpoint": f"http://127.0.0.1:{slow_port}",
        "access_key": key["AccessKeyId"],
        "secret_key": key["SecretAccessKey"],
        "region": REGION,
    }), flush=True)
    sys.stdin.read()  # until the test process goes away
    proxy.shutdown()
    fault_proxy.shutdown()
    stop_slow()
    moto.stop()


if __name__ == "__main__":
    main()
