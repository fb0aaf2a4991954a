"""The one place that wires the core to its store, clock and outbound adapters."""

from __future__ import annotations

from adapters.settings import Settings
from bot import logs
from bot.app import Rapport
from bot.graph import reply_model
from bot.outbound import Outbounds
from bot.ports import Clock, SystemClock
from storage.sealing import ConfigurationError, sealer
from storage.store import SqlStore


async def bootstrap(settings: Settings, clock: Clock | None = None) -> Rapport:
    """A core on the configured database (migrated to the latest schema). Adapters add their outbound.

    Raises storage.engine.DatabaseUnavailable with a one-line reason when the database cannot be used, and
    storage.sealing.ConfigurationError when a setting is missing or the reply ranker's files cannot be used.
    """
    logs.configure(settings.log_level, format=settings.log_format)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    sealer(secret, settings.env == "production")  # refuse to start in production without a key
    try:
        reply_model.load_shipped()
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"the reply ranker's files in bot/data cannot be used: {error}") from None
    store = await SqlStore.open(settings.database_url)
    core = Rapport(store=store, clock=clock or SystemClock(), outbound=Outbounds())
    # SQLite takes one writer at a time and makes the others sleep-wait: in-process queueing is far cheaper.
    core.intake.concurrency = 1 if store.engine.dialect.name == "sqlite" else 4
    return core
