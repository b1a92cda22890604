#!/usr/bin/env python3
"""Slow and idle clients against the upload endpoint, and an honest one.

Opens IDLE connections that send nothing and TRICKLE authenticated uploads
that send their headers, then their body at one byte a second. Once they are
all open, times an honest upload and /healthz on fresh connections, then
waits (at most --wait seconds) for the server to close the others. Prints
one JSON line: the honest upload's status and seconds, /healthz's status,
and how many trickling / idle connections the server closed, and when.
"""
import argparse
import asyncio
import json
import time


async def request(port, raw):
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    return int(status_line.split()[1]), time.monotonic() - started


async def hold(port, head, closed, started):
    """Sends `head`, then a byte a second (none if head is None); records when the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if head is not None:
            writer.write(head)
        while True:
            if head is not None:
                writer.write(b"\0")
                await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except asyncio.TimeoutError:
                continue
            if not data or b"HTTP/1.1" in data:
                break
    except (ConnectionError, OSError):
        pass
    closed.append(time.monotonic() - started)
    writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--trickle", type=int, default=80)
    parser.add_argument("--wait", type=float, default=70)
    args = parser.parse_args()

    head = (f"POST /v1/images HTTP/1.1\r\nHost: fruits\r\nAuthorization: Bearer {args.token}\r\n"
            "Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n").encode()
    started = time.monotonic()
    trickle_closed, idle_closed = [], []
    tasks = [asyncio.create_task(hold(args.port, head, trickle_closed, started)) for _ in range(args.trickle)]
    tasks += [asyncio.create_task(hold(args.port, None, idle_closed, started)) for _ in range(args.idle)]
    await asyncio.sleep(3)

    body = b"\xff\xd8\xff" + bytes(2000)
    honest = (f"POST /v1/images HTTP/1.1\r\nHost: fruits\r\nAuthorization: Bearer {args.token}\r\n"
              f"Content-Type: image/jpeg\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    honest_status, honest_seconds = await request(args.port, honest)
    health_status, _ = await request(args.port, b"GET /healthz HTTP/1.1\r\nHost: fruits\r\nConnection: close\r\n\r\n")

    done, pending = await asyncio.wait(tasks, timeout=args.wait)
    for task in pending:
        task.cancel()
    print(json.dumps({
        "honest_status": honest_status, "honest_seconds": round(honest_seconds, 3), "healthz_status": health_status,
        "trickle_closed": len(trickle_closed), "trickle_closed_by": round(max(trickle_closed, default=0), 1),
        "idle_closed": len(idle_closed), "idle_closed_by": round(max(idle_closed, default=0), 1),
    }))


asyncio.run(main())
