"""What an admin does with tokens and pairing requests, for the API and the command alike.

``rpymostat-engine token``/``pair`` and ``/v1/tokens``/``/v1/pairings`` call
these same functions, so a token made either way is the same token.  Each
raises :class:`AdminError` (with the HTTP status the API answers) for what
the admin should hear about: a name taken, a code nobody is waiting with.
"""

import math
import os
import secrets
from pathlib import Path

from twisted.logger import Logger

from rpymostat.auth.refusals import AdminError
from rpymostat.auth.roles import HOST_ROLES, PAIRING_ROLES, ROLES
from rpymostat.protocol.tokens import new_token, token_hash
from rpymostat.storage.interface import PairingRecord, TokenRecord

log = Logger()

#: Seconds a pairing request waits for an admin.
PAIRING_TTL_S = 15 * 60.0

#: Pairing requests that may wait at once, and from one address.
MAX_PENDING = 16
MAX_PENDING_PER_ADDRESS = 4

#: The file in the data directory that holds the first admin token.
ADMIN_TOKEN_FILE = "admin-token"


async def create_token(storage, now, name, role, host_id=None) -> tuple[str, TokenRecord]:
    """Make and store a token; ``(token, record)``.  The token exists only in the answer."""
    if role not in ROLES:
        raise AdminError(422, f"role: {role!r} is not one of {', '.join(ROLES)}")
    if host_id is not None and role not in HOST_ROLES:
        raise AdminError(422, f"host_id: only a {' or '.join(HOST_ROLES)} token is bound to a host")
    token = new_token()
    record = TokenRecord(name=name, role=role, token_hash=token_hash(token), created_at=now, host_id=host_id)
    if not await storage.put_token(record):
        raise AdminError(409, f"a token named {name!r} exists; revoke it first or choose another name")
    log.info("token {name!r} created with the role {role!r}", name=name, role=role)
    return token, record


async def revoke_token(storage, name) -> TokenRecord:
    """Remove the token ``name``; its record as it was.

    The last admin token is kept: without one, nobody could manage tokens or
    approve a new sensor over the API again.
    """
    record = await storage.token(name)
    if record is None:
        raise AdminError(404, f"no token named {name!r}")
    if record.role == "admin" and sum(t.role == "admin" for t in await storage.tokens()) == 1:
        raise AdminError(409, f"{name!r} is the last admin token; create another admin token before revoking it")
    await storage.delete_token(name)
    log.info("token {name!r} revoked", name=name)
    return record


async def request_pairing(storage, now, host_id, role, code, token_hash_, secret, address) -> PairingRecord:
    """Keep a daemon's pairing request until an admin approves it or it expires."""
    if role not in PAIRING_ROLES:
        raise AdminError(422, f"role: {role!r} is not one of {', '.join(PAIRING_ROLES)}")
    waiting = await pending(storage, now)
    mine = [p for p in waiting if p.address == address]
    full = waiting if len(waiting) >= MAX_PENDING else mine if len(mine) >= MAX_PENDING_PER_ADDRESS else None
    if full is not None:
        retry_after = max(1, math.ceil(min(p.expires_at for p in full) - now))
        raise AdminError(
            429, "too many pairing requests are waiting; approve or reject some, or wait", retry_after=retry_after
        )
    record = PairingRecord(
        pair_id=secrets.token_hex(16),
        code=code,
        host_id=host_id,
        role=role,
        token_hash=token_hash_,
        peer_secret=secret,
        address=address,
        requested_at=now,
        expires_at=now + PAIRING_TTL_S,
    )
    if not await storage.put_pairing(record, now):
        raise AdminError(409, f"a waiting request already has the code {code}; make another")
    log.info(
        "pairing requested by {host_id!r} ({role}) from {address} with the code {code}",
        host_id=host_id,
        role=role,
        address=address,
        code=code,
    )
    return record


async def pending(storage, now) -> list[PairingRecord]:
    """Requests still waiting for an admin at ``now``, oldest first."""
    return [p for p in await storage.pairings() if p.approved_as is None and p.expires_at > now]


async def approve_pairing(storage, now, code, replaced=lambda token_hash: None) -> TokenRecord:
    """Approve the waiting request with ``code``: its daemon's own token starts working.

    The token is named ``<role>-<host_id>``; a ``sensor`` or ``control`` token
    is bound to that host, a ``user`` or ``admin`` one (the web UI's) to none.
    An earlier token of that name (the host paired before) is replaced, and
    ``replaced(its hash)`` lets the caller forget it at once; an unbound one
    only if it too was made by pairing, as nothing else says it is that host's.
    """
    request = await _waiting(storage, now, code)
    name = f"{request.role}-{request.host_id}"
    host_id = request.host_id if request.role in HOST_ROLES else None
    record = TokenRecord(
        name=name,
        role=request.role,
        token_hash=request.token_hash,
        created_at=now,
        host_id=host_id,
        peer_secret=request.peer_secret,
    )
    earlier = await storage.token(name)
    if earlier is not None:
        if (
            earlier.role != request.role
            or earlier.host_id != host_id
            or (host_id is None and earlier.peer_secret is None)
        ):
            raise AdminError(409, f"a token named {name!r} exists that is not this host's {request.role} token")
        await storage.delete_token(name)  # the host paired again: its new token replaces the old
        replaced(earlier.token_hash)
        log.info("token {name!r} replaced: its host paired again", name=name)
    if not await storage.approve_pairing(request.pair_id, record):
        raise AdminError(409, f"the request with the code {code} could not be approved; ask the host to pair again")
    log.info(
        "pairing of {host_id!r} approved as token {name!r} with the role {role!r}",
        host_id=request.host_id,
        name=name,
        role=request.role,
    )
    return record


async def reject_pairing(storage, now, code) -> PairingRecord:
    """Forget the waiting request with ``code``."""
    request = await _waiting(storage, now, code)
    await storage.delete_pairing(request.pair_id)
    log.info("pairing request {code} of {host_id!r} rejected", code=code, host_id=request.host_id)
    return request


async def _waiting(storage, now, code):
    for request in await pending(storage, now):
        if secrets.compare_digest(request.code, code.upper()):
            return request
    raise AdminError(404, f"no waiting pairing request has the code {code}")


async def first_admin_token(storage, now, data_dir: Path) -> Path | None:
    """With no admin token at all (the first start): make ``admin`` and write it to a 0600 file.

    Returns the file's path, or None when an admin token exists already.  The
    file is written (and synced) before the token is stored, so a full disk
    never leaves an admin token nobody has.  The token is never logged.
    """
    if any(record.role == "admin" for record in await storage.tokens()):
        return None
    path = Path(data_dir) / ADMIN_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
        file.flush()
        os.fsync(file.fileno())
    record = TokenRecord(name="admin", role="admin", token_hash=token_hash(token), created_at=now)
    if not await storage.put_token(record):
        temporary.unlink()
        raise AdminError(409, "a token named 'admin' exists but is no admin token; revoke it and start again")
    os.replace(temporary, path)
    return path
