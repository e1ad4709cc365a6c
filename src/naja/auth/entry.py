"""One stored credential, and its JSON form (the same as rattler/pixi's credentials.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from naja.auth.errors import AuthError

Kind = Literal["bearer", "basic", "conda_token", "s3"]


@dataclass(frozen=True)
class AuthEntry:
    """A credential. `repr` and `str` never show the secret parts."""

    kind: Kind
    token: str | None = None
    username: str | None = None
    password: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:
        who = f", username={self.username!r}" if self.username else ""
        if self.access_key_id:
            who = f", access_key_id={self.access_key_id[:4]}…"
        return f"AuthEntry({self.kind}{who}, secret=********)"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """Every secret string in this entry (for leak checks and redaction)."""
        return [
            s for s in (self.token, self.password, self.secret_access_key, self.session_token) if s
        ]

    def to_json(self) -> dict[str, Any]:
        """rattler's credentials.json value for this entry."""
        if self.kind == "bearer":
            return {"BearerToken": self.token}
        if self.kind == "conda_token":
            return {"CondaToken": self.token}
        if self.kind == "basic":
            return {"BasicHTTP": {"username": self.username, "password": self.password}}
        data = {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}
        if self.session_token:
            data["session_token"] = self.session_token
        return {"S3Credentials": data}

    @classmethod
    def from_json(cls, data: Any, where: str = "credential") -> AuthEntry:
        """Read rattler's form (also accepted: mamba's `{"type": ..., "token": ...}`)."""
        if isinstance(data, dict) and len(data) == 1:
            ((key, value),) = data.items()
            if key == "BearerToken" and isinstance(value, str):
                return cls("bearer", token=value)
            if key == "CondaToken" and isinstance(value, str):
                return cls("conda_token", token=value)
            if key == "BasicHTTP" and isinstance(value, dict):
                return cls("basic", username=value.get("username"), password=value.get("password"))
            if key == "S3Credentials" and isinstance(value, dict):
                return cls(
                    "s3",
                    access_key_id=value.get("access_key_id"),
                    secret_access_key=value.get("secret_access_key"),
                    session_token=value.get("session_token"),
                )
        if isinstance(data, dict) and "type" in data:
            kind = data["type"]
            if kind == "BearerToken":
                return cls("bearer", token=data.get("token"))
            if kind == "CondaToken":
                return cls("conda_token", token=data.get("token"))
            if kind in ("BasicHTTPAuthentication", "BasicHTTP"):
                return cls("basic", username=data.get("user"), password=data.get("password"))
        raise AuthError(f"{where}: not a credential naja understands")

    def to_fetch(self) -> Any:
        """This entry as the download engine's `Credential` (None for S3, signed elsewhere)."""
        from naja.fetch.credentials import Credential

        if self.kind == "s3":
            return None
        if self.kind == "basic":
            return Credential("basic", username=self.username, password=self.password)
        return Credential(self.kind, token=self.token)
