"""MeetlogServer: the local Export API on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Callable

from .api import ExportApi
from .dataset import Dataset
from .faults import Fault, FaultPlan, PlannedFault
from .handler import IncomingRequest, MeetlogHandler
from .keys import ALL_SCOPES, KeyRing
from .rate_limit import RETRY_AFTER_FORMATS, SlidingWindowLimiter
from .request_log import RequestLog
from .seed import build_dataset


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: "MeetlogServer"):
        self.app = app
        super().__init__(address, MeetlogHandler)

    def handle_error(self, request, client_address) -> None:
        # A client killed while its keep-alive connections wait (test_killed_sync.py) resets them: not news.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def _dataset_method(name: str) -> property:
    # server.add_transcript is server.dataset.add_transcript, with its signature and docstring.
    return property(lambda self: getattr(self.dataset, name), doc=f"Dataset.{name}, thread-safe.")


class MeetlogServer:
    """A real HTTP server (threads, keep-alive) behaving like the documented Export API.

        with MeetlogServer(requests_per_window=3, window_seconds=0.5) as server:
            key = server.add_key(scopes=("export:transcripts",))
            requests.get(server.base_url + "/api/v1/export/transcripts", headers={"Authorization": f"Bearer {key}"})

    `clock` drives the rate limiter and request timestamps; `wall_clock` dates Retry-After HTTP-dates.
    `reports_order` ("newest" | "oldest" | "shuffled"), when given, is set on the data set.
    `max_page_size`, test-only, clamps every list page below the API's 100 (meta shows the clamped
    size), so that an account of a dozen records is still read over several pages.
    `on_request`, if set, is called with an IncomingRequest before each answer; it may mutate the
    data or revoke keys, and its effect applies to that very request.
    """

    def __init__(
        self,
        dataset: Dataset | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        requests_per_window: int | None = 60,
        window_seconds: float = 60.0,
        retry_after_format: str = "seconds",
        reports_order: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        fault_seed: int = 0,
        max_page_size: int | None = None,
        verbose: bool = False,
    ):
        if retry_after_format not in RETRY_AFTER_FORMATS:
            raise ValueError(f"retry_after_format must be one of {RETRY_AFTER_FORMATS}")
        self.dataset = dataset if dataset is not None else build_dataset()
        if reports_order is not None:
            self.dataset.reports_order = reports_order
        self.host, self.port = host, port
        self.verbose = verbose
        self.keys = KeyRing()
        self.limiter = SlidingWindowLimiter(requests_per_window, window_seconds, clock)
        self.faults = FaultPlan(seed=fault_seed)
        self.requests = RequestLog(clock)
        self.on_request: Callable[[IncomingRequest], None] | None = None
        self.api = ExportApi(self.dataset, self.keys, self.limiter, retry_after_format, wall_clock, max_page_size)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # ---- life cycle ---------------------------------------------------------------------

    def start(self) -> "MeetlogServer":
        if self._httpd is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._httpd = _HttpServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        # stop() waits for the serve loop's next poll: 10 ms keeps test teardown quick at ~no idle cost.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"meetlog-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes answers delayed by a slow fault
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:  # idle keep-alive connections would outlive the server
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> "MeetlogServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("start the server first")
        return f"http://{self.host}:{self.port}"

    # ---- keys ---------------------------------------------------------------------------

    def add_key(self, account: str = "acme", scopes=ALL_SCOPES, key: str | None = None, label: str | None = None) -> str:
        """Registers a key (fresh and random unless given) and returns it; records show its label."""
        return self.keys.add(account, scopes, key, label).key

    def revoke_key(self, key: str) -> None:
        self.keys.set_state(key, "revoked")

    def expire_key(self, key: str) -> None:
        self.keys.set_state(key, "expired")

    def key_label(self, key: str) -> str:
        return self.keys.find(f"Bearer {key}").label

    # ---- faults, records, limits ----------------------------------------------------------

    def inject(self, fault: Fault | str, path_prefix: str | None = None, times: int | None = 1,
               after: int = 0, probability: float = 1.0) -> PlannedFault:
        """Plans a fault for matching requests; see the faults module. Returns it to inspect .fired."""
        return self.faults.add(fault, path_prefix, times, after, probability)

    def count(self, path_prefix: str | None = None, status: int | None = None, key: str | None = None) -> int:
        """Requests seen so far, filtered by path prefix, status and key label."""
        return self.requests.count(path_prefix, status, key)

    def reset_rate_limits(self) -> None:
        self.limiter.reset()

    # ---- data mutations: the data set's own methods -----------------------------------------

    add_transcript = _dataset_method("add_transcript")
    update_transcript = _dataset_method("update_transcript")
    rename_transcript = _dataset_method("rename_transcript")
    delete_transcript = _dataset_method("delete_transcript")
    add_report = _dataset_method("add_report")
    update_report = _dataset_method("update_report")
    retitle_report = _dataset_method("retitle_report")
    delete_report = _dataset_method("delete_report")
    add_project = _dataset_method("add_project")
    update_project = _dataset_method("update_project")
    delete_project = _dataset_method("delete_project")
    set_project_transcripts = _dataset_method("set_project_transcripts")

    # ---- used by the handler -----------------------------------------------------------

    def pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def connection_opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
