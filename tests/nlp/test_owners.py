"""Who owns a case: every category has an owner everywhere, unknown ones go to the place's general owner,
power cuts to the electricity authority, and Traffy's current categories to their own owners."""

from __future__ import annotations

import pytest

from bot.nlp import categories, classify, route
from bot.nlp.categories import cue_category, map_labels, training_targets
from bot.nlp.normalize import normalize
from bot.nlp.routing import agencies, general_owner
from bot.places import provinces

PLACES = [("กรุงเทพมหานคร", "บางรัก"), ("กรุงเทพมหานคร", None), ("นนทบุรี", None), ("เชียงใหม่", None),
          (None, None), ("Atlantis", None)]


@pytest.mark.parametrize("province,district", PLACES)
def test_every_category_has_an_owner_at_every_place(province, district):
    for c in categories():
        owner = route(c.id, province, district)
        assert owner.id in agencies() and owner.name_th


def test_the_general_owner_is_the_district_office_the_provincial_centre_or_the_national_one():
    assert general_owner("กรุงเทพมหานคร", "บางรัก").id == "bma-district:1004"
    assert general_owner(None, "เขตจตุจักร").name_th == "สำนักงานเขตจตุจักร"
    assert general_owner("กรุงเทพมหานคร").id == "bma"
    assert general_owner("ลำปาง").name_th == "ศูนย์ดำรงธรรมจังหวัดลำปาง"
    assert general_owner().id == "damrongdhama"


def test_other_and_unknown_categories_go_to_the_general_owner():
    for category in ("อื่นๆ", "ไม่มีในรายการ", ""):
        assert route(category, "กรุงเทพมหานคร", "บางกะปิ").id == "bma-district:1006"
        assert route(category, "ขอนแก่น").id == "damrongdhama:40"
    # No rule takes electricity supply at an unknown place: the national centre still owns it.
    assert route("ไฟฟ้า", None).id == "damrongdhama"


@pytest.mark.parametrize("category,bangkok,elsewhere", [
    ("หาบเร่แผงลอย", "bma-district:1004", "local:50"),
    ("ผิดกฎจราจร", "bma-district:1004", "police"),
    ("อุปกรณ์ชำรุด", "bma-district:1004", "local:50"),
    ("อาคารสถานที่ชำรุด", "bma-district:1004", "local:50"),
    ("สัตว์จรจัด", "bma-district:1004", "local:50"),
    ("คุ้มครองผู้บริโภค", "ocpb", "ocpb"),
    ("เบาะแสยาเสพติด", "oncb", "oncb"),
    ("ภัยออนไลน์", "ccib", "ccib"),
])
def test_traffys_current_categories_have_their_owners(category, bangkok, elsewhere):
    assert route(category, "กรุงเทพมหานคร", "บางรัก").id == bangkok
    assert route(category, "เชียงใหม่").id == elsewhere


def test_newer_traffy_names_map_onto_the_categories_and_older_broader_answers_still_count():
    assert map_labels(["สัตว์"]) == {"สัตว์จรจัด"}
    assert map_labels(["เสียง"]) == {"เสียงรบกวน"}
    assert map_labels(["หาบเร่แผงลอย"]) == {"หาบเร่แผงลอย", "ทางเท้า", "กีดขวาง"}
    assert training_targets(map_labels(["หาบเร่แผงลอย", "ทางเท้า"])) == {"หาบเร่แผงลอย"}
    assert training_targets(map_labels(["ผิดกฎจราจร"])) == {"ผิดกฎจราจร"}
    assert training_targets(map_labels(["อุปกรณ์ชำรุด", "อื่นๆ"])) == {"อุปกรณ์ชำรุด"}
    assert training_targets(map_labels(["ถนน", "ทางเท้า"])) == {"ถนน", "ทางเท้า"}


POWER_CUTS = ["ไฟดับทั้งซอย", "ไฟฟ้าดับ", "ไฟตก", "ไฟดับทั้งซอยตั้งแต่เมื่อคืน ตู้เย็นเสียหมด",
              "ไฟฟ้าดับทั้งหมู่บ้านมาสามชั่วโมงแล้ว", "ไฟตกบ่อยมาก แอร์ดับ", "ไฟฟ้ากระพริบทั้งคืน"]
STREET_LIGHTS = ["ไฟถนนดับ", "ไฟส่องสว่างดับหลายต้น", "ไฟถนนหน้าบ้านดับมาสามวันแล้ว ซอยมืดมาก",
                 "เสาไฟดับทั้งซอย", "ไฟฟ้าส่องสว่างในซอยดับ", "ไฟกิ่งในซอยดับหมด",
                 "ไฟฟ้าดับหลายดวงในซอย"]


@pytest.mark.parametrize("text", POWER_CUTS)
def test_a_power_cut_is_electricity_supply_mea_in_bangkok_pea_elsewhere(text):
    assert cue_category(normalize(text)) == "ไฟฟ้า"
    c = classify(text, "กรุงเทพมหานคร", "บางรัก")
    assert (c.category, c.confident, c.agency.id) == ("ไฟฟ้า", True, "mea")
    assert c.agency.name_th == "การไฟฟ้านครหลวง"
    assert "ไฟฟ้า" not in [a.category for a in c.alternatives]
    assert classify(text, "สมุทรปราการ").agency.id == "mea"
    assert classify(text, "ลำปาง").agency.name_th == "การไฟฟ้าส่วนภูมิภาค"


@pytest.mark.parametrize("text", STREET_LIGHTS)
def test_street_lights_out_stay_street_lighting_with_the_district(text):
    assert cue_category(normalize(text)) is None
    c = classify(text, "กรุงเทพมหานคร", "บางรัก")
    assert c.category == "แสงสว่าง" and c.agency.id == "bma-district:1004"


def test_every_province_has_its_own_general_owner():
    owners = {general_owner(p.name_th).id for p in provinces().values()}
    assert len(owners) == 77
