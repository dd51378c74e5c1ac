"""Training pages; cxloop.front.urls includes them under training/."""

from django.urls import path

from cxloop.front import training_views

urlpatterns = [
    path("", training_views.training_list, name="training_list"),
    path("mine/", training_views.my_training, name="my_training"),
    path("new/", training_views.course_new, name="course_new"),
    path("confirm/", training_views.training_confirm, name="training_confirm"),
    path("<int:pk>/", training_views.course_detail, name="course_detail"),
    path("<int:pk>/assign/", training_views.course_assign, name="course_assign"),
    path("assignments/<int:pk>/done/", training_views.assignment_done, name="assignment_done"),
    path(
        "assignments/<int:pk>/confirm/",
        training_views.assignment_confirm,
        name="assignment_confirm",
    ),
]
