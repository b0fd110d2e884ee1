from sortcli import main, sort_lines


def test_reverse():
    assert main(["--reverse"], "b\na\nc") == "c\nb\na"
    assert main(["-r", "-n"], "10\n9\n100") == "100\n10\n9"


def test_unique():
    assert main(["-u"], "b\na\nb\na") == "a\nb"


def test_all_together():
    assert main(["-n", "-r", "-u"], "2\n10\n2\n1") == "10\n2\n1"


def test_sort_lines_keywords():
    assert sort_lines(["a", "c", "a"], reverse=True, unique=True) == ["c", "a"]
