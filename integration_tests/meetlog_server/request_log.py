"""Every request the server saw, for assertions: which path, with which key label, what answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # without the query string
    query: dict[str, str]  # last value wins, as the server reads it
    key: str | None  # the key's label ("key1"); None without a registered key
    status: int | None  # None when the connection was reset without an answer
    fault: str | None  # the injected fault's kind, if one was served
    timestamp: float  # the server's clock (time.monotonic unless injected)


class RequestLog:
    """A thread-safe list: iterate, index, len() and clear() like a list, plus count()."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, method: str, path: str, query: dict[str, str], key: str | None,
               status: int | None, fault: str | None) -> None:
        record = RequestRecord(method, path, dict(query), key, status, fault, self._clock())
        with self._lock:
            self._records.append(record)

    def count(self, path_prefix: str | None = None, status: int | None = None, key: str | None = None) -> int:
        return sum(
            1
            for r in self
            if (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
            and (key is None or r.key == key)
        )

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index):
        with self._lock:
            return self._records[index]
