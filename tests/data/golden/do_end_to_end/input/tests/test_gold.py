def test_ok():
    assert 1 + 1 == 2


def test_also_ok():
    assert "café".upper() == "CAFÉ"


def test_fails():
    assert "ü" == "u"
