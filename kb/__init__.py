"""kb — bilingual (French/English) search over policy documents with exact citations.

The public API is a few verbs returning dataclasses::

    from kb import Settings, load_embedder, ingest, open_index, search
    settings = Settings(index_dir=Path("index"))
    embedder = load_embedder(settings)
    report = ingest([Path("corpus")], settings, embedder)
    index = open_index(settings, embedder)
    result = search(index, "Which objectives does France Biolead set for 2030?")

Importing kb does no I/O and reads no environment variables.
"""

from kb.backend import Change, IndexBackend, IndexReader, backend_for, open_index
from kb.builder import build_generation as build
from kb.chunking import chunk
from kb.embedding import Embedder, load_embedder
from kb.engine import load, search
from kb.errors import KBError
from kb.ingest import ingest
from kb.loaders import parse
from kb.settings import Settings, resolve
from kb.types import Chunk, Citation, Document, Filters, Hit, IngestReport, SearchResult

__all__ = [
    "Change", "Chunk", "Citation", "Document", "Embedder", "Filters", "Hit", "IndexBackend", "IndexReader",
    "IngestReport", "KBError", "SearchResult", "Settings", "backend_for", "build", "chunk", "ingest", "load",
    "load_embedder", "open_index", "parse", "resolve", "search",
]  # fmt: skip
__version__ = "0.1.0"
