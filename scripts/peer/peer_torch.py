"""Peer benchmark: polarization or cascade attribution written the way a practitioner would, in PyTorch + Captum.

Usage:
  python3 peer_torch.py POPDIR [--indicator polarization|cascade] [--dtype float64|float32] [--n-steps 24] [--out phi.npy]
                        [--internal-batch-size K | --mem-budget-gib G] [--impl captum|manual]
                        [--layout csr2|csr|coo] [--threads K] [--compare RUST_OUTDIR]

POPDIR is a population directory from `aumann synth` (agents/follows/activity Parquet + metadata.json).
The computation is the one `aumann attribute --indicator polarization` does:

  e[i,t] = alpha[i,t] a[i,t];  b(0) = s
  R_j = sum_{i in F(j)} e[i,t] b_i;  L_j = sum_{i in F(j)} e[i,t] (1 - b_i)
  b_j <- (kappa b_j + b_j R_j) / (kappa + b_j R_j + (1 - b_j) L_j),  kappa = 10,  T steps
  P = (4/N) sum_j (b_j(T) - mean b(T))^2

and, with --indicator cascade, the one `aumann attribute --indicator cascade` does (beta = 0.05,
c = 0.2, the defaults):

  q(0) = 0;  A_j = sum_{i in F(j)} e[i,t];  B_j = sum_{i in F(j)} e[i,t] q_i
  q_j <- 1 - (1 - q_j) exp(-beta (c A_j + (1 - c) B_j)),  T steps
  C = sum_j q_j(T)

F(j) = the accounts j follows (duplicate edges once, self-follows dropped). Attribution: integrated
gradients over the gates alpha[N,T], baseline 0, input 1, Gauss-Legendre nodes (Captum
method="gausslegendre"); the per-agent phi_i = sum_t phi[i,t] is saved to --out (float64 .npy).

Sparse layout (--layout): the follow matrix A (rows = reader j, cols = followee i) is
  csr2  (default) a CSR tensor for A @ X in the forward pass and a second, precomputed CSR tensor of
        A^T for the backward pass, joined by a small torch.autograd.Function. This was the fastest on
        CPU: torch's own backward for CSR @ dense works through A.t(), a CSC tensor, and CSC @ dense
        is slow on CPU;
  csr   plain `A_csr @ X` with torch's autograd;
  coo   `torch.sparse.mm(A_coo, X)`.
At N = 20,000 (750,209 edges, 24 nodes, float64, 2 threads) the whole attribution took about
1.2-1.4 s with csr2, 2.7 s with coo and 3.9-4.4 s with csr. CSR indices are int32 where they fit
(MKL's kernel takes int32; int64 ones are copied down on every product). torch_sparse was not tried:
PyPI has no wheel for this torch, and building it from source on 2 cores was not worth it.

Threads: torch's default (all cores). OMP_WAIT_POLICY defaults to PASSIVE here unless set: on a busy
2-core machine libgomp's spin-waiting made 2-thread runs up to 10x slower.

--impl manual replaces Captum with the same loop written by hand (same nodes, float64 weights;
Captum casts its step sizes to float32, which caps its float64 accuracy near 1e-8 relative).
--compare RUST_OUTDIR reads RUST_OUTDIR/attributions-polarization.parquet (columns agent, phi) and
prints max |phi_torch - phi_rust| / max |phi_rust|.
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

import numpy as np

KAPPA = 10.0
BETA, CASCADE_C = 0.05, 0.2
# Peak RSS grew by about 15-17 values of the working dtype per (agent, step) for each node of
# internal_batch_size (measured at N = 20,000, T = 14: 772 MiB at 1 node, 1,006-1,040 MiB at 8,
# 1,450 MiB at 24, float64): the per-step tensors autograd keeps plus Captum's copies of the inputs.
VALUES_PER_GATE = 17


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("popdir")
    p.add_argument("--indicator", choices=["polarization", "cascade"], default="polarization")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--n-steps", type=int, default=24, help="Gauss-Legendre nodes (default 24)")
    p.add_argument("--out", default="phi.npy", help="per-agent phi, float64 .npy (default phi.npy)")
    p.add_argument("--internal-batch-size", type=int, default=0,
                   help="nodes per forward/backward pass; memory grows linearly with it, about "
                        f"{VALUES_PER_GATE} x itemsize x N x T bytes per node. Default 0 = auto: the most "
                        "nodes (at most 8; more did not run faster) that fit --mem-budget-gib")
    p.add_argument("--mem-budget-gib", type=float, default=6.0,
                   help="memory for the autograd graph when --internal-batch-size is auto (default 6)")
    p.add_argument("--impl", choices=["captum", "manual"], default="captum")
    p.add_argument("--layout", choices=["csr2", "csr", "coo"], default="csr2")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's own)")
    p.add_argument("--compare", default=None, help="a Rust `aumann attribute` output directory")
    return p.parse_args(argv)


def load_population(popdir, torch, dtype, layout):
    """Reads the Parquet tables and builds a[N,T], s[N] and the sparse follow matrix."""
    import pyarrow.parquet as pq

    def read(name, cols):  # ParquetFile.read: no pyarrow.dataset import (about 1 s) on the clock
        return pq.ParquetFile(os.path.join(popdir, name)).read(columns=cols)

    meta = json.load(open(os.path.join(popdir, "metadata.json")))
    ag = read("agents.parquet", ["agent", "stance"])
    ids = ag.column("agent").to_numpy().astype(np.int64)
    N = int(meta.get("agents", len(ids)))
    T = int(meta["steps"])
    if len(ids) != N or not np.array_equal(np.sort(ids), np.arange(N)):
        raise SystemExit("agent ids are not dense 0..N-1")
    s = np.empty(N)
    s[ids] = ag.column("stance").to_numpy()

    act = read("activity.parquet", ["agent", "step", "amount"])
    flat = act.column("agent").to_numpy().astype(np.int64) * T + act.column("step").to_numpy().astype(np.int64)
    a = np.bincount(flat, weights=act.column("amount").to_numpy(), minlength=N * T).reshape(N, T)

    fo = read("follows.parquet", ["follower", "followee"])
    r = fo.column("follower").to_numpy().astype(np.int64)  # reader j (row)
    c = fo.column("followee").to_numpy().astype(np.int64)  # followee i (column)
    keep = r != c
    key = np.sort(r[keep] * N + c[keep])  # row-major order
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]  # duplicates once
    r, c = key // N, key % N
    nnz = len(key)

    def csr(rows, cols):  # rows already sorted, cols sorted within each row
        # int32 indices when they fit: MKL's sparse kernel takes int32, and int64 ones are copied
        # down to int32 on every product (about a quarter of the time of one product)
        it = np.int32 if len(cols) < 2**31 else np.int64
        crow = np.zeros(N + 1, dtype=it)
        np.cumsum(np.bincount(rows, minlength=N), out=crow[1:])
        return torch.sparse_csr_tensor(torch.from_numpy(crow), torch.from_numpy(cols.astype(it)),
                                       torch.ones(len(cols), dtype=dtype), size=(N, N))

    if layout == "coo":
        A = torch.sparse_coo_tensor(torch.from_numpy(np.stack([r, c])), torch.ones(nnz, dtype=dtype),
                                    (N, N), is_coalesced=True)
        spmm = lambda X: torch.sparse.mm(A, X)  # noqa: E731
    elif layout == "csr":
        A = csr(r, c)
        spmm = lambda X: A @ X  # noqa: E731
    else:
        A = csr(r, c)
        o = np.lexsort((r, c))  # A^T: rows = followee, sorted by (followee, follower)
        AT = csr(c[o], r[o])

        class FollowMM(torch.autograd.Function):
            @staticmethod
            def forward(ctx, X):
                return A @ X

            @staticmethod
            def backward(ctx, G):
                return AT @ G

        spmm = FollowMM.apply
    return dict(N=N, T=T, nnz=nnz, a=torch.from_numpy(a).to(dtype), s=torch.from_numpy(s).to(dtype), spmm=spmm)


def make_forward(P, torch, indicator="polarization"):
    N, T, a, s, spmm = P["N"], P["T"], P["a"], P["s"], P["spmm"]
    if indicator == "cascade":
        return make_cascade(P, torch)

    def F(alpha):  # alpha: (B, N, T) -> P: (B,)
        B = alpha.shape[0]
        # (T, N, B) then unbind: indexing e[:, t] inside the loop would make autograd build a full
        # (B, N, T) zero gradient for every step in the backward pass (T^2 memory traffic)
        e = (alpha * a).permute(2, 1, 0).contiguous().unbind(0)
        b = s.unsqueeze(1).expand(N, B)
        for et in e:
            eb = et * b
            Y = spmm(torch.cat([eb, et - eb], dim=1))  # one sparse pass for R and L of all B nodes
            R, L = Y[:, :B], Y[:, B:]
            bR = b * R
            b = (KAPPA * b + bR) / (KAPPA + bR + (1 - b) * L)
        return (4.0 / N) * ((b - b.mean(dim=0, keepdim=True)) ** 2).sum(dim=0)

    return F


def make_cascade(P, torch):
    N, a, spmm = P["N"], P["a"], P["spmm"]

    def F(alpha):  # alpha: (B, N, T) -> C: (B,)
        B = alpha.shape[0]
        e = (alpha * a).permute(2, 1, 0).contiguous().unbind(0)
        q = torch.zeros(N, B, dtype=a.dtype)
        for et in e:
            Y = spmm(torch.cat([et, et * q], dim=1))  # A and B of all B nodes in one sparse pass
            A, Bq = Y[:, :B], Y[:, B:]
            q = 1 - (1 - q) * torch.exp(-BETA * (CASCADE_C * A + (1 - CASCADE_C) * Bq))
        return q.sum(dim=0)

    return F


def gl_nodes(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def attribute_manual(F, x, torch, n_steps, ibs):
    taus, wts = gl_nodes(n_steps)
    total = torch.zeros_like(x)
    for k in range(0, n_steps, ibs):
        tk = torch.tensor(taus[k:k + ibs], dtype=x.dtype).view(-1, 1, 1)
        wk = torch.tensor(wts[k:k + ibs], dtype=x.dtype).view(-1, 1, 1)
        alpha = (tk * x).requires_grad_()  # baseline 0, so tau * input
        (g,) = torch.autograd.grad(F(alpha).sum(), alpha)
        total += (wk * g).sum(dim=0, keepdim=True)
    return total * x  # (input - baseline) = x


def main(argv=None):
    args = parse_args(argv)
    # On a shared 2-core machine libgomp's default spin-waiting made torch's 2-thread runs up to 10x
    # slower under load; passive waiting costs little when the machine is quiet. An explicit
    # OMP_WAIT_POLICY in the environment wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
    t_import = time.perf_counter()
    import pandas  # noqa: F401  (pyarrow's to_numpy imports it on first use: keep that off the load clock)
    import pyarrow.parquet  # noqa: F401
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    t_import = time.perf_counter() - t_import

    t0 = time.perf_counter()
    P = load_population(args.popdir, torch, dtype, args.layout)
    load_s = time.perf_counter() - t0
    N, T = P["N"], P["T"]
    F = make_forward(P, torch, args.indicator)
    x = torch.ones(1, N, T, dtype=dtype)
    base = torch.zeros_like(x)
    per_node = VALUES_PER_GATE * x.element_size() * N * T
    ibs = args.internal_batch_size
    if ibs <= 0:
        ibs = int(max(1, min(8, args.n_steps, args.mem_budget_gib * 2**30 // per_node)))

    if args.impl == "captum":
        from captum.attr import IntegratedGradients
        ig = IntegratedGradients(F)

        def attribute(n):
            return ig.attribute(x, baselines=base, n_steps=n, method="gausslegendre", internal_batch_size=ibs)
    else:
        def attribute(n):
            return attribute_manual(F, x, torch, n, ibs)

    # Warm-up: one small attribution (2 nodes) so first-call costs (MKL sparse setup, allocator,
    # Captum/autograd first use) stay out of the timed run.
    t0 = time.perf_counter()
    attribute(min(2, args.n_steps))
    warm_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    phi_it = attribute(args.n_steps)
    attr_s = time.perf_counter() - t0

    with torch.no_grad():
        F1, F0 = (float(v) for v in F(torch.cat([x, base], dim=0)))
    phi = phi_it[0].sum(dim=1).to(torch.float64).numpy()
    total = float(phi_it.to(torch.float64).sum())
    d = F1 - F0
    gap = abs(total - d) / abs(d) if d != 0 else abs(total)
    np.save(args.out, phi)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"{N} agents, {T} steps, {P['nnz']} follow edges (deduplicated, self-follows dropped); "
          f"indicator {args.indicator}, torch {torch.__version__}, {torch.get_num_threads()} threads (OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}), {args.dtype}, layout {args.layout}, "
          f"impl {args.impl}, {args.n_steps} Gauss-Legendre nodes, internal_batch_size {ibs} "
          f"(graph about {ibs * per_node / 2**30:.2f} GiB)")
    print(f"P(1) = {F1:.16g}  P(0) = {F0:.16g}  P(1)-P(0) = {d:.10e}")
    print(f"load seconds: {load_s:.3f}  (parquet read + sparse build; imports {t_import:.2f} s not included)")
    print(f"attribution seconds: {attr_s:.3f}  (excludes load and a warm-up attribution at 2 nodes, which took {warm_s:.3f} s)")
    print(f"completeness gap: {gap:.3e}  (|sum phi - (P(1)-P(0))| / |P(1)-P(0)|)")
    print(f"peak RSS: {rss_mib:.1f} MiB  (whole process, torch included)")
    print(f"wrote {args.out}")
    if args.compare:
        import pyarrow.parquet as pq
        path = args.compare
        if os.path.isdir(path):
            path = os.path.join(path, f"attributions-{args.indicator}.parquet")
        tb = pq.read_table(path, columns=["agent", "phi"])
        ref = np.zeros(N)
        ref[tb.column("agent").to_numpy().astype(np.int64)] = tb.column("phi").to_numpy()
        scale = np.abs(ref).max()
        diff = np.abs(phi - ref)
        print(f"vs {path}: max |phi_torch - phi_rust| / max |phi_rust| = {diff.max() / scale:.3e}  "
              f"(agent {int(diff.argmax())}; sum phi torch {phi.sum():.12e}, rust {ref.sum():.12e})")


if __name__ == "__main__":
    sys.exit(main())
