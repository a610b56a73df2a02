"""Countries, cities, languages and time zones of the synthetic platform; vectorized UTC offsets.

Offsets come from the pinned ``pytz`` database through its public API only: each zone is sampled
weekly over the needed range and every change is bisected down to the second, so a lookup is one
``np.searchsorted`` for any number of (zone, instant) pairs, daylight-saving changes included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytz

# (code, weight, [(language, weight)], [(city, time zone, weight)])
# TikTok is blocked in India, so it is left out on purpose. Australia/Adelaide gives a half-hour
# offset and Australia/Sydney and Europe/* change daylight-saving time inside the default window.
COUNTRIES: tuple[tuple[str, float, tuple, tuple], ...] = (
    (
        "US",
        0.30,
        (("en", 0.86), ("es", 0.14)),
        (
            ("New York", "America/New_York", 0.28),
            ("Los Angeles", "America/Los_Angeles", 0.22),
            ("Chicago", "America/Chicago", 0.16),
            ("Houston", "America/Chicago", 0.14),
            ("Miami", "America/New_York", 0.10),
            ("Phoenix", "America/Phoenix", 0.10),
        ),
    ),
    (
        "BR",
        0.12,
        (("pt", 0.97), ("en", 0.03)),
        (
            ("São Paulo", "America/Sao_Paulo", 0.45),
            ("Rio de Janeiro", "America/Sao_Paulo", 0.35),
            ("Salvador", "America/Bahia", 0.20),
        ),
    ),
    (
        "MX",
        0.08,
        (("es", 0.96), ("en", 0.04)),
        (
            ("Mexico City", "America/Mexico_City", 0.55),
            ("Guadalajara", "America/Mexico_City", 0.25),
            ("Monterrey", "America/Monterrey", 0.20),
        ),
    ),
    (
        "ID",
        0.08,
        (("id", 0.92), ("en", 0.08)),
        (
            ("Jakarta", "Asia/Jakarta", 0.55),
            ("Surabaya", "Asia/Jakarta", 0.25),
            ("Bandung", "Asia/Jakarta", 0.20),
        ),
    ),
    (
        "GB",
        0.07,
        (("en", 1.0),),
        (
            ("London", "Europe/London", 0.60),
            ("Manchester", "Europe/London", 0.22),
            ("Birmingham", "Europe/London", 0.18),
        ),
    ),
    (
        "DE",
        0.06,
        (("de", 0.93), ("en", 0.07)),
        (
            ("Berlin", "Europe/Berlin", 0.45),
            ("Munich", "Europe/Berlin", 0.30),
            ("Hamburg", "Europe/Berlin", 0.25),
        ),
    ),
    (
        "FR",
        0.05,
        (("fr", 0.95), ("en", 0.05)),
        (
            ("Paris", "Europe/Paris", 0.55),
            ("Lyon", "Europe/Paris", 0.25),
            ("Marseille", "Europe/Paris", 0.20),
        ),
    ),
    (
        "ES",
        0.05,
        (("es", 0.95), ("en", 0.05)),
        (
            ("Madrid", "Europe/Madrid", 0.45),
            ("Barcelona", "Europe/Madrid", 0.40),
            ("Valencia", "Europe/Madrid", 0.15),
        ),
    ),
    (
        "PH",
        0.05,
        (("en", 0.55), ("tl", 0.45)),
        (("Manila", "Asia/Manila", 0.7), ("Cebu City", "Asia/Manila", 0.3)),
    ),
    (
        "JP",
        0.04,
        (("ja", 0.97), ("en", 0.03)),
        (("Tokyo", "Asia/Tokyo", 0.65), ("Osaka", "Asia/Tokyo", 0.35)),
    ),
    (
        "CA",
        0.04,
        (("en", 0.78), ("fr", 0.22)),
        (
            ("Toronto", "America/Toronto", 0.45),
            ("Montreal", "America/Toronto", 0.30),
            ("Vancouver", "America/Vancouver", 0.25),
        ),
    ),
    (
        "TR",
        0.03,
        (("tr", 0.95), ("en", 0.05)),
        (("Istanbul", "Europe/Istanbul", 0.7), ("Ankara", "Europe/Istanbul", 0.3)),
    ),
    (
        "AU",
        0.03,
        (("en", 1.0),),
        (
            ("Sydney", "Australia/Sydney", 0.40),
            ("Melbourne", "Australia/Melbourne", 0.35),
            ("Brisbane", "Australia/Brisbane", 0.15),
            ("Adelaide", "Australia/Adelaide", 0.10),
        ),
    ),
    (
        "NG",
        0.02,
        (("en", 1.0),),
        (("Lagos", "Africa/Lagos", 0.7), ("Abuja", "Africa/Lagos", 0.3)),
    ),
)

COUNTRY_CODES = tuple(c[0] for c in COUNTRIES)
COUNTRY_WEIGHTS = np.array([c[1] for c in COUNTRIES], dtype=np.float64)
COUNTRY_WEIGHTS /= COUNTRY_WEIGHTS.sum()

LANGUAGES = tuple(sorted({lang for c in COUNTRIES for lang, _ in c[2]}))
CITIES = tuple(city for c in COUNTRIES for city, _, _ in c[3])
# Index 0 is UTC: the zone used for accounts without a time zone.
TIMEZONES = ("UTC",) + tuple(sorted({tz for c in COUNTRIES for _, tz, _ in c[3]}))

# Per country: language indices/weights, city indices/weights, the city's zone index, and the
# country's main zone (the first city's) for accounts with a country but no city.
_lang_idx = {lang: i for i, lang in enumerate(LANGUAGES)}
_tz_idx = {tz: i for i, tz in enumerate(TIMEZONES)}
COUNTRY_LANGS: list[tuple[np.ndarray, np.ndarray]] = []
COUNTRY_CITIES: list[tuple[np.ndarray, np.ndarray]] = []
CITY_TZ = np.zeros(len(CITIES), dtype=np.int16)
COUNTRY_MAIN_TZ = np.zeros(len(COUNTRIES), dtype=np.int16)
_city_base = 0
for _k, (_code, _w, _langs, _cities) in enumerate(COUNTRIES):
    _lw = np.array([w for _, w in _langs])
    COUNTRY_LANGS.append((np.array([_lang_idx[x] for x, _ in _langs]), _lw / _lw.sum()))
    _cw = np.array([w for _, _, w in _cities])
    COUNTRY_CITIES.append((np.arange(_city_base, _city_base + len(_cities)), _cw / _cw.sum()))
    for _j, (_, _tz, _) in enumerate(_cities):
        CITY_TZ[_city_base + _j] = _tz_idx[_tz]
    COUNTRY_MAIN_TZ[_k] = _tz_idx[_cities[0][1]]
    _city_base += len(_cities)

# Share-channel preference multipliers by country (WhatsApp dominates messaging in BR/MX/ES/ID,
# LINE-less Japan shares more via X, Telegram is big in TR).
COUNTRY_CHANNEL_BOOST: dict[str, dict[str, float]] = {
    "BR": {"whatsapp": 2.5},
    "MX": {"whatsapp": 2.2},
    "ES": {"whatsapp": 2.0},
    "ID": {"whatsapp": 2.0},
    "NG": {"whatsapp": 2.2},
    "TR": {"telegram": 2.5, "whatsapp": 1.5},
    "JP": {"x": 3.0, "whatsapp": 0.2},
    "US": {"sms": 1.8, "whatsapp": 0.4},
    "CA": {"sms": 1.5, "whatsapp": 0.6},
    "PH": {"facebook": 2.5},
}

_SEC_MS = 1000
_WEEK_S = 7 * 86_400
_TZ_BITS = 43  # instants are ms since 1970 < 2**43 (year 2248)


def _offset_min(tz, epoch_s: int) -> int:
    return int(datetime.fromtimestamp(epoch_s, tz).utcoffset().total_seconds()) // 60


@dataclass(frozen=True)
class OffsetTable:
    """UTC offsets (minutes) of the zones in ``TIMEZONES`` between two instants, vectorized."""

    keys: np.ndarray  # zone << _TZ_BITS | change instant (ms), sorted
    offsets: np.ndarray  # offset in minutes from that change on
    max_offset_min: int
    min_offset_min: int

    @classmethod
    def build(cls, lo_ms: int, hi_ms: int) -> OffsetTable:
        keys: list[int] = []
        offs: list[int] = []
        lo_s, hi_s = lo_ms // _SEC_MS - _WEEK_S, hi_ms // _SEC_MS + _WEEK_S
        for zi, name in enumerate(TIMEZONES):
            tz = pytz.timezone(name)
            keys.append(zi << _TZ_BITS)
            prev = _offset_min(tz, lo_s)
            offs.append(prev)
            t = lo_s
            while t < hi_s:
                nxt = min(t + _WEEK_S, hi_s)
                cur = _offset_min(tz, nxt)
                if cur != prev:
                    a, b = t, nxt  # offset(a) == prev, offset(b) == cur: bisect the change
                    while b - a > 1:
                        m = (a + b) // 2
                        if _offset_min(tz, m) == prev:
                            a = m
                        else:
                            b = m
                    keys.append((zi << _TZ_BITS) | (b * _SEC_MS))
                    offs.append(cur)
                    prev = cur
                t = nxt
        off = np.array(offs, dtype=np.int64)
        return cls(np.array(keys, dtype=np.int64), off, int(off.max()), int(off.min()))

    def at(self, zone: np.ndarray, utc_ms: np.ndarray) -> np.ndarray:
        """Offset in minutes of each zone index at each UTC instant (arrays broadcast)."""
        key = (np.asarray(zone, dtype=np.int64) << _TZ_BITS) | np.asarray(utc_ms, dtype=np.int64)
        return self.offsets[np.searchsorted(self.keys, key, side="right") - 1]
