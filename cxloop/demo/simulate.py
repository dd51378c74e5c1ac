"""Draw the demo organisation's people, clients and feedback from the planted truths.

Pure NumPy and the standard library: the same ``seed`` and ``end`` give the same data. A rating of
touchpoint *t* by a client *c* at time *s* is the rounded, clipped latent quality

    q = base[t] + client[c] + team[c] + change[t, s] + ε,   ε ~ N(0, 0.75²),

and the recommendation score is the rounded, clipped

    nps = 8.0 + Σ_t w[t] · (r[t] − base[t]) + η,   η ~ N(0, 1.3²),

with ``w`` the planted driver weights of the client's segment (a touchpoint the client skipped
contributes its latent quality instead of a rating). From the reward plans' start, a share of
the gaming partner's clients' recommendation scores below 9 become a 10, in surveys and meetings
(:meth:`_World.gamed`).
"""

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field, replace

import numpy as np

from cxloop.demo import organisation as org
from cxloop.demo.comments import compose_comment, sentiment_for_score
from cxloop.demo.training import TrainingRecord, draw_training, training_lift
from cxloop.demo.truth import (
    CHAMPIONLESS_TEAMS,
    GAMING_TEAM,
    LUCK_DRAWS,
    STEADY_EDGE,
    STEADY_TEAM,
    PlantedTruth,
    month_start,
)

SIZES = {
    # customers, transactional invitations per eligible contact per month, face-to-face records
    "full": (400, 2.0, 700),
    "small": (40, 0.5, 60),
}
CONTACTS_BY_TIER = {"strategic": (14, 22), "key": (8, 12), "standard": (4, 7), "small": (2, 4)}
RATING_NOISE, NPS_NOISE, NPS_INTERCEPT = 0.75, 1.3, 8.0
GAMING_STREAM, PULSE_STREAM = 13, 14  # seeds, beside the demo's own, of the planted streams
NOT_APPLICABLE = 0.05  # chance a relationship respondent skips a touchpoint rating
# Funnel of an e-mail invitation: bounced; else opened → started → completed.
BOUNCED, OPENED, STARTED, COMPLETED = 0.02, 0.70, 0.76, 0.93
TX_OPENED = 0.64
# Stages' share of transactional events: delivery happens most often, first contact least.
STAGE_EVENT_WEIGHT = (0.5, 0.7, 0.8, 3.0, 1.3, 0.9)
PASSWORD = "demo-cxloop"


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    team: str
    role: str
    title: str
    is_champion: bool = False


@dataclass(frozen=True)
class Client:
    external_id: str
    name: str
    tier: str
    industry: str
    lifecycle_stage: str
    annual_value: int
    currency: str
    owner: int  # index into people
    attributes: dict


@dataclass(frozen=True)
class ClientContact:
    client: int
    name: str
    email: str
    phone: str
    job_title: str
    language: str
    consent: bool
    opted_out: bool


@dataclass
class Feedback:
    """Invitations and the responses they led to, as parallel arrays (one row per invitation)."""

    survey: np.ndarray  # "relationship" or "transactional"
    contact: np.ndarray
    touchpoint: np.ndarray  # index into TOUCHPOINTS, −1 for a relationship survey
    sent_at: np.ndarray  # datetime64[s]
    opened_at: np.ndarray
    started_at: np.ndarray
    completed_at: np.ndarray
    bounced_at: np.ndarray
    token_hash: list[str]
    nps: np.ndarray  # float, NaN where not asked or not answered
    csat: np.ndarray
    ces: np.ndarray
    ratings: np.ndarray  # (invitations × touchpoints), NaN where not rated
    comment: list[str | None]


@dataclass(frozen=True)
class Meeting:
    kind: str
    client: int
    employee: int
    contacts: tuple[int, ...]
    met_on: dt.date
    language: str
    nps: int
    ratings: dict[int, int]  # touchpoint index → rating
    notes: str
    follow_ups: tuple[tuple[str, dt.date], ...]


@dataclass(frozen=True)
class PulseAnswer:
    person: int  # index into people
    wave: int  # index into truth.pulse["waves"]
    enps: int
    comment: str


@dataclass(frozen=True)
class IdeaNote:
    person: int
    text: str
    anonymous: bool
    days_before_end: int


@dataclass
class DemoData:
    truth: PlantedTruth
    people: list[Person]
    clients: list[Client]
    contacts: list[ClientContact]
    feedback: Feedback
    meetings: list[Meeting] = field(default_factory=list)
    pulse: list[PulseAnswer] = field(default_factory=list)
    ideas: list[IdeaNote] = field(default_factory=list)
    training: list[TrainingRecord] = field(default_factory=list)


def _person_name(rng: np.random.Generator) -> tuple[str, str]:
    surname = str(rng.choice(org.SURNAMES))
    if rng.random() < 0.5:
        return str(rng.choice(org.FIRST_NAMES_M)), surname
    return str(rng.choice(org.FIRST_NAMES_F)), surname + "а"


_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)


def _login(first: str, last: str, taken: set[str]) -> str:
    base = f"{first[0]}.{last}".lower().translate(_TRANSLIT)
    login, n = base, 1
    while login in taken:
        n += 1
        login = f"{base}{n}"
    taken.add(login)
    return login


def draw_people(rng: np.random.Generator) -> list[Person]:
    """Fixed demo logins first (their usernames are printed by ``cxloop demo``), then the staff."""
    people = [
        Person("ceo", "Андрей", "Северин", "firm", "executive", "Управляющий партнёр"),
        Person(
            "cx.lead",
            "Мария",
            "Лебедева",
            "firm",
            "admin",
            "Руководитель клиентского опыта",
            is_champion=True,
        ),
        Person("manager", "Павел", "Орлов", "msk_tax", "manager", "Партнёр"),
        Person("employee", "Алина", "Зайцева", "msk_tax", "employee", "Старший консультант"),
        Person("viewer", "Олег", "Фролов", "firm", "viewer", "Аналитик"),
        Person(
            "billing.lead",
            "Ирина",
            "Белова",
            "service",
            "manager",
            "Руководитель клиентского сервиса",
        ),
    ]
    taken = {p.username for p in people}
    for team, staff in org.PRACTICES:
        has_partner = team == "msk_tax"  # «manager» above is the Moscow tax partner
        for position in range(staff + (0 if has_partner else 1)):
            first, last = _person_name(rng)
            is_partner = position == 0 and not has_partner
            people.append(
                Person(
                    _login(first, last, taken),
                    first,
                    last,
                    team,
                    "manager" if is_partner else "employee",
                    "Партнёр"
                    if is_partner
                    else str(
                        rng.choice(
                            ("Консультант", "Старший консультант", "Менеджер проекта", "Аналитик")
                        )
                    ),
                    is_champion=bool(rng.random() < 0.12),
                )
            )
    for _ in range(4):
        first, last = _person_name(rng)
        people.append(
            Person(
                _login(first, last, taken),
                first,
                last,
                "service",
                "employee",
                "Специалист по работе с клиентами",
            )
        )
    return _with_champions(people)


def _with_champions(people: list[Person]) -> list[Person]:
    """Champions drawn by chance, then planted: none in CHAMPIONLESS_TEAMS, and in every other
    team without one its first employee becomes one."""
    staffed = {p.team for p in people if p.role != "viewer"}
    missing = staffed - {p.team for p in people if p.is_champion} - set(CHAMPIONLESS_TEAMS)
    planted = []
    for person in people:
        if person.team in CHAMPIONLESS_TEAMS:
            person = replace(person, is_champion=False)
        elif person.team in missing and person.role == "employee":
            person = replace(person, is_champion=True)
            missing.discard(person.team)
        planted.append(person)
    return planted


def _client_names(rng: np.random.Generator, n: int) -> list[str]:
    russian = [f"{root} {noun}" for root in org.NAME_ROOTS for noun in org.NAME_NOUNS]
    picked = rng.permutation(len(russian))[: n - len(org.FOREIGN_NAMES)]
    names = [f"{rng.choice(org.LEGAL_FORMS)} «{russian[i]}»" for i in picked]
    names += [f"{name} Ltd" for name in org.FOREIGN_NAMES]
    return [names[i] for i in rng.permutation(len(names))]


def draw_clients(rng: np.random.Generator, people: list[Person], n: int) -> list[Client]:
    owners = [i for i, p in enumerate(people) if p.team in dict(org.PRACTICES)]
    lucky = [i for i in owners if people[i].team == org.LUCKY_TEAM]
    others = [i for i in owners if people[i].team != org.LUCKY_TEAM]
    n_lucky = max(4, n // 40)  # the small team has only a handful of clients
    tiers = rng.choice(org.TIERS, size=n, p=org.TIER_SHARES)
    clients = []
    for i, name in enumerate(_client_names(rng, n)):
        tier = str(tiers[i])
        if i < n_lucky:
            tier = "standard" if tier in org.TARGET_TIERS else tier
        value = org.TIER_VALUE[tier] * float(np.exp(rng.normal(0, 0.45)))
        foreign = name.endswith("Ltd")
        clients.append(
            Client(
                external_id=f"CRM-{10000 + i}",
                name=name,
                tier=tier,
                industry=str(rng.choice(org.INDUSTRIES)),
                lifecycle_stage=str(
                    rng.choice(
                        ("active", "onboarding", "renewal", "churned"), p=(0.8, 0.07, 0.08, 0.05)
                    )
                ),
                annual_value=int(round(value, -3)),
                currency="RUB",
                owner=int(rng.choice(lucky if i < n_lucky else others)),
                attributes={
                    "client_since": int(rng.integers(2008, 2025)),
                    "region": "international"
                    if foreign
                    else str(
                        rng.choice(
                            ("Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск")
                        )
                    ),
                },
            )
        )
    return clients


def draw_contacts(rng: np.random.Generator, clients: list[Client]) -> list[ClientContact]:
    contacts = []
    for i, client in enumerate(clients):
        low, high = CONTACTS_BY_TIER[client.tier]
        foreign = client.name.endswith("Ltd")
        domain = f"client{i + 1}.example.com"
        for k in range(int(rng.integers(low, high + 1))):
            english = foreign or rng.random() < 0.12
            if english:
                name = str(rng.choice(org.ENGLISH_NAMES))
                title = str(rng.choice(org.CONTACT_TITLES_EN))
            else:
                first, last = _person_name(rng)
                name, title = f"{first} {last}", str(rng.choice(org.CONTACT_TITLES_RU))
            contacts.append(
                ClientContact(
                    client=i,
                    name=name,
                    email=f"contact{k + 1}@{domain}",
                    phone=f"+7 9{rng.integers(10, 99)} {rng.integers(100, 999)}-"
                    f"{rng.integers(10, 99)}-{rng.integers(10, 99)}",
                    job_title=title,
                    language="en" if english else "ru",
                    consent=bool(rng.random() < 0.9),
                    opted_out=bool(rng.random() < 0.03),
                )
            )
    return contacts


def _to_seconds(day: dt.date) -> int:
    return int(np.datetime64(day, "s").astype(np.int64))


class _World:
    """Everything a score depends on, so that survey responses and meetings share one truth."""

    def __init__(self, rng, truth, people, clients):
        self.rng, self.truth = rng, truth
        self.base = np.array([tp.base for tp in org.TOUCHPOINTS])
        codes = [tp.code for tp in org.TOUCHPOINTS]
        self.weights = np.array(
            [
                [truth.driver_weights[c] for c in codes],
                [truth.target_driver_weights[c] for c in codes],
            ]
        )
        self.client_effect = rng.normal(0, 0.35, len(clients))
        self.is_lucky = np.array([people[c.owner].team == org.LUCKY_TEAM for c in clients])
        # The lucky team's clients are average clients, so that only luck sets them apart.
        self.client_effect[self.is_lucky] -= self.client_effect[self.is_lucky].mean()
        teams = sorted({p.team for p in people})
        team_effect = dict(zip(teams, rng.normal(0, 0.12, len(teams)), strict=True))
        team_effect[org.LUCKY_TEAM] = 0.0  # the planted truth: no real edge
        team_effect[STEADY_TEAM] = STEADY_EDGE  # … and a real one
        self.client_team_effect = np.array([team_effect[people[c.owner].team] for c in clients])
        self.is_target = np.array([c.tier in org.TARGET_TIERS for c in clients])
        rollback, improvement = truth.rollback, truth.improvement
        self.rollback_tp = codes.index(rollback["touchpoint"])
        self.rollback_from = _to_seconds(dt.date.fromisoformat(rollback["from_month"] + "-01"))
        self.improvement_tp = codes.index(improvement["touchpoint"])
        self.improvement_from = _to_seconds(dt.date.fromisoformat(improvement["from_date"]))
        partner = next(
            i for i, p in enumerate(people) if p.team == GAMING_TEAM and p.role == "manager"
        )
        self.is_gamed = np.array([c.owner == partner for c in clients])
        self.gaming_from = _to_seconds(dt.date.fromisoformat(truth.rewards["gaming"]["from"]))
        # Its own stream, so that planting it leaves every other draw of the demo as it was.
        self.gaming_rng = np.random.default_rng([truth.seed, GAMING_STREAM])
        streak = truth.lucky_team["streak_months"]
        self.streak = (
            _to_seconds(dt.date.fromisoformat(streak[0] + "-01")),
            _to_seconds(month_start(dt.date.fromisoformat(streak[-1] + "-01"), -1)),
        )

    def latent(self, client: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Latent quality of every touchpoint for each (client, time): shape (n, touchpoints)."""
        n = len(client)
        q = self.base + (self.client_effect[client] + self.client_team_effect[client])[:, None]
        q = q + self.rng.normal(0, RATING_NOISE, (n, len(self.base)))
        q[:, self.rollback_tp] += np.where(
            when >= self.rollback_from, self.truth.rollback["drop"], 0
        )
        q[:, self.improvement_tp] += np.where(
            when >= self.improvement_from, self.truth.improvement["lift"], 0
        )
        return _trained(q, client, when, self.training)

    def lucky(self, client: np.ndarray, when: np.ndarray) -> np.ndarray:
        return self.is_lucky[client] & (when >= self.streak[0]) & (when < self.streak[1])

    def gamed(self, nps: np.ndarray, client: np.ndarray, when: np.ndarray) -> np.ndarray:
        """The scores as given to the partner who asks for a 10 once the reward plans start."""
        asked = self.is_gamed[client] & (when >= self.gaming_from) & (nps < 9)
        share = self.truth.rewards["gaming"]["share"]
        return np.where(asked & (self.gaming_rng.random(len(nps)) < share), 10, nps)

    def noise(self, sd: float, lucky: np.ndarray) -> np.ndarray:
        """Normal noise; on a lucky streak, the best of LUCK_DRAWS draws."""
        draws = self.rng.normal(0, sd, (LUCK_DRAWS, len(lucky)))
        return np.where(lucky, draws.max(axis=0), draws[0])

    def nps(
        self, client: np.ndarray, when: np.ndarray, quality: np.ndarray, rated: np.ndarray
    ) -> np.ndarray:
        """Recommendation scores from the ratings given (or latent quality where not rated)."""
        felt = np.where(np.isnan(rated), quality, rated)
        w = self.weights[self.is_target[client].astype(int)]
        raw = NPS_INTERCEPT + (w * (felt - self.base)).sum(axis=1)
        raw = raw + self.noise(NPS_NOISE, self.lucky(client, when))
        return np.clip(np.rint(raw), 0, 10)


def _trained(
    quality: np.ndarray, client: np.ndarray, when: np.ndarray, training: tuple[np.ndarray, ...]
) -> np.ndarray:
    """The training step (cxloop/demo/training.py): the latent quality of a touchpoint a
    course raises, raised for the clients of the people who completed the course, from the
    day they completed it (``training``: from when, per client and touchpoint, and by how
    much, per touchpoint, as :func:`~cxloop.demo.training.training_lift` gives them)."""
    since, lift = training
    return quality + np.where(when[:, None] >= since[client], lift, 0.0)


def _ratings(quality: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(quality), 1, 5)


def _funnel(rng, sent: np.ndarray, opened_share: np.ndarray, end: np.datetime64):
    """Times of each funnel step; NaT where the invitation stopped before it or where the step
    would fall after ``end`` (the invitation is still waiting then)."""
    n = len(sent)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    bounced = rng.random(n) < BOUNCED
    opened_at = sent + (rng.exponential(1.5 * 86400, n) + 300).astype("timedelta64[s]")
    started_at = opened_at + rng.integers(5, 600, n).astype("timedelta64[s]")
    completed_at = started_at + rng.integers(60, 900, n).astype("timedelta64[s]")
    opened = ~bounced & (rng.random(n) < opened_share) & (opened_at <= end)
    started = opened & (rng.random(n) < STARTED) & (started_at <= end)
    completed = started & (rng.random(n) < COMPLETED) & (completed_at <= end)
    return (
        np.where(opened, opened_at, nat),
        np.where(started, started_at, nat),
        np.where(completed, completed_at, nat),
        np.where(bounced, sent + np.timedelta64(40, "s"), nat),
    )


def draw_feedback(
    rng, world: _World, contacts: list[ClientContact], truth: PlantedTruth, per_contact_month: float
) -> tuple[np.ndarray, ...]:
    eligible = np.array([i for i, c in enumerate(contacts) if c.consent and not c.opted_out])
    start, end = _to_seconds(truth.start), _to_seconds(truth.end)
    # Relationship survey: a wave at the start of every quarter, sent over the first week.
    waves = [_to_seconds(month_start(truth.end, months)) for months in range(24, 0, -3)]
    rel_contact = np.tile(eligible, len(waves))
    rel_sent = np.repeat(waves, len(eligible)) + rng.integers(0, 7 * 86400, len(rel_contact))
    # Transactional survey: after an event at a touchpoint, at any time.
    n_tx = rng.poisson(per_contact_month * 24 * len(eligible))
    tx_contact = rng.choice(eligible, n_tx)
    tx_sent = rng.integers(start, end - 2 * 86400, n_tx)
    stage_of_tp = np.repeat(
        np.arange(len(org.STAGES)), [len(stage.touchpoints) for stage in org.STAGES]
    )
    p = np.array(STAGE_EVENT_WEIGHT)[stage_of_tp]
    tx_tp = rng.choice(len(org.TOUCHPOINTS), n_tx, p=p / p.sum())
    survey = np.concatenate(
        [np.full(len(rel_contact), "relationship"), np.full(n_tx, "transactional")]
    )
    contact = np.concatenate([rel_contact, tx_contact])
    touchpoint = np.concatenate([np.full(len(rel_contact), -1), tx_tp])
    sent = np.concatenate([rel_sent, tx_sent]).astype("datetime64[s]")
    order = np.argsort(sent, kind="stable")
    return survey[order], contact[order], touchpoint[order], sent[order]


def _comment_touchpoints(ratings_row: np.ndarray, low_first: bool) -> tuple[int, int | None]:
    rated = np.flatnonzero(~np.isnan(ratings_row))
    ranked = rated[np.argsort(ratings_row[rated], kind="stable")]
    if not low_first:
        ranked = ranked[::-1]
    return int(ranked[0]), (int(ranked[1]) if len(ranked) > 1 else None)


def simulate(truth: PlantedTruth, *, size: str) -> DemoData:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    n_clients, per_contact_month, n_meetings = SIZES[size]
    rng = np.random.default_rng(truth.seed)
    words = random.Random(truth.seed)
    people = draw_people(rng)
    clients = draw_clients(rng, people, n_clients)
    contacts = draw_contacts(rng, clients)
    world = _World(rng, truth, people, clients)
    training = draw_training(truth, people)
    world.training = training_lift(truth, training, np.array([c.owner for c in clients]))
    survey, contact, touchpoint, sent = draw_feedback(
        rng, world, contacts, truth, per_contact_month
    )
    n = len(survey)
    is_rel = survey == "relationship"
    opened_at, started_at, completed_at, bounced_at = _funnel(
        rng, sent, np.where(is_rel, OPENED, TX_OPENED), np.datetime64(truth.end, "s")
    )
    client = np.array([contacts[k].client for k in contact])
    when = sent.astype(np.int64)
    quality = world.latent(client, when)
    ratings = np.where(
        is_rel[:, None] & (rng.random(quality.shape) > NOT_APPLICABLE), _ratings(quality), np.nan
    )
    nps = np.where(
        is_rel, world.gamed(world.nps(client, when, quality, ratings), client, when), np.nan
    )
    tx_quality = quality[np.arange(n), np.maximum(touchpoint, 0)]
    lucky = world.lucky(client, when)
    csat_raw = tx_quality + world.noise(0.3, lucky)
    csat = np.where(is_rel, np.nan, np.clip(np.rint(csat_raw), 1, 5))
    ces_raw = 4.6 + 1.3 * (tx_quality - world.base[np.maximum(touchpoint, 0)])
    ces_raw = np.clip(np.rint(ces_raw + rng.normal(0, 0.9, n)), 1, 7)
    ces = np.where(is_rel | (rng.random(n) > 0.7), np.nan, ces_raw)
    answered = ~np.isnat(completed_at)
    partial = ~np.isnat(started_at) & ~answered
    never_started = np.isnat(started_at)
    # A partial response keeps its first answer (NPS or CSAT) three times in five.
    first_kept = partial & (rng.random(n) < 0.6)
    nps[never_started | (partial & ~first_kept)] = np.nan
    csat[never_started | (partial & ~first_kept)] = np.nan
    ratings[~answered] = np.nan
    ces[~answered] = np.nan
    comments: list[str | None] = [None] * n
    wants = rng.random(n)
    for i in np.flatnonzero(answered):
        language = contacts[contact[i]].language
        if is_rel[i]:
            low = nps[i] <= 6
            if wants[i] > (0.36 if low else 0.2):
                continue
            tp, other = _comment_touchpoints(ratings[i], low_first=bool(nps[i] <= 8))
            sentiment = sentiment_for_score(int(nps[i]), scale="nps")
        else:
            if wants[i] > (0.2 if csat[i] <= 2 else 0.09):
                continue
            tp, other = int(touchpoint[i]), None
            sentiment = sentiment_for_score(int(csat[i]), scale="rating")
        comments[i] = compose_comment(
            words,
            touchpoint=org.TOUCHPOINTS[tp].code,
            sentiment=sentiment,
            language=language,
            other_touchpoint=None if other is None else org.TOUCHPOINTS[other].code,
        )
    token_hash = [hashlib.sha256(rng.bytes(24)).hexdigest() for _ in range(n)]
    feedback = Feedback(
        survey,
        contact,
        touchpoint,
        sent,
        opened_at,
        started_at,
        completed_at,
        bounced_at,
        token_hash,
        nps,
        csat,
        ces,
        ratings,
        comments,
    )
    meetings = draw_meetings(rng, words, world, clients, contacts, truth, n_meetings)
    pulse, ideas = draw_employee_voice(rng, people, truth)
    return DemoData(truth, people, clients, contacts, feedback, meetings, pulse, ideas, training)


def draw_employee_voice(
    rng, people: list[Person], truth: PlantedTruth
) -> tuple[list[PulseAnswer], list[IdeaNote]]:
    """Four in five employees answer each wave of the pulse survey, the mean answer rising from
    wave to wave as planted; a few send ideas, some anonymously."""
    pulse_rng = np.random.default_rng([truth.seed, PULSE_STREAM])
    means = np.linspace(
        truth.pulse["mean_first"], truth.pulse["mean_last"], len(truth.pulse["waves"])
    )
    pulse = [
        PulseAnswer(
            person=i,
            wave=wave,
            enps=int(np.clip(np.rint(pulse_rng.normal(mean, truth.pulse["sd"])), 0, 10)),
            comment=str(pulse_rng.choice(org.PULSE_COMMENTS)) if pulse_rng.random() < 0.3 else "",
        )
        for wave, mean in enumerate(means)
        for i in range(len(people))
        if pulse_rng.random() < 0.8
    ]
    authors = rng.choice(len(people), len(org.IDEAS), replace=False)
    ideas = [
        IdeaNote(int(author), text, bool(rng.random() < 0.4), int(rng.integers(1, 180)))
        for author, text in zip(authors, org.IDEAS, strict=True)
    ]
    return pulse, ideas


def draw_meetings(
    rng,
    words: random.Random,
    world: _World,
    clients: list[Client],
    contacts: list[ClientContact],
    truth: PlantedTruth,
    n: int,
) -> list[Meeting]:
    """Visits, interviews, debriefs and a little third-party research, mostly with big clients."""
    by_client: dict[int, list[int]] = {}
    for k, c in enumerate(contacts):
        by_client.setdefault(c.client, []).append(k)
    value = np.array([c.annual_value for c in clients], dtype=float)
    chosen = rng.choice(len(clients), n, p=np.sqrt(value) / np.sqrt(value).sum())
    days = rng.integers(0, (truth.end - truth.start).days, n)
    met_on = [truth.start + dt.timedelta(days=int(d)) for d in days]
    when = np.array([_to_seconds(d) for d in met_on])
    quality = world.latent(chosen, when)
    shown = np.full(quality.shape, np.nan)
    asked = [rng.choice(len(org.TOUCHPOINTS), 3, replace=False) for _ in range(n)]
    for i, tps in enumerate(asked):
        shown[i, tps] = _ratings(quality[i, tps])
    nps = world.gamed(world.nps(chosen, when, quality, shown), chosen, when)
    kinds = rng.choice(("visit", "interview", "debrief", "research"), n, p=(0.45, 0.25, 0.25, 0.05))
    meetings = []
    for i in range(n):
        people_there = by_client[int(chosen[i])]
        met = tuple(
            int(k)
            for k in rng.choice(
                people_there, min(len(people_there), int(rng.integers(1, 3))), replace=False
            )
        )
        language = contacts[met[0]].language
        low_tp, other = _comment_touchpoints(shown[i], low_first=bool(nps[i] <= 8))
        notes = compose_comment(
            words,
            touchpoint=org.TOUCHPOINTS[low_tp].code,
            sentiment=sentiment_for_score(int(nps[i]), scale="nps"),
            language=language,
            other_touchpoint=org.TOUCHPOINTS[other].code,
        )
        texts = org.FOLLOW_UPS_EN if language == "en" else org.FOLLOW_UPS_RU
        follow_ups = tuple(
            (str(rng.choice(texts)), met_on[i] + dt.timedelta(days=int(rng.integers(7, 30))))
            for _ in range(int(rng.integers(0, 3)))
        )
        meetings.append(
            Meeting(
                kind=str(kinds[i]),
                client=int(chosen[i]),
                employee=clients[int(chosen[i])].owner,
                contacts=met,
                met_on=met_on[i],
                language=language,
                nps=int(nps[i]),
                ratings={int(t): int(shown[i, t]) for t in asked[i]},
                notes=notes,
                follow_ups=follow_ups,
            )
        )
    return meetings
