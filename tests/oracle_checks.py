"""Independent reference ("oracle") for model checking, comparison and decisions (issue 5).

Written from docs MODEL.md alone; shares NO code with ``hierbayes`` (nor with the other
oracles, except that the self check compares against them).  Slow and obvious on purpose.

Families and hyperparameter coordinates
---------------------------------------
Every quantity is an integral over the two hyperparameters of a closed-form conditional
quantity.  The hyperparameter posterior is integrated on a box of unconstrained coordinates
(x1, x2), with the density p(hyper) · Π_j p(y_j | hyper) · |Jacobian|:

* Beta–Binomial (MODEL.md §3): y_j ~ Bin(n_j, θ_j), θ_j ~ Beta(α, β).  Coordinates
  ``"ut"`` (default): u = logit μ, t = κ^(-1/2) (μ = α/(α+β), κ = α+β), Jacobian
  |∂(α,β)/∂(u,t)| = κ · μ(1-μ) · 2t^-3 = 2μ(1-μ)t^-5;  ``"uv"`` (cross check): u, v = log κ,
  Jacobian αβ = κ²μ(1-μ).  In ``"ut"`` the heavy tail κ → ∞ is the finite end t → 0.
  Per-group log pmf, exact finite sums with s = 1/κ (no lgamma):
      log C(n,y) + Σ_{k<y} log(μ + k s) + Σ_{k<n-y} log(1-μ + k s) - Σ_{k<n} log1p(k s).
  Priors: ``None`` = p(α,β) ∝ (α+β)^(-5/2) (improper; no evidence);
  ``{"mu": frozen, "kappa": frozen}`` independent proper priors on μ and κ
  (p(α,β) = p_μ(μ) p_κ(κ)/κ);  or a vectorised callable ``log_prior(alpha, beta)`` = log
  density on (α, β) (normalised if you want the evidence).
* Gamma–Poisson (§5): y_j ~ Poisson(θ_j t_j), θ_j ~ Gamma(α, rate β).  Coordinates
  x1 = log(α/β) (log prior mean), x2 = log α: unit Jacobian w.r.t. (log α, log β), so a
  density π(α,β) becomes π(α,β)·α·β.  Per-group log pmf with r = 1/α, m = α/β:
      Σ_{k<y} [log1p(k r) - log(1/m + t r)] + y log t - log y! - α log1p(t m r),
  which is log NB(y | α, β, t) of MODEL.md §5 rewritten without cancellation.
  Priors: ``"default"`` = flat on log(α/β), log(β/t0) standard logistic, t0 = geometric
  mean exposure, count-0 groups weighted 1 − exp(−t·Σy/Σt) (NOT stated in MODEL.md:
  taken from tests/oracle_gammapoisson.py, whose
  docstring calls it hierbayes' documented default; improper, no evidence);
  ``{"mean": frozen, "shape": frozen}`` (independent priors on α/β and α);
  ``{"alpha": frozen, "beta": frozen}``;  or a callable ``log_prior(alpha, beta)``.
* Normal–Normal (§4): y_j ~ N(θ_j, s_j²), θ_j ~ N(μ, τ²).  Coordinates z, v = log τ with
  μ = m̂(τ) + sqrt(V(τ))·z, where m̂, V are the conditional mean and variance of μ given τ
  (data plus a normal prior on μ if one is given), Jacobian sqrt(V)·τ.  Priors: ``None`` =
  p(μ, τ) ∝ 1 on τ ≥ 0 (improper; no evidence); ``{"mu": frozen, "tau": frozen}`` (e.g.
  ``stats.norm(0, 10)`` and ``stats.halfcauchy(scale=5)`` / ``stats.halfnorm``); or a
  callable ``log_prior(mu, tau)``.

Integrators
-----------
* The box: the log density is scanned on a 240×240 grid over a huge range, then again on
  the bounding box of {log p > max - 60}; the final box is the bounding box of
  {log p > max - drop} on the fine scan, padded by two cells (drop = 60 for adaptive
  integrals, 36 for the fixed rule below).  Mass outside is then < e^-30 relative.
* ``scipy.integrate.cubature`` (adaptive product Gauss–Kronrod 21, vector valued, rtol 1e-11)
  for everything whose conditional quantity is cheap.
* A tensor Gauss–Legendre rule (panels × nodes per axis) for the expensive features
  (P(best), P(θ_a > θ_b)), whose inner integral over x = θ is itself composite
  Gauss–Legendre (in w = logit x for Beta–Binomial, in x for Normal), with panel breaks
  at the conditional centres ± multiples of conditional sds and a fixed ladder for the
  tails.  P(best_j | hyper) = ∫ f_j(x) Π_{i≠j} F_i(x) dx (groups are conditionally independent
  given the hyperparameters; identical groups enter as powers).
* For κ > 1e8 the conditional Beta is replaced by its normal approximation in the inner
  integrals (κ > 1e12 in tail probabilities) because ``betainc`` degrades there; the
  posterior mass beyond is < 1e-10 on rats.

Pooling closed forms
--------------------
* Beta–Binomial complete pooling: θ ~ Beta(a0, b0) (default 1, 1); no pooling: each θ_j ~
  Beta(a0, b0).  Gamma–Poisson: θ ~ Gamma(a0, rate b0), default Jeffreys (0.5, 0) is improper:
  complete-pooling LOGO exists (posterior from the other groups is proper), but no-pooling
  LOGO and both evidences need b0 > 0 (ValueError otherwise).  Normal–Normal: θ (or each θ_j)
  ~ N(m0, sd0²), default flat (m0 = sd0 = None): complete-pooling LOGO exists, the rest
  raises ValueError (a flat-prior predictive density does not exist).

Accuracy verified and runtimes: see ``_self_check`` and the notes at the end of this file.
"""

from __future__ import annotations

import csv
import math
import pathlib
import warnings
from collections.abc import Callable, Mapping

import numpy as np
from scipy import integrate, special, stats

DATA = pathlib.Path(__file__).resolve().parents[1] / "src" / "hierbayes" / "datasets" / "data"

RTOL = 1e-11
ATOL = 1e-14


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def _read(name: str) -> list[dict]:
    with open(DATA / name, newline="") as fh:
        return list(csv.DictReader(fh))


def rats() -> tuple[np.ndarray, np.ndarray]:
    """(tumors, rats) for the 71 experiments; the last is the current one (4/14)."""
    rows = _read("rats.csv")
    return (np.array([int(r["tumors"]) for r in rows]), np.array([int(r["rats"]) for r in rows]))


def eight_schools() -> tuple[np.ndarray, np.ndarray]:
    rows = _read("eight_schools.csv")
    return (np.array([float(r["effect"]) for r in rows]),
            np.array([float(r["std_error"]) for r in rows]))


def pumps() -> tuple[np.ndarray, np.ndarray]:
    """(failures, kilohours) for the 10 pumps."""
    rows = _read("pumps.csv")
    return (np.array([int(r["failures"]) for r in rows]),
            np.array([float(r["kilohours"]) for r in rows]))


# ---------------------------------------------------------------------------------------------
# the generic 2-d posterior: box finding, adaptive and fixed-rule integration
# ---------------------------------------------------------------------------------------------
class _State:
    """Everything a feature needs at a batch of hyperparameter points (set by the family)."""


class _Posterior:
    """Unnormalised posterior density on a box of unconstrained coordinates (x1, x2).

    ``family.state(x1, x2)`` returns a _State with ``logd`` (log density incl. Jacobian) and
    whatever per-point quantities the features use.  ``family.scan`` is the huge initial box,
    ``family.natural`` says which of its 4 edges (x1lo, x1hi, x2lo, x2hi) are true boundaries.
    """

    def __init__(self, family, drop: float = 60.0):
        self.fam = family
        self._norm = None
        self._rules: dict = {}
        (a0, a1), (b0, b1) = family.scan
        self.shift = 0.0
        box, m = self._scan(a0, a1, b0, b1, 60.0, check=False)
        self.shift = m
        box, m = self._scan(*box, drop, check=True)
        self.shift = m
        self.box = box
        self.boxes = {drop: box}

    def _scan(self, a0, a1, b0, b1, drop, check, n=240):
        x1 = a0 + (np.arange(n) + 0.5) * (a1 - a0) / n
        x2 = b0 + (np.arange(n) + 0.5) * (b1 - b0) / n
        X1, X2 = np.meshgrid(x1, x2, indexing="ij")
        with np.errstate(all="ignore"):
            ld = self.fam.state(X1.ravel(), X2.ravel()).logd.reshape(n, n)
        ld = np.where(np.isnan(ld), -np.inf, ld)
        m = float(ld.max())
        if not np.isfinite(m):
            raise RuntimeError("log density is not finite anywhere on the scan")
        i, j = np.nonzero(ld > m - drop)
        lo1, hi1 = max(i.min() - 2, 0), min(i.max() + 2, n - 1)
        lo2, hi2 = max(j.min() - 2, 0), min(j.max() + 2, n - 1)
        h1, h2 = (a1 - a0) / n, (b1 - b0) / n
        edges = [a0 + lo1 * h1, a0 + (hi1 + 1) * h1, b0 + lo2 * h2, b0 + (hi2 + 1) * h2]
        nat = self.fam.natural
        scan = (*self.fam.scan[0], *self.fam.scan[1])
        hit = (i.min() == 0, i.max() == n - 1, j.min() == 0, j.max() == n - 1)
        for k in range(4):
            if hit[k] and abs(edges[k] - scan[k]) < 1e-12 * (1 + abs(scan[k])):
                if nat[k]:
                    edges[k] = scan[k]
                elif check:
                    warnings.warn(f"posterior mass reaches the scan edge {k} (improper?)",
                                  RuntimeWarning, stacklevel=3)
        return tuple(edges), m

    def box_for(self, drop: float):
        if drop not in self.boxes:
            self.boxes[drop] = self._scan(*self.box, drop, check=False)[0]
        return self.boxes[drop]

    def weights(self, st) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            w = np.exp(st.logd - self.shift)
        return np.where(np.isnan(w), 0.0, w)

    @property
    def norm(self) -> float:
        """∫∫ w over the box (w = density / e^shift)."""
        if self._norm is None:
            self._norm = float(self.integrate(lambda st, w: w[:, None], atol=0.0)[0])
        return self._norm

    def integrate(self, feature: Callable, rtol: float = RTOL, atol: float | None = None,
                  drop: float | None = None, box=None) -> np.ndarray:
        """∫∫ feature(state, w) over the box; feature returns (S, K) values already × w.

        ``atol`` defaults to 1e-14 × the normaliser: posterior expectations of bounded
        quantities (probabilities) are then accurate to ~1e-14 absolute or ``rtol`` relative.
        ``drop`` (default: the full box) integrates over the box of {log p > max - drop}
        only: enough for bounded features (the normaliser always uses the full box).
        """
        a0, a1, b0, b1 = self.box if drop is None else self.box_for(drop)
        if box is not None:
            a0, a1, b0, b1 = box
        if atol is None:
            atol = ATOL * self.norm
        self.nevals = 0

        def f(x):
            self.nevals += x.shape[0]
            st = self.fam.state(x[:, 0], x[:, 1])
            with np.errstate(all="ignore"):
                out = np.asarray(feature(st, self.weights(st)), dtype=float)
            return np.where(np.isfinite(out), out, 0.0)

        res = integrate.cubature(f, np.array([a0, b0]), np.array([a1, b1]), rtol=rtol,
                                 atol=atol, max_subdivisions=100_000)
        if res.status != "converged":
            warnings.warn("cubature did not converge", RuntimeWarning, stacklevel=2)
        return np.asarray(res.estimate)

    def gl_rule(self, panels: int = 4, nodes: int = 10, drop: float = 36.0, scan: int = 241,
                outer: int | None = None):
        """Nested composite Gauss–Legendre nodes (x1, x2) and weights.

        Outer: ``outer`` (default ``panels``) × ``nodes`` over the x2 range of
        {log p > max - drop}.  Inner, for each outer node: the same rule over that row's
        range of {log p > max - drop} (found by
        a 1-d scan of ``scan`` points over the full box, padded by one scan cell).  Following
        the ridge row by row (e.g. u given t for Beta–Binomial) needs far fewer points than a
        tensor rule on the bounding box.
        """
        outer = panels if outer is None else outer
        key = (panels, nodes, drop, scan, outer)
        if key in self._rules:
            return self._rules[key]
        a0, a1, _, _ = self.box
        _, _, b0, b1 = self.box_for(drop)
        g, w = np.polynomial.legendre.leggauss(nodes)

        def axis(lo, hi, p):
            e = np.linspace(lo, hi, p + 1)
            c, h = (e[1:] + e[:-1]) / 2, (e[1:] - e[:-1]) / 2
            return (c[:, None] + h[:, None] * g).ravel(), (h[:, None] * w).ravel()

        x2, w2 = axis(b0, b1, outer)
        grid = a0 + (np.arange(scan) + 0.5) * (a1 - a0) / scan
        h = (a1 - a0) / scan
        X1, X2, W = [], [], []
        for xv, wv in zip(x2, w2, strict=True):
            with np.errstate(all="ignore"):
                ld = self.fam.state(grid, np.full(scan, xv)).logd
            ok = np.nonzero(ld > self.shift - drop)[0]
            if ok.size == 0:
                continue
            lo = max(grid[ok[0]] - 1.5 * h, a0)
            hi = min(grid[ok[-1]] + 1.5 * h, a1)
            x1, w1 = axis(lo, hi, panels)
            X1.append(x1)
            X2.append(np.full(x1.size, xv))
            W.append(w1 * wv)
        rule = np.concatenate(X1), np.concatenate(X2), np.concatenate(W)
        self._rules[key] = rule
        return rule

    def integrate_gl(self, feature: Callable, panels: int = 4, nodes: int = 10,
                     drop: float = 36.0, chunk: int = 64, outer: int | None = None
                     ) -> np.ndarray:
        """∫∫ feature(state, w) by the nested fixed rule ``gl_rule`` (for costly features)."""
        x1, x2, wq = self.gl_rule(panels, nodes, drop, outer=outer)
        total = None
        for i in range(0, x1.size, chunk):
            sl = slice(i, i + chunk)
            st = self.fam.state(x1[sl], x2[sl])
            w = self.weights(st) * wq[sl]
            live = w > 1e-300
            if not live.any():
                continue
            st = self.fam.state(x1[sl][live], x2[sl][live])
            with np.errstate(all="ignore"):
                val = np.asarray(feature(st, w[live]), dtype=float).sum(axis=0)
            total = val if total is None else total + val
        return total


def _gl_panels(breaks: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights, row-wise, for sorted break points (S, P)."""
    g, w = np.polynomial.legendre.leggauss(nodes)
    c = (breaks[:, 1:] + breaks[:, :-1]) / 2
    h = (breaks[:, 1:] - breaks[:, :-1]) / 2
    x = (c[..., None] + h[..., None] * g).reshape(breaks.shape[0], -1)
    wt = (h[..., None] * w).reshape(breaks.shape[0], -1)
    return x, wt


def _best_from_logcdf(logF: np.ndarray, logf: np.ndarray, wt: np.ndarray,
                      counts: np.ndarray) -> np.ndarray:
    """P(group of pair u is the largest) per point: ∫ f_u Π F^{c} / F_u, shapes (S, X, U)."""
    logS = logF @ counts  # (S, X)
    term = np.exp(logf + logS[..., None] - logF)
    term = np.where(np.isfinite(term), term, 0.0)
    return np.einsum("sx,sxu->su", wt, term)


def _prior_key(prior):
    if prior is None or isinstance(prior, str):
        return prior
    if isinstance(prior, Mapping):
        out = []
        for k in sorted(prior):
            d = prior[k]
            out.append((k, d.dist.name, tuple(d.args), tuple(sorted(d.kwds.items()))))
        return tuple(out)
    return ("callable", id(prior))


_CACHE: dict = {}


def _cached(kind, maker, *key):
    k = (kind, *key)
    if k not in _CACHE:
        _CACHE[k] = maker()
    return _CACHE[k]


# ---------------------------------------------------------------------------------------------
# Beta–Binomial
# ---------------------------------------------------------------------------------------------
class _BB:
    def __init__(self, y, n, prior=None, coords: str = "ut"):
        y = np.asarray(y, dtype=np.int64)
        n = np.asarray(n, dtype=np.int64)
        if y.ndim != 1 or y.shape != n.shape or np.any(y < 0) or np.any(y > n):
            raise ValueError("need 1-d integer arrays with 0 <= y <= n")
        pairs, inv, cnt = np.unique(np.stack([y, n], 1), axis=0, return_inverse=True,
                                    return_counts=True)
        self.y, self.n = y, n
        self.yu, self.nu = pairs[:, 0], pairs[:, 1]
        self.mu_ = self.nu - self.yu
        self.inv, self.cnt = inv.ravel(), cnt.astype(float)
        self.logC = (special.gammaln(self.nu + 1.0) - special.gammaln(self.yu + 1.0)
                     - special.gammaln(self.mu_ + 1.0))
        self.K = int(n.max()) if n.size else 0
        self.prior, self.coords = prior, coords
        if prior is not None and not isinstance(prior, Mapping) and not callable(prior):
            raise TypeError(prior)
        if coords == "ut":
            self.scan, self.natural = ((-30.0, 30.0), (0.0, 40.0)), (False, False, True, False)
        elif coords == "uv":
            self.scan, self.natural = ((-30.0, 30.0), (-25.0, 140.0)), (False,) * 4
        else:
            raise ValueError(coords)

    def hyper(self, x1, x2):
        mu, omu = special.expit(x1), special.expit(-x1)
        if self.coords == "ut":
            t = x2
            s = t * t
            logk = -2.0 * np.log(t)
            logjac = math.log(2.0) + np.log(mu) + np.log(omu) - 5.0 * np.log(t)
        else:
            logk = x2
            s = np.exp(-x2)
            logjac = 2.0 * x2 + np.log(mu) + np.log(omu)
        return mu, omu, s, logk, logjac

    def log_prior_ab(self, mu, omu, s, logk):
        p = self.prior
        if p is None:
            return -2.5 * logk
        kappa = np.exp(logk)
        if isinstance(p, Mapping):
            return p["mu"].logpdf(mu) + p["kappa"].logpdf(kappa) - logk
        return np.asarray(p(mu * kappa, omu * kappa), dtype=float)

    @staticmethod
    def pair_logpmf(mu, omu, s, y, m, logC):
        """(S, U) log BB(y_u | n_u, α, β) by exact finite sums (cumulative over k)."""
        K = int(max(np.max(y + m), 1))
        k = np.arange(K, dtype=float)
        ks = s[:, None] * k
        z = np.zeros((mu.size, 1))
        ca = np.concatenate([z, np.cumsum(np.log(mu[:, None] + ks), 1)], 1)
        cb = np.concatenate([z, np.cumsum(np.log(omu[:, None] + ks), 1)], 1)
        cn = np.concatenate([z, np.cumsum(np.log1p(ks), 1)], 1)
        return ca[:, y] + cb[:, m] - cn[:, y + m] + logC

    def state(self, x1, x2):
        st = _State()
        x1, x2 = np.asarray(x1, float), np.asarray(x2, float)
        with np.errstate(all="ignore"):
            mu, omu, s, logk, logjac = self.hyper(x1, x2)
            st.lp = self.pair_logpmf(mu, omu, s, self.yu, self.mu_, self.logC)
            st.logd = st.lp @ self.cnt + self.log_prior_ab(mu, omu, s, logk) + logjac
        st.logd = np.where(np.isnan(st.logd), -np.inf, st.logd)
        st.mu, st.omu, st.s, st.logk = mu, omu, s, logk
        return st


def _bb_post(y, n, prior=None, coords="ut") -> _Posterior:
    y = tuple(int(v) for v in y)
    n = tuple(int(v) for v in n)
    return _cached("bb", lambda: _Posterior(_BB(y, n, prior, coords)), y, n,
                   _prior_key(prior), coords)


def _cond_beta_sf(A, B, c, s, big=1e12):
    """P(Beta(A, B) > c), normal approximation where κ = 1/s is huge (betainc degrades)."""
    out = special.betaincc(A, B, c)
    large = (1.0 / s) > big
    if np.any(large):
        m = A / (A + B)
        sd = np.sqrt(m * (1 - m) / (A + B + 1))
        out = np.where(large, special.ndtr((m - c) / sd), out)
    return out


def _bb_cond_dist(st, yu, mu_, x, big=1e8):
    """log F and log f·x(1-x) (density in w = logit x) of θ_u | α, β, y; x (S, X), → (S, X, U).

    F near 1 is computed as betainc (absolute error 1e-16 in log F is harmless here)."""
    s = st.s[:, None, None]
    A = yu + (st.mu / st.s)[:, None, None]
    B = mu_ + (st.omu / st.s)[:, None, None]
    xx = x[..., None]
    logF = np.log(special.betainc(A, B, xx))
    logf = A * np.log(xx) + B * np.log1p(-xx) - special.betaln(A, B)
    large = (1.0 / st.s) > big
    if np.any(large):
        m = (yu * s + st.mu[:, None, None]) / ((yu + mu_) * s + 1.0)
        sd = np.sqrt(m * (1 - m) * s / ((yu + mu_) * s + 1.0 + s))
        zz = (xx - m) / sd
        nlogF = special.log_ndtr(zz)
        nlogf = -0.5 * zz**2 - 0.5 * math.log(2 * math.pi) - np.log(sd) + np.log(xx * (1 - xx))
        L = large[:, None, None]
        logF = np.where(L, nlogF, logF)
        logf = np.where(L, nlogf, logf)
    return logF, logf


def _bb_breaks(st, yu, mu_, sel, ks, tail):
    """Break points in w = logit x: centres ± k sds (normal approximation on the logit scale)
    of the selected pairs, plus ``tail`` points from the lowest of those to w = 40 (best) or
    a fixed ladder from w = -700 (pairs, where a y = 0 group has a heavy left tail)."""
    s = st.s[:, None]
    m = (yu[sel] * s + st.mu[:, None]) / ((yu[sel] + mu_[sel]) * s + 1.0)
    sd = np.sqrt(m * (1 - m) * s / ((yu[sel] + mu_[sel]) * s + 1.0 + s))
    cw = special.logit(m)
    sw = sd / (m * (1 - m))
    b = (cw[..., None] + sw[..., None] * np.asarray(ks)).reshape(st.s.size, -1)
    if tail == "ladder":
        ladder = np.concatenate([[-700.0, -300, -150, -100], np.arange(-80.0, 41.0, 5.0)])
        extra = np.broadcast_to(ladder, (st.s.size, ladder.size))
    else:
        lo = b.min(1)
        extra = lo[:, None] + (40.0 - lo[:, None]) * np.linspace(0.0, 1.0, tail)
    b = np.concatenate([b, extra], 1)
    return np.sort(np.clip(b, -700.0, 40.0), axis=1)


_BEST_KS = (-10, -6, -3, -1, 1, 3, 6, 10)
_PAIR_KS = (-12, -8, -5, -3, -1.5, 0, 1.5, 3, 5, 8, 12)


# -- public Beta–Binomial functions ----------------------------------------------------------
def _require_proper_bb(prior):
    if prior is None:
        raise ValueError("the default prior (α+β)^(-5/2) is improper: no evidence")


def bb_logo(y, n, prior=None, coords: str = "ut") -> np.ndarray:
    """log p(y_j | y_-j) under partial pooling: ∫ BB(y_j | α,β) p(α,β | y_-j) d(α,β).

    Literally: the leave-one-out posterior's normaliser ∫ p(η) Π_{i≠j} p(y_i|η) and the
    integral of its product with p(y_j | η), all groups at once (vector-valued cubature).
    """
    post = _bb_post(y, n, prior, coords)
    fam = post.fam

    def feat(st, w):
        lw = np.log(np.maximum(w, 1e-320))[:, None] - st.lp
        return np.concatenate([w[:, None], np.where(w[:, None] > 0, np.exp(lw), 0.0)], 1)

    r = post.integrate(feat)
    return (math.log(r[0]) - np.log(r[1:]))[fam.inv]


def bb_logo_complete(y, n, a0: float = 1.0, b0: float = 1.0) -> np.ndarray:
    """Complete pooling: θ | y_-j ~ Beta(a0 + Σ_-j y, b0 + Σ_-j (n-y)); BB pmf of y_j."""
    y, n = np.asarray(y, float), np.asarray(n, float)
    A = a0 + y.sum() - y
    B = b0 + (n - y).sum() - (n - y)
    return _bb_logpmf(y, n, A, B)


def bb_logo_none(y, n, a0: float = 1.0, b0: float = 1.0) -> np.ndarray:
    """No pooling: prior predictive BB(y_j | n_j, a0, b0) (= 1/(n_j+1) for Beta(1, 1))."""
    y, n = np.asarray(y, float), np.asarray(n, float)
    return _bb_logpmf(y, n, a0, b0)


def _bb_logpmf(y, n, a, b):
    return (special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
            + special.betaln(y + a, n - y + b) - special.betaln(a, b))


def bb_log_evidence(y, n, prior, coords: str = "ut") -> float:
    """log p(y) = log ∫ p(α,β) Π_j BB(y_j | n_j, α, β) (binomial coefficients included)."""
    _require_proper_bb(prior)
    post = _bb_post(y, n, prior, coords)
    return float(math.log(post.norm) + post.shift)


def bb_log_evidence_complete(y, n, a0: float = 1.0, b0: float = 1.0) -> float:
    y, n = np.asarray(y, float), np.asarray(n, float)
    logc = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    return float(logc.sum() + special.betaln(a0 + y.sum(), b0 + (n - y).sum())
                 - special.betaln(a0, b0))


def bb_log_evidence_none(y, n, a0: float = 1.0, b0: float = 1.0) -> float:
    return float(bb_logo_none(y, n, a0, b0).sum())


def bb_prob_greater(y, n, c: float, prior=None, coords: str = "ut") -> np.ndarray:
    """P(θ_j > c | y) = E[ P(Beta(y_j+α, n_j-y_j+β) > c) ] over the hyperposterior."""
    post = _bb_post(y, n, prior, coords)
    fam = post.fam

    def feat(st, w):
        out = np.zeros((w.size, fam.yu.size + 1))
        out[:, 0] = w
        live = w > 1e-25  # the rest cannot reach the absolute tolerance (1e-14 × norm)
        s = st.s[live, None]
        A = fam.yu + st.mu[live, None] / s
        B = fam.mu_ + st.omu[live, None] / s
        out[live, 1:] = w[live, None] * _cond_beta_sf(A, B, c, s)
        return out

    r = post.integrate(feat)
    return (r[1:] / r[0])[fam.inv]


def bb_predict_new(y, n, n_new: int, prior=None, y_new: int | None = None,
                   coords: str = "ut") -> dict:
    """A new group with n_new trials, from the hyperposterior given (y, n).

    Returns mean/sd of θ_new (θ_new | α,β ~ Beta(α, β)), ``pmf`` of y_new over 0..n_new
    (E[BB(k | n_new, α, β)]), and if ``y_new`` is given: ``post_mean``/``post_sd`` of θ_new
    given y_new too (hyperposterior reweighted by BB(y_new | n_new, α, β)) and
    ``log_pred`` = log p(y_new | y).
    """
    post = _bb_post(y, n, prior, coords)
    kk = np.arange(n_new + 1)
    logC = (special.gammaln(n_new + 1.0) - special.gammaln(kk + 1.0)
            - special.gammaln(n_new - kk + 1.0))

    def feat(st, w):
        lp = _BB.pair_logpmf(st.mu, st.omu, st.s, kk, n_new - kk, logC)
        var = st.mu * st.omu * st.s / (1 + st.s)
        cols = [w, w * st.mu, w * st.mu**2, w * var]
        out = [np.stack(cols, 1), w[:, None] * np.exp(lp)]
        if y_new is not None:
            wy = w * np.exp(lp[:, y_new])
            m = (y_new * st.s + st.mu) / (n_new * st.s + 1.0)
            v = m * (1 - m) * st.s / (n_new * st.s + 1.0 + st.s)
            out.append(np.stack([wy, wy * m, wy * m**2, wy * v], 1))
        return np.concatenate(out, 1)

    r = post.integrate(feat)
    z = r[0]
    mean, m2, ev = r[1] / z, r[2] / z, r[3] / z
    res = {"mean": mean, "sd": math.sqrt(ev + m2 - mean**2), "pmf": r[4:4 + n_new + 1] / z}
    if y_new is not None:
        q = r[5 + n_new:]
        pm = q[1] / q[0]
        res["post_mean"] = pm
        res["post_sd"] = math.sqrt(q[3] / q[0] + q[2] / q[0] - pm**2)
        res["log_pred"] = math.log(q[0] / z)
    return res


def bb_prob_best(y, n, prior=None, panels: int = 4, nodes: int = 10, outer: int = 6,
                 inner_nodes: int = 10) -> np.ndarray:
    """P(θ_j is the largest of all θ's | y) for every group (ties: equal (y, n) groups share)."""
    post = _bb_post(y, n, prior, "ut")
    fam = post.fam
    top = np.argsort(-(fam.yu + 1.0) / (fam.nu + 2.0))[:3]

    def feat(st, w):
        br = _bb_breaks(st, fam.yu, fam.mu_, top, _BEST_KS, 10)
        wv, wt = _gl_panels(br, inner_nodes)
        x = special.expit(wv)
        logF, logf = _bb_cond_dist(st, fam.yu, fam.mu_, x)
        P = _best_from_logcdf(logF, logf, wt, fam.cnt)
        return np.concatenate([w[:, None], w[:, None] * P], 1)

    r = post.integrate_gl(feat, panels, nodes, outer=outer)
    return (r[1:] / r[0])[fam.inv]


def bb_prob_greater_pair(y, n, a: int, b: int, prior=None, panels: int = 4, nodes: int = 10,
                         outer: int = 6, inner_nodes: int = 10) -> float:
    """P(θ_a > θ_b | y) = E[ ∫ f_a(x) F_b(x) dx ] (a, b are 0-based group indices)."""
    post = _bb_post(y, n, prior, "ut")
    y, n = np.asarray(y), np.asarray(n)
    yu = np.array([y[a], y[b]])
    mu_ = np.array([n[a] - y[a], n[b] - y[b]])

    def feat(st, w):
        br = _bb_breaks(st, yu, mu_, np.array([0, 1]), _PAIR_KS, "ladder")
        wv, wt = _gl_panels(br, inner_nodes)
        x = special.expit(wv)
        logF, logf = _bb_cond_dist(st, yu, mu_, x)
        g = np.exp(logf[..., 0] + logF[..., 1])
        g = np.where(np.isfinite(g), g, 0.0)
        return np.stack([w, w * (wt * g).sum(1)], 1)

    r = post.integrate_gl(feat, panels, nodes, outer=outer)
    return float(r[1] / r[0])


# ---------------------------------------------------------------------------------------------
# Gamma–Poisson
# ---------------------------------------------------------------------------------------------
class _GP:
    def __init__(self, y, t, prior="default"):
        self.y = np.asarray(y, dtype=np.int64)
        self.t = np.asarray(t, dtype=float)
        if self.y.ndim != 1 or self.y.shape != self.t.shape or np.any(self.y < 0):
            raise ValueError("need 1-d arrays y >= 0 and t > 0 of one length")
        self.prior = prior
        # the default prior's reference exposure: count-0 groups weighted by the chance
        # 1 − exp(−t·Σy/Σt) of an event at the pooled rate, other groups 1
        r = float(self.y.sum()) / float(self.t.sum()) if self.y.sum() > 0 else 0.0
        w = np.where(self.y > 0, 1.0, -np.expm1(-self.t * r))
        self.logt0 = (float(np.sum(w * np.log(self.t)) / np.sum(w)) if r > 0
                      else float(np.mean(np.log(self.t))))
        self.lgy = special.gammaln(self.y + 1.0)
        self.scan = ((-40.0, 160.0), (-30.0, 90.0))  # log(α/β), log α
        self.natural = (False,) * 4

    def log_prior(self, a, b, logm, loga):
        """log of π(α, β)·α·β (density in any unit-Jacobian log chart)."""
        p = self.prior
        logb = loga - logm
        if isinstance(p, str):
            if p != "default":
                raise ValueError(p)
            z = logb - self.logt0
            return -z - 2.0 * np.logaddexp(0.0, -z)
        if isinstance(p, Mapping):
            if "mean" in p:
                return p["mean"].logpdf(np.exp(logm)) + p["shape"].logpdf(a) + logm + loga
            return p["alpha"].logpdf(a) + p["beta"].logpdf(b) + loga + logb
        return np.asarray(p(a, b), dtype=float) + loga + logb

    @staticmethod
    def logpmf(logm, loga, y, t, lgy):
        """(S, J) log NB(y_j | α, β, t_j), α = e^loga, α/β = e^logm; finite sums."""
        r = np.exp(-loga)[:, None]
        m = np.exp(logm)[:, None]
        a = np.exp(loga)[:, None]
        K = int(max(np.max(y), 1))
        k = np.arange(K, dtype=float)
        c = np.concatenate([np.zeros((r.shape[0], 1)), np.cumsum(np.log1p(k * r), 1)], 1)
        return (c[:, y] - y * np.log(1.0 / m + t * r) + y * np.log(t) - lgy
                - a * np.log1p(t * m * r))

    def state(self, x1, x2):
        st = _State()
        with np.errstate(all="ignore"):
            st.logm, st.loga = np.asarray(x1, float), np.asarray(x2, float)
            st.a, st.m = np.exp(st.loga), np.exp(st.logm)
            st.b = np.exp(st.loga - st.logm)
            st.lp = self.logpmf(st.logm, st.loga, self.y, self.t, self.lgy)
            st.logd = st.lp.sum(1) + self.log_prior(st.a, st.b, st.logm, st.loga)
        st.logd = np.where(np.isnan(st.logd), -np.inf, st.logd)
        return st


def _gp_post(y, t, prior="default") -> _Posterior:
    y = tuple(int(v) for v in y)
    t = tuple(float(v) for v in t)
    return _cached("gp", lambda: _Posterior(_GP(y, t, prior)), y, t, _prior_key(prior))


def _moments_exist(post, feature, idx, grow, tol=1e-7):
    """Unbounded moments (components ``idx`` of ``feature``): integrate loosely over strips
    that grow the box by ``grow`` = (dx1lo, dx1hi, dx2lo, dx2hi) and over the box.  A moment
    whose strip integral is not negligible is declared not to exist (it grows with the box:
    MODEL.md §7, never report a mean that depends on the truncation); the accurate integral
    is then computed with those components set to 0."""
    a0, a1, b0, b1 = post.box
    strips = [(a0 - grow[0], a0, b0 - grow[2], b1 + grow[3]),
              (a1, a1 + grow[1], b0 - grow[2], b1 + grow[3]),
              (a0, a1, b0 - grow[2], b0), (a0, a1, b1, b1 + grow[3])]
    idx = np.asarray(idx)

    def f(x):
        st = post.fam.state(x[:, 0], x[:, 1])
        with np.errstate(all="ignore"):
            out = np.asarray(feature(st, post.weights(st)), dtype=float)[:, idx]
        return np.where(np.isfinite(out), out, 0.0)

    def loose(lo1, hi1, lo2, hi2):
        return np.abs(integrate.cubature(f, np.array([lo1, lo2]), np.array([hi1, hi2]),
                                         rtol=1e-3, atol=0.0, max_subdivisions=300).estimate)

    extra = sum(loose(*b) for b in strips if b[1] > b[0] and b[3] > b[2])
    ok = extra < tol * loose(a0, a1, b0, b1)
    bad = idx[~ok]

    def feat2(st, w):
        out = np.asarray(feature(st, w), dtype=float)
        out[:, bad] = 0.0
        return out

    return post.integrate(feat2), ok


def _nb_logpmf(y, a, b, t):
    return (special.gammaln(y + a) - special.gammaln(a) - special.gammaln(y + 1.0)
            + a * np.log(b / (b + t)) + y * np.log(t / (b + t)))


def gp_logo(y, t, prior="default") -> np.ndarray:
    """log p(y_j | y_-j) under partial pooling (leave-one-out posterior, all j at once)."""
    post = _gp_post(y, t, prior)

    def feat(st, w):
        lw = np.log(np.maximum(w, 1e-320))[:, None] - st.lp
        return np.concatenate([w[:, None], np.where(w[:, None] > 0, np.exp(lw), 0.0)], 1)

    r = post.integrate(feat)
    return math.log(r[0]) - np.log(r[1:])


def gp_logo_complete(y, t, a0: float = 0.5, b0: float = 0.0) -> np.ndarray:
    """Complete pooling: θ | y_-j ~ Gamma(a0 + Σ_-j y, b0 + Σ_-j t); NB pmf of y_j."""
    y, t = np.asarray(y, float), np.asarray(t, float)
    return _nb_logpmf(y, a0 + y.sum() - y, b0 + t.sum() - t, t)


def gp_logo_none(y, t, a0: float = 0.5, b0: float = 0.0) -> np.ndarray:
    """No pooling: prior predictive NB(y_j | a0, b0, t_j); needs a proper prior (b0 > 0)."""
    if not b0 > 0:
        raise ValueError("improper Gamma prior (rate 0): no prior predictive")
    y, t = np.asarray(y, float), np.asarray(t, float)
    return _nb_logpmf(y, a0, b0, t)


def gp_log_evidence(y, t, prior) -> float:
    if isinstance(prior, str):
        raise ValueError("the default prior is improper: no evidence")
    post = _gp_post(y, t, prior)
    return float(math.log(post.norm) + post.shift)


def gp_log_evidence_complete(y, t, a0: float, b0: float) -> float:
    """Π_j t_j^y_j / y_j! · b0^a0 Γ(a0 + Σy) / (Γ(a0) (b0 + Σt)^(a0+Σy))."""
    if not b0 > 0:
        raise ValueError("improper Gamma prior (rate 0): no evidence")
    y, t = np.asarray(y, float), np.asarray(t, float)
    A, B = a0 + y.sum(), b0 + t.sum()
    return float((y * np.log(t) - special.gammaln(y + 1)).sum() + a0 * math.log(b0)
                 + special.gammaln(A) - special.gammaln(a0) - A * math.log(B))


def gp_log_evidence_none(y, t, a0: float, b0: float) -> float:
    return float(gp_logo_none(y, t, a0, b0).sum())


def gp_prob_greater(y, t, c: float, prior="default") -> np.ndarray:
    """P(θ_j > c | y) = E[ Q(α + y_j, (β + t_j) c) ] over the hyperposterior."""
    post = _gp_post(y, t, prior)
    yy, tt = post.fam.y, post.fam.t

    def feat(st, w):
        q = special.gammaincc(st.a[:, None] + yy, (st.b[:, None] + tt) * c)
        return np.concatenate([w[:, None], w[:, None] * q], 1)

    r = post.integrate(feat)
    return r[1:] / r[0]


def gp_predict_new(y, t, t_new: float, prior="default", k: int = 0,
                   y_new: int | None = None) -> dict:
    """New group with exposure t_new: mean/sd of θ_new (Gamma(α, β)), mean/sd of y_new and
    ``pmf`` of y_new over 0..k, ``cdf_k`` = P(y_new ≤ k); with ``y_new``: ``post_mean``,
    ``post_sd`` of θ_new given y_new (θ | η ~ Gamma(α + y_new, β + t_new)), ``log_pred``."""
    post = _gp_post(y, t, prior)
    kk = np.arange(k + 1)
    lgk = special.gammaln(kk + 1.0)
    tk = np.full(k + 1, float(t_new))

    def feat(st, w):
        lp = _GP.logpmf(st.logm, st.loga, kk, tk, lgk)
        cols = [w, w * st.m, w * st.m**2, w * st.m**2 / st.a]
        out = [np.stack(cols, 1), w[:, None] * np.exp(lp)]
        if y_new is not None:
            lpy = _GP.logpmf(st.logm, st.loga, np.array([y_new]), np.array([float(t_new)]),
                             np.array([special.gammaln(y_new + 1.0)]))[:, 0]
            wy = w * np.exp(lpy)
            A, B = st.a + y_new, st.b + t_new
            out.append(np.stack([wy, wy * A / B, wy * (A / B) ** 2, wy * A / B**2], 1))
        return np.concatenate(out, 1)

    idx = [1, 2, 3] + ([6 + k, 7 + k, 8 + k] if y_new is not None else [])
    r, ok = _moments_exist(post, feat, idx, (0.0, 40.0, 10.0, 0.0))
    ok = dict(zip(idx, ok, strict=True))
    if not all(ok.values()):
        warnings.warn("some posterior moments of θ_new do not exist (the integral grows "
                      "with the box): reported as nan", RuntimeWarning, stacklevel=2)
    z = r[0]
    mean = r[1] / z if ok[1] else math.nan
    var = r[3] / z + r[2] / z - mean**2 if ok[2] and ok[3] else math.nan
    pmf = r[4:5 + k] / z
    res = {"mean": mean, "sd": math.sqrt(var), "y_mean": t_new * mean,
           "y_sd": math.sqrt(t_new * mean + t_new**2 * var), "pmf": pmf,
           "cdf_k": float(pmf.sum())}
    if y_new is not None:
        q = r[5 + k:]
        pm = q[1] / q[0] if ok[6 + k] else math.nan
        sec = q[3] / q[0] + q[2] / q[0] - pm**2 if ok[7 + k] and ok[8 + k] else math.nan
        res["post_mean"] = pm
        res["post_sd"] = math.sqrt(sec)
        res["log_pred"] = math.log(q[0] / z)
    return res


# ---------------------------------------------------------------------------------------------
# Normal–Normal
# ---------------------------------------------------------------------------------------------
class _NN:
    def __init__(self, y, s, prior=None):
        self.y = np.asarray(y, dtype=float)
        self.s2 = np.asarray(s, dtype=float) ** 2
        self.prior = prior
        self.m0 = self.p0 = None
        if isinstance(prior, Mapping) and prior.get("mu") is not None \
                and prior["mu"].dist.name == "norm":
            self.m0, self.p0 = float(prior["mu"].mean()), 1.0 / float(prior["mu"].var())
        scale = float(np.std(self.y) + np.sqrt(self.s2).max())
        self.lsc = math.log(scale)
        self.scan = ((-40.0, 40.0), (self.lsc - 80.0, self.lsc + 80.0))
        self.natural = (False,) * 4

    def cond_mu(self, tau2):
        prec = 1.0 / (self.s2 + tau2[:, None])
        P = prec.sum(1)
        num = (prec * self.y).sum(1)
        if self.p0 is not None:
            P, num = P + self.p0, num + self.p0 * self.m0
        return num / P, 1.0 / P

    def log_prior(self, mu, tau):
        p = self.prior
        if p is None:
            return np.zeros_like(mu)
        if isinstance(p, Mapping):
            lm = p["mu"].logpdf(mu) if p.get("mu") is not None else 0.0
            return lm + p["tau"].logpdf(tau)
        return np.asarray(p(mu, tau), dtype=float)

    def state(self, x1, x2):
        st = _State()
        with np.errstate(all="ignore"):
            z, v = np.asarray(x1, float), np.asarray(x2, float)
            tau = np.exp(v)
            tau2 = tau * tau
            mh, V = self.cond_mu(tau2)
            mu = mh + np.sqrt(V) * z
            vv = self.s2 + tau2[:, None]
            st.lp = -0.5 * (np.log(2 * np.pi * vv) + (self.y - mu[:, None]) ** 2 / vv)
            st.logd = st.lp.sum(1) + self.log_prior(mu, tau) + 0.5 * np.log(V) + v
        st.logd = np.where(np.isnan(st.logd), -np.inf, st.logd)
        st.mu, st.tau, st.tau2, st.vv = mu, tau, tau2, vv
        # θ_j | μ, τ, y_j ~ N(cm, cv)
        st.cm = (self.y * tau2[:, None] + mu[:, None] * self.s2) / vv
        st.cv = self.s2 * tau2[:, None] / vv
        return st


def _nn_post(y, s, prior=None) -> _Posterior:
    y = tuple(float(v) for v in y)
    s = tuple(float(v) for v in s)
    return _cached("nn", lambda: _Posterior(_NN(y, s, prior)), y, s, _prior_key(prior))


def nn_logo(y, s, prior=None) -> np.ndarray:
    """log p(y_j | y_-j) (a density): a separate fit without group j, then
    E[N(y_j | μ, s_j² + τ²)] over that leave-one-out posterior."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    out = np.empty(y.size)
    for j in range(y.size):
        keep = np.arange(y.size) != j
        post = _nn_post(y[keep], s[keep], prior)

        def feat(st, w, j=j):
            vv = s[j] ** 2 + st.tau2
            d = np.exp(-0.5 * (np.log(2 * np.pi * vv) + (y[j] - st.mu) ** 2 / vv))
            return np.stack([w, w * d], 1)

        r = post.integrate(feat)
        out[j] = math.log(r[1] / r[0])
    return out


def nn_logo_complete(y, s, m0: float | None = None, sd0: float | None = None) -> np.ndarray:
    """Complete pooling (one θ; prior flat or N(m0, sd0²)): N(y_j | θ̂_-j, V_-j + s_j²)."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    p = 1.0 / s**2
    P = p.sum() - p + (0.0 if sd0 is None else 1.0 / sd0**2)
    num = (p * y).sum() - p * y + (0.0 if sd0 is None else m0 / sd0**2)
    return stats.norm.logpdf(y, num / P, np.sqrt(1.0 / P + s**2))


def nn_logo_none(y, s, m0: float | None = None, sd0: float | None = None) -> np.ndarray:
    """No pooling: prior predictive N(y_j | m0, sd0² + s_j²); the flat prior has none."""
    if sd0 is None:
        raise ValueError("flat prior: no prior predictive density")
    y, s = np.asarray(y, float), np.asarray(s, float)
    return stats.norm.logpdf(y, m0, np.sqrt(sd0**2 + s**2))


def nn_log_evidence(y, s, prior) -> float:
    if prior is None:
        raise ValueError("the flat prior is improper: no evidence")
    post = _nn_post(y, s, prior)
    return float(math.log(post.norm) + post.shift)


def nn_log_evidence_complete(y, s, m0: float, sd0: float) -> float:
    """y ~ MVN(m0·1, diag(s²) + sd0² 11ᵀ)."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    cov = np.diag(s**2) + sd0**2
    return float(stats.multivariate_normal(np.full(y.size, m0), cov).logpdf(y))


def nn_log_evidence_none(y, s, m0: float, sd0: float) -> float:
    return float(nn_logo_none(y, s, m0, sd0).sum())


def nn_prob_greater(y, s, c: float, prior=None) -> np.ndarray:
    post = _nn_post(y, s, prior)

    def feat(st, w):
        q = special.ndtr((st.cm - c) / np.sqrt(st.cv))
        return np.concatenate([w[:, None], w[:, None] * q], 1)

    r = post.integrate(feat)
    return r[1:] / r[0]


def nn_predict_new(y, s, s_new: float, prior=None, y_new: float | None = None) -> dict:
    """New group with standard error s_new: θ_new ~ N(μ, τ²), y_new ~ N(μ, τ² + s_new²);
    with ``y_new``: posterior mean/sd of θ_new and ``log_pred`` (log density of y_new)."""
    post = _nn_post(y, s, prior)
    s2 = float(s_new) ** 2

    def feat(st, w):
        out = [np.stack([w, w * st.mu, w * st.mu**2, w * st.tau2], 1)]
        if y_new is not None:
            vv = s2 + st.tau2
            wy = w * np.exp(-0.5 * (np.log(2 * np.pi * vv) + (y_new - st.mu) ** 2 / vv))
            m = (y_new * st.tau2 + st.mu * s2) / vv
            v = s2 * st.tau2 / vv
            out.append(np.stack([wy, wy * m, wy * m**2, wy * v], 1))
        return np.concatenate(out, 1)

    r = post.integrate(feat)
    z = r[0]
    mean, m2, et = r[1] / z, r[2] / z, r[3] / z
    var = et + m2 - mean**2
    res = {"mean": mean, "sd": math.sqrt(var), "y_mean": mean, "y_sd": math.sqrt(var + s2)}
    if y_new is not None:
        q = r[4:]
        pm = q[1] / q[0]
        res["post_mean"] = pm
        res["post_sd"] = math.sqrt(q[3] / q[0] + q[2] / q[0] - pm**2)
        res["log_pred"] = math.log(q[0] / z)
    return res


_NN_KS = np.array([-14, -10, -7, -5, -3.5, -2, -1, 0, 1, 2, 3.5, 5, 7, 10, 14], dtype=float)


def _nn_inner(st, idx, inner_nodes):
    sd = np.sqrt(st.cv[:, idx])
    cm = st.cm[:, idx]
    br = (cm[..., None] + sd[..., None] * _NN_KS).reshape(cm.shape[0], -1)
    x, wt = _gl_panels(np.sort(br, 1), inner_nodes)
    zz = (x[..., None] - st.cm[:, None, :]) / np.sqrt(st.cv)[:, None, :]
    logF = special.log_ndtr(zz)
    logf = -0.5 * zz**2 - 0.5 * math.log(2 * math.pi) - 0.5 * np.log(st.cv)[:, None, :]
    return logF, logf, wt


def nn_prob_best(y, s, prior=None, panels: int = 4, nodes: int = 10, outer: int = 30,
                 inner_nodes: int = 10) -> np.ndarray:
    """P(θ_j is the largest | y): θ's are independent given (μ, τ, y), correlated through
    (μ, τ); E over the hyperposterior of ∫ φ_j(x) Π_{i≠j} Φ_i(x) dx."""
    post = _nn_post(y, s, prior)
    J = post.fam.y.size

    def feat(st, w):
        logF, logf, wt = _nn_inner(st, np.arange(J), inner_nodes)
        P = _best_from_logcdf(logF, logf, wt, np.ones(J))
        return np.concatenate([w[:, None], w[:, None] * P], 1)

    r = post.integrate_gl(feat, panels, nodes, outer=outer)
    return r[1:] / r[0]


def nn_prob_greater_pair(y, s, a: int, b: int, prior=None) -> float:
    """P(θ_a > θ_b | y): given (μ, τ) the difference is normal, so the inner integral is
    closed form Φ((m_a - m_b)/sqrt(v_a + v_b)); adaptive cubature over (μ, τ)."""
    post = _nn_post(y, s, prior)

    def feat(st, w):
        d = (st.cm[:, a] - st.cm[:, b]) / np.sqrt(st.cv[:, a] + st.cv[:, b])
        return np.stack([w, w * special.ndtr(d)], 1)

    r = post.integrate(feat)
    return float(r[1] / r[0])


def _nn_prob_greater_pair_gl(y, s, a, b, prior=None, panels=4, nodes=10, inner_nodes=10,
                             outer=30):
    """The same by the inner ∫ φ_a(x) Φ_b(x) dx quadrature (cross check of the inner rule)."""
    post = _nn_post(y, s, prior)

    def feat(st, w):
        logF, logf, wt = _nn_inner(st, np.array([a, b]), inner_nodes)
        g = np.exp(logf[..., a] + logF[..., b])
        return np.stack([w, w * (wt * g).sum(1)], 1)

    r = post.integrate_gl(feat, panels, nodes, outer=outer)
    return float(r[1] / r[0])


# ---------------------------------------------------------------------------------------------
# manual verification (python tests/oracle_checks.py)
# ---------------------------------------------------------------------------------------------
def _self_check() -> None:  # pragma: no cover - manual
    import time

    def say(*a):
        print(*a, flush=True)

    def rel(a, b):
        a, b = np.asarray(a, float), np.asarray(b, float)
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))

    y, n = rats()
    pr = {"mu": stats.beta(2, 5), "kappa": stats.lognorm(1, scale=10)}
    for name, prior in (("default", None), ("proper", pr)):
        t0 = time.time()
        lo = bb_logo(y, n, prior)
        t1 = time.time()
        lo2 = bb_logo(y, n, prior, coords="uv")
        say(f"bb logo [{name}] {t1 - t0:.1f}s; ut vs uv max abs {np.max(np.abs(lo - lo2)):.1e}")
        t0 = time.time()
        pg = bb_prob_greater(y, n, 0.2, prior)
        t1 = time.time()
        pg2 = bb_prob_greater(y, n, 0.2, prior, coords="uv")
        say(f"bb P(>0.2) [{name}] {t1 - t0:.1f}s; ut vs uv max abs {np.max(np.abs(pg - pg2)):.1e}")
        t0 = time.time()
        p1 = bb_predict_new(y[:70], n[:70], 14, prior, y_new=4)
        t1 = time.time()
        p2 = bb_predict_new(y[:70], n[:70], 14, prior, y_new=4, coords="uv")
        say(f"bb predict_new [{name}] {t1 - t0:.1f}s;", {k: rel(p1[k], p2[k]) for k in p1})
    t0 = time.time()
    ev = bb_log_evidence(y, n, pr)
    say(f"bb evidence {ev!r} {time.time() - t0:.1f}s; uv:",
        bb_log_evidence(y, n, pr, coords="uv") - ev)


if __name__ == "__main__":  # pragma: no cover
    _self_check()
