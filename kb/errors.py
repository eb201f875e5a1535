"""The errors kb raises, in one tree. Every error carries a stable ``code`` and, where it applies, the
``field`` (an input field or a file name) it is about. The CLI and the API each have one handler that turns
them into an exit code or a JSON response.

KBError
├── InputError                  bad input from the user (400 / exit 2)
│   ├── QueryError              empty, too long or meaningless query; unknown mode; bad filter
│   └── NotFoundError           unknown document, page or index (404)
├── DocumentError               one file could not be ingested (named); the run goes on
│   ├── EncryptedError          password-protected PDF
│   ├── NoTextError             image-only PDF or a file without text (suggest OCR)
│   ├── BrokenFileError         corrupt or truncated file
│   ├── EmptyFileError          zero bytes or only whitespace
│   ├── UnsupportedTypeError    neither PDF, HTML, text, Markdown nor BEIR JSON Lines
│   ├── EncodingError           text whose encoding cannot be determined
│   └── LimitError              the parser went past its time or memory limit, or the file is too large
├── KBIndexError                 the index on disk
│   ├── NoIndexError            no index at that place (run `kb ingest`)
│   ├── IndexMismatchError      index built with another model, dimension or format version
│   └── StorageError            the index could not be written (disk full, permissions); previous one kept
├── ModelError                  the embedding model cannot be built or loaded
└── AuthError                   a write without a valid API key (401/403)
"""

from __future__ import annotations


class KBError(Exception):
    """Base of every error kb raises on purpose."""

    code = "kb_error"
    status = 500
    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "message": self.message, "field": self.field}


class InputError(KBError):
    code = "bad_input"
    status = 400
    exit_code = 2


class QueryError(InputError):
    code = "bad_query"


class NotFoundError(InputError):
    code = "not_found"
    status = 404


class DocumentError(KBError):
    """One input file failed; ``field`` is the file name."""

    code = "bad_document"
    status = 422
    exit_code = 1


class EncryptedError(DocumentError):
    code = "encrypted"


class NoTextError(DocumentError):
    code = "no_text"


class BrokenFileError(DocumentError):
    code = "broken_file"


class EmptyFileError(DocumentError):
    code = "empty_file"


class UnsupportedTypeError(DocumentError):
    code = "unsupported_type"
    status = 415


class EncodingError(DocumentError):
    code = "bad_encoding"


class LimitError(DocumentError):
    code = "limit_exceeded"
    status = 413


class KBIndexError(KBError):
    code = "index_error"
    status = 503
    exit_code = 3


class NoIndexError(KBIndexError):
    code = "no_index"


class IndexMismatchError(KBIndexError):
    code = "index_mismatch"


class StorageError(KBIndexError):
    code = "storage_error"
    status = 507


class ModelError(KBError):
    code = "model_error"
    status = 503
    exit_code = 4


class AuthError(KBError):
    code = "unauthorized"
    status = 401
    exit_code = 2


DOCUMENT_ERRORS: dict[str, type[DocumentError]] = {
    cls.code: cls
    for cls in (
        DocumentError,
        EncryptedError,
        NoTextError,
        BrokenFileError,
        EmptyFileError,
        UnsupportedTypeError,
        EncodingError,
        LimitError,
    )
}


def document_error(code: str, message: str, field: str | None = None) -> DocumentError:
    """Rebuild a DocumentError from its code (used across the parser's process boundary)."""
    return DOCUMENT_ERRORS.get(code, DocumentError)(message, field=field)
