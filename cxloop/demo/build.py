"""Write the simulated demo organisation into the database, in one transaction."""

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from tqdm import tqdm

from cxloop.comments.services import rebuild as enrich_comments
from cxloop.comments.services import save_theme
from cxloop.customers.models import Contact, Customer, Segment, SegmentKind
from cxloop.demo import organisation as org
from cxloop.demo.cases import build_cases
from cxloop.demo.decisions import plant_decisions
from cxloop.demo.ideas import answer_ideas
from cxloop.demo.initiatives import plant_initiatives
from cxloop.demo.rewards import plant_reward_plans
from cxloop.demo.simulate import PASSWORD, DemoData, simulate
from cxloop.demo.themes import THEMES
from cxloop.demo.training import plant_training
from cxloop.demo.truth import PlantedTruth
from cxloop.demo.webhooks import plant_webhooks
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.journeys.models import Journey, Stage, Standard, Touchpoint
from cxloop.people.models import Employee, Idea, Team
from cxloop.surveys.models import (
    Answer,
    Invitation,
    PulseParticipation,
    Question,
    QuestionKind,
    Response,
    ResponseState,
    Survey,
    SurveyKind,
)
from cxloop.surveys.services import draft_answers

BATCH = 5000
INVITATION_LIFETIME = np.timedelta64(30, "D")


def _aware(times: np.ndarray) -> list[dt.datetime | None]:
    """datetime64 seconds → aware UTC datetimes (None for NaT)."""
    naive = times.astype("datetime64[us]").astype(object)
    return [None if t is None else t.replace(tzinfo=dt.UTC) for t in naive]


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


class _Writer:
    """bulk_create in batches, advancing one progress bar by the rows written."""

    def __init__(self, bar: tqdm):
        self.bar = bar

    def create(self, model, objects: Sequence) -> list:
        created = []
        for start in range(0, len(objects), BATCH):
            created += model.objects.bulk_create(objects[start : start + BATCH])
            self.bar.update(len(objects[start : start + BATCH]))
        return created


def _people(data: DemoData, w: _Writer) -> tuple[dict[str, Team], list[Employee]]:
    teams: dict[str, Team] = {}
    for key, name, parent in org.TEAMS:
        teams[key] = Team.objects.create(
            name=name,
            name_en=org.TEAM_NAMES_EN[key],
            parent=teams.get(parent) if parent else None,
            # The firm agreed to show its people by name on the weekly weigh-in.
            ranks_people=True,
        )
    password = make_password(PASSWORD)  # one argon2 hash shared by every demo login
    User = get_user_model()
    users = w.create(
        User,
        [
            User(
                username=p.username,
                first_name=p.first_name,
                last_name=p.last_name,
                email=f"{p.username}@severin.example.com",
                password=password,
                is_staff=p.role == "admin",
                is_superuser=p.role == "admin",
            )
            for p in data.people
        ],
    )
    employees = w.create(
        Employee,
        [
            Employee(
                user=user,
                team=teams[p.team],
                role=p.role,
                title=p.title,
                title_en=org.TITLES_EN[p.title],
                is_champion=p.is_champion,
            )
            for user, p in zip(users, data.people, strict=True)
        ],
    )
    return teams, employees


def _journey(truth: PlantedTruth, teams: dict[str, Team]) -> list[Touchpoint]:
    journey = Journey.objects.create(
        name_ru=org.JOURNEY[0],
        name_en=org.JOURNEY[1],
        description="Путь клиента профессиональной фирмы от первого контакта до продления.",
    )
    touchpoints = []
    for order, spec in enumerate(org.STAGES, start=1):
        stage = Stage.objects.create(
            journey=journey, order=order, name_ru=spec.name_ru, name_en=spec.name_en
        )
        touchpoints += Touchpoint.objects.bulk_create(
            [
                Touchpoint(
                    stage=stage,
                    order=i,
                    code=tp.code,
                    name_ru=tp.name_ru,
                    name_en=tp.name_en,
                    channel=tp.channel,
                    team=teams[tp.team],
                    expectation_ru=tp.expectation_ru,
                    expectation_en=tp.expectation_en,
                    is_moment_of_truth=tp.moment_of_truth,
                )
                for i, tp in enumerate(spec.touchpoints, start=1)
            ]
        )
    Standard.objects.bulk_create(
        [
            Standard(
                touchpoint=tp,
                version=1,
                text_ru=spec.expectation_ru,
                text_en=spec.expectation_en,
                effective_from=truth.start,
            )
            for tp, spec in zip(touchpoints, org.TOUCHPOINTS, strict=True)
        ]
    )
    # The kick-off meeting's new standard (from the planted rise) is written by the finished
    # initiative that brought it (cxloop.demo.initiatives).
    return touchpoints


def _clients(data: DemoData, employees: list[Employee], w: _Writer):
    customers = w.create(
        Customer,
        [
            Customer(
                external_id=c.external_id,
                name=c.name,
                owner=employees[c.owner],
                annual_value=c.annual_value,
                currency=c.currency,
                tier=c.tier,
                industry=c.industry,
                lifecycle_stage=c.lifecycle_stage,
                attributes=c.attributes,
            )
            for c in data.clients
        ],
    )
    opted_out_at = _noon(data.truth.start)
    contacts = w.create(
        Contact,
        [
            Contact(
                customer=customers[c.client],
                name=c.name,
                email=c.email,
                phone=c.phone,
                job_title=c.job_title,
                language=c.language,
                consent=c.consent,
                opted_out_at=opted_out_at if c.opted_out else None,
            )
            for c in data.contacts
        ],
    )
    Segment.objects.create(
        name=org.TARGET_SEGMENT,
        name_en=org.TARGET_SEGMENT_EN,
        is_target=True,
        description="Клиенты, которых фирма больше всего хочет привлекать и удерживать.",
        rule=[{"field": "tier", "op": "in", "value": list(org.TARGET_TIERS)}],
    )
    Segment.objects.create(
        name="Промышленность",
        name_en="Manufacturing",
        rule=[{"field": "industry", "op": "eq", "value": "manufacturing"}],
    )
    kazan = Segment.objects.create(
        name="Клиенты казанского офиса", name_en="Kazan office clients", kind=SegmentKind.MANUAL
    )
    kazan.members.set(
        [
            cu
            for cu, c in zip(customers, data.clients, strict=True)
            if data.people[c.owner].team.startswith("kzn")
        ]
    )
    return customers, contacts


def _question(survey, order, kind, text_ru, text_en, *, required=False, touchpoint=None):
    return Question(
        survey=survey,
        order=order,
        kind=kind,
        text_ru=text_ru,
        text_en=text_en,
        required=required,
        touchpoint=touchpoint,
    )


def _rating_questions(survey: Survey, touchpoints: list[Touchpoint], first: int) -> list[Question]:
    return [
        _question(
            survey,
            first + i,
            QuestionKind.RATING,
            f"Оцените: {tp.name_ru}",
            f"Please rate: {tp.name_en}",
            touchpoint=tp,
        )
        for i, tp in enumerate(touchpoints)
    ]


def _surveys(journey_touchpoints: list[Touchpoint]) -> dict[str, tuple[Survey, list[Question]]]:
    journey = journey_touchpoints[0].stage.journey
    nps_ru = "Насколько вероятно, что вы порекомендуете нашу фирму коллеге или партнёру?"
    nps_en = "How likely are you to recommend our firm to a colleague or business partner?"
    made = {}
    relationship = Survey.objects.create(
        name_ru="Ежеквартальный опрос клиентов",
        name_en="Quarterly client survey",
        kind=SurveyKind.RELATIONSHIP,
        languages=["ru", "en"],
        journey=journey,
    )
    made["relationship"] = [
        _question(relationship, 1, QuestionKind.NPS, nps_ru, nps_en, required=True),
        *_rating_questions(relationship, journey_touchpoints, 2),
        _question(
            relationship,
            2 + len(journey_touchpoints),
            QuestionKind.TEXT,
            "Что нам стоит улучшить в первую очередь?",
            "What should we improve first?",
        ),
    ]
    transactional = Survey.objects.create(
        name_ru="Опрос после события",
        name_en="After-event survey",
        kind=SurveyKind.TRANSACTIONAL,
        languages=["ru", "en"],
        journey=journey,
        accepts_open_link=True,  # so that the demo shows a link and QR code anyone can try
    )
    made["transactional"] = [
        _question(
            transactional,
            1,
            QuestionKind.CSAT,
            "Насколько вы довольны этим этапом работы?",
            "How satisfied are you with this step?",
            required=True,
        ),
        _question(
            transactional,
            2,
            QuestionKind.CES,
            "Насколько легко было решить ваш вопрос?",
            "How easy was it to get what you needed?",
        ),
        _question(
            transactional,
            3,
            QuestionKind.TEXT,
            "Расскажите, что повлияло на вашу оценку.",
            "Tell us what shaped your rating.",
        ),
    ]
    guide = Survey.objects.create(
        name_ru="Сценарий встречи с клиентом",
        name_en="Client meeting guide",
        kind=SurveyKind.INTERVIEW,
        languages=["ru", "en"],
        journey=journey,
    )
    made["interview"] = [
        _question(guide, 1, QuestionKind.NPS, nps_ru, nps_en, required=True),
        *_rating_questions(guide, journey_touchpoints, 2),
    ]
    out = {}
    for key, questions in made.items():
        survey = questions[0].survey
        survey.touchpoints.set(journey_touchpoints)
        out[key] = (survey, Question.objects.bulk_create(questions))
    return out


def _answers_for(
    response: Response,
    questions: list[Question],
    scores: Iterable[tuple[int, float]],
    text: str | None,
    text_question: Question | None,
) -> list[Answer]:
    """The demo's scores (by position in ``questions``; NaN when not answered) and comment as
    unsaved answers, built as every other write builds them."""
    scores = list(scores)
    values = {questions[q].pk: int(score) for q, score in scores if not np.isnan(score)}
    asked = [questions[q] for q, _ in scores]
    if text:
        values[text_question.pk] = text
        asked.append(text_question)
    return list(draft_answers(response, asked, values).values())


def _feedback(data: DemoData, surveys, touchpoints, customers, contacts, w: _Writer) -> None:
    fb = data.feedback
    sent, opened, started, completed, bounced = (
        _aware(t) for t in (fb.sent_at, fb.opened_at, fb.started_at, fb.completed_at, fb.bounced_at)
    )
    expires = _aware(fb.sent_at + INVITATION_LIFETIME)
    survey_of = {key: surveys[key][0] for key in ("relationship", "transactional")}
    invitations = w.create(
        Invitation,
        [
            Invitation(
                survey=survey_of[fb.survey[i]],
                contact=contacts[fb.contact[i]],
                token_hash=fb.token_hash[i],
                touchpoint=touchpoints[fb.touchpoint[i]] if fb.touchpoint[i] >= 0 else None,
                created_at=sent[i],
                sent_at=sent[i],
                opened_at=opened[i],
                started_at=started[i],
                completed_at=completed[i],
                bounced_at=bounced[i],
                expires_at=expires[i],
            )
            for i in range(len(fb.survey))
        ],
    )
    rows = [i for i in range(len(fb.survey)) if started[i] is not None]
    responses = w.create(
        Response,
        [
            Response(
                survey=invitations[i].survey,
                invitation=invitations[i],
                contact=invitations[i].contact,
                customer=customers[data.contacts[fb.contact[i]].client],
                touchpoint=invitations[i].touchpoint,
                channel="email",
                language=data.contacts[fb.contact[i]].language,
                state=ResponseState.COMPLETED if completed[i] else ResponseState.PARTIAL,
                started_at=started[i],
                submitted_at=completed[i],
            )
            for i in rows
        ],
    )
    rel_q, tx_q = surveys["relationship"][1], surveys["transactional"][1]
    answers = []
    for i, response in zip(rows, responses, strict=True):
        if fb.survey[i] == "relationship":
            scores = [(0, fb.nps[i]), *((1 + t, r) for t, r in enumerate(fb.ratings[i]))]
            answers += _answers_for(response, rel_q, scores, fb.comment[i], rel_q[-1])
        else:
            answers += _answers_for(
                response, tx_q, [(0, fb.csat[i]), (1, fb.ces[i])], fb.comment[i], tx_q[2]
            )
    w.create(Answer, answers)


def _meetings(data: DemoData, survey_questions, customers, contacts, employees, w) -> None:
    survey, questions = survey_questions
    responses = w.create(
        Response,
        [
            Response(
                survey=survey,
                contact=contacts[m.contacts[0]],
                customer=customers[m.client],
                channel=m.kind,
                language=m.language,
                state=ResponseState.COMPLETED,
                started_at=_noon(m.met_on),
                submitted_at=_noon(m.met_on),
            )
            for m in data.meetings
        ],
    )
    answers = []
    for m, response in zip(data.meetings, responses, strict=True):
        scores = [(0, float(m.nps)), *((1 + t, float(r)) for t, r in m.ratings.items())]
        answers += _answers_for(response, questions, scores, None, None)
    w.create(Answer, answers)
    records = w.create(
        FaceToFaceRecord,
        [
            FaceToFaceRecord(
                kind=m.kind,
                customer=customers[m.client],
                employee=employees[m.employee],
                met_on=m.met_on,
                language=m.language,
                notes=m.notes,
                response=response,
                source=org.RESEARCH_AGENCY if m.kind == "research" else "",
            )
            for m, response in zip(data.meetings, responses, strict=True)
        ],
    )
    through = FaceToFaceRecord.contacts.through
    w.create(
        through,
        [
            through(facetofacerecord=record, contact=contacts[k])
            for m, record in zip(data.meetings, records, strict=True)
            for k in m.contacts
        ],
    )
    w.create(
        FollowUp,
        [
            FollowUp(
                record=record,
                description=text,
                owner=employees[m.employee],
                due_on=due,
                done_at=_noon(due) if due < data.truth.end - dt.timedelta(days=20) else None,
            )
            for m, record in zip(data.meetings, records, strict=True)
            for text, due in m.follow_ups
        ],
    )


def _pulse_name(day: dt.date) -> tuple[str, str]:
    quarter = (day.month - 1) // 3 + 1
    return (
        f"{org.PULSE[0]}, {quarter} кв. {day.year}",
        f"{org.PULSE[1]}, Q{quarter} {day.year}",
    )


def _pulse_wave(day: dt.date, answered: list, employees: list[Employee], *, last: bool, w):
    """One wave of the pulse survey (only the last still open), answered over its first five
    days."""
    name_ru, name_en = _pulse_name(day)
    pulse = Survey.objects.create(
        name_ru=name_ru,
        name_en=name_en,
        kind=SurveyKind.PULSE,
        languages=["ru", "en"],
        is_anonymous=True,
        is_active=last,
    )
    enps, comment = Question.objects.bulk_create(
        [
            _question(pulse, 1, QuestionKind.NPS, org.ENPS_RU, org.ENPS_EN, required=True),
            _question(
                pulse,
                2,
                QuestionKind.TEXT,
                "Что мешает вам работать лучше?",
                "What gets in the way of doing your best work?",
            ),
        ]
    )
    moments = [_noon(day + dt.timedelta(days=a.person % 5)) for a in answered]
    responses = w.create(
        Response,
        [
            Response(
                survey=pulse,
                team=employees[a.person].team,
                channel="web",
                state=ResponseState.COMPLETED,
                started_at=moment,
                submitted_at=moment,
                announced_at=moment,  # as answer_pulse does: pulse answers go to no consumer
            )
            for a, moment in zip(answered, moments, strict=True)
        ],
    )
    w.create(
        PulseParticipation,
        [PulseParticipation(survey=pulse, employee=employees[a.person]) for a in answered],
    )
    w.create(
        Answer,
        [
            answer
            for a, response in zip(answered, responses, strict=True)
            for answer in _answers_for(response, [enps], [(0, float(a.enps))], a.comment, comment)
        ],
    )


def _employee_voice(data: DemoData, employees: list[Employee], w: _Writer) -> None:
    """The pulse survey's waves, answered anonymously (team only), and the ideas box."""
    days = [dt.date.fromisoformat(day) for day in data.truth.pulse["waves"]]
    for wave, day in enumerate(days):
        answered = [a for a in data.pulse if a.wave == wave]
        _pulse_wave(day, answered, employees, last=wave == len(days) - 1, w=w)
    w.create(
        Idea,
        [
            Idea(
                text=note.text,
                author=None if note.anonymous else employees[note.person],
                team=None if note.anonymous else employees[note.person].team,
                created_on=data.truth.end - dt.timedelta(days=note.days_before_end),
            )
            for note in data.ideas
        ],
    )


def plant_themes() -> None:
    """The firm's taxonomy (:mod:`cxloop.demo.themes`), as its CX lead would write it."""
    for order, spec in enumerate(THEMES, start=1):
        save_theme(
            None,
            code=spec.key,
            name_ru=spec.name_ru,
            name_en=spec.name_en,
            phrases_ru="\n".join(spec.phrases_ru),
            phrases_en="\n".join(spec.phrases_en),
            order=order,
        )


def build_demo(truth: PlantedTruth, *, size: str, progress: bool = True) -> DemoData:
    """Simulate the demo from ``truth`` and store it; all or nothing."""
    data = simulate(truth, size=size)
    fb = data.feedback
    started = int((~np.isnat(fb.started_at)).sum())
    total = (
        len(data.people) * 2
        + len(data.clients)
        + len(data.contacts)
        + len(fb.survey)
        + started * 14
        + len(data.meetings) * 10
    )  # an estimate of the rows to write
    with (
        tqdm(
            total=total,
            desc="Demo",
            unit=" rows",
            unit_scale=True,
            disable=not progress,
            mininterval=0.5,
        ) as bar,
        transaction.atomic(),
    ):
        writer = _Writer(bar)
        teams, employees = _people(data, writer)
        touchpoints = _journey(truth, teams)
        customers, contacts = _clients(data, employees, writer)
        surveys = _surveys(touchpoints)
        _feedback(data, surveys, touchpoints, customers, contacts, writer)
        _meetings(data, surveys["interview"], customers, contacts, employees, writer)
        _employee_voice(data, employees, writer)
        build_cases(truth, teams=teams, employees=employees, touchpoints=touchpoints)
        initiatives = plant_initiatives(truth, touchpoints=touchpoints)
        plant_decisions(truth, touchpoints=touchpoints, initiatives=initiatives)
        answer_ideas(truth)
        plant_training(truth, data.training, employees=employees, touchpoints=touchpoints)
        plant_reward_plans(truth)
        plant_themes()
        plant_webhooks()
        enrich_comments()  # as the worker would have, each on its arrival
        bar.update(max(0, bar.total - bar.n))
    return data
