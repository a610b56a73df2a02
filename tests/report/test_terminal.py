from creatorlens.report.terminal import likers_line


def test_likers_line_counts_the_named_likers_it_does_not_show() -> None:
    likers = {"named": ["a", "b", "c", "d", "e", "f", "g"], "others": 12}
    assert likers_line(likers) == "a, b, c, d, e (+2 more named) and 12 others"


def test_likers_line_with_few_or_no_named_likers() -> None:
    assert likers_line({"named": ["a", "b"], "others": 0}) == "a, b and 0 others"
    assert likers_line({"named": [], "others": 3}) == "nobody named and 3 others"
