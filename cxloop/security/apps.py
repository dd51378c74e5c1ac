from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "cxloop.security"
    label = "security"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from cxloop.security import lockout

        user_locked_out.connect(lockout.tell_of_lockout, dispatch_uid="cxloop.security.lockout")
        user_logged_in.connect(lockout.forget_pair, dispatch_uid="cxloop.security.forget_pair")
