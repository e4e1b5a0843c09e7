"""Alembic environment: migrates the database of the Flask app that runs it."""

from alembic import context
from flask import current_app

db = current_app.extensions["migrate"].db
config = context.config


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting (``flask db upgrade --sql``)."""
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the app's engine, in one transaction.

    On SQLite, foreign keys are off while migrating: SQLite changes a table by copying it
    (batch mode) and dropping the old one, which it refuses while other tables' rows point at
    it. The pragma only takes effect outside a transaction, so it is set on the driver's
    connection before the migration's transaction begins; the keys are checked after it."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection if sqlite else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                **current_app.extensions["migrate"].configure_args,
            )
            with context.begin_transaction():
                context.run_migrations()
            if driver is not None:
                broken = driver.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"the migration left rows whose foreign keys dangle: {broken[:5]}"
                    )
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
