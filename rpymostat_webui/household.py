"""The household password, the one-time setup code and the session key, kept in the data dir.

Whoever reaches the UI first must not be able to claim the house, so an
unprovisioned UI accepts a new password only together with a setup code
the daemon wrote (mode 0600) to its data directory and logged: somebody
with a shell on the UI's host, not somebody on the Wi-Fi.  A password given
in the environment (``RPYMOSTAT_WEBUI_PASSWORD`` / ``_FILE``, for Puppet and
Docker) wins and needs no setup.  Only a hash is ever written, with
Werkzeug's maintained KDF (scrypt); checks are constant-time.

Files (all 0600 from the moment they exist): ``webui-password`` (the hash),
``webui-setup-code`` (deleted once used), ``webui-session-key`` (signs the
session cookies, so logins survive restarts; deleting it logs everybody out).
"""

import hashlib
import hmac
import secrets
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from rpymostat.protocol.private_files import write_private

PASSWORD_FILE = "webui-password"
SETUP_CODE_FILE = "webui-setup-code"
SESSION_KEY_FILE = "webui-session-key"

#: Letters and digits a person reads off a log line without confusing them (no 0/O, 1/I/L).
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_PASSWORD_LENGTH = 8


class PasswordRejected(ValueError):
    """A new password that does not meet the rules; the message says which."""


def check_new_password(password: str, repeated: str) -> None:
    """Raise :class:`PasswordRejected` unless ``password`` is long enough and typed twice alike."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password != repeated:
        raise PasswordRejected("the two passwords differ")


class Household:
    """Who may log in: the provisioned password, or the stored hash, or (until set) the setup code."""

    def __init__(self, data_dir: Path, provisioned: str | None = None):
        self._dir = Path(data_dir)
        self._provisioned_hash = generate_password_hash(provisioned) if provisioned else None
        # What a session is bound to: changes when the password does, not at every restart.
        self._provisioned_mark = (
            hashlib.sha256(b"provisioned\0" + provisioned.encode()).hexdigest() if provisioned else None
        )
        self._stored_hash = self._read(PASSWORD_FILE)
        self._session_key: bytes | None = None

    @property
    def provisioned(self) -> bool:
        """Whether the password comes from the environment (then it cannot be changed here)."""
        return self._provisioned_hash is not None

    @property
    def needs_setup(self) -> bool:
        """No password yet: the first visit must set one, with the setup code."""
        return self._provisioned_hash is None and self._stored_hash is None

    def setup_code(self) -> str | None:
        """The one-time code, made and written on first need; None once a password exists."""
        if not self.needs_setup:
            return None
        code = self._read(SETUP_CODE_FILE)
        if not code:
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
            write_private(self._dir / SETUP_CODE_FILE, f"{code}\n".encode())
        return code

    @property
    def setup_code_path(self) -> Path:
        return self._dir / SETUP_CODE_FILE

    def set_up(self, code: str, password: str, repeated: str) -> None:
        """Set the first password; refuses a wrong code (PasswordRejected) or a password already set."""
        expected = self.setup_code()
        if expected is None:
            raise PasswordRejected("a household password is already set")
        typed = code.strip().upper().replace(" ", "").replace("-", "")
        if not hmac.compare_digest(typed.encode(), expected.encode()):
            raise PasswordRejected("that is not the setup code; it is in the file the web UI logged")
        self.change(password, repeated)
        self.setup_code_path.unlink(missing_ok=True)

    def change(self, password: str, repeated: str) -> None:
        """Replace the stored password (not a provisioned one: that belongs to Puppet or Docker)."""
        if self.provisioned:
            raise PasswordRejected("the password is set by RPYMOSTAT_WEBUI_PASSWORD; change it there")
        check_new_password(password, repeated)
        hashed = generate_password_hash(password)
        write_private(self._dir / PASSWORD_FILE, f"{hashed}\n".encode())
        self._stored_hash = hashed

    def check(self, password: str) -> bool:
        """Whether ``password`` is the household's (always False before setup)."""
        hashed = self._provisioned_hash or self._stored_hash
        return hashed is not None and check_password_hash(hashed, password)

    def generation(self) -> str | None:
        """A mark of the password in force: sessions carry it, so changing the password ends them all.

        It is a keyed digest of the stored hash (or of the provisioned
        password), so a cookie reveals nothing of either; None before setup.
        """
        source = self._provisioned_mark or self._stored_hash
        if source is None:
            return None
        return hmac.new(self.session_key(), source.encode(), hashlib.sha256).hexdigest()[:32]

    def session_key(self) -> bytes:
        """The key that signs session cookies: made once and kept in the data dir, read once per start.

        Read once, so the cookies' signature and the sessions' password mark
        always use the same key, even if the file is deleted while running
        (everybody is then logged out at the next start, as documented).
        """
        if self._session_key is None:
            stored = self._read(SESSION_KEY_FILE)
            if stored:
                self._session_key = bytes.fromhex(stored)
            else:
                self._session_key = secrets.token_bytes(32)
                write_private(self._dir / SESSION_KEY_FILE, f"{self._session_key.hex()}\n".encode())
        return self._session_key

    def _read(self, name: str) -> str | None:
        try:
            return (self._dir / name).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
