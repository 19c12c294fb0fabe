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
  AND q.code NOT LIKE 'catalogue-%'
UNION ALL
SELECT q.* FROM quality_issues q JOIN catalogue_reviews r ON r.finding_id = q.id
UNION ALL
SELECT q.* FROM quality_issues q
JOIN run_documents r ON r.run_id = q.run_id AND r.path = q.path AND r.status = 'failed'
WHERE q.document_id IS NULL
  AND r.run_id = (SELECT max(later.run_id) FROM run_documents later WHERE later.path = r.path)"""


# The catalogue across towns (catalogue.py). A town's peers are the towns of its county
# (same province, prefecture and county), itself included; a town whose county is unknown
# has every loaded town as its peer.
VIEWS["town_peers"] = """
SELECT t.id AS town_id, p.id AS peer_id FROM towns t JOIN towns p
  ON t.county IS NULL
  OR (p.county = t.county AND coalesce(p.prefecture, '') = coalesce(t.prefecture, '')
      AND coalesce(p.province, '') = coalesce(t.province, ''))"""

# Item × town: every item a peer of the town holds (and every reference item), for each town
# that has a current version of the item's list; present 1 when the town holds it.
VIEWS["catalogue_coverage"] = """
SELECT i.id AS item_id, t.id AS town_id,
       CASE WHEN EXISTS (SELECT 1 FROM duty_catalogue c
                         WHERE c.item_id = i.id AND c.town_id = t.id) THEN 1 ELSE 0 END
           AS present
FROM towns t
JOIN catalogue_items i ON EXISTS (SELECT 1 FROM list_versions v
                                  WHERE v.town_id = t.id AND v.list = i.list AND v.is_current)
WHERE i.source = 'reference'
   OR EXISTS (SELECT 1 FROM town_peers g JOIN duty_catalogue c ON c.town_id = g.peer_id
              WHERE g.town_id = t.id AND c.item_id = i.id)"""

# Items every town of a county holds (towns: how many towns of the county have the list).
VIEWS["catalogue_shared"] = """
SELECT t.province, t.prefecture, t.county, i.id AS item_id, i.list, i.code, i.category,
       i.title, count(*) AS towns
FROM catalogue_coverage k
JOIN towns t ON t.id = k.town_id
JOIN catalogue_items i ON i.id = k.item_id
GROUP BY t.province, t.prefecture, t.county, i.id, i.list, i.code, i.category, i.title
HAVING min(k.present) = 1"""

# Items a town lacks that more than half of its peers holding that list have.
VIEWS["catalogue_lacks"] = """
SELECT * FROM (
  SELECT t.id AS town_id, t.name AS town, t.county, i.id AS item_id, i.list, i.code,
         i.category, i.title,
         (SELECT count(*) FROM duty_catalogue c JOIN town_peers g ON g.peer_id = c.town_id
          WHERE g.town_id = t.id AND c.item_id = i.id) AS towns_with,
         (SELECT count(*) FROM town_peers g JOIN list_versions v
            ON v.town_id = g.peer_id AND v.list = i.list AND v.is_current
          WHERE g.town_id = t.id) AS towns
  FROM catalogue_coverage k
  JOIN towns t ON t.id = k.town_id
  JOIN catalogue_items i ON i.id = k.item_id
  WHERE k.present = 0) AS lacking
WHERE 2 * towns_with > towns"""

# Items held by one town only, among all loaded towns.
VIEWS["catalogue_local"] = """
SELECT i.id AS item_id, i.list, i.category, i.title, c.duty_id, t.id AS town_id,
       t.name AS town, t.county
FROM catalogue_items i
JOIN duty_catalogue c ON c.item_id = i.id
JOIN towns t ON t.id = c.town_id
WHERE NOT EXISTS (SELECT 1 FROM duty_catalogue o WHERE o.item_id = i.id AND o.town_id <> c.town_id)"""


def view_sql(name: str, dialect: str) -> str:
    """The SELECT of one view for one dialect ("sqlite" or "postgresql")."""
    return VIEWS[name].format(names=NAMES[dialect].format(query=LINKED)).strip()


def view_ddl(dialect: str) -> list[str]:
    """Statements that (re)create every view; safe to run on every build."""
    # Every view is dropped before any is made: PostgreSQL refuses to drop a view that
    # another one (catalogue_coverage on town_peers) is built on.
    statements = [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEWS)]
    statements += [f"CREATE VIEW {name} AS\n{view_sql(name, dialect)}" for name in VIEWS]
    return statements


def create_views(conn: Connection) -> None:
    for statement in view_ddl(conn.dialect.name):
        conn.execute(text(statement))
