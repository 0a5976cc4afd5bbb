"""The load generator of `bench/load.py`: closed-loop virtual users on stdlib threads, each
with its own keep-alive `http.client` connection, and the per-operation figures of a step.

No Django here: an operation is a name and a function that returns the next request of a
virtual user (method, path, body, headers), or None when it has nothing left to do (the
claims pool is empty, say), in which case the user draws another operation.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._common import percentiles

Request = tuple[str, str, bytes | None, dict]


@dataclass
class Operation:
    name: str
    weight: int
    next_request: Callable[[random.Random], Request | None]
    # Called with (request, status, body) after each answer: the world state the next
    # requests depend on (claims approved, votes recorded) is kept by the caller.
    on_answer: Callable[[Request, int, bytes], None] | None = None
    # Statuses this operation answers in normal use and counts apart (e.g. 409 for a receipt
    # asked before its block is sealed). Never counted as errors.
    expected: tuple[int, ...] = ()


@dataclass
class Sample:
    op: str
    seconds: float
    status: int  # 0: transport error (no answer)


@dataclass
class OpFigures:
    op: str
    requests: int
    per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    ok: int  # 2xx and 3xx
    expected: int  # the operation's expected statuses (409s)
    errors: int  # every other status, and transport errors
    server_errors: int  # 5xx
    statuses: dict[str, int] = field(default_factory=dict)


def summarise(samples: list[Sample], seconds: float, expected: dict[str, tuple[int, ...]]) -> dict:
    """Per operation: requests, throughput over `seconds`, p50/p95/p99 of every answered
    request (expected 409s included: they are answers too), ok / expected / error counts."""
    by_op: dict[str, list[Sample]] = {}
    for sample in samples:
        by_op.setdefault(sample.op, []).append(sample)
    out = {}
    for op, rows in sorted(by_op.items()):
        answered = [r.seconds for r in rows if r.status]
        statuses: dict[str, int] = {}
        for r in rows:
            statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
        ok = sum(1 for r in rows if 200 <= r.status < 400)
        exp = sum(1 for r in rows if r.status in expected.get(op, ()))
        lat = percentiles(answered) if answered else dict.fromkeys(percentiles([0.0]), 0.0)
        out[op] = OpFigures(
            op=op,
            requests=len(rows),
            per_s=len(rows) / seconds if seconds else 0.0,
            ok=ok,
            expected=exp,
            errors=len(rows) - ok - exp,
            server_errors=sum(1 for r in rows if r.status >= 500),
            statuses=dict(sorted(statuses.items())),
            **lat,
        )
    return out


def over_limit(figures: dict[str, OpFigures], limit_ms: float, min_samples: int = 1) -> list[str]:
    """The operations whose p99 passed `limit_ms`, among those answered at least
    `min_samples` times (below that the p99 is the slowest request, one outlier)."""
    return [
        op
        for op, f in figures.items()
        if f.p99_ms > limit_ms and f.requests - f.errors >= min_samples
    ]


class Generator:
    """`users` threads for `seconds`; each draws an operation by weight (its own seeded
    random), sends it, waits for the whole answer, and starts again at once (no think time:
    N users keep at most N requests in flight)."""

    def __init__(self, port: int, operations: list[Operation], *, seed: int = 7) -> None:
        self.port = port
        self.operations = operations
        self.seed = seed
        self.error_samples: list[str] = []
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def run(self, users: int, seconds: float, *, tag: int = 0) -> tuple[list[Sample], float]:
        samples: list[Sample] = []
        weights = [op.weight for op in self.operations]
        deadline = time.perf_counter() + seconds

        def user(u: int) -> None:
            rng = random.Random(self.seed * 1_000_003 + tag * 1_009 + u)
            conn = self._connect()
            mine: list[Sample] = []
            while time.perf_counter() < deadline:
                op = rng.choices(self.operations, weights)[0]
                request = op.next_request(rng)
                if request is None:
                    continue
                method, path, body, headers = request
                start = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (http.client.HTTPException, OSError) as error:
                    mine.append(Sample(op.name, time.perf_counter() - start, 0))
                    self._note(f"{op.name}: {type(error).__name__}: {error}")
                    conn.close()
                    conn = self._connect()
                    continue
                mine.append(Sample(op.name, time.perf_counter() - start, response.status))
                if op.on_answer is not None:
                    op.on_answer(request, response.status, payload)
                if response.status >= 400 and response.status not in op.expected:
                    self._note(f"{op.name}: {response.status} {payload[:200]!r}")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = self._connect()
            conn.close()
            with self._lock:
                samples.extend(mine)

        threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return samples, time.perf_counter() - start

    def _note(self, text: str) -> None:
        with self._lock:
            if len(self.error_samples) < 20:
                self.error_samples.append(text)
