"""Vietnamese dictionary order (letters, then tones), wherever names are listed."""

from parindex.collate import sort_key, vsorted


def test_alphabet_then_tones():
    # ă, â, đ, ê, ô, ơ, ư are letters of their own; a space sorts before any letter
    assert vsorted(["Vĩnh Phúc", "Điện Biên", "Đắk Nông", "Đà Nẵng", "Dak"]) == [
        "Dak", "Đà Nẵng", "Đắk Nông", "Điện Biên", "Vĩnh Phúc"]
    assert vsorted(["Bình Phước", "Bình Thuận", "Bình Định", "Bạc Liêu", "Bà Rịa - Vũng Tàu"]) == [
        "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bình Định", "Bình Phước", "Bình Thuận"]
    assert vsorted(["Cần Thơ", "Cao Bằng", "Cà Mau"]) == ["Cà Mau", "Cao Bằng", "Cần Thơ"]
    # same letters: ngang < huyền < hỏi < ngã < sắc < nặng
    assert vsorted(["má", "mạ", "mà", "mã", "mả", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    # NFD input sorts like NFC; old and new tone placement meet
    assert sort_key("Hòa Bình")[:2] == sort_key("Hoà Bình")[:2] == sort_key("Ho\u0300a Bi\u0300nh")[:2]


def test_summary_lists_follow_dictionary_order(bundle):
    from parindex.analysis import analyse, summary

    doc = summary(analyse(2020))
    for names in [doc["par_index"]["unknown"], *doc["par_index"]["members"].values(),
                  *doc["sipas"]["published_tiers"].values()]:
        assert names == vsorted(names)
    assert doc["sipas"]["published_tiers"]["lowest"] == [
        "Bình Phước", "Bình Thuận", "Cao Bằng", "Đắk Lắk", "Kiên Giang", "Quảng Bình", "Quảng Ngãi"]
