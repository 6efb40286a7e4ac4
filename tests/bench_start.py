"""Start-up benchmark: time from launching `tys run` to its first getUpdates, and the bot
process's RSS after it answered /start. Usage:

    .venv/bin/python -m tests.bench_start DATA_DIR [RUNS]

The first run on an empty DATA_DIR is the cold start (seed + day-one embeddings); later runs
are warm. A command, not a test: figures depend on the machine's load.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import psutil

from tests.botproc import BotProcess, bot_env
from tests.fakes.telegram import FakeTelegram


async def run(data_dir: Path, runs: int) -> None:
    starts, rss = [], []
    async with FakeTelegram(token="123456:TEST-token") as tg:
        for i in range(runs):
            proc = BotProcess(bot_env(data_dir, tg.base_url), data_dir / f"bench-start-{i}.log")
            began = time.perf_counter()
            n_calls = len(tg.calls)
            proc.start()
            await tg.wait_for(
                lambda c, n=n_calls: c.method == "getUpdates" and tg.calls.index(c) >= n,
                timeout=300,
                include_pending=True,
            )
            starts.append(time.perf_counter() - began)
            await tg.send_text(9000 + i, "/start")
            await tg.wait_message(9000 + i, contains="Tune Your Shop", timeout=60)
            await asyncio.sleep(2)
            assert proc.proc is not None
            rss.append(psutil.Process(proc.proc.pid).memory_info().rss / 2**20)
            proc.stop()
            print(f"run {i}: start -> polling {starts[-1]:.2f} s, RSS {rss[-1]:.0f} MB", flush=True)
    if runs > 1:
        print(
            f"warm median: {statistics.median(starts[1:]):.2f} s; RSS median {statistics.median(rss):.0f} MB"
        )


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(target, int(sys.argv[2]) if len(sys.argv) > 2 else 4))
