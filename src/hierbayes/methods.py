"""What every public fit can do beyond its tables: checks, predictions, decisions, outputs.

:class:`FitMethods` is mixed into each family's public fit class in
:mod:`hierbayes.models`; its methods are thin doors to :mod:`hierbayes.checks`
and :mod:`hierbayes.output` (imported when first used, so that importing the
package stays fast). It lives above those layers, so imports point one way:
the tables (:mod:`hierbayes.result`) know nothing of the checks built on them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hierbayes.errors import HierBayesError

__all__ = ["FitMethods"]


class FitMethods:
    """Checks (MODEL.md §8), predictions, decisions and outputs of a fit, as methods."""

    def _repr_html_(self) -> str:
        """The fit in a notebook: its one-line summary, coefficients (with covariates),
        hyperparameters and the first groups, as HTML tables."""
        from hierbayes.html import results_html

        tables = []
        if hasattr(self, "coefficients"):
            tables.append(("Coefficients", self.coefficients))
        tables += [("Hyperparameters", self.hyper), ("Groups", self.groups)]
        return results_html(repr(self), tables)

    def logo(self) -> pd.Series:
        """Exact leave-one-group-out log predictive density of each group's data.

        See :func:`hierbayes.checks.predictive.logo`. Under partial pooling each
        value is log p(y_j | y_-j) from the hyperposterior reweighted by
        1/p(y_j | eta), exact on the quadrature grid; under complete pooling
        the common posterior without group j; under no pooling the pooled
        prior's predictive.

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
        >>> round(float(fit.logo().iloc[0]), 4)  # 0 of 20, from the other 70
        -2.033
        """
        from hierbayes.checks.predictive import logo

        return logo(self)

    def log_evidence(self) -> float:
        """log p(y), the marginal likelihood; a :class:`PriorError` if the prior is improper.

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial(pooling="complete").fit(hb.datasets.load("rats"))
        >>> round(fit.log_evidence(), 3)
        -175.737
        """
        from hierbayes.checks.predictive import log_evidence

        return log_evidence(self)

    def _new_args(self, kwargs: dict[str, Any]) -> tuple[float | None, float | None]:
        allowed = {self.design_name, self.observed_name}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(
                f"Unknown argument(s) {sorted(unknown)}; a new group is described by "
                f"{self.design_name}= and optionally {self.observed_name}=."
            )
        d, y = kwargs.get(self.design_name), kwargs.get(self.observed_name)
        from hierbayes.checks.predictive import check_new_group

        return check_new_group(self, d, y)

    def predict_new(self, *, prob: float = 0.95, covariates: dict[str, Any] | None = None,
                    **group: float) -> pd.DataFrame:
        """Posterior predictive of a new group: theta_new and y_new.

        Pass the new group's design (``trials=``, ``exposure=`` or
        ``std_error=``) for the row ``y`` (its new data), and also its data
        (``successes=``, ``counts=``, ``estimate=``) for the posterior of a
        group added with its data. A fit with covariates needs the new group's
        ``covariates`` (a dict: column -> value). Rows ``theta`` and ``y``;
        columns ``mean``, ``sd`` and an equal-tailed interval of mass ``prob``.

        Examples
        --------
        >>> import hierbayes as hb
        >>> rats = hb.datasets.load("rats")
        >>> fit = hb.BetaBinomial().fit(rats.iloc[:70])  # the historical experiments
        >>> fit.predict_new(trials=14).round(3).loc["y"].tolist()  # mean, sd, 95% interval
        [1.998, 1.775, 0.0, 6.0]
        """
        from hierbayes.checks.predictive import predict_new

        d, y = self._new_args(group)
        return predict_new(self, d, y, prob, covariates)

    def log_predictive_new(self, **group: float) -> float:
        """log p(y_new | y) of a new group's data, e.g. ``successes=4, trials=14``."""
        from hierbayes.checks.predictive import log_predictive_new

        d, y = self._new_args(group)
        if d is None or y is None:
            raise TypeError(f"Give both {self.design_name}= and {self.observed_name}=.")
        return log_predictive_new(self, d, y)

    def log_predictive_groups(self, **new_data: Any) -> pd.Series:
        """log p(ỹ_j | y) of further data from every existing group.

        Keyword arguments are the design and observed columns (arrays in
        group order, or Series indexed by group), e.g. the rest of a
        season's ``trials=`` and ``successes=``.
        """
        from hierbayes.checks.predictive import log_predictive_groups

        try:
            design, observed = new_data[self.design_name], new_data[self.observed_name]
        except KeyError:
            raise TypeError(f"Give {self.design_name}= and {self.observed_name}=.") from None
        return log_predictive_groups(self, design, observed)

    def ppc(self, statistics: Any = None, draws: int = 4000, seed: int | None = 0) -> Any:
        """Posterior predictive check with test statistics and their p-values.

        See :func:`hierbayes.checks.ppc.posterior_predictive_check`.
        ``statistics`` maps names to functions of the observed quantity per
        group (vectorised over a leading axis of data sets if they can be);
        the defaults depend on the family and leave out a statistic that
        cannot fail on these data (on rats the smallest rate is 0, so
        ``min_rate`` is not checked).

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
        >>> list(fit.ppc(draws=200).table.index)
        ['zeros', 'max_rate', 'var_rate']
        """
        from hierbayes.checks.ppc import posterior_predictive_check

        return posterior_predictive_check(self, statistics, draws, seed)

    def prob_greater(self, c: float) -> pd.Series:
        """P(theta_j > c | y) for every group, exact (the upper tail computed directly).

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
        >>> round(float(fit.prob_greater(0.3).iloc[-1]), 4)  # the current experiment
        0.1239
        """
        from hierbayes.checks.decisions import tail_probability

        return tail_probability(self, c, upper=True)

    def prob_less(self, c: float) -> pd.Series:
        """P(theta_j ≤ c | y) for every group, exact."""
        from hierbayes.checks.decisions import tail_probability

        return tail_probability(self, c, upper=False)

    def flag(self, threshold: float, *, fdr: float = 0.05, direction: str = "greater"
             ) -> pd.DataFrame:
        """Groups above (``direction='greater'``) or below a threshold at a false discovery rate.

        Columns ``prob`` (that the claim is true), ``pep`` (posterior error
        probability), ``qvalue`` and ``flagged``; see :func:`hierbayes.checks.decisions.flag`.

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
        >>> int(fit.flag(0.2, fdr=0.1)["flagged"].sum())  # tumour rates above 20%
        4
        """
        from hierbayes.checks.decisions import flag

        return flag(self, threshold, fdr, direction)

    def ranks(self, draws: int = 4000, seed: int | None = 0, top: int = 3,
              prob: float = 0.95, descending: bool = True) -> pd.DataFrame:
        """Posterior ranks of the groups (1 = largest theta): mean, interval, P(best), P(top k).

        See :func:`hierbayes.checks.decisions.rank_table`.
        """
        from hierbayes.checks.decisions import rank_table

        return rank_table(self, draws, seed, top, prob, descending)

    def prob_best(self, descending: bool = True) -> pd.Series:
        """P(theta_j is the largest (``descending``) or smallest of all groups' thetas), exact.

        Beta–Binomial and Gamma–Poisson (thetas conditionally independent given
        the hyperparameters): a quadrature on every hyperparameter point, see
        :func:`hierbayes.checks.decisions.prob_best`; a few seconds for the 71 rats.
        Normal–Normal: from 200 000 joint draws (its thetas share mu).

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
        >>> round(float(fit.prob_best().iloc[-1]), 4)  # pump 10: 22 failures in 10.5 kh
        0.7148
        """
        from hierbayes.checks.decisions import prob_best, rank_table

        exact = prob_best(self, descending)
        if exact is not None:
            return exact
        if self.model.pooling == "complete":
            raise HierBayesError("Under complete pooling every group has the same theta: "
                                 "no group is best.")
        return rank_table(self, 200_000, 0, 1, 0.95, descending)["p_best"]

    def difference(self, a: Any, b: Any, *, prob: float = 0.95, ratio: bool = False,
                   draws: int = 100_000, seed: int | None = 0) -> pd.Series:
        """Posterior of theta_a − theta_b (or the ratio): mean, sd, interval, P(theta_a > theta_b).

        See :func:`hierbayes.checks.decisions.difference`.

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
        >>> round(float(fit.difference("A", "C")["p_greater"]), 2)
        0.68
        """
        from hierbayes.checks.decisions import difference

        return difference(self, a, b, prob, ratio, draws, seed)

    def to_arviz(self, draws: int = 4000, *, seed: int | None = 0, chains: int = 1) -> Any:
        """Posterior draws as an ArviZ ``xarray.DataTree`` (needs ``hierbayes[arviz]``).

        ``draws`` per chain; see :func:`hierbayes.output.arviz.to_arviz`.
        """
        from hierbayes.output.arviz import to_arviz

        return to_arviz(self, draws=draws, seed=seed, chains=chains)

    def report(self, path: Any, **options: Any) -> Any:
        """Write a self-contained HTML report of this fit; return its path.

        See :func:`hierbayes.output.report.write_report` for the options (``title``,
        ``prob``, ``draws``, ``seed``) and what the report contains.
        """
        from hierbayes.output.report import write_report

        return write_report(self, path, **options)
