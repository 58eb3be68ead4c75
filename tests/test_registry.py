import unicodedata

import pytest

from parindex.errors import ParindexError
from parindex.data.registry import fold


def test_registry_has_63_units_with_unique_codes_and_regions(registry):
    assert len(registry) == 63
    assert len({p.code for p in registry}) == 63
    assert len({p.iso_3166_2 for p in registry}) == 63
    assert {p.region for p in registry} == {"red_river_delta", "northern_midlands_mountains",
                                            "north_central_central_coast", "central_highlands",
                                            "southeast", "mekong_delta"}
    mekong = [p for p in registry if p.region == "mekong_delta"]
    assert len(mekong) == 13  # "4th of the 13 Mekong Delta localities" (An Giang 2020)


def test_every_unit_round_trips_by_every_own_spelling(registry):
    for p in registry:
        for s in (p.name_vi, p.name_ascii, p.name_en, p.code, str(int(p.code)), int(p.code),
                  unicodedata.normalize("NFD", p.name_vi), p.name_vi.upper(), f"Tỉnh {p.name_vi}"):
            assert registry.lookup(s) == p, s


def test_folded_keys_do_not_collide(registry):
    assert len({fold(p.name_vi) for p in registry}) == 63


@pytest.mark.parametrize("spelling,name", [
    ("TP. Hồ Chí Minh", "TP. Hồ Chí Minh"), ("Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"),
    ("Hồ Chí Minh", "TP. Hồ Chí Minh"), ("Ho Chi Minh City", "TP. Hồ Chí Minh"), ("HCMC", "TP. Hồ Chí Minh"),
    ("Thừa Thiên - Huế", "Thừa Thiên Huế"), ("Thua Thien Hue", "Thừa Thiên Huế"),
    ("Bà Rịa-Vũng Tàu", "Bà Rịa - Vũng Tàu"), ("BR-VT", "Bà Rịa - Vũng Tàu"),
    ("Đắk Lắk", "Đắk Lắk"), ("Đắc Lắc", "Đắk Lắk"), ("Dak Lak", "Đắk Lắk"),
    ("Hòa Bình", "Hòa Bình"), ("Hoà Bình", "Hòa Bình"), ("Khánh Hoà", "Khánh Hòa"),
    ("Thanh Hoá", "Thanh Hóa"), ("Tỉnh Quảng Ninh", "Quảng Ninh"), ("Thành phố Hải Phòng", "Hải Phòng"),
    ("01", "Hà Nội"), ("1", "Hà Nội"), ("079", "TP. Hồ Chí Minh"), ("  quảng   ngãi ", "Quảng Ngãi"),
])
def test_common_spellings(registry, spelling, name):
    assert registry.lookup(spelling).name_vi == name


def test_nfc_and_nfd_are_equal(registry):
    nfd = unicodedata.normalize("NFD", "Hoà Bình")
    assert nfd != "Hoà Bình"
    assert registry.lookup(nfd).name_vi == "Hòa Bình"


def test_unknown_name_suggests_closest(registry):
    with pytest.raises(ParindexError) as e:
        registry.resolve("Quang Nin", file="x.csv", row=7, column="province")
    msg = str(e.value)
    assert msg.startswith("x.csv, row 7, column 'province': unknown province 'Quang Nin'")
    assert "Quảng Ninh" in msg
    assert registry.lookup("Atlantis") is None
