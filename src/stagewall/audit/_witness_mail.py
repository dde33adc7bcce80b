"""An auditor's mailbox as a witness: the signed checkpoint, mailed out of band.

A mail holds the log's signed checkpoint note between two marker lines. The auditor
keeps the mails; any one of them, saved as a file (the raw ``.eml`` or the text),
is a checkpoint ``stagewall audit verify --checkpoint MAIL`` checks the log against:
same root at that size, or an RFC 9162 consistency proof to the longer log; a log
shorter than a mailed checkpoint fails (truncated). Nothing the operator does later
reaches into the auditor's mailbox.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from stagewall.errors import CheckpointNotFound

BEGIN = "-----BEGIN STAGEWALL CHECKPOINT-----"
END = "-----END STAGEWALL CHECKPOINT-----"
_HEADER = re.compile(r"^[A-Za-z0-9-]+:[ \t]")


def mail_text(note: str, *, origin: str, size: int) -> str:
    """The mail body: what it is, how to check it, and the note between markers."""
    return (
        f"The stagewall audit log {origin} had {size} events; its signed checkpoint "
        "follows. Keep this mail: it is your independent copy.\n"
        "To check the log against it later (offline, with the log's public key you "
        "obtained out of band), save this mail to a file and run:\n\n"
        "  stagewall audit verify --bundle BUNDLE --public-key LOG.pub --checkpoint MAIL.eml\n\n"
        "It fails if the log is shorter than this checkpoint or does not extend it.\n\n"
        f"{BEGIN}\n{note}{END}\n"
    )


def _between_markers(text: str) -> str | None:
    start = text.find(BEGIN + "\n")
    if start < 0:
        return None
    start += len(BEGIN) + 1
    end = text.find(END, start)
    return None if end < 0 else text[start:end]


def note_from_text(text: str, *, source: str) -> str:
    """The checkpoint note in ``text``: a bare note, text with markers, or a whole mail."""
    text = text.replace("\r\n", "\n")
    if _HEADER.match(text):  # a whole mail: its body may be quoted-printable or base64
        msg = email.message_from_string(text, policy=email.policy.default)
        if isinstance(msg, EmailMessage):
            part = msg.get_body(preferencelist=("plain",))
            if part is not None:
                body = str(part.get_content()).replace("\r\n", "\n")
                found = _between_markers(body)
                if found is not None:
                    return found
        raise CheckpointNotFound(f"{source} is a mail without a stagewall checkpoint in it")
    found = _between_markers(text)
    return text if found is None else found


__all__ = ["BEGIN", "END", "mail_text", "note_from_text"]
