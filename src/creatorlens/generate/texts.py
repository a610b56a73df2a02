"""Small word lists that make comment, live-chat and caption texts.

Comments are built from templates so that a lexicon sentiment analyser (VADER and the like)
classifies them by their intended tone: positive texts use clearly positive words, negative ones
clearly negative words, neutral ones avoid sentiment words altogether. Pools are built once per
run from the run's random generator; events then pick texts by index (no Python per event).
"""

from __future__ import annotations

import numpy as np

CATEGORIES = (
    "dance",
    "comedy",
    "food",
    "beauty",
    "fashion",
    "gaming",
    "sports",
    "education",
    "pets",
    "music",
    "travel",
    "diy",
    "fitness",
    "tech",
)
# Typical length multiplier per category (tutorials run long, dances short).
CATEGORY_DURATION = np.array(
    [0.75, 1.0, 1.35, 1.3, 0.9, 1.4, 0.9, 1.9, 0.8, 0.9, 1.1, 1.5, 1.1, 1.6], dtype=np.float64
)
CATEGORY_WEIGHTS = np.array([12, 16, 10, 8, 7, 8, 6, 6, 8, 7, 5, 3, 2, 2], dtype=np.float64) / 100.0

CATEGORY_TAGS: dict[str, tuple[str, ...]] = {
    "dance": ("dance", "dancechallenge", "choreography", "dancetutorial", "trend"),
    "comedy": ("comedy", "funny", "skit", "relatable", "prank"),
    "food": ("food", "recipe", "cooking", "foodtok", "easyrecipe"),
    "beauty": ("beauty", "makeup", "skincare", "grwm", "makeuptutorial"),
    "fashion": ("fashion", "ootd", "outfit", "style", "thrift"),
    "gaming": ("gaming", "gamer", "fortnite", "minecraft", "twitch"),
    "sports": ("sports", "football", "soccer", "nba", "highlights"),
    "education": ("learnontiktok", "edutok", "science", "history", "didyouknow"),
    "pets": ("pets", "dog", "cat", "puppy", "dogsoftiktok"),
    "music": ("music", "cover", "singing", "guitar", "newmusic"),
    "travel": ("travel", "traveltok", "wanderlust", "vacation", "hiddengems"),
    "diy": ("diy", "crafts", "homedecor", "lifehack", "upcycle"),
    "fitness": ("fitness", "gym", "workout", "gymtok", "homeworkout"),
    "tech": ("tech", "iphone", "gadgets", "techtok", "setup"),
}
GENERAL_TAGS = ("fyp", "foryou", "foryoupage", "viral", "trending")

CATEGORY_PHRASES: dict[str, tuple[str, ...]] = {
    "dance": ("new dance just dropped", "learn this in 10 seconds", "tried the new trend"),
    "comedy": ("when your mom calls you by your full name", "pov: monday morning", "no context"),
    "food": ("3 ingredient pasta", "breakfast in 5 minutes", "grandma's secret recipe"),
    "beauty": ("get ready with me", "5 minute makeup", "my night routine"),
    "fashion": ("outfit of the day", "thrift haul", "how to style one jacket 5 ways"),
    "gaming": ("clutch round", "new season first look", "speedrun attempt"),
    "sports": ("game day", "best goals this week", "training session"),
    "education": ("you did not learn this in school", "history in 60 seconds", "quick fact"),
    "pets": ("my dog when I open the fridge", "cat logic", "puppy's first snow"),
    "music": ("cover of a classic", "wrote this song last night", "acoustic version"),
    "travel": ("hidden beach", "48 hours in the city", "best view in town"),
    "diy": ("room makeover on a budget", "upcycling an old chair", "easy shelf build"),
    "fitness": ("leg day", "10 minute home workout", "form check"),
    "tech": ("desk setup tour", "unboxing", "phone tricks you missed"),
}
CAPTION_OPENERS = ("", "", "", "ok so ", "finally: ", "part 2: ", "day 3 of ", "")
CAPTION_EMOJI = ("", "", "", " 🔥", " ✨", " 😂", " 💀", " 🙌", " 👀")

_INTENS = ("", "", "so ", "really ", "super ", "absolutely ", "truly ")
_NEG_INTENS = ("", "", "so ", "really ", "very ", "absolutely ", "extremely ")  # no positive words
_POS_ADJ = (
    "amazing",
    "awesome",
    "beautiful",
    "great",
    "brilliant",
    "wonderful",
    "fantastic",
    "lovely",
    "hilarious",
    "perfect",
    "cool",
    "excellent",
)
_NEG_ADJ = (
    "terrible",
    "awful",
    "boring",
    "horrible",
    "stupid",
    "annoying",
    "ugly",
    "disgusting",
    "pathetic",
    "bad",
    "dull",
    "lame",
)
_NOUNS = ("video", "edit", "content", "song", "idea", "outfit", "recipe", "dance", "clip", "vibe")
_POS_EMOJI = ("", "", "", " 😍", " ❤️", " 😂", " 🥰", " 👏", " 😊")
_NEG_EMOJI = ("", "", "", " 👎", " 😡", " 🤮", " 😒")
_POS_TEMPLATES = (
    "{i}{a} {n}!{e}",
    "I love this {n}{e}",
    "this is {i}{a}{e}",
    "best {n} I have seen today{e}",
    "you always make my day, {i}{a}{e}",
    "love it, {i}{a}!!{e}",
    "wow {i}{a} {n}{e}",
    "thank you, this was {i}{a}{e}",
    "haha this is {i}{a}{e}",
    "great job, love the {n}{e}",
)
_NEG_TEMPLATES = (
    "this is {i}{a}{e}",
    "I hate this {n}{e}",
    "worst {n} ever{e}",
    "{i}{a} {n}, waste of time{e}",
    "stop posting this, it is {a}{e}",
    "what a {a} {n}{e}",
    "ugh, {i}{a}{e}",
    "this {n} is {i}{a}, unfollowing{e}",
    "no, just no. {a}{e}",
    "disappointed, {i}{a}{e}",
)
_NEU_TEMPLATES = (
    "what song is this?",
    "where was this filmed?",
    "part 2?",
    "first",
    "which camera do you use?",
    "how long did this take?",
    "watching from {c}",
    "anyone else here from {c}?",
    "what is the name of the {n}?",
    "saw this on my fyp at 3am",
    "who is here after the update?",
    "can you do a {n} next time?",
    "is this in {c}?",
    "which app did you use for the {n}?",
    "the {n} at 0:07",
    "day {k} of asking for a tutorial",
)
_NEU_PLACES = (
    "Brazil",
    "Mexico",
    "Texas",
    "London",
    "Jakarta",
    "Manila",
    "Berlin",
    "Madrid",
    "Paris",
    "Toronto",
    "Tokyo",
    "Lagos",
)
_LIVE_POS = (
    "hi from {c}, love you! ❤️",
    "love you!! 😍",
    "love this stream",
    "you are amazing",
    "best live ever 🔥",
    "so funny 😂",
    "great vibes tonight",
    "❤️❤️❤️ love it",
    "happy to be here 😊",
    "awesome!!",
)
_LIVE_NEU = (
    "hello",
    "hi",
    "what's the song?",
    "first time here",
    "where are you from?",
    "can you say hi to me?",
    "what time is it there?",
    "anyone else from {c}?",
    "joined from {c}",
    "when is the next live?",
)
_LIVE_NEG = (
    "boring",
    "this is so boring 😒",
    "bad audio",
    "terrible lag",
    "stop begging for gifts",
    "worst live",
)

TONE_SHARES = {"positive": 0.55, "neutral": 0.30, "negative": 0.15}


def _fill(
    rng: np.random.Generator,
    template: str,
    adj: tuple[str, ...],
    emoji: tuple[str, ...],
    intens: tuple[str, ...] = _INTENS,
) -> str:
    return template.format(
        i=intens[rng.integers(len(intens))],
        a=adj[rng.integers(len(adj))],
        n=_NOUNS[rng.integers(len(_NOUNS))],
        e=emoji[rng.integers(len(emoji))],
        c=_NEU_PLACES[rng.integers(len(_NEU_PLACES))],
        k=int(rng.integers(2, 60)),
    )


def _capitalize_some(rng: np.random.Generator, text: str) -> str:
    return text[:1].upper() + text[1:] if rng.random() < 0.3 else text


def comment_pool(rng: np.random.Generator, per_tone: int = 400) -> tuple[list[str], list[int]]:
    """Comment texts grouped by tone, and the start index of each tone group.

    Returns ``(texts, starts)`` with positive texts in ``texts[starts[0]:starts[1]]``, neutral in
    ``texts[starts[1]:starts[2]]`` and negative in ``texts[starts[2]:]``.
    """
    out: list[str] = []
    starts: list[int] = []
    for templates, adj, emoji, intens in (
        (_POS_TEMPLATES, _POS_ADJ, _POS_EMOJI, _INTENS),
        (_NEU_TEMPLATES, ("",), ("",), ("",)),
        (_NEG_TEMPLATES, _NEG_ADJ, _NEG_EMOJI, _NEG_INTENS),
    ):
        starts.append(len(out))
        for _ in range(per_tone):
            t = templates[rng.integers(len(templates))]
            out.append(_capitalize_some(rng, _fill(rng, t, adj, emoji, intens)))
    return out, starts


def live_pool(rng: np.random.Generator, per_tone: int = 60) -> list[str]:
    """Live-chat lines: positive, neutral and negative (2 : 2 : 1)."""
    out: list[str] = []
    for pool, n in ((_LIVE_POS, per_tone * 2), (_LIVE_NEU, per_tone * 2), (_LIVE_NEG, per_tone)):
        for _ in range(n):
            out.append(_fill(rng, pool[rng.integers(len(pool))], ("",), ("",)))
    return out


def video_texts(
    rng: np.random.Generator, category: np.ndarray, mention: list[str | None]
) -> tuple[list[str], list[list[str]]]:
    """Caption and hashtag list for each video (``category`` -1 = uncategorised).

    Random choices are drawn as arrays up front; the loop only assembles strings.
    """
    n = len(category)
    cat = np.where(category >= 0, category, rng.integers(0, len(CATEGORIES), n))
    opener = rng.integers(0, len(CAPTION_OPENERS), n)
    phrase = rng.random(n)
    emoji = rng.integers(0, len(CAPTION_EMOJI), n)
    n_tags = rng.choice(6, size=n, p=[0.08, 0.17, 0.27, 0.25, 0.15, 0.08])
    general = rng.random((n, 5)) < 0.4
    tag_u = rng.random((n, 5))
    captions: list[str] = []
    hashtags: list[list[str]] = []
    for k in range(n):
        name = CATEGORIES[cat[k]]
        phrases = CATEGORY_PHRASES[name]
        text = CAPTION_OPENERS[opener[k]] + phrases[int(phrase[k] * len(phrases))]
        text += CAPTION_EMOJI[emoji[k]]
        if mention[k]:
            text += f" with @{mention[k]}"
        tags: list[str] = []
        for j in range(int(n_tags[k])):
            pool = GENERAL_TAGS if general[k, j] else CATEGORY_TAGS[name]
            tag = pool[int(tag_u[k, j] * len(pool))]
            if tag not in tags:
                tags.append(tag)
        if tags:
            text += " " + " ".join("#" + t for t in tags)
        captions.append(text)
        hashtags.append(tags)
    return captions, hashtags
