"""Load test of a running ``rag serve``: N ``POST /api/ask`` requests at concurrency C,
questions cycled from eval/questions.jsonl; prints throughput, latency percentiles and
errors, and how fast ``/api/health`` answered meanwhile (probed every 0.25 s). With
``--reindex-midway`` a full rebuild (``POST /api/reindex?rebuild=true``, key from
``RAG_API_KEY``) starts when half the requests have been sent, and the summary says
whether the server switched to the new index version. It starts nothing itself and only
talks to loopback addresses; the request count, concurrency and total time are bounded so
it always stops by itself.

    python eval/loadtest.py --url http://127.0.0.1:7860 -n 200 -c 16
    RAG_API_KEY=... python eval/loadtest.py --url http://127.0.0.1:7860 --reindex-midway
"""

import argparse
import asyncio
import ipaddress
import json
import math
import os
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

QUESTIONS = Path(__file__).with_name("questions.jsonl")
MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 128


HEALTH_EVERY_S = 0.25


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    abstained: int = 0
    health_ms: list[float] = field(default_factory=list)
    #: The reindex started midway: its status, seconds, and the versions seen.
    reindex: dict[str, object] = field(default_factory=dict)


def loopback_base_url(url: str) -> str:
    """The URL without a trailing slash, if every address its host resolves to is
    loopback; anything else is refused so a typo cannot load someone else's server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {parts.hostname!r}: {exc}") from None
    addresses = {info[4][0].split("%")[0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise ValueError(
            f"refusing {parts.hostname!r} ({', '.join(sorted(addresses))}): "
            "only loopback addresses (127.0.0.0/8, ::1, localhost) are load-tested"
        )
    return url.rstrip("/")


def read_questions(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    questions = [row["question"] for row in rows if isinstance(row.get("question"), str)]
    if not questions:
        raise ValueError(f"no questions in {path}")
    return questions


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: an observed latency, not an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def run(
    base: str,
    questions: list[str],
    n: int,
    concurrency: int,
    timeout: float,
    max_seconds: float,
    reindex_key: str | None = None,
) -> tuple[Results, float]:
    results = Results()
    deadline = time.monotonic() + max_seconds
    counter = iter(range(n))
    halfway = asyncio.Event()
    done = asyncio.Event()

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            if i >= n // 2:
                halfway.set()
            if time.monotonic() > deadline:
                results.errors["stopped: --max-seconds reached"] += 1
                continue
            started = time.perf_counter()
            try:
                response = await client.post(
                    f"{base}/api/ask", json={"question": questions[i % len(questions)]}
                )
            except httpx.HTTPError as exc:
                results.errors[type(exc).__name__] += 1
                continue
            if response.status_code != 200:
                results.errors[f"HTTP {response.status_code}"] += 1
                continue
            results.latencies_ms.append((time.perf_counter() - started) * 1000)
            results.abstained += bool(response.json().get("abstained"))

    async def probe_health(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            try:
                response = await client.get(f"{base}/api/health")
                if response.status_code == 200:
                    results.health_ms.append((time.perf_counter() - started) * 1000)
                else:
                    results.errors[f"health HTTP {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                results.errors[f"health {type(exc).__name__}"] += 1
            await asyncio.sleep(HEALTH_EVERY_S)

    async def reindex(client: httpx.AsyncClient, key: str) -> None:
        before = (await client.get(f"{base}/api/health")).json().get("index_version")
        await halfway.wait()
        started = time.perf_counter()
        response = await client.post(
            f"{base}/api/reindex", params={"rebuild": "true"}, headers={"X-API-Key": key}
        )
        seconds = round(time.perf_counter() - started, 2)
        after = (await client.get(f"{base}/api/health")).json().get("index_version")
        rebuilt = response.json().get("index_version") if response.status_code == 200 else None
        results.reindex = {
            "status": response.status_code,
            "seconds": seconds,
            "version_before": before,
            "version_after": after,
            "switched": rebuilt is not None and after == rebuilt != before,
        }
        if not results.reindex["switched"]:
            results.errors["reindex did not switch the index"] += 1

    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency)
    # trust_env=False: a proxy from the environment must never see loopback traffic.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        extra = [probe_health(client)]
        if reindex_key:
            extra.append(reindex(client, reindex_key))
        background = [asyncio.create_task(task) for task in extra]
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        done.set()
        await asyncio.gather(*background)
        return results, elapsed


def report(results: Results, elapsed: float, n: int, concurrency: int) -> dict[str, object]:
    ok = len(results.latencies_ms)
    summary: dict[str, object] = {
        "requests": n,
        "concurrency": concurrency,
        "ok": ok,
        "errors": sum(results.errors.values()),
        "error_kinds": dict(results.errors),
        "abstained": results.abstained,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(ok / elapsed, 2) if elapsed else 0.0,
    }
    if ok:
        lat = results.latencies_ms
        summary |= {f"p{p}_ms": round(percentile(lat, p), 1) for p in (50, 95, 99)}
        summary |= {"mean_ms": round(sum(lat) / ok, 1), "max_ms": round(max(lat), 1)}
    if results.health_ms:
        health = results.health_ms
        summary |= {
            "health_probes": len(health),
            "health_p99_ms": round(percentile(health, 99), 1),
            "health_max_ms": round(max(health), 1),
        }
    if results.reindex:
        summary["reindex"] = results.reindex
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:7860 (loopback only)")
    parser.add_argument("-n", "--requests", type=int, default=200, help="requests to send")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL with 'question'")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="stop sending after this long; the rest count as errors",
    )
    parser.add_argument(
        "--reindex-midway",
        action="store_true",
        help="start a full rebuild halfway through (needs RAG_API_KEY, the server's key)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    key = os.environ.get("RAG_API_KEY")
    if args.reindex_midway and not key:
        parser.error("--reindex-midway needs RAG_API_KEY set to the server's admin key")
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be within 1..{MAX_REQUESTS}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be within 1..{MAX_CONCURRENCY}")
    try:
        base = loopback_base_url(args.url)
        questions = read_questions(args.questions)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results, elapsed = asyncio.run(
        run(
            base,
            questions,
            args.requests,
            args.concurrency,
            args.timeout,
            args.max_seconds,
            key if args.reindex_midway else None,
        )
    )
    summary = report(results, elapsed, args.requests, args.concurrency)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"{summary['ok']}/{args.requests} ok at concurrency {args.concurrency} "
            f"in {summary['seconds']} s: {summary['throughput_rps']} req/s"
        )
        if results.latencies_ms:
            print(
                f"latency ms: p50 {summary['p50_ms']}  p95 {summary['p95_ms']}  "
                f"p99 {summary['p99_ms']}  mean {summary['mean_ms']}  max {summary['max_ms']}"
            )
        if results.health_ms:
            print(
                f"/api/health meanwhile: {summary['health_probes']} probes, "
                f"p99 {summary['health_p99_ms']} ms, max {summary['health_max_ms']} ms"
            )
        if results.reindex:
            r = results.reindex
            print(
                f"reindex midway: HTTP {r['status']} in {r['seconds']} s, "
                f"{r['version_before']} -> {r['version_after']} (switched: {r['switched']})"
            )
        print(f"errors: {summary['errors']} {summary['error_kinds'] or ''}".rstrip())
        print(f"abstained answers: {summary['abstained']}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
