from words import most_common, word_counts


def test_case_and_punctuation():
    assert word_counts("The cat. the CAT!") == {"the": 2, "cat": 2}


def test_apostrophes_inside_words():
    assert word_counts("Don't stop, 'quoted' words") == {"don't": 1, "stop": 1, "quoted": 1, "words": 1}


def test_most_common():
    assert most_common("b a b, A c B", 2) == [("b", 3), ("a", 2)]
