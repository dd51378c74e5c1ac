"""The Russian production calendar, 2025–2027: the default business calendar's exceptions to
the five-day week, loaded by a migration and editable afterwards (Django admin, «Business
calendars»).

Sources: Labour Code art. 112 (the public holidays; one falling on a weekend moves to the next
working day, except the New Year ones); the Government's yearly decrees on moving days off for
2025 and 2026, as the published production calendars show them (the numbers of the decrees
were not at hand: check them against consultant.ru's production calendar). For
2027 only the rule of art. 112 is applied (the holidays, and May 1, 9 and June 12 that fall on a
weekend moved to the following Monday): the government's moves of 2 and 3 January 2027 are to be
added on the calendar when its decree is checked.

Each entry: (date, worked?, name). A weekday not worked is a holiday; a weekend day worked is
a transferred working day.
"""

import datetime as dt

D = dt.date

NEW_YEAR = "Новогодние каникулы"
CHRISTMAS = "Рождество Христово"
DEFENDER = "День защитника Отечества"
WOMEN = "Международный женский день"
MAY_DAY = "Праздник Весны и Труда"
VICTORY = "День Победы"
RUSSIA = "День России"
UNITY = "День народного единства"
MOVED = "Перенесённый выходной день"
WORKED = "Перенесённый рабочий день"

DAYS: list[tuple[dt.date, bool, str]] = [
    # 2025 (the decree): Jan 4 → May 2, Jan 5 → Dec 31, Feb 23 → May 8, Mar 8 → Jun 13,
    # Sat Nov 1 worked → Mon Nov 3 off.
    *[(D(2025, 1, day), False, NEW_YEAR) for day in (1, 2, 3, 6, 8)],
    (D(2025, 1, 7), False, CHRISTMAS),
    (D(2025, 5, 1), False, MAY_DAY),
    (D(2025, 5, 2), False, MOVED),
    (D(2025, 5, 8), False, MOVED),
    (D(2025, 5, 9), False, VICTORY),
    (D(2025, 6, 12), False, RUSSIA),
    (D(2025, 6, 13), False, MOVED),
    (D(2025, 11, 1), True, WORKED),
    (D(2025, 11, 3), False, MOVED),
    (D(2025, 11, 4), False, UNITY),
    (D(2025, 12, 31), False, MOVED),
    # 2026 (the decree): Jan 3 → Jan 9, Jan 4 → Dec 31; Mar 8 (Sunday) → Mar 9, May 9
    # (Saturday) → May 11.
    *[(D(2026, 1, day), False, NEW_YEAR) for day in (1, 2, 5, 6, 8)],
    (D(2026, 1, 7), False, CHRISTMAS),
    (D(2026, 1, 9), False, MOVED),
    (D(2026, 2, 23), False, DEFENDER),
    (D(2026, 3, 9), False, MOVED),
    (D(2026, 5, 1), False, MAY_DAY),
    (D(2026, 5, 11), False, MOVED),
    (D(2026, 6, 12), False, RUSSIA),
    (D(2026, 11, 4), False, UNITY),
    (D(2026, 12, 31), False, MOVED),
    # 2027 (art. 112 only): May 1 (Saturday) → May 3, May 9 (Sunday) → May 10, June 12
    # (Saturday) → June 14.
    *[(D(2027, 1, day), False, NEW_YEAR) for day in (1, 4, 5, 6, 8)],
    (D(2027, 1, 7), False, CHRISTMAS),
    (D(2027, 2, 23), False, DEFENDER),
    (D(2027, 3, 8), False, WOMEN),
    (D(2027, 5, 3), False, MOVED),
    (D(2027, 5, 10), False, MOVED),
    (D(2027, 6, 14), False, MOVED),
    (D(2027, 11, 4), False, UNITY),
]
