"""Bot load benchmark: `python -m tests.bench_bot [--tracks 100000] [--owners 50] [--runs 3]`.

Drives the real `tys run` process (a child process, exactly as an operator starts it) through
FakeTelegram running in this process, on a DATA_DIR of its own with the embedded stores:

1. first start: the bot seeds the catalog and its day-one embeddings; stop;
2. add a synthetic catalog (default 100k tracks, embeddings around real tracks' so they really
   compete in the index, serving version, HNSW index rebuilt); start again;
3. onboarding: every owner runs /start -> "without Spotify" -> 2 tags -> 10 pairs, one owner
   at a time (latency of the 10 pair presses: press -> the bot's edit arriving at the Bot API);
4. recommendation pages: "Songs for my shop", then page turns ("More") one owner at a time
   (latency, and Bot API calls per page turn);
5. throughput: all owners at once, each pressing toggles/More as soon as its previous press
   was answered (closed loop), updates/s; bot RSS (current and peak, from /proc).

Warm figures: a warm-up pass of each kind runs first and is not counted. Medians over runs.

`--floor` runs the same page turns and clicks against tests/floor_bot.py instead: aiogram
alone, answering each press with the same two Bot API calls and no work of ours. Its CPU per
update is the floor any bot on this library pays on this machine.
This is a command, not a test: it lives in tests/ because it drives the test fakes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.bench import load_note, median, pct
from tests.botproc import BotProcess, bot_env
from tests.fakes.telegram import ApiCall, FakeTelegram, buttons

EDITS = ("editMessageText", "editMessageReplyMarkup")
OWNER_BASE = 8_100_000
TAGS = ("Cafe", "Jazz")


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB: current and peak resident memory."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


async def handler_means(web_base: str) -> dict[str, tuple[float, int]]:
    """Mean time (ms) and count per handler from the bot's own /metrics histogram: the time
    inside the handler, to compare with press -> answer (the rest is polling and HTTP)."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{web_base}/metrics") as resp:
        body = await resp.text()
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for line in body.splitlines():
        for suffix, target in (("_sum", sums), ("_count", counts)):
            prefix = f'tys_handler_seconds{suffix}{{handler="'
            if line.startswith(prefix):
                name = line[len(prefix) :].split('"', 1)[0]
                target[name] = float(line.rsplit(" ", 1)[1])  # type: ignore[assignment]
    return {k: (1000 * sums[k] / counts[k], int(counts[k])) for k in sums if counts.get(k)}


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_name() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed by command name
    (postgres backends, redis-server, the MongoDB-wire server, this driver, the bot...)."""
    out: dict[str, float] = {}
    tck = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tck
    return out


@dataclass
class Owner:
    id: int
    onboarding_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    calls_per_turn: list[int] = field(default_factory=list)
    rec_msg_id: int = 0


class Driver:
    """Plays shop owners against the bot and times press -> answer from the Bot API's side."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    def current(self, owner: int, message_id: int) -> dict:
        return next(m for m in self.tg.bot_messages(owner) if m["message_id"] == message_id)

    async def press(
        self, owner: int, message: dict, data: str, *, answer: tuple[str, ...] = EDITS
    ) -> tuple[float, list[ApiCall]]:
        """Press; wait until the bot answered the callback AND sent its visible answer
        (an edit, or a new message). -> (ms from the press to the visible answer, the Bot API
        calls the bot made for this press)."""
        chat = message["chat"]["id"]
        n_before = len(self.tg.calls)
        started = time.monotonic()
        qid = await self.tg.press(owner, message, data, stale_ok=True)

        def mine(c: ApiCall) -> bool:
            if c.method == "answerCallbackQuery":
                return c.params.get("callback_query_id") == qid
            return c.params.get("chat_id") == chat and c.method != "getUpdates"

        # Each wake-up scans only the calls that arrived since the last one (with 50 owners
        # waiting, a rescan from the press on every change made the driver, not the bot, the
        # bottleneck). The fake's change event wakes the wait, so nothing polls.
        pos, acked, shown = n_before, False, None

        def probe() -> ApiCall | None:
            nonlocal pos, acked, shown
            calls = self.tg.calls
            while pos < len(calls):
                c = calls[pos]
                if c.method != "getUpdates" and mine(c):
                    if c.status is None:
                        break  # in flight: look again when it is answered
                    acked = acked or c.method == "answerCallbackQuery"
                    if shown is None and c.method in answer:
                        shown = c
                pos += 1
            return shown if acked else None

        visible = await self.tg._wait(probe, 30, f"no answer to {data!r} for {owner}")
        ms = (visible.received_at - started) * 1000
        return ms, [c for c in self.tg.calls[n_before:] if mine(c)]

    async def onboard(self, owner: Owner, timed: bool) -> None:
        tg = self.tg
        uid = owner.id
        n_msgs = len(tg.bot_messages(uid))
        await tg.send_text(uid, "/start", language_code="en")
        welcome = await tg.wait_message(uid, contains="Tune Your Shop", timeout=30)
        nolink = next(b for b in buttons(welcome) if "without" in b["text"].lower())
        await self.press(uid, welcome, nolink["callback_data"], answer=("sendMessage", *EDITS))
        tags_msg = await tg.wait_message(uid, contains="What does your shop feel like", timeout=30)
        msg_id = tags_msg["message_id"]
        labels = {b["text"]: b["callback_data"] for b in buttons(tags_msg)}
        for label in TAGS:
            await self.press(uid, self.current(uid, msg_id), labels[label])
        await self.press(uid, self.current(uid, msg_id), labels["Next ›"])
        for _ in range(10):
            pair = self.current(uid, msg_id)
            options = buttons(pair)
            ms, _calls = await self.press(uid, pair, options[0]["callback_data"])
            if timed:
                owner.onboarding_ms.append(ms)
        done = self.current(uid, msg_id)
        assert "taste is set" in done["text"], done["text"]
        rec = next(b for b in buttons(done) if "Songs for my shop" in b["text"])
        await self.press(uid, done, rec["callback_data"], answer=("sendMessage",))
        page = await tg.wait_message(uid, contains="Songs for your shop", timeout=30)
        owner.rec_msg_id = page["message_id"]
        assert len(tg.bot_messages(uid)) > n_msgs

    async def open_floor_page(self, owner: Owner) -> None:
        """The floor bot: /start answers with the page at once."""
        await self.tg.send_text(owner.id, "/start", language_code="en")
        page = await self.tg.wait_message(owner.id, contains="Songs for your shop", timeout=30)
        owner.rec_msg_id = page["message_id"]

    async def page_turns(self, owner: Owner, turns: int, timed: bool) -> None:
        for _ in range(turns):
            page = self.current(owner.id, owner.rec_msg_id)
            more = next(b for b in buttons(page) if b["text"].startswith("More"))
            ms, calls = await self.press(owner.id, page, more["callback_data"])
            if timed:
                owner.page_ms.append(ms)
                owner.calls_per_turn.append(len(calls))

    async def clicks(self, owner: Owner, n: int) -> int:
        """n presses as fast as answers come: toggles, and every fourth press a new page."""
        for i in range(n):
            page = self.current(owner.id, owner.rec_msg_id)
            if i % 4 == 3:
                b = next(b for b in buttons(page) if b["text"].startswith("More"))
            else:
                toggles = [b for b in buttons(page) if b["text"][:1] in ("⬜", "☑")]
                b = toggles[i % len(toggles)]
            await self.press(owner.id, page, b["callback_data"])
        return n


async def load_synthetic(data_dir: Path, n_tracks: int) -> dict[str, float]:
    """Synthetic tracks around real tracks' embeddings, in the serving version's space."""
    import asyncpg
    import numpy as np
    from pgvector.asyncpg import register_vector

    from bot.embedded import EmbeddedServices
    from core.bench import _plain_url
    from core.bench.recommend import load_catalog
    from core.embeddings import as_array

    svc = EmbeddedServices(data_dir)
    urls = svc.acquire(("postgres",))
    try:
        conn = await asyncpg.connect(_plain_url(urls.database_url))
        try:
            await register_vector(conn)
            version = await conn.fetchval("SELECT id FROM model_versions WHERE status='serving'")
            rows = await conn.fetch("SELECT embedding FROM tracks WHERE embedding IS NOT NULL")
            first = int(await conn.fetchval("SELECT max(id) FROM tracks")) + 1
        finally:
            await conn.close()
        centres = np.stack([as_array(r[0]) for r in rows])
        _owners, timings = await load_catalog(
            urls.database_url,
            n_tracks,
            n_owners=0,
            first_track_id=first,
            version=version,
            centres=centres,
        )
        # The synthetic tracks are part of the serving version (promotion keeps them).
        conn = await asyncpg.connect(_plain_url(urls.database_url))
        try:
            await conn.execute(
                "INSERT INTO track_embeddings (model_version, track_id, embedding) "
                "SELECT embedding_version, id, embedding FROM tracks WHERE id >= $1",
                first,
            )
            timings["catalog"] = await conn.fetchval("SELECT count(*) FROM tracks")
        finally:
            await conn.close()
        return timings
    finally:
        svc.release()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="tys-bench-bot-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
    result: dict[str, Any] = {}
    async with FakeTelegram(token="123456:TEST-token") as tg:
        env = bot_env(data_dir, tg.base_url, THROTTLE_RATE="100000", LOG_LEVEL="INFO")
        argv = ("-m", "tests.floor_bot") if args.floor else ("-m", "bot", "run")
        bot = BotProcess(env, data_dir / "bot.log", argv)
        try:
            if not args.floor and not (data_dir / ".bench-loaded").exists():
                print(f"first start (catalog seed, day-one embeddings) in {data_dir}")
                bot.start()
                await bot.wait_ready(timeout=300)
                bot.stop()
                timings = await load_synthetic(data_dir, args.tracks)
                (data_dir / ".bench-loaded").write_text(str(args.tracks))
                print(
                    f"  +{args.tracks} synthetic tracks: load {timings['load_s']:.1f} s, "
                    f"HNSW {timings['index_s']:.1f} s; catalog {timings['catalog']} tracks"
                )
            bot.start()
            await bot.wait_ready(timeout=300)
            assert bot.proc is not None
            pid = bot.proc.pid
            print(f"bot pid {pid} ready; RSS {rss_mb(pid)[0]:.0f} MB ({load_note()})")
            drv = Driver(tg)
            runs = []
            for r in range(args.runs):
                # Fresh users every run (and every invocation on a reused DATA_DIR): a known
                # owner skips onboarding.
                base = OWNER_BASE + (int(time.time()) % 100_000) * 100_000 + r * 10_000
                owners = [Owner(base + i) for i in range(args.owners)]
                if args.floor:
                    warm = Owner(base + 9_999)
                    await drv.open_floor_page(warm)
                    await drv.page_turns(warm, 2, timed=False)
                    for o in owners:
                        await drv.open_floor_page(o)
                else:
                    # Warm-up owner (not counted): first use of every query and code path.
                    await drv.onboard(Owner(base + 9_999), timed=False)
                    for o in owners:
                        await drv.onboard(o, timed=True)
                for o in owners:
                    await drv.page_turns(o, args.turns, timed=True)
                print(f"  {args.owners} owners clicking at once ({load_note()})", flush=True)
                start = time.monotonic()
                bot_cpu, own_cpu = cpu_s(pid), time.process_time()
                by_name = cpu_by_name()
                done = await asyncio.gather(*(drv.clicks(o, args.clicks) for o in owners))
                wall = time.monotonic() - start
                after = cpu_by_name()
                spent = {k: v - by_name.get(k, 0.0) for k, v in after.items()}
                # Where the machine's CPU went during the clicks, ms per update (the bot
                # process and this driver are both "python"-named, so they are shown apart).
                shares = sorted(
                    ((k, 1000 * v / sum(done)) for k, v in spent.items() if v > 0),
                    key=lambda kv: -kv[1],
                )
                print(
                    "  machine CPU per update (ms, by process name): "
                    + ", ".join(f"{k} {v:.1f}" for k, v in shares[:8])
                )
                # CPU per update of the bot (its ceiling is ~1000/cpu_ms updates/s per core)
                # and of this driver + fake, to show which side is the bottleneck.
                bot_cpu = (cpu_s(pid) - bot_cpu) / sum(done) * 1000
                own_cpu = (time.process_time() - own_cpu) / sum(done) * 1000
                onb = [x for o in owners for x in o.onboarding_ms]
                pages = [x for o in owners for x in o.page_ms]
                per_turn = [x for o in owners for x in o.calls_per_turn]
                rss, hwm = rss_mb(pid)
                one = {
                    "onb_p50": pct(onb, 50) if onb else 0.0,
                    "onb_p95": pct(onb, 95) if onb else 0.0,
                    "page_p50": pct(pages, 50),
                    "page_p95": pct(pages, 95),
                    "calls_per_turn": median(per_turn),
                    "calls_per_turn_max": max(per_turn),
                    "updates_per_s": sum(done) / wall,
                    "bot_cpu_ms": bot_cpu,
                    "driver_cpu_ms": own_cpu,
                    "rss_mb": rss,
                    "peak_rss_mb": hwm,
                    "load": load_note(),
                }
                runs.append(one)
                print(
                    f"run {r + 1}: onboarding pair p50 {one['onb_p50']:.1f} ms "
                    f"p95 {one['onb_p95']:.1f} ms | page turn p50 {one['page_p50']:.1f} ms "
                    f"p95 {one['page_p95']:.1f} ms, Bot API calls/turn {one['calls_per_turn']:.0f} "
                    f"(max {one['calls_per_turn_max']}) | {args.owners} owners at once: "
                    f"{one['updates_per_s']:.0f} updates/s (CPU per update: bot "
                    f"{one['bot_cpu_ms']:.1f} ms, driver+fake {one['driver_cpu_ms']:.1f} ms) | RSS {rss:.0f} MB (peak {hwm:.0f}) "
                    f"({one['load']})"
                )
            for key in runs[0]:
                if key != "load":
                    result[key] = median([r[key] for r in runs])
            print(
                "median of {n} runs: onboarding p50 {onb_p50:.1f} / p95 {onb_p95:.1f} ms; "
                "page turn p50 {page_p50:.1f} / p95 {page_p95:.1f} ms; calls/turn "
                "{calls_per_turn:.0f}; {updates_per_s:.0f} updates/s (bot CPU {bot_cpu_ms:.1f} "
                "ms/update); RSS {rss_mb:.0f} MB "
                "(peak {peak_rss_mb:.0f} MB)".format(n=len(runs), **result)
            )
            print(
                "targets: p50 <= 30 ms, p95 <= 100 ms, <= 2 calls/turn, >= 300 updates/s, "
                "RSS < 300 MB"
            )
            if not args.floor:
                means = await handler_means(bot.web_base)
                print(
                    "inside the bot (handler mean ms, all runs): "
                    + ", ".join(f"{k} {v[0]:.1f} (n={v[1]})" for k, v in sorted(means.items()))
                )
            if args.hold:
                print(f"holding the bot (pid {pid}) for {args.hold} s (profile it now)")
                await asyncio.sleep(args.hold)
        finally:
            if bot.proc is not None and bot.proc.poll() is None:
                bot.stop()
            if not args.data_dir and not args.keep:
                shutil.rmtree(data_dir, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_bot", description=__doc__)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5, help="timed page turns per owner")
    parser.add_argument("--clicks", type=int, default=20, help="presses per owner, all at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", help="reuse this DATA_DIR (kept; loaded once)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    parser.add_argument(
        "--floor", action="store_true", help="measure tests/floor_bot.py (aiogram alone) instead"
    )
    parser.add_argument("--hold", type=float, default=0, help="keep the bot up N s at the end")
    args = parser.parse_args()
    if args.data_dir:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
