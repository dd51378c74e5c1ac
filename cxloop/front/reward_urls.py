"""Pages of reward plans; cxloop.front.urls includes them under people/rewards/."""

from django.urls import path

from cxloop.front import reward_views

urlpatterns = [
    path("", reward_views.reward_plan_list, name="reward_plan_list"),
    path("new/", reward_views.reward_plan_new, name="reward_plan_new"),
    path("<int:pk>/", reward_views.reward_plan_detail, name="reward_plan_detail"),
    path("<int:pk>/edit/", reward_views.reward_plan_edit, name="reward_plan_edit"),
    path("<int:pk>/simulate/", reward_views.reward_simulate, name="reward_simulate"),
    path("<int:pk>/periods/", reward_views.reward_period_open, name="reward_period_open"),
    path("periods/<int:pk>/", reward_views.reward_period_detail, name="reward_period_detail"),
    path("periods/<int:pk>/state/", reward_views.reward_period_state, name="reward_period_state"),
    path("periods/<int:pk>/payroll.csv", reward_views.reward_period_csv, name="reward_period_csv"),
    path(
        "periods/<int:pk>/payroll.parquet",
        reward_views.reward_period_parquet,
        name="reward_period_parquet",
    ),
    path(
        "periods/<int:pk>/payroll.xlsx", reward_views.reward_period_xlsx, name="reward_period_xlsx"
    ),
]
