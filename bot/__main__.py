"""`python -m bot`: build every collaborator, then run the Discord bot or the terminal session.

    python -m bot            with DISCORD_TOKEN (environment or .env): connect to Discord
    python -m bot            without a token: a terminal session over the same commands
    python -m bot --check    import and build everything, validate config, exit (no login)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import discord
from dotenv import load_dotenv

from index import (
    ConfigError,
    Encoder,
    Settings,
    configured_sources,
    export_pending,
    load_settings,
    model_path,
)

from .client import COGS, DocketBot
from .logs import setup_logging
from .service import open_service
from .settings import TOKEN_ENV, BotSettings, Secret, load_bot_settings
from .terminal import run_terminal

EXIT_OK, EXIT_CONFIG = 0, 2

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="build the bot and its commands, validate config, exit without login")
    parser.add_argument("--terminal", action="store_true",
                        help="the terminal session even when DISCORD_TOKEN is set")
    parser.add_argument("--data-dir", type=Path, help="index directory (default: $DOCKET_DATA_DIR or ./var)")
    parser.add_argument("--config", type=Path, help="settings file (default: $DOCKET_CONFIG or config/settings.toml)")
    parser.add_argument("--env-file", type=Path, default=None, help="dotenv file (default: ./.env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    # The environment wins over .env: a deployment's real variables are never overridden.
    load_dotenv(args.env_file or Path.cwd() / ".env", override=False)

    token = os.environ.get(TOKEN_ENV, "").strip()
    # A terminal session keeps the screen for answers: warnings only, unless asked.
    quiet = args.terminal or not token
    default_level = "WARNING" if quiet and not args.check else "INFO"
    level = logging.DEBUG if args.verbose else getattr(
        logging, os.environ.get("DOCKET_LOG_LEVEL", default_level).upper(), logging.INFO)
    setup_logging(level, secrets=[token])
    try:
        settings = load_settings(config=args.config, data_dir=args.data_dir)
        config = load_bot_settings(args.config)
        configured_sources(settings)  # a broken feeds.toml fails here, not at the first /reindex
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.check:
            return asyncio.run(check(settings, config))
        if config.token is None or args.terminal:
            return asyncio.run(terminal(settings, config, started))
        return asyncio.run(run_bot(settings, config, started))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def load_encoder(settings: Settings, *, say: Callable[[str], None] | None = None) -> Encoder:
    """The embedding model; on a machine's first run, preparing it takes a minute or so,
    which `say` (the terminal's stderr) is told about first."""
    began = time.perf_counter()
    if export_pending(settings.model):
        (say or log.info)("Preparing the embedding model for this machine (first run only, "
                          "about a minute)…")
    encoder = Encoder(settings.model)
    log.info("model %s loaded in %.1fs", encoder.name, time.perf_counter() - began)
    return encoder


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def check(settings: Settings, config: BotSettings) -> int:
    """Everything `run_bot` builds, minus the login; one line on stdout."""
    model_path()  # the model package is installed (ConfigError otherwise)
    encoder = Encoder(settings.model)
    service = await open_service(settings, config, encoder, feedback_path=":memory:")
    bot = DocketBot(settings=settings, config=config, service=service)
    try:
        for extension in COGS:
            await bot.load_extension(extension)
        names = sorted(c.name for c in bot.tree.get_commands())
        bot.syncer.payload()  # every command serializes as Discord would receive it
        index = (f"snapshot {service.index.snapshot.name}" if service.index.ready
                 else f"no index yet in {settings.data_dir}")
        token = "set" if config.token else "not set (terminal mode)"
        print(f"OK: {len(names)} commands ({', '.join(names)}); model {encoder.name}; {index}; "
              f"token {token}")
    finally:
        await bot.close()
    return EXIT_OK


async def terminal(settings: Settings, config: BotSettings, started: float) -> int:
    # A missing index is no warning here: the session builds one from the sample corpus.
    service = await open_service(settings, config, load_encoder(settings, say=_to_stderr),
                                 missing_index_level=logging.DEBUG)
    try:
        return await run_terminal(service, started=started)
    finally:
        await service.close()


async def build_bot(settings: Settings, config: BotSettings, started: float) -> DocketBot:
    """The model, the index, the feedback store and the limits, handed to a new DocketBot."""
    service = await open_service(settings, config, load_encoder(settings))
    return DocketBot(settings=settings, config=config, service=service, started=started)


async def serve(bot: DocketBot, token: Secret) -> int:
    """Log in and run until closed (SIGTERM or SIGINT close the bot cleanly)."""
    loop = asyncio.get_running_loop()
    handled = []
    stopping: list[asyncio.Future[None]] = []  # held so the close task is not collected

    def stop(signum: signal.Signals) -> None:
        if not stopping:
            log.info("%s: stopping (answers in progress may finish first)", signum.name)
        stopping.append(asyncio.ensure_future(bot.close()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop, signum)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):  # not on this platform
            pass
    try:
        async with bot:
            await bot.start(token.get_secret_value())
    except discord.LoginFailure:
        print("error: Discord rejected DISCORD_TOKEN; check the token in the Developer Portal",
              file=sys.stderr)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print("error: the Message Content intent is not enabled for this bot; enable it in the "
              "Developer Portal, or set message_content = false under [bot]", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await bot.close()
        for signum in handled:
            loop.remove_signal_handler(signum)
        log.info("stopped")
    return EXIT_OK


async def run_bot(settings: Settings, config: BotSettings, started: float) -> int:
    assert config.token is not None
    return await serve(await build_bot(settings, config, started), config.token)


if __name__ == "__main__":
    raise SystemExit(main())
