"""One small module per database engine, as Synapse has (`synapse/storage/engines/`).

`sqlite` keeps a store in one file through sqlite-utils; `postgres` keeps it in a
PostgreSQL database through psycopg 3 and a connection pool, for several replicas
sharing one store. Only `storage.store` chooses between them, and it imports `postgres`
(and with it psycopg) only for a `postgresql://` location, so a bot on SQLite never
loads the driver.
"""
