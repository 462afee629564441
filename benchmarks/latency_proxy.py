"""A TCP proxy on 127.0.0.1 that delays every chunk by half a round trip each way.

The kernel here has no netem, so a relay "far away" is smtp-sink behind this proxy. Bytes
keep their order; each direction of each connection has its own queue, so a delay never
adds up across chunks that arrive together.

    .venv/bin/python benchmarks/latency_proxy.py LISTEN_PORT UPSTREAM_PORT RTT_MS
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque


class Pipe:
    """One direction of one connection: chunks leave `delay` seconds after they arrived."""

    def __init__(self, writer: asyncio.StreamWriter, delay: float) -> None:
        self.writer = writer
        self.delay = delay
        self.chunks: deque[tuple[float, bytes]] = deque()
        self.ready = asyncio.Event()

    def push(self, chunk: bytes) -> None:
        self.chunks.append((time.monotonic() + self.delay, chunk))
        self.ready.set()

    async def run(self) -> None:
        while True:
            await self.ready.wait()
            while self.chunks:
                due, chunk = self.chunks[0]
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.chunks.popleft()
                if not chunk:
                    self.writer.close()
                    return
                self.writer.write(chunk)
            self.ready.clear()


async def pump(reader: asyncio.StreamReader, pipe: Pipe) -> None:
    try:
        while chunk := await reader.read(65536):
            pipe.push(chunk)
    finally:
        pipe.push(b"")


async def serve(listen: int, upstream: int, rtt: float) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        to_server, to_client = Pipe(server_writer, rtt / 2), Pipe(client_writer, rtt / 2)
        tasks = [
            asyncio.create_task(t)
            for t in (to_server.run(), to_client.run(), pump(client_reader, to_server), pump(server_reader, to_client))
        ]
        await asyncio.gather(*tasks, return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
