"""Printed documents' URLs; cxloop.urls includes them beside the pages'."""

from django.urls import path

from cxloop.reports import cycle_views, executive_views

urlpatterns = [
    path("cycle/review.pdf", cycle_views.cycle_review_pdf, name="cycle_review_pdf"),
    path(
        "dashboard/executive/review.pdf",
        executive_views.executive_review_pdf,
        name="executive_review_pdf",
    ),
]
