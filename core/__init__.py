"""The base every package stands on; it imports no domain package.

``core`` holds what any part of the backend needs and nothing about calls,
agents or orders in particular: settings, the injectable clock, the
database (engine, declarative base, the async bridge) and Alembic's
runner, log masking, owned tasks, the durable outbox, leases and the
election among backends, user accounts, passwords and the login throttle,
the typed live events with their audiences and the event bus, the
PostgreSQL relay between instances, spreadsheet export, and what every
subcommand shares.  A domain plugs into it (an outbox handler, a table on
``Base``, a live event class); core never names one.

``hotline`` is the application on top: the controller that assembles the
domains (``hotline.app``), the ``hotline`` command, the demo and its seed
data, the list of every table (``hotline.models``), the schema migrations,
metrics and the dependencies object handed to the domains
(``hotline.deps``).  Nothing below it imports it, except ``hotline.deps``
(see pyproject's import-linter contracts).  ``hotline.<m>`` for a module
now in core is an alias kept for one release.
"""
