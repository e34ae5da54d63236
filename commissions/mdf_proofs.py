"""Validation of MDF claim proof files: type by name and content, and size."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tenancy.errors import DomainError

MAX_PROOF_FILES = 10
# Extension → (content type, the bytes a file of that type starts with).
PROOF_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


@dataclass(frozen=True)
class CheckedProof:
    file: UploadedFile
    name: str
    content_type: str
    size: int


def max_proof_bytes() -> int:
    return settings.TRACK360_MDF_MAX_PROOF_BYTES


def proofs_check(files: list[UploadedFile]) -> list[CheckedProof]:
    """Return the files as proofs, or raise DomainError naming the first invalid one.

    A proof is a PDF, PNG or JPEG file whose content starts as that type does, of
    at most TRACK360_MDF_MAX_PROOF_BYTES bytes. A claim has 1 to 10 of them.
    """
    if not files:
        raise DomainError(
            "A claim needs at least one proof file.",
            field="files",
            value=None,
            fix="Attach the invoice or receipt as a PDF, PNG or JPEG file.",
        )
    if len(files) > MAX_PROOF_FILES:
        raise DomainError(
            f"A claim takes at most {MAX_PROOF_FILES} proof files; {len(files)} were sent.",
            field="files",
            value=len(files),
            fix="Combine the receipts into fewer files, such as one PDF.",
        )
    checked = []
    limit = max_proof_bytes()
    for upload in files:
        name = pathlib.Path(upload.name or "").name[:200]
        suffix = pathlib.Path(name).suffix.lower()
        if suffix not in PROOF_TYPES:
            raise DomainError(
                f"The proof file {name!r} is not a PDF, PNG or JPEG file.",
                field="files",
                value=name,
                fix="Upload the invoice or receipt as .pdf, .png, .jpg or .jpeg.",
            )
        if upload.size > limit:
            raise DomainError(
                f"The proof file {name!r} has {upload.size} bytes, more than the limit of "
                f"{limit} bytes.",
                field="files",
                value=name,
                fix="Upload a smaller scan or export of the document.",
            )
        content_type, signatures = PROOF_TYPES[suffix]
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        if not any(head.startswith(signature) for signature in signatures):
            raise DomainError(
                f"The proof file {name!r} is named {suffix} but its content is not {content_type}.",
                field="files",
                value=name,
                fix="Upload the document in the format its name says.",
            )
        checked.append(CheckedProof(upload, name, content_type, upload.size))
    return checked
