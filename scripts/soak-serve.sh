#!/usr/bin/env bash
# Soak test for the lesson servers (`tcplab serve MODE`): the abuse mixes of
# tests/serve_abuse.rs, longer and larger, on loopback only. For each mode in
# SOAK_MODES, one release-built server holds SOAK_CONNECTIONS connections for
# its whole share of the run, SOAK_SLOW of them sending their requests one
# byte a second, the rest asking every 20-40 s; meanwhile other clients send
# 100 MiB lines, random binary, and half a line followed by a reset (RST,
# SO_LINGER 0), and a fresh client is timed every second. The server's RSS is
# sampled every second. At the end the server gets SIGTERM.
#
#   scripts/soak-serve.sh                       # 300 s: chat, json, kv, echo
#   SOAK_SECONDS=3600 SOAK_MODES=chat scripts/soak-serve.sh
#
# Settings (environment): SOAK_SECONDS (total, default 300, split between the
# modes), SOAK_MODES ("chat json kv echo"), SOAK_CONNECTIONS (2000), SOAK_SLOW
# (200), SOAK_LINE_MB (100), SOAK_SEED (1), TCPLAB_BIN (default: build
# target/release/tcplab). Prints, per mode: peak RSS, requests answered and
# failed, fresh-client latency, what the server logged, whether it stayed up
# and stopped cleanly. Exits 1 if any mode failed.
set -euo pipefail
cd "$(dirname "$0")/.."

export SOAK_SECONDS="${SOAK_SECONDS:-300}"
export SOAK_MODES="${SOAK_MODES:-chat json kv echo}"
export SOAK_CONNECTIONS="${SOAK_CONNECTIONS:-2000}"
export SOAK_SLOW="${SOAK_SLOW:-200}"
export SOAK_LINE_MB="${SOAK_LINE_MB:-100}"
export SOAK_SEED="${SOAK_SEED:-1}"
if [[ -z "${TCPLAB_BIN:-}" ]]; then
  echo "soak: building target/release/tcplab" >&2
  cargo build --release --quiet
  TCPLAB_BIN=target/release/tcplab
fi
export TCPLAB_BIN
command -v python3 >/dev/null || {
  echo "soak: python3 is needed" >&2
  exit 2
}
SOAK_LOGS="$(mktemp -d /tmp/tcplab-soak.XXXXXX)"
export SOAK_LOGS

exec python3 - <<'PY'
import asyncio
import os
import random
import resource
import signal
import socket
import struct
import sys
import time

BIN = os.environ["TCPLAB_BIN"]
TOTAL = int(os.environ["SOAK_SECONDS"])
MODES = os.environ["SOAK_MODES"].split()
CONNS = int(os.environ["SOAK_CONNECTIONS"])
SLOW = min(int(os.environ["SOAK_SLOW"]), CONNS)
LINE_MB = int(os.environ["SOAK_LINE_MB"])
SEED = int(os.environ["SOAK_SEED"])
LOGS = os.environ["SOAK_LOGS"]
HOST = "127.0.0.1"  # loopback only
PROMPT = 1.0  # a fresh client must be answered within this
TIMEOUT = 30.0  # any one wait; past it the request counts as failed
MAX_LINE = 65536

# 2,000 clients here and 2,000 sockets in the server (which inherits this).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 2 * CONNS + 1024
if soft < want:
    top = want if hard == resource.RLIM_INFINITY else min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
    if top < want:
        print(f"soak: open-file limit {top} < {want}; expect connect errors", file=sys.stderr)


def request_line(mode, i, slow):
    if mode == "echo":
        return f"{'slow' if slow else 'ping'} {i}\n"
    if mode == "json":
        return f'{{"{"slow" if slow else "ping"}":{i}}}\n'
    if mode == "kv":
        return f"read soak{i}\n"
    # chat: a slow client says something to everyone, then asks for /help.
    return f"slow {i} says hi\n/help\n" if slow else "/help\n"


def is_answer(mode, sent, line):
    if mode == "echo":
        return line == sent
    if mode == "json":
        return line.startswith('{"type":"reply"')
    if mode == "kv":
        return line.startswith("ERR no such key: ") or line.startswith("OK")
    return line.startswith("* commands:")


class Stats:
    def __init__(self):
        self.ok = 0
        self.failed = 0
        self.why = {}
        self.probes = []
        self.opened = 0
        self.alive_at_end = 0
        self.long_sent = 0
        self.long_refused = 0
        self.resets = 0
        self.random = 0
        self.random_answered = 0
        self.rss_peak = 0
        self.rss_start = 0
        self.rss_end = 0
        self.hwm = 0
        self.log = {"lines": 0, "ECONNRESET": 0, "limit": 0, "busy": 0, "timeout": 0,
                    "panicked": 0, "dropped": 0}

    def fail(self, why):
        self.failed += 1
        self.why[why] = self.why.get(why, 0) + 1


async def read_answer(mode, reader, sent):
    """Lines until the answer to `sent` (chat skips its notices)."""
    for _ in range(100000):
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("closed by the server")
        line = raw.decode("utf-8", "replace")
        if is_answer(mode, sent, line):
            return
        if mode != "chat":
            raise ValueError(f"unexpected reply {line[:60]!r}")
    raise ValueError("no answer in 100000 lines")


async def ask(mode, reader, writer, i, slow, deadline):
    """One request, answered (or raises); one byte a second if slow, the
    rest at once when the run's `deadline` comes."""
    sent = request_line(mode, i, slow)
    data = sent.encode()
    k = 0
    while slow and k < len(data) and time.monotonic() < deadline:
        writer.write(data[k:k + 1])
        await writer.drain()
        k += 1
        await asyncio.sleep(1.0)
    writer.write(data[k:])
    await writer.drain()
    await asyncio.wait_for(read_answer(mode, reader, sent), TIMEOUT)


async def line_starting(reader, prefix):
    """The next line starting with `prefix` that is not a chat notice
    (`* guest7 joined #general`), unless the prefix asks for one."""
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("closed by the server")
        line = raw.decode("utf-8", "replace")
        if line.startswith(prefix) and (prefix.startswith("*") or not line.startswith("* ")):
            return line


async def connect(port):
    return await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=1 << 20), TIMEOUT)


async def holder(mode, port, i, slow, end, stats, opened):
    try:
        reader, writer = await connect(port)
    except Exception as e:
        stats.fail(f"holder connect: {type(e).__name__}")
        opened.release()
        return
    stats.opened += 1
    opened.release()
    rng = random.Random(SEED * 100003 + i)
    try:
        if mode == "chat":
            await asyncio.wait_for(reader.readline(), TIMEOUT)  # welcome
        while True:
            await ask(mode, reader, writer, i, slow, end)
            stats.ok += 1
            if time.monotonic() >= end:
                break
            if not slow:
                await asyncio.sleep(min(rng.uniform(20, 40), max(0.0, end - time.monotonic())))
        # All at once at the end: is every connection still served?
        await ask(mode, reader, writer, i, False, end)
        stats.ok += 1
        stats.alive_at_end += 1
    except Exception as e:
        stats.fail(f"holder: {type(e).__name__}: {str(e)[:60]}")
    finally:
        writer.close()


# The fresh-client probe runs in its own process, so its timings are the
# server's, not this event loop's (busy with 2,000 clients).
PROBE = r"""
import socket, sys, time
port, until = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
welcome, request, answer = sys.argv[3] == "1", sys.argv[4].encode(), sys.argv[5].encode()
while time.monotonic() < until:
    due = time.monotonic() + 1.0
    t = time.monotonic()
    s = None
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        f = s.makefile("rb")
        if welcome:
            f.readline()
        s.sendall(request)
        for _ in range(100000):
            line = f.readline()
            if not line:
                raise ConnectionError("closed by the server")
            if line.startswith(answer):
                break
        print(f"ok {time.monotonic() - t:.6f}", flush=True)
    except Exception as e:
        print(f"fail {type(e).__name__}", flush=True)
    finally:
        if s is not None:
            s.close()
    time.sleep(max(0.0, due - time.monotonic()))
"""


async def probe(mode, port, end, stats):
    request = request_line(mode, 900000, False)
    answer = {"echo": request.rstrip("\n"), "json": '{"type":"reply"', "kv": "ERR no such key: ",
              "chat": "* commands:"}[mode]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, str(port), f"{max(0.0, end - time.monotonic()):.1f}",
        "1" if mode == "chat" else "0", request, answer, stdout=asyncio.subprocess.PIPE)
    while True:
        raw = await proc.stdout.readline()
        if not raw:
            break
        what, value = raw.decode().split()
        if what == "ok":
            stats.probes.append(float(value))
            stats.ok += 1
        else:
            stats.fail(f"probe: {value}")
    await proc.wait()


async def resets(mode, port, end, stats):
    half = {"echo": b"half a li", "json": b'{"half":[1,2,', "kv": b"create half a val",
            "chat": b"half a chat li"}[mode]
    while time.monotonic() < end:
        try:
            reader, writer = await connect(port)
            writer.write(half)
            await writer.drain()
            await asyncio.sleep(0.05)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, not FIN
            stats.resets += 1
        except Exception as e:
            stats.fail(f"reset client: {type(e).__name__}")
        await asyncio.sleep(0.45)


async def drain_to_end(reader):
    n = 0
    while True:
        data = await asyncio.wait_for(reader.read(1 << 16), TIMEOUT)
        if not data:
            return n
        n += len(data)


async def random_binary(mode, port, end, stats):
    rng = random.Random(SEED)
    while time.monotonic() < end:
        try:
            reader, writer = await connect(port)
            if mode == "chat":
                writer.write(b"/join random\n")  # not to the 2,000 in #general
            writer.write(rng.randbytes(64 * 1024))
            await writer.drain()
            writer.write_eof()
            n = await drain_to_end(reader)
            stats.random += 1
            if n > 0 or mode == "discard":
                stats.random_answered += 1
            writer.close()
        except (ConnectionResetError, BrokenPipeError):
            stats.random += 1  # chat's /quit is a random line away
        except Exception as e:
            stats.fail(f"random client: {type(e).__name__}")
        await asyncio.sleep(2.0)


async def long_lines(mode, port, end, every, stats):
    chunk = b"x" * (1 << 20)
    while time.monotonic() < end:
        due = time.monotonic() + every
        try:
            reader, writer = await connect(port)
            if mode == "chat":
                writer.write(b"/join long\n")  # not to the 2,000 in #general
                await asyncio.wait_for(line_starting(reader, "* you left"), TIMEOUT)
            prefix, suffix, follow = {
                "json": (b'{"big":"', b'"}\n', '{"after":1}\n'),
                "kv": (b"create big ", b"\n", "read after\n"),
                "chat": (b"", b"\n", "/help\n"),
                "echo": (b"", b"\n", "after\n"),
            }[mode]

            async def send():
                writer.write(prefix)
                for _ in range(LINE_MB):
                    writer.write(chunk)
                    await writer.drain()
                writer.write(suffix + follow.encode())
                await writer.drain()

            sender = asyncio.create_task(send())
            stats.long_sent += 1
            if mode == "echo":
                total = len(prefix) + LINE_MB * len(chunk) + len(suffix) + len(follow)
                got = 0
                while got < total:
                    data = await asyncio.wait_for(reader.read(1 << 20), TIMEOUT)
                    if not data:
                        break
                    got += len(data)
                if got == total:
                    stats.long_refused += 1  # echo has no lines: all of it came back
                    stats.ok += 1
                else:
                    stats.fail("long line: echo came back short")
            else:
                first = await asyncio.wait_for(line_starting(reader, ""), TIMEOUT)
                if f"longer than {MAX_LINE} bytes" in first:
                    stats.long_refused += 1
                else:
                    stats.fail("long line: no max-line error")
                await asyncio.wait_for(sender, 4 * TIMEOUT)
                await asyncio.wait_for(read_answer(mode, reader, follow), TIMEOUT)
                stats.ok += 1
            await asyncio.wait_for(sender, 4 * TIMEOUT)
            writer.close()
        except Exception as e:
            stats.fail(f"long line: {type(e).__name__}: {str(e)[:60]}")
        await asyncio.sleep(max(0.0, min(due, end) - time.monotonic()))


def status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def sample_rss(proc, end, stats, mode, t0):
    next_report = time.monotonic() + 15
    while time.monotonic() < end and proc.returncode is None:
        rss = status(proc.pid, "VmRSS")
        if rss is not None:
            stats.rss_peak = max(stats.rss_peak, rss)
            stats.rss_end = rss
        if time.monotonic() >= next_report:
            next_report += 15
            slowest = max(stats.probes[-15:], default=0)
            print(f"  {mode} {time.monotonic() - t0:5.0f}s  RSS {rss / 1024 if rss else 0:6.1f} MB · "
                  f"answered {stats.ok} · failed {stats.failed} · slowest recent probe "
                  f"{slowest * 1000:.0f} ms", flush=True)
        await asyncio.sleep(1.0)


async def read_log(proc, path, stats):
    with open(path, "w") as out:
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace")
            out.write(line)
            stats.log["lines"] += 1
            if "ECONNRESET" in line:
                stats.log["ECONNRESET"] += 1
            for word in ("limit", "busy", "timeout"):
                if f" {word} " in line:
                    stats.log[word] += 1
            if "panicked" in line:
                stats.log["panicked"] += 1
            if "log lines dropped" in line:
                stats.log["dropped"] += 1


async def soak(mode, seconds):
    stats = Stats()
    args = [BIN, "serve", mode, "--host", HOST, "--port", "0", "--color", "never",
            "--max-connections", str(CONNS + 500)]
    if mode == "kv":
        args += ["--data", os.path.join(LOGS, "kv.json")]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=open(os.path.join(LOGS, f"{mode}.stderr"), "w"))
    try:
        return await run_server(mode, seconds, stats, proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def run_server(mode, seconds, stats, proc):
    first = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
    port = int(first.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
    log_path = os.path.join(LOGS, f"{mode}.log")
    logger = asyncio.create_task(read_log(proc, log_path, stats))
    stats.rss_start = status(proc.pid, "VmRSS") or 0
    t0 = time.monotonic()
    end = t0 + seconds
    sampler = asyncio.create_task(sample_rss(proc, end, stats, mode, t0))

    # The holders, opened 100 at a time.
    opened = asyncio.Semaphore(100)
    holders = []
    for i in range(CONNS):
        await opened.acquire()
        holders.append(asyncio.create_task(holder(mode, port, i, i < SLOW, end, stats, opened)))
    for _ in range(100):
        await opened.acquire()
    open_time = time.monotonic() - t0
    print(f"  {mode}: {stats.opened} connections open in {open_time:.1f}s", flush=True)

    every = max(15.0, seconds / 6)
    abusers = [
        asyncio.create_task(probe(mode, port, end, stats)),
        asyncio.create_task(resets(mode, port, end, stats)),
        asyncio.create_task(random_binary(mode, port, end, stats)),
        asyncio.create_task(long_lines(mode, port, end, every, stats)),
    ]
    await asyncio.gather(*abusers, *holders, return_exceptions=True)
    await sampler
    up = proc.returncode is None
    stats.hwm = status(proc.pid, "VmHWM") or 0
    stop_time = None
    code = proc.returncode
    if up:
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), 10)
            stop_time = time.monotonic() - t
        except asyncio.TimeoutError:
            proc.kill()
            code = await proc.wait()
    await asyncio.wait_for(logger, TIMEOUT)
    return stats, up, code, stop_time, open_time, log_path


def report(mode, seconds, stats, up, code, stop_time, open_time, log_path):
    probes = sorted(stats.probes)
    p50 = probes[len(probes) // 2] * 1000 if probes else 0
    p99 = probes[int(len(probes) * 0.99)] * 1000 if probes else 0
    worst = probes[-1] * 1000 if probes else 0
    over = sum(1 for p in probes if p > PROMPT)
    lg = stats.log
    stopped = f"exit {code} {stop_time:.1f}s after SIGTERM" if stop_time is not None else f"exit {code}"
    ok = (up and code == 0 and stats.failed == 0 and over == 0 and lg["panicked"] == 0
          and stats.alive_at_end == CONNS)
    print(f"soak {mode}: {seconds}s · {'PASS' if ok else 'FAIL'} · server up to the end: "
          f"{'yes' if up else 'NO'}, {stopped}")
    print(f"  peak RSS {stats.hwm / 1024:.1f} MB (VmHWM; sampled peak {stats.rss_peak / 1024:.1f} MB, "
          f"at start {stats.rss_start / 1024:.1f} MB, at the end {stats.rss_end / 1024:.1f} MB)")
    print(f"  {stats.opened}/{CONNS} connections held ({SLOW} sending a byte a second), opened in "
          f"{open_time:.1f}s; {stats.alive_at_end} answered a last request all at once at the end")
    print(f"  requests answered {stats.ok}, failed {stats.failed}"
          + (f" {stats.why}" if stats.why else ""))
    print(f"  fresh client every second: {len(probes)} probes, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {worst:.1f} ms, over {PROMPT:.0f} s: {over}")
    print(f"  {stats.long_sent} lines of {LINE_MB} MiB, {stats.long_refused} refused with the max-line "
          f"error{' (echo: echoed back whole)' if mode == 'echo' else ''}; "
          f"{stats.random} random-binary clients ({stats.random_answered} answered); "
          f"{stats.resets} resets mid-line")
    print(f"  server log: {lg['lines']} lines, {lg['ECONNRESET']} ECONNRESET, {lg['limit']} limit, "
          f"{lg['busy']} busy, {lg['timeout']} timeout, {lg['panicked']} panics, "
          f"{lg['dropped']} 'log lines dropped' notes ({log_path})", flush=True)
    return ok


async def main():
    share = max(30, TOTAL // len(MODES))
    print(f"soak: {' '.join(MODES)}, {share}s each, {CONNS} connections, {SLOW} slow; "
          f"logs in {LOGS}", flush=True)
    results = []
    for mode in MODES:
        # Bounded: the run, then at most a few timeouts for the last requests.
        outcome = await asyncio.wait_for(soak(mode, share), share + 10 * TIMEOUT)
        results.append(report(mode, share, *outcome))
    return all(results)


sys.exit(0 if asyncio.run(main()) else 1)
PY
