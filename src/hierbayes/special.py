"""Cancellation-free special functions used by the collapsed likelihoods.

The key quantity is the log of a scaled rising factorial

    D(x, k) = log Γ(x + k) − log Γ(x) − k·log x = Σ_{i<k} log(1 + i/x),

which is small when x ≫ k and is what remains of log B(y + a, m + b) − log B(a, b)
once the ``y log mu + m log(1 − mu)`` part is taken out exactly (MODEL.md §7).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

__all__ = ["lgamma_step", "log1pmx", "log_rising_change", "log_scaled_rising", "stirlerr"]

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)
# Stirling series coefficients of stirlerr(z) = Σ c_i / z^(2i+1).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_STIRLING_MIN = 15.0
_DIRECT_MAX = 24


def stirlerr(z: np.ndarray) -> np.ndarray:
    """log Γ(z) − [(z − ½) log z − z + ½ log 2π], accurate for z > 0.

    Uses the Stirling series for z ≥ 15 (truncation error < 1e-18) and
    ``gammaln`` below, where nothing cancels badly.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    big = z >= _STIRLING_MIN
    zb = z[big]
    inv2 = 1.0 / (zb * zb)
    acc = np.zeros_like(zb)
    for c in reversed(_STIRLING):
        acc = acc * inv2 + c
    out[big] = acc / zb
    zs = z[~big]
    out[~big] = gammaln(zs) - ((zs - 0.5) * np.log(zs) - zs + _HALF_LOG_2PI)
    return out


def log1pmx(t: np.ndarray) -> np.ndarray:
    """log(1 + t) − t without cancellation for small |t| (t > −1)."""
    t = np.asarray(t, dtype=float)
    out = np.log1p(t) - t
    small = np.abs(t) < 0.05
    ts = t[small]
    # −t²/2 + t³/3 − t⁴/4 + ... ; 16 terms reach 0.05^17 ≈ 8e-23 relative to t².
    acc = np.zeros_like(ts)
    for i in range(17, 1, -1):
        acc = acc * ts + ((-1.0) ** (i + 1)) / i
    out[small] = acc * ts * ts
    return out


def log_scaled_rising(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """D(x, k) = log Γ(x + k) − log Γ(x) − k log x for x > 0, integer k ≥ 0.

    For x ≥ 15 the Stirling-difference form (as in Loader 2000)

        D = x·[(1 + t) log1p(t) − t] − ½ log1p(t) + stirlerr(x + k) − stirlerr(x),  t = k/x,

    keeps full relative accuracy at every scale; for small x ``gammaln``
    differences are used, where they do not cancel.

    Examples
    --------
    >>> round(float(log_scaled_rising(np.array([2.0]), np.array([3]))[0]), 12)  # log(1·1.5·2)
    1.098612288668
    """
    x, k = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(k, dtype=float))
    out = np.empty(x.shape)
    big = x >= _STIRLING_MIN
    xb, kb = x[big], k[big]
    t = kb / xb
    lt = np.log1p(t)
    # (1 + t) log1p(t) − t = t·log1p(t) + (log1p(t) − t)
    core = xb * (t * lt + log1pmx(t))
    out[big] = core - 0.5 * lt + stirlerr(xb + kb) - stirlerr(xb)
    xs, ks = x[~big], k[~big]
    small = np.empty(xs.shape)
    few = ks <= _DIRECT_MAX
    # Few factors: the exact sum Σ log1p(i/x); many: gammaln differences do not cancel.
    xf, kf = xs[few], ks[few]
    acc = np.zeros_like(xf)
    for i in range(1, _DIRECT_MAX):
        acc += np.where(i < kf, np.log1p(i / xf), 0.0)
    small[few] = acc
    xm, km = xs[~few], ks[~few]
    small[~few] = gammaln(xm + km) - gammaln(xm) - km * np.log(xm)
    out[~big] = small
    out[k <= 1] = 0.0
    return out


def lgamma_step(z: np.ndarray, h: np.ndarray, zh: np.ndarray | None = None) -> np.ndarray:
    """log Γ(z + h) − log Γ(z) for z > 0, z + h > 0, accurate relative to the result.

    In Stirling form, (z − ½)·log1p(h/z) + h·(log(z + h) − 1) + stirlerr(z + h)
    − stirlerr(z): no two large numbers are subtracted when h is small beside z
    (``gammaln(z + h) − gammaln(z)`` at z = 1e9, h = 0.01 keeps 6 digits; this
    form keeps 15).

    Examples
    --------
    >>> from scipy.special import gammaln
    >>> got = float(lgamma_step(np.array([3.0]), np.array([2.0]))[0])  # log(3·4)
    >>> bool(abs(got - float(gammaln(5) - gammaln(3))) < 1e-14)
    True
    """
    z, h = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(h, dtype=float))
    zh = z + h if zh is None else np.broadcast_to(np.asarray(zh, dtype=float), z.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = h / z
        # log((z + h)/z): log1p of a small change; the quotient itself when z + h is far
        # from z (there z + h may be tiny, and h/z rounds to −1)
        log_ratio = np.where(np.abs(ratio) < 0.5, np.log1p(ratio), np.log(zh / z))
        out = (z - 0.5) * log_ratio + h * (np.log(zh) - 1.0) + stirlerr(zh) - stirlerr(z)
    return np.where(h == 0.0, 0.0, out)


def log_rising_change(x0: float | np.ndarray, log_ratio: np.ndarray, k: np.ndarray) -> np.ndarray:
    """F_k(x) − F_k(x0) with F_k(x) = log Γ(x + k) − log Γ(x), x = x0·exp(log_ratio).

    The change of a log rising factorial between two arguments, accurate relative
    to the change itself at any k (counts of 1e9 included), where the difference
    of two F values would lose ~k·log k·1e-16. Broadcasts ``log_ratio`` (points,
    as a column) against ``k`` (a row). Two exact forms; each element takes the
    one whose parts are smaller (their rounding is the error):

    * log Γ(x0 + k + h) − log Γ(x0 + k) − [log Γ(x0 + h) − log Γ(x0)], h = x − x0
      (:func:`lgamma_step`; parts about |h|·log(x0 + k + |h|)): a small change, or
      x below k;
    * k·log(x/x0) + D(x, k) − D(x0, k), D of :func:`log_scaled_rising` (parts
      about k·|log(x/x0)| and k·log(1 + k/x)): x and x0 far above k.

    Examples
    --------
    >>> from scipy.special import gammaln
    >>> got = log_rising_change(2.0, np.array([[np.log(1.5)]]), np.array([4.0]))
    >>> want = (gammaln(7) - gammaln(3)) - (gammaln(6) - gammaln(2))
    >>> bool(abs(float(got[0, 0]) - want) < 1e-13)
    True
    """
    x0 = np.asarray(x0, dtype=float)
    log_ratio = np.asarray(log_ratio, dtype=float)
    k = np.asarray(k, dtype=float)
    x = x0 * np.exp(log_ratio)
    h = x0 * np.expm1(log_ratio)
    x0b, xb, hb, kb, rb = np.broadcast_arrays(x0, x, h, k, log_ratio)
    out = np.empty(xb.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = np.minimum(xb, x0b)
        size_step = np.abs(hb) * (np.abs(np.log(x0b + kb + np.abs(hb))) + np.abs(np.log(low)) + 1)
        size_rising = kb * (np.abs(rb) + np.log1p(kb / low))
        large = size_rising < size_step
        small = ~large
        out[small] = (lgamma_step(x0b[small] + kb[small], hb[small], xb[small] + kb[small])
                      - lgamma_step(x0b[small], hb[small], xb[small]))
        out[large] = (kb[large] * rb[large] + log_scaled_rising(xb[large], kb[large])
                      - log_scaled_rising(x0b[large], kb[large]))
    return out
