#!/usr/bin/python3
"""Loads a taskpipe checkpoint into PyTorch's own GPT-2-architecture model and compares the loss with taskpipe's.

The checkpoint is read with the standard library (the safetensors format: 8-byte little-endian header length, JSON
header, raw float32 data), so nothing beyond Debian's python3-torch is needed. Hugging Face's Conv1D weights
([in, out]) become torch.nn.Linear weights ([out, in]) by a transpose. The loss is the mean over the first --batches
batches of --data read in order, as `taskpipe eval` reads them (batch b of B rows of T tokens starts at b*B*T,
restarting at 0 when fewer than B*T+1 tokens remain).

Usage: /usr/bin/python3 bench/torch_check.py --checkpoint F --data FILE [--batch 8] [--seq T] [--batches 4]
       [--taskpipe build/dev/bin/taskpipe]     (runs `taskpipe eval` on the same input and prints both)
A one-shot check, not part of the tests; it installs nothing.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from torch_gpt2 import build_model  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} has dtype {e['dtype']}, expected F32")
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e["shape"])
        tensors[name] = t
    return meta, tensors


def load_into(model, tensors, layers):
    def put(dst, src, transpose=False):
        with torch.no_grad():
            dst.copy_(src.t() if transpose else src)

    put(model.wte.weight, tensors["wte.weight"])
    put(model.wpe.weight, tensors["wpe.weight"])
    for i in range(layers):
        blk, p = model.h[i], f"h.{i}."
        put(blk.ln_1.weight, tensors[p + "ln_1.weight"])
        put(blk.ln_1.bias, tensors[p + "ln_1.bias"])
        put(blk.c_attn.weight, tensors[p + "attn.c_attn.weight"], True)
        put(blk.c_attn.bias, tensors[p + "attn.c_attn.bias"])
        put(blk.attn_proj.weight, tensors[p + "attn.c_proj.weight"], True)
        put(blk.attn_proj.bias, tensors[p + "attn.c_proj.bias"])
        put(blk.ln_2.weight, tensors[p + "ln_2.weight"])
        put(blk.ln_2.bias, tensors[p + "ln_2.bias"])
        put(blk.c_fc.weight, tensors[p + "mlp.c_fc.weight"], True)
        put(blk.c_fc.bias, tensors[p + "mlp.c_fc.bias"])
        put(blk.mlp_proj.weight, tensors[p + "mlp.c_proj.weight"], True)
        put(blk.mlp_proj.bias, tensors[p + "mlp.c_proj.bias"])
    put(model.ln_f.weight, tensors["ln_f.weight"])
    put(model.ln_f.bias, tensors["ln_f.bias"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=0, help="default: the model's context")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--taskpipe", help="path of the taskpipe command, to run `taskpipe eval` on the same input")
    a = ap.parse_args()
    meta, tensors = read_safetensors(a.checkpoint)
    vocab, ctx, embd = int(meta["vocab_size"]), int(meta["n_positions"]), int(meta["n_embd"])
    layers, heads = int(meta["n_layer"]), int(meta["n_head"])
    seq = a.seq or ctx
    model = build_model(torch, vocab, ctx, embd, layers, heads)
    load_into(model, tensors, layers)
    with open(a.data, "rb") as f:
        tokens = torch.tensor(list(f.read()), dtype=torch.long)
    bt, pos, losses = a.batch * seq, 0, []
    with torch.no_grad():
        for _ in range(a.batches):
            if pos + bt + 1 > len(tokens):
                pos = 0
            w = tokens[pos:pos + bt + 1]
            losses.append(float(model(w[:-1].view(a.batch, seq), w[1:].view(a.batch, seq))))
            pos += bt
            if pos + bt + 1 > len(tokens):
                pos = 0
    torch_loss = sum(losses) / len(losses)
    print(f"torch loss    {torch_loss:.6f}")
    if a.taskpipe:
        out = subprocess.run([a.taskpipe, "eval", "--checkpoint", a.checkpoint, "--data", a.data, "--batch",
                              str(a.batch), "--seq", str(seq), "--batches", str(a.batches), "--json"],
                             check=True, capture_output=True, text=True).stdout
        ours = json.loads(out)["loss"]
        print(f"taskpipe loss {ours:.6f}   relative difference {abs(ours - torch_loss) / abs(torch_loss):.2e}")


if __name__ == "__main__":
    main()
