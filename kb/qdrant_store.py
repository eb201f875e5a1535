"""The few Qdrant operations kb needs, over Qdrant Edge (in process) or a Qdrant server (qdrant-client).

Both take the same neutral filter (:class:`Cond`) and return plain tuples, so :mod:`kb.qdrant` is written
once. One collection (Edge: one shard folder) per index holds the passages (a dense ``dense`` vector and a
sparse ``bm25`` one) and, without vectors, the documents, pages, sources and the index's ``meta`` record.

Qdrant Edge opens a shard once per process (its write-ahead log is locked): shards are shared through
:func:`edge_shard`, and a second process cannot open one that a running `kb serve` holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = tuple[Any, dict[str, Any], dict[str, Any]]  # id, vectors, payload
HNSW_M, HNSW_EF_CONSTRUCT, FULL_SCAN_KB = 32, 100, 10_000  # graph links, build breadth, brute force below (KB)
INDEXED = {"rec": "keyword", "doc_id": "keyword", "language": "keyword", "text_hash": "keyword",
           "source_key": "keyword", "gen_added": "integer", "gen_removed": "integer"}  # fmt: skip


@dataclass
class Cond:
    """A filter: every ``must`` condition holds and no ``must_not`` one does. A condition is
    ("eq", key, value), ("any", key, [values]), ("le", key, number) or ("ids", None, [ids])."""

    must: list[tuple[str, str | None, Any]] = field(default_factory=list)
    must_not: list[tuple[str, str | None, Any]] = field(default_factory=list)

    def __and__(self, other: Cond) -> Cond:
        return Cond(self.must + other.must, self.must_not + other.must_not)


_SHARDS: dict[str, Any] = {}
_LOCK = threading.Lock()


def edge_shard(path: Path, dim: int | None) -> Any:
    """The process's one handle on the shard at ``path`` (created with dimension ``dim`` when missing)."""
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeShard,
        EdgeSparseVectorParams,
        EdgeVectorParams,
        HnswIndexConfig,
        Modifier,
    )  # fmt: skip

    key = str(path.resolve())
    with _LOCK:
        if key not in _SHARDS:
            if (path / "wal").exists():
                _SHARDS[key] = EdgeShard.load(key)
            elif dim is None:
                return None
            else:
                config = EdgeConfig(vectors={"dense": EdgeVectorParams(size=dim, distance=Distance.Cosine)},
                                    sparse_vectors={"bm25": EdgeSparseVectorParams(modifier=Modifier.Idf)},
                                    hnsw_config=HnswIndexConfig(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT,
                                                                full_scan_threshold=FULL_SCAN_KB))  # fmt: skip
                _SHARDS[key] = EdgeShard.create(key, config)
        return _SHARDS[key]


class EdgeStore:
    """A Qdrant Edge shard under the index folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shard = edge_shard(path, None)

    def ensure(self, dim: int) -> None:
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        if self.shard is None:
            self.shard = edge_shard(self.path, dim)
            kinds = {"keyword": PayloadSchemaType.Keyword, "integer": PayloadSchemaType.Integer}
            for name, kind in INDEXED.items():
                self.shard.update(UpdateOperation.create_field_index(name, kinds[kind]))

    def exists(self) -> bool:
        if self.shard is None:  # another store of this process may have built it since (shards are shared)
            self.shard = edge_shard(self.path, None)
        return self.shard is not None

    def upsert(self, records: list[Record]) -> None:
        from qdrant_edge import Point, SparseVector, UpdateOperation

        def vec(v: dict[str, Any]) -> dict[str, Any]:
            return {k: SparseVector(indices=x[0], values=x[1]) if isinstance(x, tuple) else x for k, x in v.items()}

        self.shard.update(UpdateOperation.upsert_points([Point(i, vec(v), p) for i, v, p in records]))

    def set_payload(self, cond: Cond, payload: dict[str, Any]) -> None:
        from qdrant_edge import UpdateOperation

        self.shard.update(UpdateOperation.set_payload_by_filter(self._filter(cond), payload))

    def delete(self, cond: Cond) -> None:
        from qdrant_edge import UpdateOperation

        self.shard.update(UpdateOperation.delete_points_by_filter(self._filter(cond)))

    def nearest(self, using: str, vector: Any, k: int, cond: Cond, fields: list[str], ef: int | None = None,
                exact: bool = False) -> list[tuple[Any, float, dict[str, Any]]]:  # fmt: skip
        from qdrant_edge import PayloadSelector, Query, QueryRequest, SearchParams, SparseVector

        q = SparseVector(indices=vector[0], values=vector[1]) if isinstance(vector, tuple) else vector
        params = SearchParams(hnsw_ef=ef, exact=exact) if ef or exact else None
        req = QueryRequest(limit=k, query=Query.Nearest(q, using=using), filter=self._filter(cond),
                           with_payload=PayloadSelector.Include(fields), params=params)  # fmt: skip
        return [(p.id, float(p.score), p.payload or {}) for p in self.shard.query(req)]

    def retrieve(self, ids: list[Any], vectors: bool = False) -> list[Record]:
        return [(r.id, r.vector or {}, r.payload or {}) for r in self.shard.retrieve(ids, True, vectors)]

    def scroll(self, cond: Cond, limit: int, offset: Any = None, vectors: bool = False) -> tuple[list[Record], Any]:
        from qdrant_edge import ScrollRequest

        req = ScrollRequest(
            offset=offset, limit=limit, filter=self._filter(cond), with_payload=True, with_vector=vectors
        )
        recs, nxt = self.shard.scroll(req)
        return [(r.id, r.vector or {}, r.payload or {}) for r in recs], nxt

    def count(self, cond: Cond) -> int:
        from qdrant_edge import CountRequest

        return int(self.shard.count(CountRequest(exact=True, filter=self._filter(cond))))

    def facet(self, key: str, cond: Cond, limit: int = 100) -> list[tuple[Any, int]]:
        from qdrant_edge import FacetRequest

        return [(h.value, int(h.count)) for h in self.shard.facet(FacetRequest(key=key, limit=limit, exact=True,
                                                                                 filter=self._filter(cond))).hits]  # fmt: skip

    def optimize(self) -> None:
        self.shard.optimize()

    def flush(self) -> None:
        self.shard.flush()

    @staticmethod
    def _filter(cond: Cond) -> Any:
        from qdrant_edge import FieldCondition, Filter, HasIdCondition, MatchAny, MatchValue, RangeFloat

        def one(c: tuple[str, str | None, Any]) -> Any:
            op, key, value = c
            if op == "ids":
                return HasIdCondition(set(value))
            field = str(key)
            if op == "le":
                return FieldCondition(key=field, range=RangeFloat(lte=float(value)))
            return FieldCondition(key=field, match=MatchValue(value) if op == "eq" else MatchAny(list(value)))

        if not cond.must and not cond.must_not:
            return None
        return Filter(must=[one(c) for c in cond.must] or None, must_not=[one(c) for c in cond.must_not] or None)


class ServerStore:
    """A collection on a Qdrant server or cluster, reached through the alias named like the index."""

    def __init__(self, url: str, api_key: str | None, name: str, shards: int, replicas: int) -> None:
        from qdrant_client import QdrantClient

        self.client = QdrantClient(url=url, api_key=api_key, timeout=60)
        self.name, self.shards, self.replicas = name, shards, replicas

    def exists(self) -> bool:
        return bool(self.client.collection_exists(self.name))

    def ensure(self, dim: int) -> None:
        """Create the collection ``<name>-1`` and the alias ``<name>`` to it (a rebuild would switch the alias)."""
        from qdrant_client import models as m

        if self.exists():
            return
        real = f"{self.name}-1"
        self.client.create_collection(
            real, vectors_config={"dense": m.VectorParams(size=dim, distance=m.Distance.COSINE)},
            sparse_vectors_config={"bm25": m.SparseVectorParams(modifier=m.Modifier.IDF)},
            shard_number=self.shards, replication_factor=self.replicas,
            hnsw_config=m.HnswConfigDiff(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_KB),
        )  # fmt: skip
        kinds = {"keyword": m.PayloadSchemaType.KEYWORD, "integer": m.PayloadSchemaType.INTEGER}
        for name, kind in INDEXED.items():
            self.client.create_payload_index(real, name, kinds[kind])
        self.client.update_collection_aliases(change_aliases_operations=[
            m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=real, alias_name=self.name))])  # fmt: skip

    def upsert(self, records: list[Record]) -> None:
        from qdrant_client import models as m

        def vec(v: dict[str, Any]) -> dict[str, Any]:
            return {k: m.SparseVector(indices=x[0], values=x[1]) if isinstance(x, tuple) else x for k, x in v.items()}

        self.client.upsert(self.name, [m.PointStruct(id=i, vector=vec(v), payload=p) for i, v, p in records], wait=True)

    def set_payload(self, cond: Cond, payload: dict[str, Any]) -> None:
        self.client.set_payload(self.name, payload=payload, points=self._filter(cond), wait=True)

    def delete(self, cond: Cond) -> None:
        from qdrant_client import models as m

        self.client.delete(self.name, points_selector=m.FilterSelector(filter=self._filter(cond)), wait=True)

    def nearest(self, using: str, vector: Any, k: int, cond: Cond, fields: list[str], ef: int | None = None,
                exact: bool = False) -> list[tuple[Any, float, dict[str, Any]]]:  # fmt: skip
        from qdrant_client import models as m

        q = m.SparseVector(indices=vector[0], values=vector[1]) if isinstance(vector, tuple) else vector
        params = m.SearchParams(hnsw_ef=ef, exact=exact) if ef or exact else None
        res = self.client.query_points(self.name, query=q, using=using, query_filter=self._filter(cond), limit=k,
                                       with_payload=fields, search_params=params)  # fmt: skip
        return [(p.id, float(p.score), p.payload or {}) for p in res.points]

    def retrieve(self, ids: list[Any], vectors: bool = False) -> list[Record]:
        recs = self.client.retrieve(self.name, ids, with_vectors=vectors)
        return [(r.id, dict(r.vector or {}), r.payload or {}) for r in recs]  # type: ignore[arg-type]

    def scroll(self, cond: Cond, limit: int, offset: Any = None, vectors: bool = False) -> tuple[list[Record], Any]:
        recs, nxt = self.client.scroll(self.name, scroll_filter=self._filter(cond), limit=limit, offset=offset,
                                       with_payload=True, with_vectors=vectors)  # fmt: skip
        return [(r.id, dict(r.vector or {}), r.payload or {}) for r in recs], nxt  # type: ignore[arg-type]

    def count(self, cond: Cond) -> int:
        return int(self.client.count(self.name, count_filter=self._filter(cond), exact=True).count)

    def facet(self, key: str, cond: Cond, limit: int = 100) -> list[tuple[Any, int]]:
        res = self.client.facet(self.name, key=key, facet_filter=self._filter(cond), limit=limit, exact=True)
        return [(h.value, int(h.count)) for h in res.hits]

    def optimize(self) -> None:  # the server's optimizers run by themselves
        pass

    def flush(self) -> None:
        pass

    @staticmethod
    def _filter(cond: Cond) -> Any:
        from qdrant_client import models as m

        def one(c: tuple[str, str | None, Any]) -> Any:
            op, key, value = c
            if op == "ids":
                return m.HasIdCondition(has_id=list(value))
            field = str(key)
            if op == "le":
                return m.FieldCondition(key=field, range=m.Range(lte=float(value)))
            match = m.MatchValue(value=value) if op == "eq" else m.MatchAny(any=list(value))
            return m.FieldCondition(key=field, match=match)

        if not cond.must and not cond.must_not:
            return None
        return m.Filter(must=[one(c) for c in cond.must] or None, must_not=[one(c) for c in cond.must_not] or None)
