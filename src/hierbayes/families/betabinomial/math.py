"""Beta–Binomial mathematics: collapsed likelihood, conditionals, mixtures (MODEL.md §3).

Pure NumPy/SciPy on arrays; no pandas. Coordinates: ``u = logit(mu)``,
``v = log(kappa)``, ``alpha = mu·kappa``, ``beta = (1 − mu)·kappa``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, gammaln, log_expit

from hierbayes.special import log_rising_change, log_scaled_rising
from hierbayes.validate import check_choice

__all__ = [
    "CollapsedLikelihood",
    "conditional_means",
    "conditional_moments",
]

_CHUNK = 1 << 20  # elements per temporary block
# Elements per temporary of the likelihood and the moments: blocks of 512 kB stay in
# cache and reuse freed memory; 8 MB blocks ran 3-4x slower (fresh pages each time).
_BLOCK = 1 << 16


@dataclass(frozen=True)
class CollapsedLikelihood:
    """log p(y | alpha, beta) with theta integrated out, without binomial coefficients.

    Per group, with m = n − y and D(x, k) = Σ_{i<k} log(1 + i/x),

        log B(y + a, m + b) − log B(a, b)
            = y log mu + m log(1 − mu) + D(a, y) + D(b, m) − D(kappa, n),

    where the ``log kappa`` parts cancel exactly. Groups are split at a
    threshold T on n and each part takes its own evaluation path:

    * ``counts`` (groups with n ≤ T; J-independent, MODEL.md §3): with
      S_y[k] = #{j: y_j > k} etc., Σ_{k<T} S_y[k] log(mu + k/kappa)
      + S_m[k] log(1 − mu + k/kappa) − S_n[k] log1p(k/kappa); cost O(T) per point
      whatever the number of groups;
    * ``pairs`` (groups with n > T): the D terms on the distinct (y, n) pairs,
      weighted by multiplicity; cost O(#pairs) per point whatever the counts' size.

    ``path`` says which parts are present: ``'counts'`` (T = max n), ``'pairs'``
    (T = 0) or ``'hybrid'``. With ``path='auto'`` the threshold minimises the
    cost per point (about 3 units per k of the counts, 40 per pair), so data
    with a few huge n keep the counts path for the rest. All paths agree to
    ~1e-13 relative (tests/test_special.py).

    With 10^7 groups the log likelihood is ~10^8 in size, so rounding alone
    moves it by ~10^-8 from point to point: too much noise for a quadrature
    tolerance of 1e-10. :meth:`centred` returns the same likelihood minus its
    value at a reference point (``offset``), with each count term formed as
    ``log1p`` of a small relative change, so differences keep full precision
    whatever J is (the pairs part only subtracts the constant).

    Examples
    --------
    >>> lik = CollapsedLikelihood.from_counts([1, 4, 0], [5, 10, 3])
    >>> lik.path
    'counts'
    >>> hyb = CollapsedLikelihood.from_counts([1, 4, 0], [5, 10, 3], path="hybrid")
    >>> bool(abs(hyb(np.array([-1.0]), np.array([2.0]))[0]
    ...          - lik(np.array([-1.0]), np.array([2.0]))[0]) < 1e-12)
    True
    """

    path: str
    threshold: int
    s_y: np.ndarray
    s_m: np.ndarray
    s_n: np.ndarray
    y: np.ndarray
    m: np.ndarray
    mult: np.ndarray
    total_y: float
    total_m: float
    log_binom: float
    ref: _Reference | None = None

    @property
    def offset(self) -> float:
        """Value at the reference point, subtracted from every evaluation (0 if none)."""
        return 0.0 if self.ref is None else self.ref.value

    def centred(self, u0: float, v0: float) -> CollapsedLikelihood:
        """The same likelihood minus its value at (u0, v0), differences without noise.

        ``lik.centred(u0, v0)(u, v) + lik.centred(u0, v0).offset`` equals
        ``lik(u, v)``; put the reference near the mode (e.g. a moment estimate).
        """
        plain = replace(self, ref=None)
        u_ref, v_ref = np.array([float(u0)]), np.array([float(v0)])
        pairs_value = float(plain._eval_pairs(u_ref, v_ref)[0]) if self.y.size else 0.0
        counts_value = float(plain._eval_counts(u_ref, v_ref)[0]) if self.s_y.size else 0.0
        kappa0 = float(np.exp(v0))
        ref = _Reference(
            u=float(u0), v=float(v0), a=float(expit(u0)) * kappa0,
            b=float(expit(-u0)) * kappa0, kappa=kappa0, pairs_value=pairs_value,
            counts_value=counts_value, value=pairs_value + counts_value,
        )
        return replace(self, ref=ref)

    @classmethod
    def from_counts(
        cls, successes: np.ndarray, trials: np.ndarray, path: str = "auto"
    ) -> CollapsedLikelihood:
        """Reduce per-group counts (O(J), :func:`~hierbayes.data.binomial.reduce_pairs`)."""
        from hierbayes.data.binomial import reduce_pairs

        pairs, _ = reduce_pairs(successes, trials)
        return cls.from_pairs(pairs.successes, pairs.trials, pairs.count, path=path)

    @classmethod
    def from_pairs(
        cls,
        successes: np.ndarray,
        trials: np.ndarray,
        count: np.ndarray,
        path: str = "auto",
        *,
        threshold: int | None = None,
    ) -> CollapsedLikelihood:
        """Build from distinct (y, n) pairs and their multiplicities (the sufficient statistics).

        Parameters
        ----------
        successes, trials, count : numpy.ndarray of int
            Distinct pairs and how many groups have each.
        path : {'auto', 'counts', 'pairs', 'hybrid'}
            Evaluation path; 'auto' picks the cheapest threshold.
        threshold : int, optional
            Groups with trials ≤ threshold use the counts (forces a hybrid).
        """
        check_choice("path", path, _PATHS)
        uy = np.asarray(successes, dtype=np.int64)
        un = np.asarray(trials, dtype=np.int64)
        mult = np.asarray(count, dtype=np.int64)
        um = un - uy
        nmax = int(un.max(initial=0))
        if threshold is None:
            threshold = _threshold(un, path)
        threshold = int(min(max(threshold, 0), nmax))
        if path in ("auto", "hybrid"):
            path = "counts" if threshold == nmax else "pairs" if threshold == 0 else "hybrid"
        small = un <= threshold
        s_y = _exceed_counts(uy[small], mult[small], threshold)
        s_m = _exceed_counts(um[small], mult[small], threshold)
        s_n = _exceed_counts(un[small], mult[small], threshold)
        big = ~small
        by, bm, bmult = uy[big], um[big], mult[big]
        log_binom = float(
            np.dot(mult, gammaln(un + 1.0) - gammaln(uy + 1.0) - gammaln(um + 1.0))
        )
        return cls(
            path=path,
            threshold=threshold,
            s_y=s_y,
            s_m=s_m,
            s_n=s_n,
            y=by.astype(float),
            m=bm.astype(float),
            mult=bmult.astype(float),
            total_y=float(np.dot(bmult, by)),
            total_m=float(np.dot(bmult, bm)),
            log_binom=log_binom,
        )

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Evaluate at points (u, v) of any matching shape."""
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u.shape
        u, v = u.ravel(), v.ravel()
        out = np.empty(u.size)
        width = max(self.s_y.size + self.y.size, 1)
        step = max(1, _BLOCK // width)
        for i in range(0, u.size, step):
            sl = slice(i, i + step)
            out[sl] = self._eval(u[sl], v[sl])
        return out.reshape(shape)

    def _eval(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.zeros(u.size)
        ref = self.ref
        if self.s_y.size and ref is None:
            out += self._eval_counts(u, v)
        elif self.s_y.size:
            out += self._eval_counts_centred(u, v, ref)
        if self.y.size and ref is None:
            out += self._eval_pairs(u, v)
        elif self.y.size:
            out += self._eval_pairs_centred(u, v, ref)
        return out

    def _eval_pairs_centred(self, u: np.ndarray, v: np.ndarray, ref: _Reference) -> np.ndarray:
        """Σ_pairs [F_y(a) − F_y(a0)] + [F_m(b) − F_m(b0)] − [F_n(κ) − F_n(κ0)], F_k(x) =
        log Γ(x + k) − log Γ(x), each change formed directly (``log_rising_change``).

        The plain form minus its value at the reference rounds like its parts,
        ~Σ n·log n·1e-16: 1e-6 at n = 1e9, noise that kept the quadrature from
        its tolerance; these changes are accurate relative to themselves. Points
        whose coordinates overflow there take the plain form.
        """
        log_ra, log_rb, dv = _log_ratios(u, v, ref)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            d = (log_rising_change(ref.a, log_ra[:, None], self.y)
                 + log_rising_change(ref.b, log_rb[:, None], self.m)
                 - log_rising_change(ref.kappa, dv[:, None], self.y + self.m))
            out = d @ self.mult
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = self._eval_pairs(u[bad], v[bad]) - ref.pairs_value
        return out

    def _eval_counts(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        mu = expit(u)[:, None]
        nu = expit(-u)[:, None]
        k = np.arange(self.s_y.size, dtype=float)
        x = k[None, :] * np.exp(-v)[:, None]
        return np.log(mu + x) @ self.s_y + np.log(nu + x) @ self.s_m - np.log1p(x) @ self.s_n

    def _eval_pairs(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        kappa = np.exp(v)[:, None]
        a = expit(u)[:, None] * kappa
        b = expit(-u)[:, None] * kappa
        n = self.y + self.m
        d = log_scaled_rising(a, self.y) + log_scaled_rising(b, self.m) - log_scaled_rising(
            kappa, n
        )
        return self.total_y * log_expit(u) + self.total_m * log_expit(-u) + d @ self.mult

    def _eval_counts_centred(self, u: np.ndarray, v: np.ndarray, ref: _Reference) -> np.ndarray:
        """Σ_k S_y[k] log((a+k)/(a0+k)) + S_m[k] log((b+k)/(b0+k)) − S_n[k] log((κ+k)/(κ0+k)).

        The rising-factorial form (the log kappa parts cancel exactly), each
        term the log1p of a small relative change, so the sums stay small near
        the reference. Points where alpha, beta or kappa differ from it by more
        than a factor e (where those sums grow like |log kappa/kappa0|·Σn and
        the log kappa parts would cancel) take the plain form minus its value
        at the reference; that form is exact in the kappa → ∞ limit.
        """
        k = np.arange(self.s_y.size, dtype=float)
        # log(a/a0), log(b/b0) and the changes a − a0, b − b0, κ − κ0, all to full
        # relative precision
        log_ra, log_rb, dv = _log_ratios(u, v, ref)
        close = (np.abs(dv) <= 1.0) & (np.abs(log_ra) <= 1.0) & (np.abs(log_rb) <= 1.0)
        if not close.all():
            out = np.empty(u.size)
            far = ~close
            out[far] = self._eval_counts(u[far], v[far]) - ref.counts_value
            if close.any():
                out[close] = self._eval_counts_centred(u[close], v[close], ref)
            return out
        kappa = np.exp(v)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            parts = (
                (ref.a * np.expm1(log_ra), ref.a, expit(u) * kappa, self.s_y),
                (ref.b * np.expm1(log_rb), ref.b, expit(-u) * kappa, self.s_m),
                (ref.kappa * np.expm1(dv), ref.kappa, kappa, self.s_n),
            )
        out = np.zeros(u.size)
        for sign, (change, x0, x, counts) in zip((1.0, 1.0, -1.0), parts, strict=True):
            inv = 1.0 / (x0 + k)
            # arg = change/(x0 + k) is smallest at k = 0; below −1/2 the ratio
            # (x + k)/(x0 + k) loses digits in log1p: such points (far from the
            # reference) take the logs directly.
            near = np.isfinite(change) & (change >= -0.5 * x0)
            if near.all():
                out += sign * (np.log1p(change[:, None] * inv[None, :]) @ counts)
                continue
            val = np.empty(u.size)
            val[near] = np.log1p(change[near, None] * inv[None, :]) @ counts
            far = ~near
            val[far] = (np.log(x[far, None] + k[None, :]) + np.log(inv)[None, :]) @ counts
            out += sign * val
        return out


def _log_ratios(
    u: np.ndarray, v: np.ndarray, ref: _Reference
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log(a/a0), log(b/b0) and log(κ/κ0) to full relative precision near the reference:
    σ(u)/σ(u0) = 1 + σ(−u)·(e^du − 1)."""
    du, dv = u - ref.u, v - ref.v  # exact for nearby points
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_ra = dv + np.log1p(expit(-u) * np.expm1(du))
        log_rb = dv + np.log1p(expit(u) * np.expm1(-du))
    return log_ra, log_rb, dv


@dataclass(frozen=True)
class _Reference:
    """Reference point of a centred likelihood: (u, v), (alpha, beta, kappa), values."""

    u: float
    v: float
    a: float
    b: float
    kappa: float
    pairs_value: float
    counts_value: float
    value: float


_PATHS = ("auto", "counts", "pairs", "hybrid")
# Cost per point of one k of the counts path and of one pair (measured: ~10 ns, ~400 ns).
_COST_K, _COST_PAIR = 3, 40
_MAX_COUNTS = 50_000  # 'auto' keeps count vectors at most this long


def _threshold(trials: np.ndarray, path: str) -> int:
    """Threshold T on n for a path: all counts, all pairs, or the cheapest split."""
    nmax = int(trials.max(initial=0))
    if path == "counts":
        return nmax
    if path == "pairs":
        return 0
    cand = np.unique(np.concatenate([[0], trials]))  # T at 0 or at a distinct n
    above = trials.size - np.searchsorted(np.sort(trials), cand, side="right")
    cost = _COST_K * cand + _COST_PAIR * above
    if path == "auto":
        cost = np.where(cand <= _MAX_COUNTS, cost, np.inf)
        return int(cand[np.argmin(cost)])
    inner = (cand > 0) & (cand < nmax)  # hybrid: a proper split, if there is one
    if not inner.any():
        return nmax // 2
    return int(cand[inner][np.argmin(cost[inner])])


def _exceed_counts(values: np.ndarray, mult: np.ndarray, kmax: int) -> np.ndarray:
    """S[k] = Σ mult·[values > k] for k = 0 .. kmax − 1 (a bincount, then a reverse cumsum)."""
    c = np.bincount(values, weights=mult, minlength=kmax + 1)
    return (c.sum() - np.cumsum(c))[:kmax].astype(float)


def _by_trials(n: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct n values, the index of each pair's n, and how many n fit in a block."""
    un, code = np.unique(n, return_inverse=True)
    return un, code.reshape(-1), max(1, _BLOCK // max(size, 1))


def conditional_means(
    y: np.ndarray, n: np.ndarray, alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Mixture mean Σ_g w_g (y + alpha_g)/(n + kappa_g) of theta for each (y, n).

    For fixed n the mean is linear in y, so the sums over the points run once
    per distinct n: cost O(points · distinct n + pairs), not O(points · pairs).

    Examples
    --------
    >>> w = np.array([0.5, 0.5])
    >>> conditional_means(np.array([1.0]), np.array([4.0]), np.array([1.0, 2.0]),
    ...                   np.array([1.0, 2.0]), w).round(6).tolist()
    [0.354167]
    """
    y = np.asarray(y, float)
    un, code, block = _by_trials(np.asarray(n, float), weight.size)
    kappa = alpha + beta
    t_bar = np.empty(un.size)
    at_bar = np.empty(un.size)
    for i in range(0, un.size, block):
        t = 1.0 / (un[i : i + block, None] + kappa[None, :])
        t_bar[i : i + block] = t @ weight
        at_bar[i : i + block] = (alpha[None, :] * t) @ weight
    return y * t_bar[code] + at_bar[code]


def conditional_moments(
    y: np.ndarray, n: np.ndarray, alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact mixture mean, sd and mean shrinkage of theta for each (y, n).

    ``alpha``, ``beta``, ``weight`` are the hyperposterior points (1-d). With
    T_g = n + kappa_g and the conditional Beta(y + alpha_g, m + beta_g), m = n − y:

    * mean = y·Σ w/T + Σ w·alpha/T (linear in y for fixed n);
    * variance by the law of total variance, E[Var] + Var(E):
      E[Var] = Σ w (y + alpha)(m + beta)/(T²(T + 1)) expanded in four
      non-negative terms; Var(E) = Σ w (y·δ_g + ε_g)² with δ, ε the deviations
      of 1/T and alpha/T from their means, written as
      (y − y*)²·Σwδ² + Σ w r² with y* the regression point and r ⟂ δ, so no
      ``E[θ²] − E[θ]²`` cancellation.

    Every sum over points runs once per distinct n, so the cost is
    O(points · distinct n + pairs), not O(points · pairs): 10^5 pairs with
    n ≤ 1000 cost what 1000 do.

    Returns
    -------
    mean, sd, shrinkage : numpy.ndarray
        Shrinkage is E[(alpha+beta)/(n+alpha+beta)], the weight on the population mean.

    Examples
    --------
    >>> mean, sd, shrink = conditional_moments(np.array([3.0]), np.array([10.0]),
    ...                                        np.array([2.0]), np.array([8.0]), np.ones(1))
    >>> float(mean[0]), round(float(shrink[0]), 6)  # Beta(5, 15)
    (0.25, 0.5)
    """
    y = np.asarray(y, float)
    n = np.asarray(n, float)
    m = n - y
    un, code, block = _by_trials(n, weight.size)
    kappa = alpha + beta
    mu = alpha / kappa
    # Deviations from the heaviest point, formed without cancellation at large n.
    g0 = int(np.argmax(weight))
    kappa0, mu0 = kappa[g0], mu[g0]
    d_kappa, d_mu = kappa - kappa0, mu - mu0
    cols = ("t", "at", "shrink", "e0", "ea", "eb", "eab", "A", "ystar", "C", "R")
    per_n = {c: np.empty(un.size) for c in cols}
    for i in range(0, un.size, block):
        sl = slice(i, i + block)
        nb = un[sl, None]
        big_t = nb + kappa[None, :]
        t = 1.0 / big_t
        at, bt = alpha[None, :] * t, beta[None, :] * t
        r = t / (big_t + 1.0)  # conditional variance = (y + a)(m + b)·t·r
        # 1/T_g − 1/T_0 and a_g/T_g − a_0/T_0, with s = kappa/T the shrinkage
        q = t / (nb + kappa0)
        dt = -d_kappa[None, :] * q
        shrink = kappa[None, :] * t
        dat = d_mu[None, :] * shrink + mu0 * nb * d_kappa[None, :] * q
        delta = dt - (dt @ weight)[:, None]
        eps = dat - (dat @ weight)[:, None]
        big_a = (delta * delta) @ weight
        big_b = (delta * eps) @ weight
        ystar = np.where(big_a > 0, -big_b / np.where(big_a > 0, big_a, 1.0), 0.0)
        resid = eps + ystar[:, None] * delta
        per_n["t"][sl], per_n["at"][sl] = t @ weight, at @ weight
        per_n["shrink"][sl] = shrink @ weight
        per_n["e0"][sl] = (t * r) @ weight
        per_n["ea"][sl] = (at * r) @ weight
        per_n["eb"][sl] = (bt * r) @ weight
        per_n["eab"][sl] = (at * bt / (big_t + 1.0)) @ weight
        per_n["A"][sl], per_n["ystar"][sl] = big_a, ystar
        per_n["C"][sl] = (delta * resid) @ weight
        per_n["R"][sl] = (resid * resid) @ weight
    g = {c: v[code] for c, v in per_n.items()}
    mean = y * g["t"] + g["at"]
    e_var = y * m * g["e0"] + y * g["eb"] + m * g["ea"] + g["eab"]
    dy = y - g["ystar"]
    var_e = dy * dy * g["A"] + 2.0 * dy * g["C"] + g["R"]
    sd = np.sqrt(e_var + np.maximum(var_e, 0.0))
    return mean, sd, g["shrink"]


def beta_of(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) from (logit mu, log kappa) without overflow in 1 − mu."""
    kappa = np.exp(v)
    return expit(u) * kappa, expit(-u) * kappa
