"""The full demo, built once for all the checks that need it (a build takes about 26 s): as
``cxloop demo`` builds it — the data, the fact store, then the initiative proposed from the top
opportunity. Each mixin's module says what its checks show."""

from django.test import TestCase

from cxloop.customers.models import Segment
from cxloop.demo.build import build_demo
from cxloop.demo.initiatives import complete_with_facts
from cxloop.demo.rewards import lock_finished_quarters
from cxloop.exports.demo import plant_schedules
from cxloop.facts.sync import rebuild
from cxloop.insights.journey import journey_of
from cxloop.journeys.models import Touchpoint
from cxloop.test import OwnFactStore
from tests.demo.test_demo import TRUTH
from tests.demo.test_demo_cases import FullDemoCaseTruths
from tests.demo.test_demo_decisions import FullDemoDecisionTruths
from tests.demo.test_demo_effect import FullDemoEffectTruths
from tests.demo.test_demo_ideas import FullDemoIdeaTruths
from tests.demo.test_demo_initiatives import FullDemoInitiativeTruths
from tests.demo.test_demo_reports import PLANTED_AT, FullDemoReportTruths
from tests.demo.test_demo_rewards import FullDemoRewardTruths
from tests.demo.test_demo_rollback import FullDemoRollbackTruths
from tests.demo.test_demo_scorecards import FullDemoScorecardTruths
from tests.demo.test_demo_text import FullDemoTextTruths
from tests.demo.test_demo_training import FullDemoTrainingTruths
from tests.demo.test_demo_truths import FullDemoTruths
from tests.demo.test_demo_weigh_in import FullDemoWeighInTruths


class FullDemoTests(
    FullDemoTruths,
    FullDemoCaseTruths,
    FullDemoRollbackTruths,
    FullDemoEffectTruths,
    FullDemoInitiativeTruths,
    FullDemoDecisionTruths,
    FullDemoWeighInTruths,
    FullDemoRewardTruths,
    FullDemoScorecardTruths,
    FullDemoTrainingTruths,
    FullDemoIdeaTruths,
    FullDemoTextTruths,
    FullDemoReportTruths,
    OwnFactStore,
    TestCase,
):
    @classmethod
    def setUpTestData(cls):
        build_demo(TRUTH, size="full", progress=False)
        rebuild()
        cls.proposed = complete_with_facts(TRUTH)
        lock_finished_quarters(TRUTH)
        plant_schedules(PLANTED_AT)
        touchpoints = Touchpoint.objects.order_by("stage__order", "order")
        cls.by_code = {tp.code: tp for tp in touchpoints}
        cls.code = {tp.pk: tp.code for tp in touchpoints}
        cls.journey = journey_of(touchpoints.values_list("pk", "stage_id"))
        cls.target = Segment.objects.get(is_target=True)
