"""The command line's shared options and what every command derives from them.

The data, column, model and output options; their checks (a probability in
(0, 1)); the model class a --family or --dataset names; the column roles; and
the JSON document's metadata. The commands themselves are in
:mod:`hierbayes.output.cli`.
"""

from __future__ import annotations

import math
from typing import Any

import click

from hierbayes import datasets
from hierbayes._version import __version__
from hierbayes.families.registry import families, family_of_dataset
from hierbayes.output.files import STDIN
from hierbayes.output.tables import FORMATS, json_value

__all__ = [
    "COLUMN_OPTIONS",
    "DRAWS",
    "FAMILIES",
    "central_probs",
    "check_prob",
    "column_roles",
    "data_options",
    "json_metadata",
    "method_option",
    "model_class",
    "output_options",
    "pooling_option",
    "prob_option",
    "with_columns",
]


def output_options(*, tables: tuple[str, ...] = (), sort: bool = True):
    """--format, --output and (for a group table) --sort / --descending; --table to pick
    the CSV table when a command has several."""
    opts = [
        click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
                     help="table: aligned tables (the default without --output); csv: "
                     "the group table; json: one document with every table and the metadata "
                     "(NaN as null, ±inf as the strings 'inf'/'-inf'). Default: from the "
                     "--output suffix, else table."),
        click.option("--output", "-o", help="Write to this file instead of stdout: .csv, "
                     ".json, .parquet (needs pyarrow) or a directory ending in '/' for "
                     "parquet; the suffix sets the format unless --format is given. Written "
                     "whole or not at all."),
    ]
    if tables:
        opts.append(click.option("--table", "table", type=click.Choice(tables),
                                 default=tables[-1], show_default=True,
                                 help="Which table the csv (or parquet) output holds."))
    if sort:
        opts += [
            click.option("--sort", "sort", metavar="COLUMN", default=None,
                         help="Sort the group table by this column (or 'group')."),
            click.option("--descending", is_flag=True, help="Sort in descending order."),
        ]

    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


FAMILIES = families()  # --family name -> FamilyInfo (hierbayes.families.registry)

COLUMN_OPTIONS = [
    click.option("--family", type=click.Choice(list(FAMILIES)), default=None,
                 help="Model family (default: the data set's, else binomial)."),
    click.option("--group", default=None, help="Group column (default: 'group' if present, "
                 "else each row is a group)."),
    click.option("--successes", help="Column of success counts (binomial)."),
    click.option("--trials", help="Column of trials (binomial)."),
    click.option("--estimate", help="Column of group estimates (normal)."),
    click.option("--std-error", "std_error", help="Column of standard errors (normal)."),
    click.option("--counts", help="Column of event counts (poisson)."),
    click.option("--exposure", help="Column of exposures (poisson)."),
    click.option("--prior", "prior", multiple=True, metavar="NAME=DIST:ARGS",
                 help="A hyperprior, as in the Python API's prior dict, one per option: "
                 "'mu=beta:1,1', 'kappa=lognorm:1,scale=10', 'tau=halfcauchy:scale=5', "
                 "'coef=norm:loc=0,scale=2.5' (covariates; 'coef.x1=...' for one). DIST "
                 "is a scipy.stats continuous distribution; ARGS its shape parameters, "
                 "then loc= and scale= by name."),
]


def parse_priors(values: tuple[str, ...]) -> dict[str, Any] | None:
    """``--prior`` values to the Python API's prior dict (None when there are none).

    Examples
    --------
    >>> p = parse_priors(("mu=beta:1,1", "kappa=lognorm:1,scale=10", "coef.x=norm:scale=2"))
    >>> p["kappa"].kwds, p["coef"]["x"].kwds
    ({'scale': 10.0}, {'scale': 2.0})
    """
    if not values:
        return None
    import numpy as np
    from scipy import stats

    out: dict[str, Any] = {}
    for value in values:
        name, sep, spec = value.partition("=")
        dist_name, _, arg_text = spec.partition(":")
        name, dist_name = name.strip(), dist_name.strip()
        if not sep or not name or not dist_name:
            raise click.BadParameter(f"{value!r}: write NAME=DIST:ARGS, e.g. "
                                     "'tau=halfcauchy:5'.", param_hint="--prior")
        dist = getattr(stats, dist_name, None)
        if not isinstance(dist, stats.rv_continuous):
            raise click.BadParameter(f"{value!r}: {dist_name!r} is not a scipy.stats "
                                     "continuous distribution (e.g. norm, halfcauchy, "
                                     "lognorm, gamma, beta).", param_hint="--prior")
        args, kwds = [], {}
        for piece in filter(None, (x.strip() for x in arg_text.split(","))):
            key, eq, num = piece.rpartition("=")
            try:
                number = float(num)
            except ValueError:
                raise click.BadParameter(f"{value!r}: {num!r} is not a number.",
                                         param_hint="--prior") from None
            if eq:
                kwds[key.strip()] = number
            else:
                args.append(number)
        n_shapes = len(dist.shapes.split(",")) if dist.shapes else 0
        if len(args) > n_shapes:  # scipy would read them as loc and scale: ask for names
            raise click.BadParameter(
                f"{value!r}: {dist_name} takes {n_shapes} shape parameter(s) "
                f"({dist.shapes or 'none'}); give loc and scale by name, e.g. "
                f"'{name}={dist_name}:{','.join(['1'] * n_shapes + ['scale=5'])}'.",
                param_hint="--prior")
        try:
            frozen = dist(*args, **kwds)
            valid = not np.any(np.isnan(frozen.support()))  # NaN: invalid parameters
        except Exception as exc:
            raise click.BadParameter(f"{value!r}: {exc}", param_hint="--prior") from None
        if not valid:
            raise click.BadParameter(f"{value!r}: invalid parameters for {dist_name} "
                                     f"({arg_text or 'none'}).", param_hint="--prior")
        head, _, sub = name.partition(".")
        if sub:
            out.setdefault(head, {})[sub] = frozen
        else:
            out[name] = frozen
    return out


def make_model(cls: type, given: dict[str, Any], **settings: Any) -> Any:
    """The model of a command, with the ``--prior`` values of ``given`` if any."""
    prior = parse_priors(tuple(given.get("prior") or ()))
    return cls(**settings) if prior is None else cls(prior=prior, **settings)


def with_columns(f):
    for opt in reversed(COLUMN_OPTIONS):
        f = opt(f)
    return f


def data_options(f):
    """DATA (a file, or - for CSV on stdin), --dataset and the column options of every
    command that reads data."""
    f = with_columns(f)
    f = click.option("--dataset", help="Use a bundled data set instead of a file.")(f)
    return click.argument("data", required=False)(f)


pooling_option = click.option("--pooling", type=click.Choice(["partial", "complete", "none"]),
                               default="partial", show_default=True)
method_option = click.option("--method", type=click.Choice(["exact", "eb"]), default="exact",
                              show_default=True, help="Exact full Bayes, or empirical Bayes.")


def check_prob(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A probability strictly between 0 and 1; a percentage gets a pointed suggestion."""
    if not 0 < value < 1:
        name = param.opts[0] if param.opts else param.name
        tip = (f"; for {value:g}% write {name} {value / 100:g}" if 1 < value < 100
               else " (e.g. 0.95)")
        raise click.BadParameter(
            f"must be a probability strictly between 0 and 1; got {value:g}{tip}",
            ctx=ctx, param=param)
    return value


prob_option = click.option("--prob", type=float, default=0.95, show_default=True,
                            callback=check_prob,
                            help="Mass of the equal-tailed intervals, in (0, 1).")


class _Count(click.ParamType):
    """A positive whole number, also written as ``1e6`` or ``1_000_000``."""

    name = "integer"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip().replace("_", "")
            try:
                number = int(text)
            except ValueError:
                try:
                    as_float = float(text)
                except ValueError:
                    as_float = math.nan
                if not (math.isfinite(as_float) and as_float == int(as_float)):
                    self.fail(f"{value!r} is not a whole number", param, ctx)
                number = int(as_float)
        if number < 1:
            self.fail(f"{value!r} is not a positive whole number", param, ctx)
        return number


DRAWS = _Count()


def model_class(family: str | None, dataset: str | None) -> tuple[type, dict[str, Any]]:
    if family is None:
        family = "binomial"
        if dataset is not None and dataset in datasets.DATASETS:
            family = family_of_dataset(datasets.DATASETS[dataset].family).name
    info = FAMILIES[family]
    import hierbayes.models

    cls = getattr(hierbayes.models, info.model)
    return cls, {"roles": info.roles, "family": family, "dask": info.dask}


def column_roles(group: str | None, roles: tuple[str, ...],
                 given: dict[str, Any]) -> dict[str, Any]:
    """The column of each role: as given, else its canonical name; a column option of
    another family is a usage error."""
    out: dict[str, Any] = {"group": group if group is not None else "group"}
    for role in roles:
        out[role] = given.get(role) or role
    stray = [k for k, v in given.items() if v and k not in roles and k != "prior"]
    if stray:
        raise click.UsageError(
            f"--{stray[0].replace('_', '-')} does not belong to this family; its columns are "
            + ", ".join(f"--{r.replace('_', '-')}" for r in roles)
        )
    return out


def central_probs(prob: float) -> tuple[float, float, float]:
    """(tail, 0.5, 1 - tail) of an equal-tailed interval, without float dust: 0.95 gives
    exactly the library's default (0.025, 0.5, 0.975)."""
    tail = float(f"{(1 - prob) / 2:.12g}")
    return tail, 0.5, float(f"{1 - tail:.12g}")


def _prior_text(prior: Any) -> Any:
    """The prior as given, in words (JSON metadata)."""
    if isinstance(prior, dict):
        return {k: _prior_text(v) for k, v in prior.items()}
    if hasattr(prior, "dist"):
        args = [f"{a:g}" for a in prior.args] + [f"{k}={v:g}" for k, v in prior.kwds.items()]
        return f"{prior.dist.name}({', '.join(args)})"
    return None if prior is None else str(prior)


def json_metadata(command: str, model: Any, info: dict[str, Any], data: str | None,
              dataset: str | None, roles: dict[str, Any], *, fit: Any = None,
              **extra: Any) -> dict[str, Any]:
    """The JSON document's metadata: command, model, data source and column roles."""
    meta: dict[str, Any] = {
        "command": command,
        "hierbayes_version": __version__,
        "family": info["family"],
        "model": type(model).__name__,
        "pooling": model.pooling,
        "method": model.method,
        "prior": model._prior.describe(),
        "prior_options": _prior_text(model.prior),
        "probs": [float(p) for p in model.probs],
        "data": (f"dataset:{dataset}" if dataset is not None
                 else "stdin" if data == STDIN else data),
        "columns": dict(roles),
    }
    if fit is not None:
        meta["n_groups"] = len(fit.group_labels)
        meta["numerical_error"] = json_value(fit.error)
    return {**meta, **extra}


_LABEL_NAMES = ("group", "id", "name", "label", "study", "trial", "school", "hospital",
                "unit", "area", "district", "county", "city", "site", "center", "centre",
                "player", "plate", "experiment", "region", "country", "state")


def read_roles(data: str | None, dataset: str | None, roles: dict[str, Any],
               group: str | None) -> Any:
    """The command's data; without ``--group`` and without a 'group' column, an obvious
    label column (named like one, else the one non-numeric column) becomes the group
    column, said in one line on stderr (``roles`` is updated)."""
    from hierbayes.output.files import read_data

    frame = read_data(data, dataset, text=(roles["group"],))
    if group is not None or roles["group"] in frame.columns:
        return frame
    used = {v for v in roles.values() if isinstance(v, str)}
    free = [c for c in frame.columns if isinstance(c, str) and c not in used]
    named = [c for c in free if c.strip().lower() in _LABEL_NAMES]
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    text = [c for c in free
            if not is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c])]
    pick = (named or text or [None])[0]
    if pick is not None:
        roles["group"] = pick
        others = [c for c in (named + text) if c != pick]
        also = f"; other candidates: {', '.join(map(repr, others))}" if others else ""
        click.echo(f"note: no 'group' column; using {pick!r} as the group labels "
                   f"(rows with one label are combined; --group chooses another{also}).",
                   err=True)
    return frame
