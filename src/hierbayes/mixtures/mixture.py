"""Family-independent solver for quantiles of finite mixtures (MODEL.md §7, "Quantiles").

Every group posterior is a mixture Σ_g w_g F_g of conjugate distributions; its
quantiles solve Σ_g w_g F_g(x) = p. This module holds the vectorised
bracketed-Newton solver that does not care which family the components come
from: the caller passes the mixture CDF, survival function and density as
functions of ``(x, k)``, where ``k`` indexes the problems (one problem = one
group pattern at one probability), on whatever scale is natural (Beta: x in
(0, 1); Gamma: log x on the whole line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from hierbayes.progress import report

__all__ = ["QuantileScale", "mixture_quantiles", "solve_mixture"]

# Gauss–Kronrod 7–15 on [-1, 1] (Piessens et al. 1983, QUADPACK): the 15-point Kronrod
# rule integrates each short Newton step, the embedded 7-point Gauss rule bounds its error.
_XK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                0.207784955007898467600689403773245])
_WK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                0.204432940075298892414161999234649])
_WK0 = 0.209482141084727828012999174891714
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975])
_WG0 = 0.417959183673469387755102040816327
_GK_X = np.concatenate([-_XK, [0.0], _XK[::-1]])
_GK_W = np.concatenate([_WK, [_WK0], _WK[::-1]])
_G_W = np.zeros(15)
_G_W[[1, 3, 5]] = _WG
_G_W[[9, 11, 13]] = _WG[::-1]
_G_W[7] = _WG0
_CHUNK = 1 << 20  # elements of a (components x problems x nodes) block

Evaluator = Callable[[np.ndarray, np.ndarray], np.ndarray]


def solve_mixture(
    cdf: Evaluator,
    sf: Evaluator,
    density: Evaluator,
    prob: np.ndarray,
    x0: np.ndarray,
    scale: np.ndarray,
    *,
    lo: float | np.ndarray = -np.inf,
    hi: float | np.ndarray = np.inf,
    atol: float | np.ndarray = 0.0,
    rtol: float = 0.0,
    max_iter: int = 200,
    exact_steps: bool = False,
) -> np.ndarray:
    """Solve ``F_k(x_k) = prob_k`` for increasing mixture CDFs, all problems at once.

    Safeguarded Newton steps from ``x0``. The CDF is evaluated exactly at
    the start (``sf`` for probabilities above 1/2, so that 1 − p keeps its
    digits); each short Newton step then updates it by integrating the
    density over the step with the 15-point Gauss–Kronrod rule, exact to
    rounding for the short steps Newton takes and far cheaper than another
    exact pass, and the embedded 7-point Gauss rule bounds the error of each
    such update. A step longer than a tenth of ``scale``, or one that leaves
    the bracket, gets an exact evaluation instead, and so does a converged
    point whose summed error bound could move it by more than half the
    tolerance; a value narrows the bracket only where its sign is certain.
    An unbounded side of the bracket is explored by steps that double each
    time.

    Parameters
    ----------
    cdf, sf : callable
        ``cdf(x, k)`` and ``sf(x, k)``: mixture CDF and survival function at
        points ``x`` (1-d) for problems ``k`` (1-d, same length).
    density : callable
        ``density(x, k)``: dF/dx at ``x`` of shape ``(..., len(k))``.
    prob : numpy.ndarray
        Target probabilities in (0, 1), one per problem.
    x0, scale : numpy.ndarray
        Starting points and a typical length (the mixture's sd on this scale).
    lo, hi : float or numpy.ndarray
        A bracket of the solutions on this scale (the support, or per problem).
    atol, rtol : float or numpy.ndarray
        A Newton step shorter than ``atol + rtol·|x|`` ends the search
        (``atol`` may be given per problem).
    exact_steps : bool
        Evaluate the CDF exactly after every step instead of integrating the
        density over short ones: cheaper where one CDF pass costs less than
        15 density passes (normal components, whose CDF is one ``ndtr``).

    Returns
    -------
    numpy.ndarray
        The solutions, one per problem.

    Examples
    --------
    A two-component normal mixture, 0.3·N(0, 1) + 0.7·N(3, 1):

    >>> from scipy.stats import norm
    >>> w, m = np.array([0.3, 0.7]), np.array([0.0, 3.0])
    >>> def cdf(x, k):
    ...     return norm.cdf(x[:, None] - m) @ w
    >>> def sf(x, k):
    ...     return norm.sf(x[:, None] - m) @ w
    >>> def dens(x, k):
    ...     return norm.pdf(x[..., None] - m) @ w
    >>> q = solve_mixture(cdf, sf, dens, np.array([0.1, 0.9]), np.zeros(2), np.ones(2),
    ...                   atol=1e-13)
    >>> np.round(cdf(q, None), 12).tolist()
    [0.1, 0.9]
    """
    prob = np.asarray(prob, dtype=float)
    up = prob > 0.5
    target = np.where(up, prob - 1.0, prob)  # solve on an increasing scale
    scale = np.asarray(scale, dtype=float)

    def exact(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        res = np.empty(k.size)
        u = up[k]
        if (~u).any():
            res[~u] = cdf(x[~u], k[~u])
        if u.any():
            res[u] = -sf(x[u], k[u])
        return res

    lo = np.broadcast_to(np.asarray(lo, dtype=float), prob.shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=float), prob.shape)
    atol = np.broadcast_to(np.asarray(atol, dtype=float), prob.shape)
    x = np.array(x0, dtype=float)
    with np.errstate(invalid="ignore"):
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), 0.0)
    x = np.where(np.isfinite(x), x, mid)
    x = np.clip(x, lo, hi)
    all_k = np.arange(prob.size)
    fx = exact(x, all_k) - target
    lo_b = np.where(fx <= 0, x, lo)
    hi_b = np.where(fx >= 0, x, hi)
    reach = np.maximum(np.where(np.isfinite(scale), scale, 1.0), 1e-300)
    active = np.ones(prob.size, dtype=bool)
    err = np.zeros(prob.size)  # bound on |fx − the exact value| (integrated updates)
    for _ in range(max_iter):
        k = np.flatnonzero(active)
        if k.size == 0:
            break
        xk, fk, lk, hk = x[k], fx[k], lo_b[k], hi_b[k]
        dens = density(xk, k)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            nxt = xk - fk / dens
        # A Newton step below tolerance ends the search (before any bracket test:
        # at the root, rounding may put the step a hair outside the bracket) -- if
        # the CDF value it started from is trusted: exact, or integrated with an
        # error bound (Kronrod − Gauss, summed over the steps) that moves x by less
        # than half the tolerance. Otherwise the point is evaluated exactly and
        # Newton goes on from there (integrals can drift near a density singular
        # at the support's end, or across very sharp components).
        tol_k = atol[k] + rtol * np.abs(xk)
        done = np.isfinite(nxt) & (np.abs(nxt - xk) <= tol_k)
        with np.errstate(invalid="ignore"):
            trusted = (err[k] == 0) | (err[k] <= 0.5 * tol_k * dens)
        check = done & ~trusted
        done &= trusted
        bad = ~np.isfinite(nxt) | (nxt < lk) | (nxt > hk)
        finite = np.isfinite(lk) & np.isfinite(hk)
        with np.errstate(invalid="ignore"):
            fallback = np.where(
                finite, 0.5 * (lk + hk), np.where(np.isfinite(lk), lk + reach[k], hk - reach[k])
            )
        # Toward an unbounded side a step may go at most ``reach`` (doubled each time it
        # is used): Newton from a point of negligible density can propose absurd steps.
        wild = ~bad & ~finite & (np.abs(nxt - xk) > reach[k])
        nxt = np.where(wild, xk + np.sign(nxt - xk) * reach[k], nxt)
        grow = (bad | wild) & ~finite
        reach[k[grow]] *= 2.0
        nxt = np.where(bad, fallback, nxt)
        nxt = np.where(done | check, xk, nxt)
        far = bad | check | (np.abs(nxt - xk) > 0.1 * scale[k]) | exact_steps
        half = 0.5 * (nxt - xk)
        fnew = np.empty(k.size)
        enew = np.zeros(k.size)
        near = ~far
        if near.any():
            kn, hn = k[near], half[near]
            nodes = (xk[near] + hn)[None, :] + hn[None, :] * _GK_X[:, None]
            with np.errstate(all="ignore"):
                vals = density(nodes, kn)
                kron, gauss = hn * (_GK_W @ vals), hn * (_G_W @ vals)
            fnew[near] = fk[near] + kron
            enew[near] = err[kn] + np.abs(kron - gauss)
        if far.any():
            fnew[far] = exact(nxt[far], k[far]) - target[k[far]]
        x[k], fx[k], err[k] = nxt, fnew, enew
        # a value moves the bracket only where its sign is certain
        lo_b[k] = np.where((fnew <= 0) & (-fnew >= enew), nxt, lk)
        hi_b[k] = np.where((fnew >= 0) & (fnew >= enew), nxt, hk)
        width = hi_b[k] - lo_b[k]
        active[k] = ~done & ((width > atol[k] + rtol * np.abs(nxt)) | (enew > 0))
    return x


class QuantileScale(Protocol):
    """A family of component distributions, on the scale its quantiles are solved on.

    Components are given by two parameter arrays ``(A, B)`` of shape
    (components, problems); ``z`` is the solving scale (e.g. x itself for a
    Beta or a Normal, log x for a Gamma). :func:`mixture_quantiles` needs:
    """

    def prepare(self, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-component arrays the CDF and density reuse (normalising constants)."""
        ...

    def cdf(self, z: np.ndarray, aux: tuple[np.ndarray, ...], upper: bool) -> np.ndarray:
        """P(Z ≤ z) (or P(Z > z), computed directly, with ``upper``) per component."""
        ...

    def density(self, z: np.ndarray, aux: tuple[np.ndarray, ...]) -> np.ndarray:
        """dP/dz per component."""
        ...

    def start(
        self, mean: np.ndarray, sd: np.ndarray, prob: np.ndarray, A: np.ndarray, B: np.ndarray,
        xtol: float,
    ) -> tuple[np.ndarray, ...]:
        """Start ``z0``, typical length ``scale``, bracket ``lo``, ``hi`` and the
        stopping rule ``atol``, ``rtol`` (see :func:`solve_mixture`) per problem, from
        the mixture's mean and sd on the x scale and the accuracy ``xtol`` asked."""
        ...

    def to_x(self, z: np.ndarray) -> np.ndarray:
        """Solutions back on the x scale."""
        ...

    #: Whether one CDF pass is cheaper than 15 density passes (every Newton step is then
    #: evaluated exactly; see ``exact_steps`` of :func:`solve_mixture`).
    cheap_cdf: bool


def mixture_quantiles(
    kind: QuantileScale,
    params: Callable[[slice], tuple[np.ndarray, np.ndarray]],
    weight: np.ndarray,
    probs: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    *,
    xtol: float = 1e-12,
    task: str = "group quantiles",
) -> np.ndarray:
    """Quantiles of the mixtures Σ_g w_g F(· ; A_gj, B_gj), one mixture per pattern j.

    The one mixture-quantile engine of the package: every family's group
    quantiles, and every check that needs a quantile of a mixture of
    conjugate distributions, come through here. Patterns are taken in blocks
    that keep temporaries near ``_CHUNK`` elements, each block solved by
    :func:`solve_mixture` for all its patterns and probabilities at once.

    Parameters
    ----------
    kind : QuantileScale
        The component distribution (CDF, density and start on its solving scale).
    params : callable
        ``params(slice)`` gives ``(A, B)`` of shape (components, patterns in the slice).
    weight : numpy.ndarray
        Mixture weights, one per component, summing to 1.
    probs : numpy.ndarray
        Probabilities in (0, 1).
    mean, sd : numpy.ndarray
        Each pattern's mixture mean and sd (for the start and the step scale).
    xtol : float
        Accuracy asked of the solutions (its meaning on the z scale is ``kind``'s).
    task : str
        Name of the phase in progress reports.

    Returns
    -------
    numpy.ndarray
        Shape (patterns, probs).

    Examples
    --------
    Two normal components, 0.5·N(-1, 1) + 0.5·N(1, 1): the median is 0.

    >>> from hierbayes.families.conjugate import NORMAL
    >>> A, B = np.array([[-1.0], [1.0]]), np.ones((2, 1))
    >>> q = mixture_quantiles(NORMAL, lambda sl: (A[:, sl], B[:, sl]), np.array([0.5, 0.5]),
    ...                       np.array([0.5]), np.zeros(1), np.array([2.0**0.5]))
    >>> abs(float(q[0, 0])) < 1e-12
    True
    """
    probs = np.asarray(probs, dtype=float)
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    npat = mean.size
    out = np.empty((npat, probs.size))
    step = max(1, _CHUNK // max(weight.size * probs.size * 8, 1))
    for i in range(0, npat, step):
        sl = slice(i, i + step)
        n = mean[sl].size
        pair = np.repeat(np.arange(n), probs.size)
        prob = np.tile(probs, n)
        A, B = params(sl)
        A, B = np.broadcast_arrays(A, B)
        A, B = A[:, pair], B[:, pair]  # (components, problems)
        aux = kind.prepare(A, B)
        z0, scale, lo, hi, atol, rtol = kind.start(mean[sl][pair], sd[sl][pair], prob, A, B,
                                                    xtol)

        def cdf(z, k, aux=aux):
            return weight @ kind.cdf(z[None, :], tuple(a[:, k] for a in aux), False)

        def sf(z, k, aux=aux):
            return weight @ kind.cdf(z[None, :], tuple(a[:, k] for a in aux), True)

        def density(z, k, aux=aux):
            with np.errstate(under="ignore"):
                dens = kind.density(z[..., None, :], tuple(a[:, k] for a in aux))
            return np.einsum("g,...gk->...k", weight, dens)

        z = solve_mixture(cdf, sf, density, prob, z0, scale, lo=lo, hi=hi, atol=atol,
                          rtol=rtol, exact_steps=kind.cheap_cdf)
        out[sl] = z.reshape(n, probs.size)
        report(task, min(i + step, npat), npat)
    return kind.to_x(out)
