"""Fixtures shared by the Python test scripts (CLI, daemon, Python plugin)."""
import random


def comments(words, n, seed):
    """n distinct comments of 4 to 6 words from words."""
    rnd = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        text = " ".join(rnd.sample(words, rnd.randint(4, 6)))
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
