"""``rpymostat-engine token ...`` and ``rpymostat-engine pair ...``: an admin's commands.

They open the same storage as the engine (the same ``RPYMOSTAT_*``
settings: the SQLite file in the data directory, or ``RPYMOSTAT_DB``), whether
the engine runs or not, and do what :mod:`rpymostat.auth.admin` does for the
API.  Output is meant for people and for scripts alike: ``token create``
prints the token as the last word on stdout, lists print one record a line.
"""

import argparse
import sys
import time

from twisted.internet.defer import ensureDeferred

from rpymostat import config as engine_config
from rpymostat.auth import admin
from rpymostat.auth.roles import GRANTS, ROLES
from rpymostat.protocol.settings import ConfigError
from rpymostat.protocol.times import iso_utc
from rpymostat.storage.interface import StorageError

COMMANDS = ("token", "pair")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rpymostat-engine",
        description="Manage the engine's tokens and pairing requests (docs/security.rst).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="create, list or revoke API tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True)
    create.add_argument("--host", dest="host_id", help="bind a sensor or control token to this host id")
    token.add_parser("list", help="list tokens: name, role, host, created")
    revoke = token.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    pair = commands.add_parser("pair", help="list, approve or reject daemons' pairing requests").add_subparsers(
        dest="action", required=True
    )
    pair.add_parser("list", help="list waiting requests: code, host id, role, age, address, what approving grants")
    approve = pair.add_parser("approve", help="approve the request with this code")
    approve.add_argument("code")
    reject = pair.add_parser("reject", help="reject the request with this code")
    reject.add_argument("code")
    return parser


async def execute(args, storage, now, out) -> int:
    """Do what ``args`` says on open ``storage``; the exit status."""
    if args.command == "token" and args.action == "create":
        token, record = await admin.create_token(storage, now, args.name, args.role, args.host_id)
        bound = f" for host {record.host_id}" if record.host_id else ""
        out.write(f"created token {record.name!r} ({record.role}{bound}); it is shown this once:\n{token}\n")
    elif args.command == "token" and args.action == "list":
        for record in await storage.tokens():
            paired = " paired" if record.peer_secret is not None else ""
            out.write(f"{record.name}\t{record.role}\t{record.host_id or '-'}\t{iso_utc(record.created_at)}{paired}\n")
    elif args.command == "token":
        await admin.revoke_token(storage, args.name)
        out.write(f"revoked token {args.name!r}\n")
    elif args.action == "list":
        for request in await admin.pending(storage, now):
            age = int(now - request.requested_at)
            grants = GRANTS.get(request.role, request.role)
            out.write(f"{request.code}\t{request.host_id}\t{request.role}\t{age} s\t{request.address}\t{grants}\n")
    elif args.action == "approve":
        record = await admin.approve_pairing(storage, now, args.code)
        host_id = record.name.removeprefix(f"{record.role}-")  # named <role>-<host_id>; bound only if a host role
        out.write(f"approved: {host_id} pairs as token {record.name!r} ({record.role})\n")
        if record.role == "admin":
            out.write(f"this grants full control (admin) to {host_id}: revoke {record.name!r} to take it back\n")
    else:
        request = await admin.reject_pairing(storage, now, args.code)
        out.write(f"rejected the request of {request.host_id} ({request.role})\n")
    return 0


async def run(argv, environ, reactor, out=sys.stdout, err=sys.stderr) -> int:
    """Parse ``argv``, open the engine's storage, execute, close; the exit status."""
    from rpymostat.storage import open_storage

    args = build_parser().parse_args(argv)
    try:
        settings = engine_config.from_environ(environ)
    except ConfigError as error:
        err.write(f"rpymostat-engine: {error}\n")
        return 2
    storage = open_storage(settings, reactor)
    try:
        await storage.open()
    except StorageError as error:
        err.write(f"rpymostat-engine: {error}\n")
        return 1
    try:
        return await execute(args, storage, time.time(), out)
    except admin.AdminError as error:
        err.write(f"rpymostat-engine: {error.message}\n")
        return 1
    except StorageError as error:
        err.write(f"rpymostat-engine: {error}\n")
        return 1
    finally:
        await storage.close()


def main(argv, environ) -> int:  # pragma: no cover - the process's own reactor; run() is tested
    """Run a command to completion on the global reactor."""
    from twisted.internet import task

    build_parser().parse_args(argv)  # a usage error exits 2 here, before any reactor runs

    status = []

    async def command(reactor):
        status.append(await run(argv, environ, reactor))

    try:
        task.react(lambda reactor: ensureDeferred(command(reactor)))
    except SystemExit:
        pass
    return status[0] if status else 1
