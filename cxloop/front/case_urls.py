"""Pages of the closed loop; cxloop.front.urls includes them."""

from django.urls import path, register_converter

from cxloop.front import case_views, inquiry_answer_views, topic_views


class CaseActionConverter:
    """Only the actions a case has (:data:`case_views.ACTIONS`): any other word after a case's
    number is another page's, or none (404)."""

    regex = "|".join(case_views.ACTIONS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseActionConverter, "case_action")

urlpatterns = [
    path("", case_views.case_list, name="case_list"),
    path("new/", case_views.case_new, name="case_new"),
    path("assign/", case_views.case_bulk_assign, name="case_bulk_assign"),
    path("<int:pk>/", case_views.case_detail, name="case_detail"),
    path("<int:pk>/answer/", inquiry_answer_views.case_answer, name="case_answer"),
    path("topics/", topic_views.topic_list, name="topic_list"),
    path("topics/new/", topic_views.topic_edit, name="topic_new"),
    path("topics/<int:pk>/", topic_views.topic_edit, name="topic_edit"),
    path("<int:pk>/<case_action:action>/", case_views.case_action, name="case_action"),
    path("follow-ups/", case_views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/done/", case_views.follow_up_done, name="follow_up_done"),
    path("root-causes/", case_views.root_cause_list, name="root_cause_list"),
    path("root-causes/<int:pk>/", case_views.root_cause_edit, name="root_cause_edit"),
]
