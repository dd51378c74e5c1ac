"""Which URLs show personal data (a read of them is an audit event) and which do not.

Every named URL of the product must be in exactly one of :data:`PERSONAL_READS` and
:data:`EXEMPT`, and every model the admin shows in :data:`ADMIN_PERSONAL_MODELS` or
:data:`ADMIN_OTHER_MODELS`: tests/audit/test_registry.py fails on a URL nobody classified, so
that a new page that shows customers, contacts or their answers cannot escape the log.
"""

# URL name → the kind of record it shows and the URL keyword holding its id ("" for a list).
PERSONAL_READS: dict[str, tuple[str, str]] = {
    "response_list": ("response", ""),
    "response_detail": ("response", "pk"),
    "customer_list": ("customer", ""),
    "customer_detail": ("customer", "pk"),
    "contact_detail": ("contact", "pk"),
    "face_to_face_list": ("face_to_face_record", ""),
    "api:list_responses": ("response", ""),
    "case_list": ("case", ""),
    "case_detail": ("case", "pk"),
    "case_new": ("customer", ""),
    "rule_new": ("response", ""),  # the preview's examples name customers
    "rule_edit": ("response", ""),
    "follow_up_list": ("face_to_face_record", ""),
    "theme_new": ("answer", ""),  # the preview shows customers' comments
    "theme_edit": ("answer", ""),  # the preview and the spot-check show customers' comments
    "theme_suggestions": ("answer", ""),  # each suggestion's typical comments
    "comment_list": ("answer", ""),  # customers' comments, with the customer's name
    "export_download": ("export", "pk"),  # a built export's file: the list's rows
}

# URL name → why showing it is not a read of a customer's or contact's data.
EXEMPT: dict[str, str] = {
    "home": "counts and links only",
    "export_start": "an export: recorded as an export event with its list, filters and rows",
    "export_list": "the signed-in person's own exports: lists, formats, states and counts",
    "export_detail": "one of the person's own exports: its list, filters and progress",
    "notification_settings": "the signed-in person's own settings",
    "calendar_list": "business calendars: settings",
    "calendar_edit": "a business calendar: settings",
    "case_action": "a write; recorded in the case's history",
    "initiative_list": "initiatives: touchpoints, root causes and case references; no customer",
    "initiative_new": "initiatives: touchpoints, root causes and case references; no customer",
    "initiative_detail": "initiatives: touchpoints, root causes and case references; no customer",
    "initiative_edit": "initiatives: touchpoints, root causes and case references; no customer",
    "initiative_state": "a write; recorded in the initiative's history",
    "initiative_finish": "a write; recorded in the initiative's history",
    "action_item_add": "a write; recorded in the initiative's history",
    "action_item_done": "a write; recorded in the initiative's history",
    "decision_list": "decisions: touchpoints and expected effects; no customer",
    "decision_new": "decisions: touchpoints and expected effects; no customer",
    "decision_detail": "decisions: touchpoints and aggregate effects; no customer",
    "decision_edit": "decisions: touchpoints and expected effects; no customer",
    "case_bulk_assign": "a write; recorded in each case's history",
    "follow_up_done": "a write",
    "root_cause_list": "the root-cause taxonomy",
    "root_cause_edit": "a write to the root-cause taxonomy",
    "rule_list": "alert rules: settings and case counts",
    "rule_toggle": "a write to an alert rule",
    "rule_run": "an alert rule's count of cases it would open",
    "sla_list": "SLA policies: settings",
    "sla_edit": "an SLA policy: settings",
    "webhook_list": "webhook subscriptions: settings",
    "webhook_new": "a webhook subscription: settings",
    "webhook_detail": "a webhook subscription and its deliveries: kinds and ids, no one's data",
    "webhook_secret": "a write to a webhook subscription, audited",
    "webhook_toggle": "a write to a webhook subscription, audited",
    "webhook_replay": "a write: a delivery queued again, audited",
    "report_schedule_list": "scheduled reports: names, times, recipients (employees) and states",
    "report_schedule_new": "a scheduled report: settings",
    "report_schedule_edit": "a scheduled report: settings and its deliveries' states",
    "report_schedule_toggle": "a write to a scheduled report",
    "report_schedule_send": "a write: a scheduled report due now",
    "login": "sign-in page",
    "logout": "sign-out",
    "survey_new": "survey design",
    "survey_detail": "survey design and response counts",
    "survey_edit": "survey design",
    "survey_preview": "survey design",
    "question_edit": "survey design",
    "survey_qr": "the open link",
    "journey_map": "aggregates over at least the minimum group",
    "overview": "aggregates",
    "compare": "aggregates",
    "portfolio": "aggregates by customer value",
    "touchpoint_detail": "aggregates",
    "loop_dashboard": "aggregates over cases; root causes and counts, no customer named",
    "cycle_review": "aggregates over initiatives and cases; alerts' case state, no customer",
    "cycle_review_pdf": "the cycle review printed: the same aggregates as its page",
    "executive_dashboard": "aggregates: NPS, revenue at risk, loop, initiatives, eNPS, payouts",
    "executive_review_pdf": "the executive dashboard printed: the same aggregates as its page",
    "cycle_next": "top opportunities by touchpoint; the write is logged as an initiative's event",
    "face_to_face_new": "a form; the write is logged as a change",
    "pulse_answer": "employee pulse form",
    "pulse_results": "anonymous aggregates",
    "ideas": "employees' ideas",
    "idea_answer": "a write: an idea's status and the answer to its author",
    "weigh_in": "aggregates by team or relationship owner: NPS counts, no customer named",
    "champion_list": "champions by team with counts of what they did; no customer named",
    "training_list": "courses with coverage counts by team and touchpoint; no customer named",
    "my_training": "the signed-in person's own training assignments",
    "training_confirm": "the viewer's people's courses marked done, to confirm",
    "course_detail": "a course, assignments in the viewer's scope, its measured effect",
    "course_assign": "a write; logged as the course's change",
    "course_new": "a course's form; the write is logged as a creation",
    "assignment_done": "a write; logged as the course's change",
    "assignment_confirm": "a write; logged as the course's change",
    "scorecard_list": "figures by team and employee: counts and scores, no customer named",
    "scorecard_me": "a redirect to the signed-in person's own scorecard",
    "person_scorecard": "an employee's figures: counts and scores, no customer named",
    "team_scorecard": "a team's figures: counts and scores, no customer named",
    "metric_definitions": "the definitions of the scorecards' metrics",
    "reward_plan_list": "reward plans: rules of pay; no customer",
    "reward_plan_new": "a reward plan's form; the write is logged with its changes",
    "reward_plan_detail": "a reward plan, its periods and flags by employee; no customer",
    "reward_plan_edit": "a reward plan's form; the write is logged with its changes",
    "reward_simulate": "the payout of figures the user typed",
    "reward_period_open": "a write; logged as the period's event",
    "reward_period_detail": "employees' payouts in the viewer's scope; no customer",
    "reward_period_state": "a write; logged as the period's event",
    "reward_period_csv": "employees' payouts for payroll; logged as an export",
    "reward_period_xlsx": "employees' payouts for payroll; logged as an export",
    "reward_period_parquet": "employees' payouts for payroll; logged as an export",
    "import_upload": "the upload form",
    "import_mapping": "column names and a sample the uploader sent",
    "import_preview": "counts and cell errors of the uploader's own file",
    "import_run": "the import is logged as an import",
    "import_result": "counts",
    "respond": "the respondent's own survey",
    "respond_thanks": "the respondent's own page",
    "unsubscribe": "the respondent's own page",
    "respond_open": "anonymous survey",
    "respond_open_thanks": "anonymous survey",
    "set_language": "language switch",
    "api:openapi-json": "API description",
    "api:openapi-view": "API description",
    "api:list_surveys": "survey design",
    "api:get_survey": "survey design",
    "api:submit_response": "a write; counted by the facts, not a read",
    "api:submit_response_batch": "writes; counted by the facts, not a read",
    "api:api-root": "API description",
    "api:journey_map": "aggregates over at least the minimum group, as the journey map page",
    "api:compare": "aggregates, as the comparison page",
    "api:team_scorecard": "a team's figures: counts and scores, no customer named",
    "api:person_scorecard": "an employee's figures: counts and scores, no customer named",
    "admin:index": "links",
    "admin:login": "sign-in page",
    "admin:logout": "sign-out",
    "admin:password_change": "own password",
    "admin:password_change_done": "own password",
    "admin:autocomplete": "the model's own admin page is logged",
    "admin:jsi18n": "translations",
    "admin:app_list": "links",
    "admin:view_on_site": "redirect",
    "admin:auth_user_password_change": "an employee's password",
    "audit_log": "the audit log itself (actors are employees)",
    "personal_data": "logs its own read, with the contact's id",
    "personal_data_export": "a POST, logged as an export",
    "personal_data_erase": "a POST, logged as an erasure",
    "ask": "the public inquiry form",
    "ask_thanks": "the reference of the visitor's own question",
    "inquiry_thread": "the customer's own inquiry, opened by its private link",
    "healthz": "the service's health: counts and ages",
    "metrics": "counts for Prometheus",
    "case_answer": "a POST, recorded in the case's history",
    "topic_list": "settings of the inquiry form",
    "topic_new": "settings of the inquiry form",
    "topic_edit": "settings of the inquiry form",
    "theme_list": "themes of comments: phrases, counts and precision; no comment shown",
    "theme_impact": "themes of comments: counts and NPS by theme; no comment or customer shown",
    "theme_check": "a write: a verdict on a comment a theme matched",
}

# Admin models (app_label_modelname) whose list and change pages show personal data.
ADMIN_PERSONAL_MODELS: dict[str, str] = {
    "customers_customer": "customer",
    "customers_contact": "contact",
    "surveys_invitation": "invitation",
    "surveys_response": "response",
    "surveys_answer": "answer",
    "feedback_facetofacerecord": "face_to_face_record",
    "feedback_followup": "follow_up",
    "outbox_outboxmessage": "outbox_message",  # e-mails to contacts: address and text
    "cases_case": "case",  # titles name customers
    "cases_caseevent": "case_event",  # notes and messages about customers
    "cases_inquiry": "inquiry",  # the asker's name, address and question
    "cases_casetrigger": "case_trigger",  # its change page names the case (and customer)
    "cases_notification": "notification",  # its change page names the case (and customer)
}

ADMIN_OTHER_MODELS: dict[str, str] = {
    "people_team": "organisation",
    "people_employee": "employees, not customers",
    "people_idea": "employees' ideas",
    "customers_segment": "rules over attributes",
    "journeys_journey": "design",
    "journeys_stage": "design",
    "journeys_touchpoint": "design",
    "journeys_standard": "design",
    "surveys_survey": "design",
    "surveys_question": "design",
    "surveys_pulseparticipation": "who answered a pulse, not what",
    "api_apitoken": "tokens of employees",
    "auth_user": "employees' logins",
    "auth_group": "permissions",
    "django_tasks_database_dbtaskresult": "background tasks",
    "axes_accessattempt": "sign-in attempts",
    "axes_accessfailurelog": "sign-in attempts",
    "axes_accesslog": "sign-ins",
    "audit_auditevent": "the audit log itself",
    "cases_slapolicy": "settings",
    "people_businesscalendar": "settings",
    "people_calendarday": "settings",
    "cases_rootcause": "taxonomy",
    "cases_inquirytopic": "settings",
    "cases_alertrule": "settings",
    "cases_alertruleversion": "settings",
    "webhooks_subscription": "settings",
    "webhooks_event": "webhook events: ids and states, no names or texts",
    "webhooks_delivery": "webhook deliveries: ids, states and response codes",
    "cases_notificationpreference": "employees' choices",
    "comments_theme": "taxonomy",
}

ADMIN_VIEWS = ("changelist", "change", "history", "delete", "add")


def admin_model(url_name: str) -> tuple[str, str] | None:
    """``("customers_contact", "change")`` for ``admin:customers_contact_change``; else None."""
    if not url_name.startswith("admin:"):
        return None
    rest = url_name.removeprefix("admin:")
    for view in ADMIN_VIEWS:
        if rest.endswith("_" + view):
            return rest.removesuffix("_" + view), view
    return None


def personal_read(url_name: str) -> tuple[str, str] | None:
    """The (kind, id keyword) a GET of ``url_name`` reads, or None when it shows no personal
    data."""
    if url_name in PERSONAL_READS:
        return PERSONAL_READS[url_name]
    found = admin_model(url_name)
    if found and found[0] in ADMIN_PERSONAL_MODELS and found[1] in ("changelist", "change"):
        return ADMIN_PERSONAL_MODELS[found[0]], "object_id" if found[1] == "change" else ""
    return None


def classified(url_name: str) -> bool:
    if url_name in PERSONAL_READS or url_name in EXEMPT:
        return True
    found = admin_model(url_name)
    return bool(found) and (found[0] in ADMIN_PERSONAL_MODELS or found[0] in ADMIN_OTHER_MODELS)
