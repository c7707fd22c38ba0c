"""Writing a file only this user may read, whole or not at all.

Tokens, pairing secrets, a password hash and the key that signs sessions
are kept in the data directory.  Each is written to a uniquely named
temporary file created with mode 0600 (never readable by others, not even
for an instant), synced, then renamed over the old one: a crash leaves the
old file or the new one, never half of one, and two writers never share a
temporary file.
"""

import os
import secrets
from pathlib import Path


def write_private(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` atomically, mode 0600 from creation; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
