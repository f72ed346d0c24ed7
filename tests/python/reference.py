"""Independent NumPy implementation of the reference training rule (PROTOCOLS.md §2).

Written from the protocol, not from ghn's code, to check `ghn train` end to end:

    python3 reference.py make  OUT_DIR --seed S --samples P --pixels D --classes C --memories K
        writes OUT_DIR/data.npz (X, T) and OUT_DIR/init.npz (M, L, VM, VL)
    python3 reference.py train DATA.npz INIT.npz OUT.npz --n N --m M --temperature T
        --rate R --momentum MU --epochs E --minibatches B --bound rescale|clip [--save-every S]
        [--rate-decay F]
        writes OUT.npz with the final M, L, VM, VL and, with --save-every, the frames
        (state after 0, S, 2S, ..., E epochs) as frames_M, frames_L, epochs.
"""
import argparse
import numpy as np


def normalize_rows(v):
    """Divide each row by its max |value|; a row whose max is 0 becomes 0."""
    norm = np.max(np.abs(v), axis=1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm != 0)


def step(x, y, M, L, VM, VL, n, m, temp, rate, momentum, clip):
    h = x @ M.T
    r = np.maximum(h, 0.0) / temp
    a = r ** n
    o = np.tanh(a @ L)
    e = o - y
    s = np.sign(e) * np.abs(e) ** (2 * m - 1)
    GL = 2 * m * (a.T @ (s * (1 - o) * (1 + o)))
    # derivative of max(h,0)^n / T^n: r^(n-1)/T; at r = 0 it is 0^(n-1) (1 for n = 1)
    with np.errstate(divide="ignore"):
        dr = np.where(r > 0, r ** (n - 1), 0.0 ** (n - 1) if n >= 1 else 0.0) / temp
    coef = ((s * (1 - o * o)) @ L.T) * dr
    GM = 2 * n * m * (coef.T @ x)
    VM = momentum * VM - normalize_rows(GM)
    VL = momentum * VL - normalize_rows(GL)
    L = np.clip(L + rate * normalize_rows(VL), -1.0, 1.0)
    M = M + rate * normalize_rows(VM)
    if clip:
        M = np.clip(M, -1.0, 1.0)
    else:
        M = M / np.maximum(1.0, np.max(np.abs(M), axis=1, keepdims=True))
    return M, L, VM, VL


def make(args):
    rng = np.random.default_rng(args.seed)
    P, D, C, K = args.samples, args.pixels, args.classes, args.memories
    X = rng.uniform(-1, 1, (P, D))
    X[rng.uniform(size=(P, D)) < 0.4] = -1.0  # MNIST-like background
    labels = rng.integers(0, C, P)
    T = -np.ones((P, C))
    T[np.arange(P), labels] = 1.0
    np.savez(f"{args.out}/data.npz", X=X, T=T)
    M = rng.normal(0.0, 0.3, (K, D))
    L = rng.uniform(-0.5, 0.5, (K, C))
    np.savez(f"{args.out}/init.npz", M=M, L=L, VM=np.zeros((K, D)), VL=np.zeros((K, C)))


def train(args):
    d = np.load(args.data)
    X, T = d["X"], d["T"]
    s = np.load(args.init)
    M, L = s["M"].copy(), s["L"].copy()
    VM = s["VM"].copy() if "VM" in s else np.zeros_like(M)
    VL = s["VL"].copy() if "VL" in s else np.zeros_like(L)
    P = X.shape[0]
    B = P // args.minibatches
    frames_M, frames_L, epochs = [M.copy()], [L.copy()], [0]
    rate = args.rate
    for ep in range(args.epochs):
        if args.rate_decay:
            rate *= args.rate_decay  # the reference's isDecay: before the epoch's steps
        for b in range(args.minibatches):
            M, L, VM, VL = step(X[b * B:(b + 1) * B], T[b * B:(b + 1) * B], M, L, VM, VL,
                                args.n, args.m, args.temperature, rate, args.momentum,
                                args.bound == "clip")
        done = ep + 1
        if args.save_every and (done % args.save_every == 0 or done == args.epochs):
            frames_M.append(M.copy())
            frames_L.append(L.copy())
            epochs.append(done)
    out = dict(M=M, L=L, VM=VM, VL=VL)
    if args.save_every:
        out.update(frames_M=np.array(frames_M), frames_L=np.array(frames_L), epochs=np.array(epochs))
    np.savez(args.out, **out)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("out")
    for k in ["seed", "samples", "pixels", "classes", "memories"]:
        mk.add_argument("--" + k, type=int, required=True)
    tr = sub.add_parser("train")
    tr.add_argument("data")
    tr.add_argument("init")
    tr.add_argument("out")
    for k in ["n", "m", "temperature", "rate", "momentum"]:
        tr.add_argument("--" + k, type=float, required=True)
    for k in ["epochs", "minibatches"]:
        tr.add_argument("--" + k, type=int, required=True)
    tr.add_argument("--save-every", type=int, default=0)
    tr.add_argument("--rate-decay", type=float, default=0.0)
    tr.add_argument("--bound", choices=["rescale", "clip"], default="rescale")
    args = p.parse_args()
    make(args) if args.cmd == "make" else train(args)


if __name__ == "__main__":
    main()
