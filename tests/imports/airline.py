"""The airline journey of the Kaggle "Airline Passenger Satisfaction" data set, for the import
tests: its 14 service ratings are touchpoints of a journey and rating questions of a survey."""

from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.surveys.models import Question, Survey
from tests.datasets import SHARED_DATASETS

# A large third-party file kept in ../shared/datasets, not in the repository: a test that reads it
# calls tests.datasets.shared_dataset(DATASET.name) first, which skips it when absent (not in CI).
DATASET = SHARED_DATASETS / "airline_passenger_satisfaction.csv"

# (stage, [(column in the file, touchpoint code, channel)]) in the order a passenger meets them.
JOURNEY = [
    (
        "Booking",
        [
            ("Ease of Online booking", "online-booking", "web"),
            ("Departure/Arrival time convenient", "schedule", "web"),
        ],
    ),
    (
        "Airport",
        [
            ("Checkin service", "check-in", "in_person"),
            ("Online boarding", "online-boarding", "portal"),
            ("Gate location", "gate-location", "in_person"),
            ("Baggage handling", "baggage", "in_person"),
        ],
    ),
    (
        "Flight",
        [
            ("Seat comfort", "seat-comfort", "in_person"),
            ("Leg room service", "leg-room", "in_person"),
            ("Cleanliness", "cleanliness", "in_person"),
            ("Inflight wifi service", "wifi", "web"),
            ("Inflight entertainment", "entertainment", "in_person"),
            ("Food and drink", "food-drink", "in_person"),
            ("On-board service", "on-board-service", "in_person"),
            ("Inflight service", "inflight-service", "in_person"),
        ],
    ),
]
SERVICES = [service for _stage, services in JOURNEY for service in services]
SATISFACTION = len(SERVICES) + 1  # the question number of the overall satisfaction


def airline_survey() -> Survey:
    """A journey of 3 stages and 14 touchpoints, and a survey with a 1–5 rating question per
    touchpoint (worded as the file's column) and a single-choice overall satisfaction."""
    journey = Journey.objects.create(name_ru="Перелёт", name_en="Flight")
    survey = Survey.objects.create(
        name_ru="Опрос пассажиров",
        name_en="Passenger survey",
        kind="transactional",
        languages=["en"],
        journey=journey,
    )
    number = 0
    for stage_order, (stage_name, services) in enumerate(JOURNEY, start=1):
        stage = Stage.objects.create(
            journey=journey, order=stage_order, name_ru=stage_name, name_en=stage_name
        )
        for order, (column, code, channel) in enumerate(services, start=1):
            touchpoint = Touchpoint.objects.create(
                stage=stage, order=order, code=code, name_ru=column, name_en=column, channel=channel
            )
            number += 1
            Question.objects.create(
                survey=survey,
                order=number,
                kind="rating",
                text_ru=column,
                text_en=column,
                touchpoint=touchpoint,
            )
            survey.touchpoints.add(touchpoint)
    Question.objects.create(
        survey=survey,
        order=SATISFACTION,
        kind="single",
        text_ru="Удовлетворённость",
        text_en="satisfaction",
        choices=[
            {"value": "satisfied", "ru": "доволен", "en": "satisfied"},
            {"value": "neutral or dissatisfied", "ru": "нейтрален или недоволен", "en": "neutral"},
        ],
    )
    return survey
