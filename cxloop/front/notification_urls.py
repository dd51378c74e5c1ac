"""Pages of the closed loop; cxloop.front.urls includes them."""

urlpatterns: list = []
