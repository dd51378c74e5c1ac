"""An export's memory stays flat: it holds a batch of rows, not the list. Measured with
tracemalloc on 2,000 and 20,000 responses: a writer that held its rows would need ten times
as much for the second (bench/bench_export.py measures 1,000,000 the same way, by RSS)."""

import datetime as dt
import io
import tracemalloc

from cxloop.exports import kinds, services
from cxloop.exports.catalog import KINDS
from cxloop.exports.tables import filter_request
from cxloop.surveys.models import Answer, Question, Response
from tests.front.evidence_data import MAY, EvidenceTestCase


class _Sink(io.RawIOBase):
    """Counts the bytes written and keeps none."""

    def __init__(self):
        self.size = 0

    def writable(self):
        return True

    def write(self, data):
        self.size += len(data)
        return len(data)


class ExportMemoryTests(EvidenceTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        nps, comment = (Question.objects.get(survey=cls.survey, order=o) for o in (1, 5))
        responses = Response.objects.bulk_create(
            Response(
                survey=cls.survey,
                customer=cls.acme,
                contact=cls.ann,
                channel="api",
                state="completed",
                started_at=MAY - dt.timedelta(minutes=i),
                submitted_at=MAY - dt.timedelta(minutes=i),
            )
            for i in range(20_000)
        )
        Answer.objects.bulk_create(
            answer
            for i, response in enumerate(responses)
            for answer in (
                Answer(response=response, question=nps, kind="nps", score=i % 11),
                Answer(response=response, question=comment, kind="text", text=f"comment {i} " * 8),
            )
        )

    def peak(self, query: str) -> tuple[int, int]:
        request = filter_request(self.owner, query)
        sink = _Sink()
        tracemalloc.start()
        try:
            rows = services.write_export(KINDS["responses"], "csv", request, sink)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return rows, peak

    def test_ten_times_the_rows_take_about_the_same_memory(self):
        small_rows, small = self.peak("since=2026-05-08&until=2026-05-09&channel=api")
        large_rows, large = self.peak("channel=api")
        self.assertEqual(large_rows, 20_000)
        self.assertGreater(small_rows, 1_000)
        self.assertLess(small_rows, large_rows / 5)
        # A batch is kinds.BATCH rows either way: the larger list costs the same, give or take.
        self.assertLess(large, 1.5 * small, (small, large, kinds.BATCH))
