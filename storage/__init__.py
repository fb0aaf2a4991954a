"""SQLAlchemy 2 storage behind the core's ports, with Alembic migrations."""
