from sortcli import main


def test_plain():
    assert main([], "b\na\nc") == "a\nb\nc"


def test_numeric():
    assert main(["--numeric"], "10\n9\n100") == "9\n10\n100"
