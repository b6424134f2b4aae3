"""A TCP proxy between the backend and the shared PostgreSQL server, so that a
test can stall the database or black-hole one connection without touching the
server."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit


class StallingProxy:
    """Forwards TCP to ``target`` on threads of its own (the backend makes blocking
    database calls on its event loop).  Clearing ``flowing`` holds every byte;
    :meth:`black_hole` holds every byte of the connections open now, for good,
    without closing them (as when a machine or its network dies), while new
    connections flow."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.flowing = threading.Event()
        self.flowing.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._holes: list[threading.Event] = []

    @classmethod
    def for_url(cls, url: str) -> tuple[StallingProxy, str]:
        """A started proxy to the database of ``url``, and the URL through it."""
        real = urlsplit(url)
        proxy = cls(real.hostname or "127.0.0.1", real.port or 5432)
        proxy.start()
        return proxy, url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")

    def start(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()

    def black_hole(self) -> int:
        """Stop forwarding on every connection open now; returns how many."""
        for hole in self._holes:
            hole.clear()
        return len(self._holes)

    def close(self) -> None:
        self._closed = True
        self.flowing.set()
        for hole in self._holes:
            hole.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            open_ = threading.Event()
            open_.set()
            self._holes.append(open_)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, open_), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, open_: threading.Event) -> None:
        try:
            while data := src.recv(65536):
                self.flowing.wait()
                open_.wait()
                if self._closed:
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
