"""The ``kb`` command: ingest, docs, show, search, eval, serve, model. Settings come from flags or KB_* variables."""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from kb.errors import KBError
from kb.settings import Settings, resolve


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of a command: its flags over the KB_* variables (for commands that plug in, like serve)."""
    return _settings(args)


def _settings(args: argparse.Namespace) -> Settings:
    return resolve(
        os.environ,
        index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None),
        api_key=getattr(args, "api_key", None),
        index_backend=getattr(args, "backend", None),
        serve_workers=getattr(args, "workers", None),
    )


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from kb.embedding import load_embedder
    from kb.fetch import is_url
    from kb.ingest import ingest

    settings = _settings(args)
    urls = [p for p in args.paths if is_url(p)]
    paths = [Path(p) for p in args.paths if not is_url(p)] or ([] if urls else [settings.corpus_dir])
    report = ingest(paths, settings, load_embedder(settings), keep_deleted=args.keep_deleted, progress=_say, urls=urls)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for o in report.outcomes:
            if o.status == "failed":
                print(f"FAILED  {o.message}")
        print(
            f"documents: {report.count('added')} added, {report.count('updated')} updated, "
            f"{report.count('unchanged')} unchanged, {report.count('failed')} failed, {report.count('deleted')} deleted\n"
            f"index {settings.index_dir} ({report.generation or 'none'}): {report.documents} documents, "
            f"{report.pages} pages, {report.chunks} passages; languages {report.languages}"
        )
    ok = report.count("failed") < len(report.outcomes) or not report.outcomes
    return 0 if ok else 1


def _reader(settings: Settings) -> Any:
    from kb.backend import open_index
    from kb.embedding import load_embedder

    return open_index(settings, load_embedder(settings))


def cmd_docs(args: argparse.Namespace) -> int:
    docs = _reader(_settings(args)).documents()
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    for d in docs:
        print(
            f"{d['doc_id']:<40} {d['language']:<3} {d['n_pages']:>4} p {d['n_chunks']:>5} passages  {d['title'][:70]}"
        )
    print(f"{len(docs)} documents")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from kb.errors import NotFoundError

    index = _reader(_settings(args))
    doc = index.document(args.doc_id)
    if doc is None:
        raise NotFoundError(f"no document {args.doc_id!r}", field="doc_id")
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    passages = index.document_passages(args.doc_id)
    for n, size in index.page_sizes(args.doc_id):
        print(f"\n=== page {n} ({size} characters)")
        for c in (c for c in passages if c.page == n):
            print(f"--- {c.chunk_id} [{c.start}:{c.end}] {c.language} section={c.section!r}")
            print(c.text if args.full else c.text[:300] + ("…" if len(c.text) > 300 else ""))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from kb.engine import search
    from kb.types import Filters

    settings = _settings(args)
    index = _reader(settings)
    filters = Filters(args.lang, args.doc, args.source, args.date_from, args.date_to)
    opts = dict(k=args.k, mode=args.mode, filters=filters, highlight=args.highlight, explain=args.explain,
                max_chars=settings.limits.max_query_chars, max_k=settings.limits.max_k)  # fmt: skip
    if args.queries:
        return _batch(index, Path(args.queries), opts)
    if not args.query:
        raise KBError("give a query, or --queries FILE.jsonl")
    result = search(index, args.query, **opts)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(
        f"{len(result.hits)} passages for {result.query!r} ({result.query_language}, {result.mode}, {result.took_ms:.0f} ms)\n"
    )
    for h in result.hits:
        c = h.citation
        where = f"p. {c.page}" if c.page is not None else f"chars {c.start}-{c.end}"
        print(f"{h.rank}. [{h.score:.3f}] {c.title} — {c.publisher or '?'}, {c.date or 'n.d.'}, {where} ({c.language})")
        sentence = next((x for x in h.highlights if x.kind == "sentence"), None)
        shown = h.text[sentence.start : sentence.end] if sentence else h.text[:300]
        print("   " + " ".join(shown.split())[:400])
        print(
            f"   {c.doc_id} {c.chunk_id}"
            + (f"  also in: {', '.join(o.doc_id for o in h.also_in)}" if h.also_in else "")
        )
        if h.explain:
            print("   " + explain_line(h.explain))
    return 0


def explain_line(e: Any) -> str:
    """One line a person can read: why this passage ranks here."""
    words = ", ".join(f"{m['word']}→{m['term']}" if m["translated"] else m["word"] for m in e.matched) or "none"
    sem = f"semantic {e.semantic:.3f}" if e.semantic is not None else "semantic —"
    if e.language_offset:
        sem += f" − {e.language_offset:.3f} language offset"
    return (f"[why] {sem} (→ {e.semantic_norm:.2f}) · keyword {e.keyword:.2f} (→ {e.keyword_norm:.2f}, "
            f"weight {e.keyword_weight:.2f}; matched: {words}) · passage {e.passage_language}, "
            f"query {e.query_language} (P same {e.same_language:.2f})")  # fmt: skip


def _batch(index: Any, path: Path, opts: dict[str, Any]) -> int:
    from kb.engine import search

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                result = search(index, q["text"], **opts)
            except KBError as exc:
                print(json.dumps({"query_id": q.get("_id"), "error": exc.to_dict()}, ensure_ascii=False))
                continue
            except (ValueError, KeyError, TypeError):
                _say(f'{path}:{lineno}: not a {{"_id", "text"}} JSON line, skipped')
                continue
            hits = [h.to_dict() for h in result.hits]
            print(json.dumps({"query_id": q.get("_id"), "hits": hits}, ensure_ascii=False))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from kb.evaluate import evaluate, format_table

    settings = _settings(args)
    report = evaluate(Path(args.dir), settings, queries=Path(args.queries) if args.queries else None,
                      modes=args.modes.split(","), index_dir=Path(args.index) if args.index else None,
                      limit=args.limit, progress=_say, corpus_file=args.corpus, split=args.split,
                      typos=not args.no_typos)  # fmt: skip
    out = Path(args.out) if args.out else Path(f"{report['dataset']}.eval.json")
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(format_table(report))
    print(f"report: {out}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from kb import audit
    from kb.keys import KeyFile

    settings = _settings(args)
    path = Path(args.keys) if args.keys else settings.keys_file
    keys = KeyFile(path)
    if args.action == "list":
        for k in keys.entries():
            state = "expired" if k.expired() else "active"
            print(f"{k.name:<24} {k.scope:<7} created {k.created}  expires {k.expires or 'never':<25} {state}")
        return 0
    if not args.name:
        raise KBError(f"kb keys {args.action} needs a NAME")
    if args.action == "add":
        key = keys.add(args.name, args.scope, args.expires)
        audit.record(settings.index_dir, "key_add", key="cli", client="cli", outcome=f"{args.name} ({args.scope})")
        print(key)
        _say(f"key {args.name!r} ({args.scope}) added to {path}; it is shown this once: keep it now")
        return 0
    keys.revoke(args.name)
    audit.record(settings.index_dir, "key_revoke", key="cli", client="cli", outcome=args.name)
    _say(f"key {args.name!r} revoked")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from kb import audit

    for entry in audit.read(_settings(args).index_dir, args.since):
        if args.json:
            print(json.dumps(entry, ensure_ascii=False))
        else:
            what = " ".join(str(entry.get(k) or "") for k in ("doc_id", "content_hash") if entry.get(k))
            print(f"{entry['time']}  {entry['action']:<10} {entry['key']:<16} {entry.get('client', ''):<15} "
                  f"{entry['outcome']:<20} {what}")  # fmt: skip
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from kb.embedding import default_model_path, load_embedder

    settings = _settings(args)
    path = default_model_path(settings.cache_dir)
    emb = load_embedder(settings)
    print(f"model {emb.name} ready (dimension {emb.dim}, {getattr(emb, 'runtime', '?')}) at {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kb", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--index", help="index folder (default: index/ or KB_INDEX)")
        sp.add_argument("--model", help="sentence-transformers model name or folder (default: KB_MODEL or e5-small)")
        sp.add_argument(
            "--backend", choices=["local", "qdrant"], help="index backend (default: KB_BACKEND_INDEX or local)"
        )
        sp.set_defaults(func=func)
        return sp

    sp = command(
        "ingest", cmd_ingest, "parse, chunk and index files, folders and web pages by URL (default: the shipped corpus)"
    )
    sp.add_argument("paths", nargs="*")
    sp.add_argument("--keep-deleted", action="store_true", help="keep documents whose file has gone")
    sp.add_argument("--json", action="store_true")
    sp = command("docs", cmd_docs, "list the indexed documents")
    sp.add_argument("--json", action="store_true")
    sp = command("show", cmd_show, "a document's metadata, pages and passages with their spans")
    sp.add_argument("doc_id")
    sp.add_argument("--full", action="store_true", help="print whole passages")
    sp = command("search", cmd_search, "search the index")
    sp.add_argument("query", nargs="?")
    sp.add_argument("--k", type=int, default=10)
    sp.add_argument("--mode", default="hybrid", choices=["hybrid", "semantic", "keyword"])
    sp.add_argument("--lang")
    sp.add_argument("--doc")
    sp.add_argument("--source", help="publisher or source URL contains this")
    sp.add_argument("--date-from")
    sp.add_argument("--date-to")
    sp.add_argument("--highlight", default="auto", choices=["auto", "terms", "none"])
    sp.add_argument("--explain", action="store_true", help="show why each passage ranks where it does")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--queries", help='JSON Lines of {"_id", "text"}: one JSON line of hits per query')
    sp = command("eval", cmd_eval, "retrieval quality on a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv)")
    sp.add_argument("dir")
    sp.add_argument("--queries", help="other queries with the same ids")
    sp.add_argument("--corpus", help="corpus file inside DIR (default corpus.jsonl)")
    sp.add_argument("--modes", default="keyword,semantic,hybrid")
    sp.add_argument("--limit", type=int, help="only the first N queries")
    sp.add_argument("--split", help="only the queries whose 'split' field is this (dev, test)")
    sp.add_argument("--no-typos", action="store_true", help="without typo tolerance (to measure it)")
    sp.add_argument("--out", help="JSON report path")
    command("model", cmd_model, "build (offline) and load the embedding model")
    sp = command("keys", cmd_keys, "API keys with a scope (search or admin), kept hashed in the keys file")
    sp.add_argument("action", choices=["add", "list", "revoke"])
    sp.add_argument("name", nargs="?")
    sp.add_argument("--scope", default="search", choices=["search", "admin"])
    sp.add_argument("--expires", help="ISO date or time after which the key no longer works")
    sp.add_argument("--keys", help="keys file (default: KB_KEYS_FILE)")
    sp = command("audit", cmd_audit, "the audit log of writes and key changes (audit.jsonl beside the index)")
    sp.add_argument("--since", help="from this ISO date or time on")
    sp.add_argument("--json", action="store_true")
    for ep in entry_points(group="kb.commands"):  # `kb serve` comes from the api package: kb never imports it
        ep.load()(command)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KBError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
