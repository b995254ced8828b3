"""`chorus-router-keys`: create, list and revoke the router's API keys.

Reads the router's own configuration (the same --config file and CHORUS_ROUTER_* variables)
to find the router's database (CHORUS_ROUTER_DATABASE_URL, else SQLite in data_dir), so a
key it creates is known to every replica on that database. Run it where the router runs
(`kubectl exec`) or anywhere with the same settings; it migrates the database if needed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
import uuid
from pathlib import Path

from chorus_contracts import UnknownApiKey
from chorus_router.audit import AuditAction, AuditStore, AuditTrail
from chorus_router.identity import Scope
from chorus_router.lexicons.records import LEXICON_ID
from chorus_router.security.keys import ApiKey, KeyStore
from chorus_router.settings import RouterSettings
from chorus_router.storage.migrations import migrate


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = RouterSettings.load(args.config)
    database = settings.open_database()
    try:
        migrate(database)
        _run(args, KeyStore(database), AuditTrail(AuditStore(database)))
    finally:
        database.dispose()


def _run(args: argparse.Namespace, store: KeyStore, audit: AuditTrail) -> None:
    # Changes made here are audited like those made over HTTP, by the CLI's own actor name.
    actor = f"cli:{_os_user()}"
    request_id = uuid.uuid4().hex
    if args.command == "create":
        scopes = frozenset(args.scope or [Scope.SPEECH])
        key, record = store.create(args.user, scopes, args.name, tuple(args.lexicon or ()))
        audit.record(actor, AuditAction.KEY_CREATE, record.key_id, request_id=request_id)
        # Only the key goes to stdout, so `KEY=$(chorus-router-keys create ...)` works.
        print(
            f"created key {record.key_id} for {record.user_id} ({_scopes(record)})", file=sys.stderr
        )
        print("store it now: it cannot be shown again", file=sys.stderr)
        print(key)
    elif args.command == "list":
        print(f"{'ID':<12}  {'USER':<20}  {'SCOPES':<20}  {'CREATED':<20}  {'STATUS':<8}  NAME")
        for record in store.list():
            status = "revoked" if record.revoked else "active"
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created_at))
            print(
                f"{record.key_id:<12}  {record.user_id:<20}  {_scopes(record):<20}  "
                f"{created:<20}  {status:<8}  {record.name}"
            )
    elif not store.revoke(args.key_id):
        missing = UnknownApiKey(f"no active key with id {args.key_id}")
        audit.record(
            actor, AuditAction.KEY_REVOKE, args.key_id, request_id=request_id, error=missing
        )
        raise SystemExit(missing.message)
    else:
        audit.record(actor, AuditAction.KEY_REVOKE, args.key_id, request_id=request_id)
        print(f"revoked key {args.key_id}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chorus-router-keys", description=__doc__)
    default = os.environ.get("CHORUS_CONFIG")
    parser.add_argument("--config", type=Path, default=Path(default) if default else None)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--user", required=True, type=_user, help="the user the key belongs to")
    create.add_argument(
        "--scope",
        action="append",
        type=Scope,
        choices=list(Scope),
        help="a scope the key carries (repeat for several; default: speech)",
    )
    create.add_argument("--name", default="", help="a label, e.g. where the key is used")
    create.add_argument(
        "--lexicon",
        action="append",
        type=_lexicon_id,
        help="a lexicon id applied to the key's speech requests that name none (repeatable)",
    )
    commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no passwd entry
        return "unknown"


def _user(value: str) -> str:
    if not 1 <= len(value) <= 200:
        raise argparse.ArgumentTypeError("must be 1 to 200 characters")
    return value


def _lexicon_id(value: str) -> str:
    if LEXICON_ID.fullmatch(value) is None:
        raise argparse.ArgumentTypeError("is not a lexicon id (lex_...)")
    return value


def _scopes(record: ApiKey) -> str:
    return ",".join(sorted(record.scopes)) or "-"


if __name__ == "__main__":
    main()
