"""The demo firm as data: its teams, its client journey and the word lists its clients are made of.

A professional services firm, «Северин и партнёры» (Severin & Partners), with offices in Moscow,
St Petersburg and Kazan. Everything random about the demo lives in ``simulate``; this module is
fixed description.
"""

from dataclasses import dataclass

FIRM = "Северин и партнёры"

# (key, name, parent key); the order creates parents first.
TEAMS: tuple[tuple[str, str, str | None], ...] = (
    ("firm", FIRM, None),
    ("msk", "Москва", "firm"),
    ("spb", "Санкт-Петербург", "firm"),
    ("kzn", "Казань", "firm"),
    ("service", "Клиентский сервис и биллинг", "firm"),
    ("msk_audit", "Аудит — Москва", "msk"),
    ("msk_tax", "Налоги — Москва", "msk"),
    ("msk_legal", "Право — Москва", "msk"),
    ("msk_consulting", "Консалтинг — Москва", "msk"),
    ("spb_audit", "Аудит — Санкт-Петербург", "spb"),
    ("spb_tax", "Налоги — Санкт-Петербург", "spb"),
    ("kzn_tax", "Налоги — Казань", "kzn"),
)
# The teams' names on English pages, by key.
TEAM_NAMES_EN = {
    "firm": "Severin & Partners",
    "msk": "Moscow",
    "spb": "St Petersburg",
    "kzn": "Kazan",
    "service": "Client service and billing",
    "msk_audit": "Audit — Moscow",
    "msk_tax": "Tax — Moscow",
    "msk_legal": "Legal — Moscow",
    "msk_consulting": "Consulting — Moscow",
    "spb_audit": "Audit — St Petersburg",
    "spb_tax": "Tax — St Petersburg",
    "kzn_tax": "Tax — Kazan",
}
# Job titles of the firm's people on English pages.
TITLES_EN = {
    "Управляющий партнёр": "Managing partner",
    "Руководитель клиентского опыта": "Head of customer experience",
    "Партнёр": "Partner",
    "Старший консультант": "Senior consultant",
    "Консультант": "Consultant",
    "Менеджер проекта": "Project manager",
    "Аналитик": "Analyst",
    "Руководитель клиентского сервиса": "Head of client service",
    "Специалист по работе с клиентами": "Client service specialist",
}
# Practice teams serve clients; (team key, number of staff besides the partner).
PRACTICES: tuple[tuple[str, int], ...] = (
    ("msk_audit", 8),
    ("msk_tax", 7),
    ("msk_legal", 6),
    ("msk_consulting", 7),
    ("spb_audit", 5),
    ("spb_tax", 4),
    ("kzn_tax", 1),  # the small team of the planted lucky streak
)
LUCKY_TEAM = "kzn_tax"


@dataclass(frozen=True)
class TouchpointSpec:
    code: str
    name_ru: str
    name_en: str
    channel: str
    team: str
    base: float  # typical rating on 1–5 before any planted change
    moment_of_truth: bool
    expectation_ru: str
    expectation_en: str


@dataclass(frozen=True)
class StageSpec:
    name_ru: str
    name_en: str
    touchpoints: tuple[TouchpointSpec, ...]


JOURNEY = ("Путь клиента", "Client journey")

STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "Первый контакт",
        "First contact",
        (
            TouchpointSpec(
                "website_inquiry",
                "Запрос через сайт",
                "Website inquiry",
                "web",
                "service",
                3.7,
                False,
                "Ответ на запрос в течение рабочего дня, по существу вопроса.",
                "An answer to the point within one working day.",
            ),
            TouchpointSpec(
                "first_call",
                "Первый звонок партнёра",
                "First call with a partner",
                "phone",
                "msk",
                3.9,
                True,
                "Партнёр сам звонит, понимает отрасль и не продаёт с порога.",
                "The partner calls in person, knows the industry and does not push.",
            ),
            TouchpointSpec(
                "intro_meeting",
                "Знакомство и встреча",
                "Introductory meeting",
                "meeting",
                "msk",
                3.9,
                False,
                "Встреча в удобное время, с людьми, которые будут вести проект.",
                "A meeting at a convenient time with the people who will run the work.",
            ),
        ),
    ),
    StageSpec(
        "Предложение",
        "Proposal",
        (
            TouchpointSpec(
                "needs_assessment",
                "Анализ потребностей",
                "Needs assessment",
                "meeting",
                "msk",
                3.8,
                False,
                "Вопросы о бизнесе клиента, а не только о задании.",
                "Questions about the client's business, not only the assignment.",
            ),
            TouchpointSpec(
                "proposal_document",
                "Коммерческое предложение",
                "Proposal document",
                "document",
                "msk",
                3.6,
                True,
                "Понятный объём работ, сроки и стоимость без мелкого шрифта.",
                "A clear scope, timeline and price with no small print.",
            ),
            TouchpointSpec(
                "fee_negotiation",
                "Согласование гонорара",
                "Fee negotiation",
                "meeting",
                "msk",
                3.4,
                False,
                "Гибкость и прозрачное объяснение того, из чего складывается цена.",
                "Flexibility and a plain account of what the fee is made of.",
            ),
        ),
    ),
    StageSpec(
        "Начало работы",
        "Onboarding",
        (
            TouchpointSpec(
                "engagement_letter",
                "Договор и письмо-поручение",
                "Engagement letter and contract",
                "document",
                "service",
                3.7,
                False,
                "Договор готов за несколько дней, без лишних кругов согласования.",
                "The contract is ready in days, without needless rounds of review.",
            ),
            TouchpointSpec(
                "kickoff_meeting",
                "Стартовая встреча",
                "Kick-off meeting",
                "meeting",
                "msk",
                3.5,
                True,
                "Понятный план, роли и контакты команды с первого дня.",
                "A clear plan, roles and team contacts from day one.",
            ),
            TouchpointSpec(
                "document_request",
                "Запрос документов",
                "Document request",
                "portal",
                "service",
                3.4,
                False,
                "Один список документов сразу, без повторных запросов одного и того же.",
                "One list of documents up front, never asking twice for the same thing.",
            ),
        ),
    ),
    StageSpec(
        "Выполнение работ",
        "Delivery",
        (
            TouchpointSpec(
                "team_responsiveness",
                "Оперативность ответов команды",
                "Team responsiveness",
                "email",
                "msk",
                3.6,
                True,
                "Ответ на вопрос в течение дня, даже если это «разбираемся».",
                "An answer within a day, even if it is 'we are looking into it'.",
            ),
            TouchpointSpec(
                "status_updates",
                "Отчёты о ходе работ",
                "Status updates",
                "email",
                "msk",
                3.5,
                False,
                "Регулярный короткий статус: что сделано, что дальше, какие риски.",
                "A short regular status: what is done, what is next, what the risks are.",
            ),
            TouchpointSpec(
                "expertise",
                "Экспертиза и качество советов",
                "Expertise and quality of advice",
                "meeting",
                "msk",
                4.0,
                True,
                "Советы, применимые к нашей ситуации, а не общие слова.",
                "Advice that fits our situation, not general remarks.",
            ),
            TouchpointSpec(
                "deadlines",
                "Соблюдение сроков",
                "Meeting deadlines",
                "document",
                "msk",
                3.6,
                True,
                "Сроки выполняются, а о рисках срыва предупреждают заранее.",
                "Deadlines are met, and any risk to them is flagged early.",
            ),
            TouchpointSpec(
                "final_report",
                "Итоговый отчёт",
                "Final report",
                "document",
                "msk",
                3.8,
                False,
                "Выводы и рекомендации на первых страницах, понятные руководству.",
                "Findings and recommendations up front, readable by the board.",
            ),
        ),
    ),
    StageSpec(
        "Счета и оплата",
        "Billing",
        (
            TouchpointSpec(
                "invoice_clarity",
                "Понятность счетов",
                "Invoice clarity",
                "invoice",
                "service",
                3.5,
                False,
                "В счёте видно, за какие работы и часы выставлена сумма.",
                "The invoice shows which work and hours the amount is for.",
            ),
            TouchpointSpec(
                "billing_accuracy",
                "Точность счетов",
                "Billing accuracy",
                "invoice",
                "service",
                3.9,
                False,
                "Счёт совпадает с договором, без ошибок и исправлений.",
                "The invoice matches the contract, with no errors or corrections.",
            ),
            TouchpointSpec(
                "payment_terms",
                "Условия оплаты",
                "Payment terms",
                "email",
                "service",
                3.8,
                False,
                "Сроки оплаты удобны, напоминания вежливые.",
                "Convenient payment terms and polite reminders.",
            ),
        ),
    ),
    StageSpec(
        "Оценка и продление",
        "Review and renewal",
        (
            TouchpointSpec(
                "results_review",
                "Обсуждение результатов",
                "Results review meeting",
                "meeting",
                "msk",
                3.7,
                True,
                "Честный разговор о результате и о том, что можно сделать лучше.",
                "An honest talk about the outcome and what could be done better.",
            ),
            TouchpointSpec(
                "renewal_proposal",
                "Предложение о продлении",
                "Renewal proposal",
                "document",
                "msk",
                3.6,
                False,
                "Предложение учитывает опыт прошлого проекта, а не копирует его.",
                "The offer builds on the last project instead of copying it.",
            ),
            TouchpointSpec(
                "ongoing_contact",
                "Поддержка контакта между проектами",
                "Keeping in touch between projects",
                "phone",
                "msk",
                3.4,
                False,
                "Полезные новости об изменениях законодательства без спама.",
                "Useful news on regulatory change, without spam.",
            ),
        ),
    ),
)

TOUCHPOINTS: tuple[TouchpointSpec, ...] = tuple(tp for stage in STAGES for tp in stage.touchpoints)

INDUSTRIES = (
    "manufacturing",
    "retail",
    "logistics",
    "energy",
    "it",
    "construction",
    "finance",
    "agriculture",
    "healthcare",
    "media",
)
TIERS = ("strategic", "key", "standard", "small")
TIER_SHARES = (0.06, 0.16, 0.50, 0.28)
# Median annual fees in roubles by tier; values are lognormal around them.
TIER_VALUE = {"strategic": 42_000_000, "key": 12_000_000, "standard": 3_000_000, "small": 600_000}
TARGET_SEGMENT = "Стратегические и ключевые клиенты"
TARGET_SEGMENT_EN = "Strategic and key clients"
TARGET_TIERS = ("strategic", "key")

NAME_ROOTS = (
    "Северный",
    "Волжский",
    "Уральский",
    "Балтийский",
    "Сибирский",
    "Донской",
    "Камский",
    "Невский",
    "Окский",
    "Приморский",
    "Таврический",
    "Алтайский",
    "Ладожский",
    "Енисейский",
    "Байкальский",
    "Каспийский",
    "Печорский",
    "Вятский",
    "Онежский",
    "Ильменский",
)
NAME_NOUNS = (
    "Терминал",
    "Агрохолдинг",
    "Металл",
    "Трейд",
    "Девелопмент",
    "Энергосбыт",
    "Логистик",
    "Фарм",
    "Стройинвест",
    "Ритейл",
    "Медиагрупп",
    "Софт",
    "Машзавод",
    "Хлебокомбинат",
    "Капитал",
    "Транс",
    "Химпром",
    "Лизинг",
    "Порт",
    "Телеком",
    "Инжиниринг",
    "Продукт",
)
FOREIGN_NAMES = (
    "Nordic Freight",
    "Caspian Energy Partners",
    "Helios Retail",
    "Baltic Pharma",
    "Arcadia Soft",
    "Meridian Agro",
    "Polaris Logistics",
    "Vector Media",
    "Crown Construction",
    "Atlas Finance",
    "Zenith Machinery",
    "Orion Healthcare",
    "Silverline Metals",
    "Bluewater Foods",
)
LEGAL_FORMS = ("ООО", "АО", "ПАО")

FIRST_NAMES_M = (
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Иван",
    "Михаил",
    "Егор",
    "Никита",
    "Павел",
    "Роман",
    "Олег",
    "Кирилл",
    "Денис",
    "Артём",
    "Игорь",
    "Тимур",
    "Руслан",
)
FIRST_NAMES_F = (
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Екатерина",
    "Светлана",
    "Юлия",
    "Дарья",
    "Алина",
    "Ксения",
    "Виктория",
    "Марина",
    "Полина",
    "Анастасия",
    "Софья",
)
# Masculine surnames; the feminine form adds "а" (Иванов → Иванова), true of every name here.
SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
)
ENGLISH_NAMES = (
    "James Whitaker",
    "Sarah Collins",
    "Michael Brennan",
    "Emma Lindqvist",
    "David Okafor",
    "Laura Fischer",
    "Thomas Moreau",
    "Hannah Becker",
    "Oliver Grant",
    "Sophie Laurent",
    "Daniel Novak",
    "Claire Dubois",
    "Peter Hansen",
    "Julia Rossi",
    "Mark Jensen",
    "Anna Schmidt",
)
CONTACT_TITLES_RU = (
    "Генеральный директор",
    "Финансовый директор",
    "Главный бухгалтер",
    "Юрисконсульт",
    "Руководитель налогового отдела",
    "Директор по развитию",
    "Операционный директор",
)
CONTACT_TITLES_EN = ("CEO", "CFO", "Head of Tax", "General Counsel", "Finance Director", "COO")

FOLLOW_UPS_RU = (
    "Прислать график работ на следующий квартал",
    "Назначить встречу с налоговым партнёром",
    "Подготовить короткий обзор изменений законодательства",
    "Согласовать новый формат еженедельного статуса",
    "Пересмотреть структуру счетов по проекту",
    "Провести разбор замечаний к итоговому отчёту",
    "Познакомить с командой нового проекта",
)
FOLLOW_UPS_EN = (
    "Send the work plan for next quarter",
    "Set up a meeting with the tax partner",
    "Prepare a short note on regulatory changes",
    "Agree a new format for the weekly status",
    "Rework the invoice layout for the project",
    "Walk through the comments on the final report",
    "Introduce the team for the new engagement",
)
RESEARCH_AGENCY = "Агентство «Пульс рынка»"

PULSE = ("Пульс-опрос сотрудников", "Employee pulse survey")
ENPS_RU = "Насколько вероятно, что вы порекомендуете работу в нашей фирме знакомому?"
ENPS_EN = "How likely are you to recommend working at our firm to a friend?"
PULSE_COMMENTS = (
    "Слишком много внутренних совещаний, на клиентов остаётся мало времени.",
    "Хорошая команда, но не хватает обучения по новым требованиям МСФО.",
    "Хотелось бы понятнее видеть, как оценка клиентов влияет на премию.",
    "Нравится, что партнёры открыты к предложениям.",
    "Нагрузка в отчётный сезон запредельная, нужен резерв людей.",
    "Не хватает шаблонов для статус-отчётов клиентам.",
)
IDEAS = (
    "Сделать единый шаблон еженедельного статуса для всех проектов.",
    "Отправлять клиенту протокол стартовой встречи в течение суток.",
    "Проверять каждый счёт вторым сотрудником перед отправкой.",
    "Завести общий список часто задаваемых вопросов клиентов по налогам.",
    "Звонить клиенту через месяц после завершения проекта.",
    "Показывать команде отзывы клиентов раз в неделю на общей встрече.",
    "Сократить список запрашиваемых документов — половина не используется.",
    "Назначать каждому ключевому клиенту резервного менеджера на время отпусков.",
)
