"""Numba kernels for the hot loops of the selectors (imported lazily: numba costs ~0.5 s to import).

Coverage problems (facility location and its MI / conditional-gain variants) share one sparse form:

* candidates ``j = 0..nc-1``, each with a CSR row ``indptr[j]:indptr[j+1]`` listing the items it covers
  (``indices``, in ``0..m-1``) and the similarity it covers them with (``data`` >= 0);
* ``cur`` (m,) float64: how well each item is covered so far (``+inf`` = not part of the ground set);
* ``modular`` (nc,) float64: a per-candidate term added to its gain (FL-MI's query relevance; zeros otherwise).

gain(j) = modular[j] + sum_p max(0, data[p] - cur[indices[p]]); picking j sets cur[i] = max(cur[i], data[p]).
Every optimiser calls the same :func:`fl_gain`, so naive and lazy greedy see bit-identical gains, and ties are
broken by the lowest candidate index in both. Cost of one gain: O(row length).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = {"cache": True, "nogil": True}


@njit(**_OPTS)
def fl_gain(j, indptr, indices, data, cur, modular):
    g = 0.0
    for p in range(indptr[j], indptr[j + 1]):
        d = data[p] - cur[indices[p]]
        if d > 0.0:
            g += d
    return g + modular[j]


@njit(**_OPTS)
def fl_pick(j, indptr, indices, data, cur):
    for p in range(indptr[j], indptr[j + 1]):
        i = indices[p]
        if data[p] > cur[i]:
            cur[i] = data[p]


@njit(**_OPTS)
def _better(ka, ia, kb, ib):
    return ka > kb or (ka == kb and ia < ib)


@njit(**_OPTS)
def _sift_down(hk, hi, size, pos):
    k = hk[pos]
    i = hi[pos]
    while True:
        c = 2 * pos + 1
        if c >= size:
            break
        if c + 1 < size and _better(hk[c + 1], hi[c + 1], hk[c], hi[c]):
            c += 1
        if _better(hk[c], hi[c], k, i):
            hk[pos] = hk[c]
            hi[pos] = hi[c]
            pos = c
        else:
            break
    hk[pos] = k
    hi[pos] = i


@njit(**_OPTS)
def _heapify(hk, hi, size):
    for pos in range(size // 2 - 1, -1, -1):
        _sift_down(hk, hi, size, pos)


@njit(**_OPTS)
def fl_lazy(indptr, indices, data, cur, modular, avail, k, order_out, gains_out):
    """Lazy (accelerated) greedy, Minoux 1978: stale gains are upper bounds (submodularity), so a candidate whose
    bound was refreshed in this step and still tops the heap is the exact argmax. Picks up to ``k`` available
    candidates; returns how many were written to ``order_out``/``gains_out``. ``cur`` is updated in place."""
    nc = indptr.shape[0] - 1
    hk = np.empty(nc, dtype=np.float64)
    hi = np.empty(nc, dtype=np.int64)
    stamp = np.full(nc, -1, dtype=np.int64)
    size = 0
    for j in range(nc):
        if avail[j]:
            hk[size] = fl_gain(j, indptr, indices, data, cur, modular)
            hi[size] = j
            stamp[j] = 0
            size += 1
    _heapify(hk, hi, size)
    step = 0
    while step < k and size > 0:
        j = hi[0]
        if stamp[j] == step:
            order_out[step] = j
            gains_out[step] = hk[0]
            fl_pick(j, indptr, indices, data, cur)
            size -= 1
            if size > 0:
                hk[0] = hk[size]
                hi[0] = hi[size]
                _sift_down(hk, hi, size, 0)
            step += 1
        else:
            hk[0] = fl_gain(j, indptr, indices, data, cur, modular)
            stamp[j] = step
            _sift_down(hk, hi, size, 0)
    return step


@njit(**_OPTS)
def fl_naive(indptr, indices, data, cur, modular, avail, k, order_out, gains_out):
    """Naive greedy: every step evaluates every remaining candidate. O(k · nnz) — the reference."""
    nc = indptr.shape[0] - 1
    left = avail.copy()
    step = 0
    while step < k:
        best = -1
        bg = -np.inf
        for j in range(nc):
            if left[j]:
                g = fl_gain(j, indptr, indices, data, cur, modular)
                if best < 0 or g > bg:
                    best = j
                    bg = g
        if best < 0:
            break
        order_out[step] = best
        gains_out[step] = bg
        fl_pick(best, indptr, indices, data, cur)
        left[best] = False
        step += 1
    return step


@njit(**_OPTS)
def fl_stochastic_block(indptr, indices, data, cur, modular, remaining, n_rem, u, start, order_out,
                        gains_out):
    """Stochastic greedy (Mirzasoleiman et al. 2015) for ``u.shape[0]`` steps: each step draws ``s = u.shape[1]``
    of the remaining candidates without replacement (partial Fisher-Yates on ``remaining[:n_rem]`` with the
    uniforms ``u``) and picks the best of them (all of them once fewer than ``s`` remain). Returns the new n_rem."""
    steps, s = u.shape
    for t in range(steps):
        if n_rem == 0:
            break
        m = min(s, n_rem)
        best_slot = -1
        bg = -np.inf
        bj = -1
        for a in range(m):
            if m < n_rem:
                b = a + int(u[t, a] * (n_rem - a))
                if b >= n_rem:
                    b = n_rem - 1
                tmp = remaining[a]
                remaining[a] = remaining[b]
                remaining[b] = tmp
            j = remaining[a]
            g = fl_gain(j, indptr, indices, data, cur, modular)
            if best_slot < 0 or g > bg or (g == bg and j < bj):
                best_slot = a
                bg = g
                bj = j
        order_out[start + t] = bj
        gains_out[start + t] = bg
        fl_pick(bj, indptr, indices, data, cur)
        remaining[best_slot] = remaining[n_rem - 1]
        n_rem -= 1
    return n_rem


@njit(**_OPTS)
def coverage_curve(order, indptr, indices, data, cur):
    """Objective gain after each prefix of ``order`` (candidates picked in this order): out[t] = total coverage
    added by order[:t+1] (finite items only). ``cur`` is updated in place. O(sum of row lengths)."""
    out = np.empty(order.shape[0], dtype=np.float64)
    total = 0.0
    for t in range(order.shape[0]):
        j = order[t]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if data[p] > cur[i]:
                total += data[p] - cur[i]
                cur[i] = data[p]
        out[t] = total
    return out


@njit(cache=True, nogil=True, fastmath=True)
def _dot(X, i, xc):
    s = np.float32(0.0)
    for f in range(X.shape[1]):
        s += X[i, f] * xc[f]
    return s


@njit(**_OPTS)
def kcenter_greedy(X, forced, dist, avail, covered_r, g_indptr, g_indices, g_data, k, exact_head, order_out,
                   gains_out):
    """Greedy k-center (Gonzalez 1985) on cosine distance 1 - <x_i, x_j>, exact and sparse-accelerated.

    dist (n,): current distance of each point to its nearest center (+inf at start; 0 for pins/excluded points
    already handled by the caller). covered_r (n,): distance to the point's k-th graph neighbour (-inf without a
    graph). A point whose dist < covered_r can only get closer to a new center c through a graph edge (any c
    nearer than its k-th neighbour is one of its neighbours), so after picking c only the still-uncovered points
    get a dense distance update and the covered ones get updates along c's graph row. After ``exact_head`` picks
    the dense updates stop (the uncovered points keep their last exact distance, an upper bound): the head of
    the order is exact farthest-first, the tail follows graph edges only. ``forced``: positions that
    are the first centers, in order (include pins, or a seeded first center); then argmax of dist, ties to the
    lowest index. Returns the number of centers written. The exactness argument needs an exact kNN graph;
    with an approximate one the order is approximate where the graph misses a neighbour.
    """
    n, d = X.shape
    unc = np.empty(n, dtype=np.int64)
    n_unc = 0
    for i in range(n):
        if avail[i] and not (dist[i] < covered_r[i]):
            unc[n_unc] = i
            n_unc += 1
    # max-heap of (dist, index) with lazily refreshed keys: dist only decreases, so stale keys are upper bounds
    hk = np.empty(n, dtype=np.float64)
    hi = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(n):
        if avail[i]:
            hk[size] = dist[i]
            hi[size] = i
            size += 1
    _heapify(hk, hi, size)
    picked = np.zeros(n, dtype=np.bool_)
    step = 0
    while step < k:
        c = -1
        if step < forced.shape[0]:
            c = forced[step]
        else:
            while size > 0:
                j = hi[0]
                if picked[j]:
                    size -= 1
                    hk[0] = hk[size]
                    hi[0] = hi[size]
                    _sift_down(hk, hi, size, 0)
                elif hk[0] == dist[j]:
                    c = j
                    break
                else:
                    hk[0] = dist[j]
                    _sift_down(hk, hi, size, 0)
            if c < 0:
                break
        order_out[step] = c
        gains_out[step] = dist[c]
        picked[c] = True
        dist[c] = 0.0
        step += 1
        xc = X[c]
        if step >= exact_head:
            n_unc = 0
        # dense update of the uncovered points (compacting the list as points become covered)
        w = 0
        for a in range(n_unc):
            i = unc[a]
            if picked[i]:
                continue
            di = 1.0 - np.float64(_dot(X, i, xc))
            if di < dist[i]:
                dist[i] = di
            if not (dist[i] < covered_r[i]):
                unc[w] = i
                w += 1
        n_unc = w
        # sparse update of covered points along c's graph row
        for p in range(g_indptr[c], g_indptr[c + 1]):
            i = g_indices[p]
            di = 1.0 - g_data[p]
            if di < dist[i]:
                dist[i] = di
    return step


@njit(**_OPTS)
def deita_filter(order, indptr, indices, data, threshold, chosen, k):
    """Walk ``order`` (best score first); accept a candidate unless a graph neighbour already chosen has
    similarity > threshold. ``chosen`` (n,) bool is updated in place (pins may be pre-set). Returns
    (accepted positions in order, count) after at most ``k`` acceptances. O(sum of row lengths)."""
    out = np.empty(order.shape[0], dtype=np.int64)
    m = 0
    for t in range(order.shape[0]):
        if m >= k:
            break
        j = order[t]
        ok = True
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if i != j and chosen[i] and data[p] > threshold:
                ok = False
                break
        if ok:
            chosen[j] = True
            out[m] = j
            m += 1
    return out, m


@njit(**_OPTS)
def nearest_in_set(X, member, queries):
    """For each query position, the most similar position with member[i] True (excluding itself) and the
    cosine similarity. O(len(queries) · n · d); for explanations of a handful of rows."""
    n, d = X.shape
    best = np.full(queries.shape[0], -1, dtype=np.int64)
    bs = np.full(queries.shape[0], -np.inf, dtype=np.float64)
    for a in range(queries.shape[0]):
        q = queries[a]
        for i in range(n):
            if member[i] and i != q:
                s = 0.0
                for f in range(d):
                    s += X[i, f] * X[q, f]
                if s > bs[a]:
                    bs[a] = s
                    best[a] = i
    return best, bs
