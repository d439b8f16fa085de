"""What people type or paste into rooms, checked before it reaches the database.

Every refusal is a RoomError whose message is one plain sentence for the person who typed it.
Tokens are random, 128+ bits, URL-safe; the database keeps only their SHA-256, so a copy of the
database does not open anyone's link.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

NAME_CHARS = 40  # a participant's display name
ROOM_NAME_CHARS = 80
MAX_ITEMS = 60  # exercises + snippets in one room
ITEM_ID_CHARS = 200
TOKEN_BYTES = 18  # 24 URL-safe characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ROOM_CODE = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


class RoomError(ValueError):
    """A refusal with a message for the person (bad input, a dead link, a limit)."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_room_code() -> str:
    return secrets.token_urlsafe(6)  # 8 characters: public, but not guessable in bulk


RECOVERY_GROUPS = 4  # of 5 base32 characters: 100 bits, typed from paper if need be
_RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5 * RECOVERY_GROUPS))
    return "-".join(chars[i:i + 5] for i in range(0, len(chars), 5))


def recovery_key(code: object) -> str:
    """The recovery code as hashed: capitals, no spaces or dashes; RoomError if malformed."""
    if isinstance(code, str) and len(code) <= 64:
        key = "".join(code.split()).replace("-", "").upper()
        if len(key) == 5 * RECOVERY_GROUPS and all(c in _RECOVERY_ALPHABET for c in key):
            return "recovery:" + key
    raise RoomError("This recovery code is not valid: it is four groups of five letters and "
                    "digits, as shown when the room was created.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checked_token(token: object, what: str = "link") -> str:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise RoomError(f"This {what} is not valid: check that it was copied whole.")
    return token


def checked_room_code(code: object) -> str:
    if not isinstance(code, str) or not _ROOM_CODE.match(code):
        raise RoomError("This room link is not valid: check that it was copied whole.")
    return code


def clean_text(value: object, limit: int, what: str) -> str:
    """One line of text: normalised, no control or formatting characters, within limit."""
    if not isinstance(value, str):
        raise RoomError(f"The {what} must be text.")
    text = unicodedata.normalize("NFC", value)
    # Control, format (bidi overrides, zero-width), surrogates, private use, unassigned: dropped.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise RoomError(f"The {what} is empty.")
    if len(text) > limit:
        raise RoomError(f"The {what} is {len(text)} characters long; at most {limit}.")
    return text


def display_name(value: object) -> str:
    return clean_text(value, NAME_CHARS, "display name")


def room_name(value: object) -> str:
    return clean_text(value, ROOM_NAME_CHARS, "room name")


def checked_code(code: object, limit_bytes: int) -> str:
    if not isinstance(code, str):
        raise RoomError("The code must be text.")
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > limit_bytes:
        raise RoomError(f"The code is {size / 1024:.0f} KiB; the limit is "
                        f"{limit_bytes / 1024:.0f} KiB.")
    return code


def checked_item_id(item_id: object) -> str:
    if not isinstance(item_id, str) or not item_id or len(item_id) > ITEM_ID_CHARS:
        raise RoomError("That exercise or snippet does not exist.")
    return item_id
