"""A loopback TCP relay that holds each HTTP request for a fixed time before
passing it on: S3's per-request latency (10-50 ms) in front of a server that
answers in microseconds.

It relays bytes and does not parse HTTP beyond spotting where a request
starts: client bytes that arrive after the server has answered (or first on a
connection) begin a new request. An `Expect: 100-continue` upload therefore
waits twice, as it would on a real network. Each connection gets its own
upstream connection, kept for the client's keep-alive. Relaying bytes costs
next to no CPU, unlike re-serving each request through an HTTP server: on a
2-core machine that CPU was taken from the service being measured.

make_latency_relay(target_port, seconds, log=None) -> (port, stop)
"""
import asyncio
import socket
import threading
import time

CHUNK = 256 * 1024


async def pump(reader, writer, before_each):
    """Copies reader to writer, awaiting before_each(chunk) before passing each chunk on."""
    try:
        while data := await reader.read(CHUNK):
            await before_each(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def make_latency_relay(target_port, seconds, log=None):
    """Starts the relay on a thread of its own; returns its port and a stop function.
    `log`: a file to append "start first_answer_byte request-line status" per request."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}
    log_lock = threading.Lock()

    def record(started, first_line, status_line):
        if log is None:
            return
        with log_lock:
            log.write(f"{started:.3f} {time.time():.3f} {first_line} {status_line}\n")
            log.flush()

    async def relay(client_reader, client_writer):
        client_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        upstream_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = {"answered": True, "started": 0.0, "line": ""}

        async def request_bytes(data):
            if pending["answered"]:
                pending.update(answered=False, started=time.time(),
                               line=data.split(b"\r\n", 1)[0].decode("latin-1")[:200])
                await asyncio.sleep(seconds)

        async def answer_bytes(data):
            if not pending["answered"]:
                pending["answered"] = True
                record(pending["started"], pending["line"], data.split(b"\r\n", 1)[0].decode("latin-1"))

        await asyncio.gather(pump(client_reader, upstream_writer, request_bytes),
                             pump(upstream_reader, client_writer, answer_bytes))

    async def serve():
        server = await asyncio.start_server(relay, "127.0.0.1", 0)
        state["server"] = server
        state["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    ready.wait()

    def stop():
        loop.call_soon_threadsafe(state["server"].close)

    return state["port"], stop
