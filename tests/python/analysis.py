"""Independent NumPy computation of PROTOCOLS.md §5's analyses of a saved state, compared
with `ghn analyze`'s JSON and alpha.npz.

usage: analysis.py RUN_DIR ANALYSIS_DIR THRESHOLD

Reads the bundled 200-digit IDX files directly (not through ghn), computes
alpha = M · pinv(X) with NumPy's pinv, max |alpha|, the reconstruction count with the
reference's loop (tolerance 0.05·784·mean|M|, top-w samples by |alpha|, recomputed from
scratch for each w, stop at 199), aggregated alpha per class, identities and populations,
and asserts: alpha within 1e-8, counts, identities and populations exactly.
"""
import json
import pathlib
import sys

import numpy as np

run, adir, thr = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), float(sys.argv[3])
repo = pathlib.Path(__file__).resolve().parents[2]
raw = (repo / "data/paper200/paper200-images-idx3-ubyte").read_bytes()
X = np.frombuffer(raw[16:], dtype=np.uint8).reshape(200, 784) / 255.0 * 2 - 1
labels = np.frombuffer((repo / "data/paper200/paper200-labels-idx1-ubyte").read_bytes()[8:], np.uint8)

st = np.load(run / "final.npz")
M, L = st["M"], st["L"]
K = M.shape[0]
alpha = M @ np.linalg.pinv(X, rcond=1e-10)
assert np.linalg.matrix_rank(X) == 199

got = json.loads((adir / "analysis.json").read_text())
galpha = np.load(adir / "alpha.npz")["alpha"]
err = np.abs(galpha - alpha).max()
assert err < 1e-8, f"alpha differs by {err}"

tol = 0.05 * 784 * np.mean(np.abs(M))
for mu in range(K):
    a = alpha[mu]
    order = np.argsort(-np.abs(a), kind="stable")
    count = 199
    for w in range(1, 200):
        idx = order[:w]
        rec = a[idx] @ X[idx]
        if np.sum(np.abs(rec - M[mu])) < tol:
            count = w
            break
    g = got["memories"][mu]
    assert g["reconstruction_count"] == count, (mu, g["reconstruction_count"], count)
    assert abs(g["max_alpha"] - np.abs(a).max()) < 1e-8
    abar = np.array([a[labels == d].sum() for d in range(10)])
    assert np.abs(np.array(g["alpha_bar"]) - abar).max() < 1e-8
    assert g["identity"] == int(np.argmax(L[mu]))
pop = [(L[:, d] >= thr).sum() for d in range(10)]
assert got["summary"]["population"] == pop, (got["summary"]["population"], pop)
counts = [m["reconstruction_count"] for m in got["memories"]]
assert abs(got["summary"]["mean_reconstruction_count"] - np.mean(counts)) < 1e-12
assert abs(got["summary"]["mean_max_alpha"] - np.abs(alpha).max(axis=1).mean()) < 1e-8
print(f"alpha max diff {err:.2e}; counts {sorted(set(counts))[:5]}...; population {pop}")
