"""Where studies live: storage URLs (secrets masked), opening a storage, opening a study in it."""

from __future__ import annotations

import os
import re
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autocnn.errors import ConfigError, StudyMismatchError

if TYPE_CHECKING:
    from autocnn.backends import Backend
    from autocnn.core.plan import SearchPlan
    from autocnn.data import Dataset

DEFAULT_WORKDIR = Path("autocnn_runs")
STUDIES_FILE = "studies.db"
HEARTBEAT_INTERVAL_S = 10
HEARTBEAT_GRACE_S = 40
SCHEMA_RACE_ATTEMPTS = 5
_SCHEMA_RACE_MARKERS = ("already exists", "alembic_version", "duplicate key")

_PASSWORD_IN_URL = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@"
)


def mask_secrets(text: str) -> str:
    """Replace passwords inside URLs (``scheme://user:password@host``) with ``***``.

    Example:
        >>> mask_secrets("postgresql://bob:hunter2@db:5432/studies")
        'postgresql://bob:***@db:5432/studies'

    """
    return _PASSWORD_IN_URL.sub(lambda match: f"{match['scheme']}{match['user']}:***@", text)


def default_storage_url(workdir: Path) -> str:
    """Return the default study storage: an SQLite file in the work directory."""
    return f"sqlite:///{(workdir / STUDIES_FILE).resolve()}"


def sqlite_path(url: str) -> Path | None:
    """Return the database file of an ``sqlite:///`` URL (a storage or a tracking URI), or None for any other store.

    Example:
        >>> sqlite_path("sqlite:////runs/mlflow.db")
        PosixPath('/runs/mlflow.db')
        >>> sqlite_path("http://127.0.0.1:5000") is None
        True

    """
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


#: SQLite's words for a file that is not a database or is damaged.
_CORRUPT_SQLITE = ("file is not a database", "database disk image is malformed")


def resolve_storage_url(storage: str | None, *, workdir: Path) -> str:
    """Return a storage URL: the default SQLite file, a given SQLAlchemy URL, or a journal file path."""
    if storage is None or storage == "":
        workdir.mkdir(parents=True, exist_ok=True)
        return default_storage_url(workdir)
    if "://" in storage:
        return storage
    path = Path(storage)
    if path.suffix in (".journal", ".log"):
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"journal:///{path.resolve()}"
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}"
    raise ConfigError(
        f"`storage` {storage!r} is neither a database URL (sqlite:///file.db, postgresql://user@host/db) "
        "nor a file ending in .db or .journal"
    )


def heartbeat_settings() -> tuple[int, int]:
    """Return (heartbeat interval, grace period) in seconds: AUTOCNN_HEARTBEAT_INTERVAL and _GRACE, or 10 and 40."""
    return (
        int(os.environ.get("AUTOCNN_HEARTBEAT_INTERVAL", HEARTBEAT_INTERVAL_S)),
        int(os.environ.get("AUTOCNN_HEARTBEAT_GRACE", HEARTBEAT_GRACE_S)),
    )


def open_storage(url: str, *, heartbeat: bool = True) -> Any:
    """Open an Optuna storage for ``url``; SQLite gets a long lock timeout and WAL for several workers.

    Database storages record a heartbeat for running trials (every AUTOCNN_HEARTBEAT_INTERVAL
    seconds, default 10); a trial silent for AUTOCNN_HEARTBEAT_GRACE seconds (default 40) is
    failed (and retried once) by the next worker that asks for a trial. A database server's
    storage waits out a lost connection (see :mod:`autocnn.core.storage_outage`).
    """
    import optuna
    from optuna.storages import JournalStorage, RDBStorage

    # heartbeat_interval is "experimental" in Optuna 5; it is the documented way to fail lost trials
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    from optuna.storages.journal import JournalFileBackend

    if url.startswith("journal:///"):
        return JournalStorage(JournalFileBackend(url[len("journal:///") - 1 :]))
    storage_class: Any = RDBStorage
    if url.startswith("sqlite:"):
        engine_kwargs: dict[str, Any] = {"connect_args": {"timeout": 120}}
    else:  # a database server: its restart or failover is waited out, not fatal
        from autocnn.core.storage_outage import RetryingRDBStorage

        storage_class, engine_kwargs = RetryingRDBStorage, {"pool_pre_ping": True}
    interval, grace = heartbeat_settings()
    heartbeat_kwargs: dict[str, Any] = (
        {"heartbeat_interval": interval, "grace_period": grace} if heartbeat else {}
    )
    try:
        storage = _create_rdb_storage(storage_class, url, engine_kwargs=engine_kwargs, **heartbeat_kwargs)
    except (ImportError, ModuleNotFoundError) as error:
        raise ConfigError(
            f"cannot open storage {mask_secrets(url)}: a database driver is missing ({error}); "
            "for PostgreSQL run: pip install 'autocnn[postgres]'"
        ) from None
    except Exception as error:  # SQLAlchemy raises many kinds; all mean the same to the user
        from autocnn.core.write_failures import write_failure

        failure = write_failure(error, storage_url=url)
        if failure is not None:
            raise failure from None
        reason = mask_secrets(str(error)).splitlines()[0]
        if any(sign in reason for sign in _CORRUPT_SQLITE):
            reason += (
                "; the file is damaged or not a study database: restore it from a backup, or move it "
                "aside to start a new study there (autocnn never writes over it)"
            )
        raise ConfigError(f"cannot open storage {mask_secrets(url)}: {reason}") from None
    if url.startswith("sqlite:"):
        _enable_wal(storage)
    return storage


def _create_rdb_storage(storage_class: Any, url: str, **options: Any) -> Any:
    """Open an RDBStorage, again when another process was creating the same new schema meanwhile."""
    for attempt in range(SCHEMA_RACE_ATTEMPTS - 1):
        try:
            return storage_class(url, **options)
        except Exception as error:
            # Two processes opening one fresh database both create its tables and version row;
            # the loser sees one of these errors and, on its next try, finds the schema complete.
            if not any(marker in str(error) for marker in _SCHEMA_RACE_MARKERS):
                raise
            time.sleep(0.2 * (attempt + 1))
    return storage_class(url, **options)


def _enable_wal(storage: Any) -> None:
    from sqlalchemy import text

    with storage.engine.connect() as connection:
        # switching the mode takes an exclusive lock: only the first opener of a new file does it
        if str(connection.execute(text("PRAGMA journal_mode")).scalar()).lower() != "wal":
            connection.execute(text("PRAGMA journal_mode=WAL"))
            connection.commit()


def open_study(plan: SearchPlan, *, url: str, dataset: Dataset, backend: Backend) -> tuple[Any, bool]:
    """Create the plan's study or load it, refusing one made with another space or dataset.

    Returns the Optuna study and whether it is new. A new study records its :class:`StudyInfo`.
    """
    import optuna

    from autocnn.core.metadata import StudyInfo, read_info, write_info

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings(
        "ignore", message="Heartbeat of storage is supposed to be used with Study.optimize"
    )
    name = plan.study
    storage, sampler, pruner = open_storage(url), backend.sampler(), backend.pruner()
    try:
        optuna_study = optuna.create_study(
            study_name=name,
            storage=storage,
            directions=[objective.direction for objective in plan.space.search.objective],
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    except ValueError as error:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} exists with other objectives ({error}); "
            "choose another `study` name"
        ) from None
    wanted = StudyInfo.of(plan, dataset)
    existing = read_info(optuna_study)
    if not existing.recorded:
        write_info(optuna_study, wanted)
        return optuna_study, True
    if existing.space_hash != wanted.space_hash:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created with another search space "
            f"(space {existing.space_name!r}, file {existing.space_file}); mixing them would make "
            "the results meaningless. Use the original space file, or start a new study under another `study` name"
        )
    if existing.dataset is None or existing.dataset.fingerprint != dataset.fingerprint:
        recorded = "?" if existing.dataset is None else existing.dataset.name
        fingerprint = "?" if existing.dataset is None else existing.dataset.fingerprint[:12]
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created on other data (dataset {recorded!r}, "
            f"fingerprint {fingerprint}, now {dataset.fingerprint[:12]}); start a new study under another "
            "`study` name"
        )
    return optuna_study, False
