"""Edits of a duty's title the way county offices reword them (bench/revisions.toml).

Shared by bench/changes.py (revisions of one list) and bench/towns.py (towns that differ):
reword("负责本镇档案工作", rng) -> "承担本镇档案工作"; respell() changes punctuation or
spacing only, so the normalized title (pipeline.versions.title_key) stays the same.
"""

import random
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.versions import title_key  # noqa: E402

VOCAB = tomllib.loads((Path(__file__).parent / "revisions.toml").read_text(encoding="utf-8"))


def reword(title: str, rng: random.Random) -> str:
    """One to two edits of wording: reword("负责本镇档案工作", rng) -> "承担本镇档案工作"."""
    edits = [swap_synonym, drop_word, add_word, append_clause, drop_clause]
    for _ in range(rng.choice([1, 1, 2])):
        for edit in rng.sample(edits, len(edits)):
            changed = edit(title, rng)
            if title_key(changed) != title_key(title):
                title = changed
                break
    return respell(title, rng) if rng.random() < 0.3 else title


def swap_synonym(title: str, rng: random.Random) -> str:
    pairs = [pair for pair in VOCAB["synonyms"] if pair[0] in title or pair[1] in title]
    if not pairs:
        return title
    long, short = rng.choice(pairs)  # the longer form first: 组织开展 before 开展
    if long in title:
        return title.replace(long, short, 1)
    return title.replace(short, long, 1)


def drop_word(title: str, rng: random.Random) -> str:
    words = [word for word in VOCAB["droppable"] if word in title]
    return title.replace(rng.choice(words), "", 1) if words else title


def add_word(title: str, rng: random.Random) -> str:
    choice = rng.randrange(3)
    verb = next((v for v in VOCAB["lead_verbs"] if title.startswith(v)), None)
    if choice == 0 and verb and "本镇" not in title:
        return verb + "本镇" + title[len(verb):]
    if choice == 1 and "工作" in title and "相关工作" not in title:
        return title.replace("工作", "相关工作", 1)
    return title if title.endswith("工作") else title + "工作"


def append_clause(title: str, rng: random.Random) -> str:
    return title + str(rng.choice(VOCAB["clauses"]))


def drop_clause(title: str, rng: random.Random) -> str:
    clauses = re.split(r"[，；]", title)
    if len(clauses) < 2:
        return title
    del clauses[rng.randrange(1, len(clauses))]
    return "，".join(clauses)


def respell(title: str, rng: random.Random) -> str:
    """Punctuation and spacing only: respell("做好（防汛）工作", rng) -> "做好(防汛)工作"."""
    options = [(a, b) for a, b in VOCAB["respellings"] if a in title]
    if options and rng.random() < 0.7:
        old, new = rng.choice(options)
        return title.replace(old, new)
    cut = rng.randrange(1, len(title)) if len(title) > 1 else 1
    return title[:cut] + " " + title[cut:]
