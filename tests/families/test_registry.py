"""The family registry: one vocabulary, found from the family packages themselves."""

import inspect

import hierbayes as hb
import hierbayes.models
from hierbayes import datasets
from hierbayes.families import registry


def test_every_family_is_found_and_bound_to_its_public_model_and_fit():
    infos = registry.families()
    assert sorted(infos) == ["binomial", "normal", "poisson"]
    for name, info in infos.items():
        model = getattr(hierbayes.models, info.model)
        assert info.name == name
        assert model._fit_class.family_info is info  # the public fit knows its family
        roles = list(inspect.signature(model.fit).parameters)
        assert set(info.roles) <= set(roles), (info.roles, roles)


def test_a_fit_names_its_family_and_every_dataset_has_one():
    fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    assert registry.info_of(fit).title == "Gamma–Poisson"
    for d in datasets.DATASETS.values():
        info = registry.family_of_dataset(d.family)
        frame = datasets.load(d.name)
        assert set(info.roles) <= set(frame.columns), (d.name, info.roles)


def test_a_new_family_package_is_found_without_editing_the_registry(tmp_path, monkeypatch):
    """A package under hierbayes.families with an INFO is a family (here a stand-in)."""
    pkg = tmp_path / "zz_stub"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from hierbayes.families.registry import FamilyInfo\n"
        "INFO = FamilyInfo(name='stub', title='Stub', dataset_family='stub', model='Stub',\n"
        "                  roles=('y', 'n'), raw='y', theta='t', size='n')\n"
    )
    import hierbayes.families as package

    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    registry.families.cache_clear()
    try:
        assert registry.families()["stub"].title == "Stub"
        assert registry.family_of_dataset("stub").name == "stub"
    finally:
        registry.families.cache_clear()
