"""Each request gets an id for its log lines, and is counted in the metrics."""

import time

from cxloop.ops import logs, metrics


class RequestIdAndMetricsMiddleware:
    """Near the top of the chain (after the proxy's address is known), so that the log lines of
    everything after it carry the request's id and its time counts the whole chain.

    The id is the incoming ``X-Request-ID`` when that is a sane token (a proxy's or a client's,
    so that their logs and ours meet), else a new one; it is bound for the logs until the
    request is finished (and, through the cache, for the tasks it enqueues:
    :mod:`cxloop.ops.logs`), and returned in the response's ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = logs.request_id_from(request.headers.get("X-Request-ID"))
        started = time.perf_counter()
        logs.bind_request_id(request_id)
        response = self.get_response(request)
        metrics.count_request(request, response.status_code, time.perf_counter() - started)
        response["X-Request-ID"] = request_id
        return response
