"""Analyst views, defined once as data and created in SQLite and PostgreSQL alike.

Only the string aggregate differs between the two; NAMES fills it in per dialect, always
ordered, so both give identical rows.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

# "、"-joined, sorted names from a query whose one column is `name`.
NAMES = {
    "sqlite": "(SELECT group_concat(name, '、') FROM ({query} ORDER BY name))",
    "postgresql": "(SELECT string_agg(name, '、' ORDER BY name) FROM ({query}) AS names)",
}

LINKED = ("SELECT DISTINCT p.name AS name FROM duty_departments l "
          "JOIN departments p ON p.id = l.department_id "
          "WHERE l.duty_id = d.id AND l.role IN ('counterpart', 'receiver')")

STEP_COUNT = "(SELECT count(*) FROM steps s WHERE s.duty_id = d.id AND s.party = '{party}')"

VIEWS = {
    # One row per duty: where, which list, its departments and its steps per party.
    "duty_overview": f"""
SELECT d.id AS duty_id, t.id AS town_id, t.name AS town, t.county, d.list, d.seq,
       d.category, d.title, {{names}} AS departments,
       {STEP_COUNT.format(party="upper")} AS upper_steps,
       {STEP_COUNT.format(party="town")} AS town_steps,
       {STEP_COUNT.format(party="receiver")} AS receiver_steps
FROM duties d JOIN towns t ON t.id = d.town_id""",
    # One row per department and place: duties it hands down or took back, and the town's
    # steps in the cooperative duties it is counterpart to.
    "department_workload": """
SELECT p.id AS department_id, p.name AS department, p.jurisdiction, t.id AS town_id,
       t.name AS town,
       count(DISTINCT CASE WHEN l.role = 'counterpart' AND d.list = 'cooperative'
                           THEN d.id END) AS cooperative_duties,
       count(DISTINCT CASE WHEN l.role = 'receiver' AND d.list = 'withdrawn'
                           THEN d.id END) AS withdrawn_duties,
       count(DISTINCT CASE WHEN l.role = 'mentioned' THEN d.id END) AS mentioned_in_duties,
       coalesce(sum(CASE WHEN l.role = 'counterpart' AND d.list = 'cooperative'
                         THEN (SELECT count(*) FROM steps s
                               WHERE s.duty_id = d.id AND s.party = 'town') END), 0)
           AS town_steps
FROM duty_departments l
JOIN departments p ON p.id = l.department_id
JOIN duties d ON d.id = l.duty_id
JOIN towns t ON t.id = d.town_id
GROUP BY p.id, p.name, p.jurisdiction, t.id, t.name""",
    # Duties per category and list, per place.
    "category_summary": """
SELECT t.id AS town_id, t.name AS town, d.list, d.category, count(*) AS duties
FROM duties d JOIN towns t ON t.id = d.town_id
GROUP BY t.id, t.name, d.list, d.category""",
}


# Findings of the data as it is now: those of the last load of every file that provides a
# current list, and those of every file whose latest build failed.
VIEWS["current_findings"] = """
SELECT q.* FROM quality_issues q
JOIN documents doc ON doc.id = q.document_id AND doc.findings_run_id = q.run_id
WHERE doc.id IN (SELECT document_id FROM list_versions WHERE is_current)
UNION ALL
SELECT q.* FROM quality_issues q
JOIN run_documents r ON r.run_id = q.run_id AND r.path = q.path AND r.status = 'failed'
WHERE q.document_id IS NULL
  AND r.run_id = (SELECT max(later.run_id) FROM run_documents later WHERE later.path = r.path)"""


def view_sql(name: str, dialect: str) -> str:
    """The SELECT of one view for one dialect ("sqlite" or "postgresql")."""
    return VIEWS[name].format(names=NAMES[dialect].format(query=LINKED)).strip()


def view_ddl(dialect: str) -> list[str]:
    """Statements that (re)create every view; safe to run on every build."""
    statements = []
    for name in VIEWS:
        statements.append(f"DROP VIEW IF EXISTS {name}")
        statements.append(f"CREATE VIEW {name} AS\n{view_sql(name, dialect)}")
    return statements


def create_views(conn: Connection) -> None:
    for statement in view_ddl(conn.dialect.name):
        conn.execute(text(statement))
