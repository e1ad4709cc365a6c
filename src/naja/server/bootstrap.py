"""First start: the schema is brought up to date and an admin account is made.

`NAJA_SERVER_ADMIN_TOKEN=T` at first start makes T an API key of the admin; without it a
password is generated and printed once (only its argon2 hash is stored).
"""

from __future__ import annotations

import os

from sqlalchemy import func, select

from naja.server import audit
from naja.server.migrate import upgrade
from naja.server.models import ApiKey, User
from naja.server.security import hash_password, new_password, token_hash

ADMIN_TOKEN_ENV = "NAJA_SERVER_ADMIN_TOKEN"
ADMIN_PASSWORD_ENV = "NAJA_SERVER_ADMIN_PASSWORD"


def prepare(state, *, say=print) -> None:
    upgrade(state.db.engine)
    ensure_admin(state, say=say)


def ensure_admin(state, *, say=print) -> None:
    token = os.environ.get(ADMIN_TOKEN_ENV, "")
    password = os.environ.get(ADMIN_PASSWORD_ENV, "")
    with state.db.session() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return
        generated = not password and not token
        if generated:
            password = new_password()
        admin = User(username="admin", is_admin=True, password_hash=hash_password(password) if password else None)
        s.add(admin)
        s.flush()
        if token:
            s.add(ApiKey(user_id=admin.id, key_hash=token_hash(token), prefix=token[:10],
                         description="from NAJA_SERVER_ADMIN_TOKEN", scopes="manage read write"))
        audit.record(s, "system", "user.create", target="admin", detail="admin")
        s.commit()
    if generated:
        say(f"naja server: created user 'admin' with password {password} (shown only once)")
    elif token:
        say(f"naja server: created user 'admin' with the API key from {ADMIN_TOKEN_ENV}")
