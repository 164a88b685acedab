#!/usr/bin/python3
"""PyTorch's step time on the same GPT-2-architecture model and optimizer as `taskpipe train`, for bench/train.cpp.

The model is built here from torch.nn (Hugging Face's GPT2LMHeadModel computes the same thing: pre-LayerNorm blocks,
fused qkv projection, causal attention with scale 1/sqrt(head_dim), GELU in its tanh form, final LayerNorm, LM head
tied to wte, mean cross-entropy). One step is forward + backward + clip_grad_norm_(1.0) + AdamW(lr 3e-4, betas
(0.9, 0.95), eps 1e-8, weight decay 0.1 on 2-D weights only), as taskpipe's. The init need not match for timing.

Threads: torch on Debian calls OpenBLAS and OpenMP. Each thread count runs in a fresh interpreter whose environment
sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to the count and OMP_WAIT_POLICY=PASSIVE (spinning OpenMP workers
fight OpenBLAS's threads: without it the 2-thread figure is about twice as slow), and which calls
torch.set_num_threads. OPENBLAS_CORETYPE is left as the machine presets it, and printed.

Usage: /usr/bin/python3 bench/torch_gpt2.py [--threads 1,2] [--steps 10] [--warmup 3] [--layers 6] [--embd 256]
       [--heads 8] [--seq 128] [--batch 8] [--json]
It installs nothing and is not part of the tests.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time


def build_model(torch, vocab, context, embd, layers, heads):
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(embd, eps=1e-5)
            self.c_attn = nn.Linear(embd, 3 * embd)
            self.attn_proj = nn.Linear(embd, embd)
            self.ln_2 = nn.LayerNorm(embd, eps=1e-5)
            self.c_fc = nn.Linear(embd, 4 * embd)
            self.mlp_proj = nn.Linear(4 * embd, embd)
            self.gelu = nn.GELU(approximate="tanh")
            self.register_buffer("mask", torch.tril(torch.ones(context, context, dtype=torch.bool)))

        def forward(self, x):
            b, t, d = x.shape
            hd = d // heads
            q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
            q = q.view(b, t, heads, hd).transpose(1, 2)
            k = k.view(b, t, heads, hd).transpose(1, 2)
            v = v.view(b, t, heads, hd).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(b, t, d)
            x = x + self.attn_proj(y)
            return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, embd)
            self.wpe = nn.Embedding(context, embd)
            self.h = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(embd, eps=1e-5)
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)
                elif name.endswith("bias"):
                    nn.init.zeros_(p)

        def forward(self, idx, targets):
            t = idx.shape[1]
            x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
            for block in self.h:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.t()
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    return GPT2()


def make_optimizer(torch, model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=3e-4, betas=(0.9, 0.95), eps=1e-8)


def measure(args):
    """Runs in the child interpreter, whose environment already pins the thread counts."""
    import torch
    torch.set_num_threads(args.threads_one)
    torch.manual_seed(0)
    model = build_model(torch, 256, args.seq, args.embd, args.layers, args.heads)
    opt = make_optimizer(torch, model)
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 256, (args.batch, args.seq), generator=g)
    tgt = torch.randint(0, 256, (args.batch, args.seq), generator=g)
    times = []
    loss = None
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t1 = time.perf_counter()
        if i >= args.warmup:
            times.append(t1 - t0)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"threads": args.threads_one, "median_ms": 1e3 * statistics.median(times),
                      "min_ms": 1e3 * min(times), "steps": args.steps, "parameters": params,
                      "last_loss": float(loss), "torch": torch.__version__,
                      "torch_threads": torch.get_num_threads()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (median reported), >= 1")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--embd", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print one JSON object per thread count only")
    ap.add_argument("--threads-one", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.embd % args.heads != 0:
        ap.error("need --steps >= 1, --warmup >= 0 and --heads dividing --embd")
    if args.threads_one > 0:
        measure(args)
        return
    rows = []
    for n in [int(x) for x in args.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), OMP_WAIT_POLICY="PASSIVE")
        cmd = [sys.executable, os.path.abspath(__file__), "--threads-one", str(n)]
        for k in ("steps", "warmup", "layers", "embd", "heads", "seq", "batch"):
            cmd += ["--" + k, str(getattr(args, k))]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        if args.json:
            print(json.dumps(rows[-1]))
    if args.json:
        return
    print(f"torch {rows[0]['torch']}, GPT-2 d={args.embd} L={args.layers} H={args.heads} T={args.seq} "
          f"B={args.batch}, {rows[0]['parameters']} parameters; OMP_WAIT_POLICY=PASSIVE, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    for r in rows:
        print(f"  {r['threads']} thread(s): median {r['median_ms']:.1f} ms/step (min {r['min_ms']:.1f}) "
              f"over {r['steps']} steps")
    if len(rows) > 1:
        print(f"  speed-up {rows[0]['threads']} -> {rows[-1]['threads']} threads: "
              f"{rows[0]['median_ms'] / rows[-1]['median_ms']:.2f}x")


if __name__ == "__main__":
    main()
