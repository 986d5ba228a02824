"""Routing: category + place -> agency, from the catalogue data."""

import csv
from importlib import resources

import pytest

from bot.nlp import route
from bot.nlp.dataset import DEFAULT_DATA
from bot.nlp.routing import agencies
from bot.places import bangkok_districts, provinces, resolve_province


@pytest.mark.parametrize("province", ["กรุงเทพมหานคร", "นนทบุรี", "จังหวัดสมุทรปราการ", "Bangkok", "กทม."])
def test_electricity_in_mea_area_goes_to_mea(province):
    assert route("ไฟฟ้า", province).id == "mea"


def test_overhead_cables_go_to_the_bangkok_district_office_but_mea_in_nonthaburi():
    assert route("สายไฟ", "กรุงเทพมหานคร", "บางรัก").id == "bma-district:1004"
    assert route("สายไฟ", "นนทบุรี").id == "mea"
    assert route("สายไฟ", "ลำปาง").id == "pea"


@pytest.mark.parametrize("province", ["เชียงใหม่", "Khon Kaen", "ปทุมธานี", "สงขลา"])
def test_electricity_elsewhere_goes_to_pea(province):
    assert route("ไฟฟ้า", province).id == "pea"


def test_water_supply_mwa_and_pwa():
    assert route("ประปา", "นนทบุรี").id == "mwa"
    assert route("ประปา", "ภูเก็ต").id == "pwa"


def test_bangkok_city_issue_goes_to_the_district_office():
    a = route("ถนน", "กรุงเทพมหานคร", "เขตบางรัก")
    assert (a.id, a.name_th, a.level) == ("bma-district:1004", "สำนักงานเขตบางรัก", "local")
    assert route("น้ำท่วม", None, "Chatuchak").id == "bma-district:1030"


def test_bangkok_city_issue_without_district_goes_to_the_bma():
    assert route("ความสะอาด", "กรุงเทพมหานคร").id == "bma"


def test_city_issue_in_another_province_goes_to_local_administration_office():
    assert route("ถนน", "ขอนแก่น").id == "local:40"


def test_default_is_the_provincial_damrongdhama_centre():
    a = route("อื่นๆ", "เชียงใหม่")
    assert a.id == "damrongdhama:50" and a.name_th == "ศูนย์ดำรงธรรมจังหวัดเชียงใหม่"
    assert agencies()["damrongdhama:10"].name_th == "ศูนย์ดำรงธรรมกรุงเทพมหานคร"
    assert route("อื่นๆ", "กรุงเทพมหานคร").id == "bma"  # what Traffy tickets show


def test_unknown_place_falls_back_to_the_national_centre():
    assert route("ไฟฟ้า").id == "damrongdhama"
    assert route("ถนน", "Atlantis").id == "damrongdhama"


def test_catalogue_has_77_provinces_matching_pythainlp_and_50_bangkok_districts():
    from pythainlp.corpus import provinces as ref

    assert len(provinces()) == 77 and len(bangkok_districts()) == 50
    assert {p.name_th for p in provinces().values()} == {p["name_th"] for p in ref(details=True)}
    assert resolve_province("Phra Nakhon Si Ayutthaya") == "14"


def test_every_rule_points_at_a_known_agency_and_category():
    import tomllib

    from bot.nlp import categories

    cat = tomllib.loads(resources.files("bot.data").joinpath("agencies.toml").read_text("utf-8"))
    ids = {c.id for c in categories()}
    for rule in cat["rule"]:
        assert set(rule["categories"]) <= ids | {"*"}  # "*": the general owners, last
        agency = rule["agency"].format(province="10", district="1001")
        assert agency in agencies()


def test_bangkok_districts_are_the_districts_in_the_data(traffy_examples):
    with open(DEFAULT_DATA, encoding="utf-8") as f:
        seen = {r["district"] for r in csv.DictReader(f) if r["province"] == "กรุงเทพมหานคร"}
    assert {d.name_th for d in bangkok_districts().values()} <= seen
