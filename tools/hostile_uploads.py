#!/usr/bin/env python3
"""Hostile uploads against the upload endpoint; prints one JSON line.

- slow: one authenticated upload declaring 2 MB whose body comes at 500 B/s;
  when (seconds after its head) the server closed it.
- hogs: 13 authenticated uploads declaring 20 MiB each that send 1 KiB and
  then trickle; while they hold their connections, an honest 2 KB upload's
  status (the budget must charge bytes received, not bytes declared).
- unauthenticated: an upload without a token declaring 10 MB that sends only
  its head; the status, whether the answer says Connection: close, and
  whether the server closed the connection without reading a body.
Every wait is bounded; the script stops by itself.
"""
import argparse
import asyncio
import json
import time


def head(token, length):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /v1/images HTTP/1.1\r\nHost: fruits\r\n{auth}"
            f"Content-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n").encode()


async def slow(port, token, limit):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(token, 2_000_000))
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit:
            writer.write(b"\0" * 500)
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except asyncio.TimeoutError:
                continue
            if not data or b"HTTP/1.1" in data:
                break
    except (ConnectionError, OSError):
        pass
    writer.close()
    return round(time.monotonic() - started, 1)


async def hog(port, token, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(token, 20 << 20) + b"\xff\xd8\xff" + bytes(1021))
    try:
        while not stop.is_set():
            writer.write(bytes(1024))
            await writer.drain()
            await asyncio.sleep(1.0)
    except (ConnectionError, OSError):
        pass
    writer.close()


async def honest(port, token):
    body = b"\xff\xd8\xff" + bytes(2000)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(token, len(body)) + body)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 15)
    writer.close()
    return int(line.split()[1])


async def unauthenticated(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(None, 10_000_000))
    await writer.drain()
    response = b""
    closed = False
    try:
        while True:
            data = await asyncio.wait_for(reader.read(4096), 5.0)
            if not data:
                closed = True
                break
            response += data
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    writer.close()
    text = response.decode("latin-1")
    status = int(text.split()[1]) if text.startswith("HTTP/1.1") else 0
    return status, "connection: close" in text.lower(), closed


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--slow-limit", type=float, default=60)
    args = parser.parse_args()

    slow_task = asyncio.create_task(slow(args.port, args.token, args.slow_limit))
    stop = asyncio.Event()
    hogs = [asyncio.create_task(hog(args.port, args.token, stop)) for _ in range(13)]
    await asyncio.sleep(2)
    honest_status = await honest(args.port, args.token)
    stop.set()
    await asyncio.wait(hogs, timeout=5)
    status, says_close, closed = await unauthenticated(args.port)
    print(json.dumps({
        "slow_closed_after": await slow_task, "honest_status_beside_hogs": honest_status,
        "unauthenticated_status": status, "unauthenticated_says_close": says_close, "unauthenticated_closed": closed,
    }))


asyncio.run(main())
