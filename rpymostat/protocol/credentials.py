"""What a daemon holds to talk to its engine: its token, and the secret to check the engine.

A paired daemon keeps its token, the token's name on the engine and the
pairing secret in ``<data dir>/engine-credentials.json`` (docs/security.rst).
The file is the only copy of the token (the engine keeps its hash), so it is
written atomically (a crash leaves the old file or the new one, never half of
one) and readable by the daemon's user only from the moment it exists.  A
file that cannot be read is logged and treated as absent: the daemon pairs
again rather than failing to start.  A token the engine refused is moved
aside, not deleted, so an admin can still see which one it was.

A token given by hand (``RPYMOSTAT_TOKEN`` or ``RPYMOSTAT_TOKEN_FILE``) wins
over the stored file.  It comes without a name or secret, so a daemon using
one cannot check the engine's identity.
"""

import dataclasses
import json
import os
from pathlib import Path

from twisted.logger import Logger

from rpymostat.protocol.private_files import write_private
from rpymostat.protocol.settings import Setting

log = Logger()

#: The file in the data directory that holds a paired daemon's credentials.
#: Every function here takes another ``file_name``, for two daemons (a sensor
#: host's and a relay unit's, each with its own token) sharing a data directory.
CREDENTIALS_FILE = "engine-credentials.json"

#: Appended to :data:`CREDENTIALS_FILE` when the engine refused the token in it.
REVOKED_SUFFIX = ".revoked"


@dataclasses.dataclass(frozen=True)
class Credentials:
    """A bearer ``token``; ``name`` and ``secret`` are None for a token given by hand.

    The representation hides the token and secret, so a stray log line or
    traceback never shows them.
    """

    token: str
    name: str | None = None
    secret: str | None = None
    fingerprint: str | None = None
    """SHA-256 (hex) of the engine's TLS certificate seen at pairing, pinned from then on
    (None: the engine spoke plain HTTP, or the token was given by hand)."""

    @property
    def checks_engine(self) -> bool:
        """Whether these credentials can ask an engine to prove it is the one paired with."""
        return self.name is not None and self.secret is not None

    def __repr__(self) -> str:
        secret = "None" if self.secret is None else "'...'"
        return f"Credentials(token='...', name={self.name!r}, secret={secret})"


def credentials_path(data_dir, file_name: str = CREDENTIALS_FILE) -> Path:
    """Where :func:`save` writes and :func:`load` reads."""
    return Path(data_dir) / file_name


def load(data_dir, file_name: str = CREDENTIALS_FILE) -> Credentials | None:
    """The stored credentials, or None if there are none or they cannot be read (logged)."""
    path = credentials_path(data_dir, file_name)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return _from_document(document)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        log.error(
            "ignoring the stored engine credentials in {path}: {error}; this host will pair again",
            path=str(path),
            error=error,
        )
        return None


def _from_document(document) -> Credentials:
    """Credentials from the file's JSON object; ValueError if it is not one we wrote."""
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    token, name, secret = document.get("token"), document.get("name"), document.get("secret")
    if not isinstance(token, str) or not _is_token(token):
        raise ValueError("no valid token")
    if (name is None) != (secret is None) or not all(v is None or (isinstance(v, str) and v) for v in (name, secret)):
        raise ValueError("name and secret must both be non-empty strings, or both absent")
    fingerprint = document.get("fingerprint")
    if fingerprint is not None and not (isinstance(fingerprint, str) and len(fingerprint) == 64):
        raise ValueError("fingerprint must be a SHA-256 in hex, or absent")
    return Credentials(token, name, secret, fingerprint)


def save(data_dir, credentials: Credentials, file_name: str = CREDENTIALS_FILE) -> Path:
    """Store ``credentials`` atomically, mode 0600 from creation; returns the file's path."""
    content = json.dumps(dataclasses.asdict(credentials), indent=2).encode("utf-8") + b"\n"
    return write_private(credentials_path(data_dir, file_name), content)


def forget(data_dir, file_name: str = CREDENTIALS_FILE) -> Path | None:
    """Move the stored credentials aside (never used again); returns where, or None if none."""
    path = credentials_path(data_dir, file_name)
    revoked = path.with_name(path.name + REVOKED_SUFFIX)
    try:
        os.replace(path, revoked)
    except FileNotFoundError:
        return None
    return revoked


def hand_given(token: str | None = None, token_file: Path | None = None) -> Credentials | None:
    """The token given in settings (``token`` wins over ``token_file``), or None.

    The file is read now, not when the settings were parsed, so a file
    rotated by an admin is picked up at the next start; ValueError if it is
    unreadable or holds no valid token.
    """
    if token:
        return Credentials(parse_token(token))
    if token_file is not None:
        return Credentials(read_token_file(token_file))
    return None


def initial(
    data_dir, token: str | None = None, token_file: Path | None = None, file_name: str = CREDENTIALS_FILE
) -> Credentials | None:
    """What a daemon starts with: a token given by hand, else the stored credentials, else None."""
    return hand_given(token, token_file) or load(data_dir, file_name)


# Settings shared by every daemon that talks to the engine with a token.


def _is_token(text: str) -> bool:
    """Visible ASCII without spaces: what fits in an ``Authorization`` header unchanged."""
    return bool(text) and all("!" <= character <= "~" for character in text)


def parse_token(text: str) -> str:
    """A bearer token as given in ``RPYMOSTAT_TOKEN`` (surrounding blanks ignored)."""
    token = text.strip()
    if not _is_token(token):
        raise ValueError("expected a token: visible ASCII characters without spaces")
    return token


def read_token_file(path) -> str:
    """The token in the file at ``path`` (its stripped content); ValueError if none."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the token file {str(path)!r}: {error}") from None
    return parse_token(content)


def parse_token_file(text: str) -> Path:
    """A file holding a token, checked now so a bad one stops the daemon at once."""
    path = Path(os.path.expanduser(text))
    read_token_file(path)
    return path


#: The rows of a daemon's settings table for a token given by hand; its
#: config dataclass needs the fields ``token`` and ``token_file``.
TOKEN_SETTINGS = (
    Setting(
        "RPYMOSTAT_TOKEN",
        "token",
        "token",
        parse_token,
        "a token made on the engine, used instead of pairing (never shown: --show-config hides it)",
        secret=True,
    ),
    Setting(
        "RPYMOSTAT_TOKEN_FILE",
        "token_file",
        "file",
        parse_token_file,
        "a file holding such a token (RPYMOSTAT_TOKEN wins); unset with both: pair with the engine",
    ),
)
