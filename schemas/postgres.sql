CREATE TABLE catalogue_decisions (
	town_id BIGINT NOT NULL, 
	title_id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	title_key TEXT NOT NULL, 
	decision TEXT NOT NULL, 
	item_id BIGINT, 
	title TEXT NOT NULL, 
	decided_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (town_id, title_id)
);

CREATE TABLE catalogue_items (
	id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	title TEXT NOT NULL, 
	title_key TEXT NOT NULL, 
	category TEXT, 
	code TEXT, 
	source TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX catalogue_items_list ON catalogue_items (list);

CREATE TABLE catalogue_reviews (
	duty_id BIGINT NOT NULL, 
	item_id BIGINT NOT NULL, 
	reason TEXT NOT NULL, 
	candidates TEXT NOT NULL, 
	finding_id INTEGER, 
	PRIMARY KEY (duty_id)
);

CREATE TABLE departments (
	id BIGINT NOT NULL, 
	name TEXT NOT NULL, 
	short_name TEXT, 
	jurisdiction TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE runs (
	id SERIAL NOT NULL, 
	started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITH TIME ZONE, 
	parser_version TEXT NOT NULL, 
	arguments TEXT NOT NULL, 
	documents_loaded INTEGER NOT NULL, 
	documents_skipped INTEGER NOT NULL, 
	documents_failed INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE schema_state (
	name TEXT NOT NULL, 
	digest TEXT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE towns (
	id BIGINT NOT NULL, 
	name TEXT NOT NULL, 
	kind TEXT NOT NULL, 
	county TEXT, 
	prefecture TEXT, 
	province TEXT, 
	code TEXT, 
	row_block BIGINT, 
	PRIMARY KEY (id), 
	UNIQUE (row_block)
);

CREATE TABLE catalogue_titles (
	title_id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	title_key TEXT NOT NULL, 
	item_id BIGINT NOT NULL, 
	score FLOAT NOT NULL, 
	method TEXT NOT NULL, 
	reason TEXT, 
	candidates TEXT, 
	PRIMARY KEY (title_id), 
	FOREIGN KEY(item_id) REFERENCES catalogue_items (id)
);

CREATE INDEX catalogue_titles_item ON catalogue_titles (item_id);

CREATE TABLE department_aliases (
	jurisdiction TEXT NOT NULL, 
	alias TEXT NOT NULL, 
	department_id BIGINT NOT NULL, 
	PRIMARY KEY (jurisdiction, alias), 
	FOREIGN KEY(department_id) REFERENCES departments (id)
);

CREATE TABLE documents (
	id BIGINT NOT NULL, 
	town_id BIGINT NOT NULL, 
	path TEXT NOT NULL, 
	sha256 TEXT NOT NULL, 
	format TEXT NOT NULL, 
	encoding TEXT, 
	parser_version TEXT NOT NULL, 
	loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	rows_read INTEGER NOT NULL, 
	duties_loaded INTEGER NOT NULL, 
	rows_quarantined INTEGER NOT NULL, 
	findings_run_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(town_id) REFERENCES towns (id)
);

CREATE TABLE duty_catalogue (
	duty_id BIGINT NOT NULL, 
	item_id BIGINT NOT NULL, 
	score FLOAT, 
	method TEXT NOT NULL, 
	town_id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	title_key TEXT NOT NULL, 
	title_id BIGINT NOT NULL, 
	version_id BIGINT NOT NULL, 
	title TEXT, 
	category TEXT, 
	PRIMARY KEY (duty_id), 
	FOREIGN KEY(item_id) REFERENCES catalogue_items (id)
);

CREATE INDEX duty_catalogue_item ON duty_catalogue (item_id, town_id);

CREATE INDEX duty_catalogue_title ON duty_catalogue (title_id);

CREATE INDEX duty_catalogue_town ON duty_catalogue (town_id, list);

CREATE TABLE quality_issues (
	id SERIAL NOT NULL, 
	run_id INTEGER NOT NULL, 
	document_id BIGINT, 
	path TEXT NOT NULL, 
	sheet TEXT, 
	line INTEGER, 
	field TEXT, 
	code TEXT NOT NULL, 
	severity TEXT NOT NULL, 
	message TEXT NOT NULL, 
	raw TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);

CREATE INDEX quality_issues_run ON quality_issues (run_id);

CREATE TABLE run_documents (
	run_id INTEGER NOT NULL, 
	path TEXT NOT NULL, 
	status TEXT NOT NULL, 
	rows_read INTEGER NOT NULL, 
	duties_loaded INTEGER NOT NULL, 
	rows_quarantined INTEGER NOT NULL, 
	PRIMARY KEY (run_id, path), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);

CREATE TABLE duties (
	id BIGINT NOT NULL, 
	document_id BIGINT NOT NULL, 
	town_id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	seq INTEGER NOT NULL, 
	category TEXT, 
	title TEXT NOT NULL, 
	source_line INTEGER NOT NULL, 
	source_sheet TEXT, 
	raw JSONB NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(document_id) REFERENCES documents (id), 
	FOREIGN KEY(town_id) REFERENCES towns (id)
);

CREATE INDEX duties_town_list_seq ON duties (town_id, list, seq);

CREATE TABLE list_versions (
	id BIGINT NOT NULL, 
	town_id BIGINT NOT NULL, 
	list TEXT NOT NULL, 
	number INTEGER NOT NULL, 
	document_id BIGINT NOT NULL, 
	sha256 TEXT NOT NULL, 
	content_sha256 TEXT NOT NULL, 
	duties INTEGER NOT NULL, 
	published DATE, 
	published_from TEXT NOT NULL, 
	loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	is_current BOOLEAN NOT NULL, 
	withdrawn_at TIMESTAMP WITH TIME ZONE, 
	parser_version TEXT NOT NULL, 
	content BYTEA NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (town_id, list, number), 
	FOREIGN KEY(town_id) REFERENCES towns (id), 
	FOREIGN KEY(document_id) REFERENCES documents (id)
);

CREATE TABLE duty_changes (
	id SERIAL NOT NULL, 
	run_id INTEGER NOT NULL, 
	version_id BIGINT NOT NULL, 
	previous_version_id BIGINT, 
	town_id BIGINT NOT NULL, 
	change TEXT NOT NULL, 
	list TEXT NOT NULL, 
	old_list TEXT, 
	old_seq INTEGER, 
	new_seq INTEGER, 
	old_title TEXT, 
	new_title TEXT, 
	score FLOAT, 
	detail TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id), 
	FOREIGN KEY(version_id) REFERENCES list_versions (id), 
	FOREIGN KEY(previous_version_id) REFERENCES list_versions (id), 
	FOREIGN KEY(town_id) REFERENCES towns (id)
);

CREATE INDEX duty_changes_version ON duty_changes (version_id);

CREATE TABLE duty_departments (
	duty_id BIGINT NOT NULL, 
	department_id BIGINT NOT NULL, 
	role TEXT NOT NULL, 
	written TEXT NOT NULL, 
	note TEXT, 
	PRIMARY KEY (duty_id, department_id, role), 
	FOREIGN KEY(duty_id) REFERENCES duties (id), 
	FOREIGN KEY(department_id) REFERENCES departments (id)
);

CREATE INDEX duty_departments_department ON duty_departments (department_id);

CREATE TABLE steps (
	id BIGINT NOT NULL, 
	duty_id BIGINT NOT NULL, 
	party TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	number INTEGER, 
	section TEXT, 
	department_id BIGINT, 
	text TEXT NOT NULL, 
	raw TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (duty_id, party, position), 
	FOREIGN KEY(duty_id) REFERENCES duties (id), 
	FOREIGN KEY(department_id) REFERENCES departments (id)
);

CREATE INDEX steps_department ON steps (department_id);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX IF NOT EXISTS duties_title_trgm ON duties USING gin (title gin_trgm_ops);

CREATE INDEX IF NOT EXISTS steps_text_trgm ON steps USING gin (text gin_trgm_ops);

DROP VIEW IF EXISTS catalogue_local;

DROP VIEW IF EXISTS catalogue_lacks;

DROP VIEW IF EXISTS catalogue_shared;

DROP VIEW IF EXISTS catalogue_coverage;

DROP VIEW IF EXISTS town_peers;

DROP VIEW IF EXISTS current_findings;

DROP VIEW IF EXISTS category_summary;

DROP VIEW IF EXISTS department_workload;

DROP VIEW IF EXISTS duty_overview;

CREATE VIEW duty_overview AS
SELECT d.id AS duty_id, t.id AS town_id, t.name AS town, t.county, d.list, d.seq,
       d.category, d.title, (SELECT string_agg(name, '、' ORDER BY name) FROM (SELECT DISTINCT p.name AS name FROM duty_departments l JOIN departments p ON p.id = l.department_id WHERE l.duty_id = d.id AND l.role IN ('counterpart', 'receiver')) AS names) AS departments,
       (SELECT count(*) FROM steps s WHERE s.duty_id = d.id AND s.party = 'upper') AS upper_steps,
       (SELECT count(*) FROM steps s WHERE s.duty_id = d.id AND s.party = 'town') AS town_steps,
       (SELECT count(*) FROM steps s WHERE s.duty_id = d.id AND s.party = 'receiver') AS receiver_steps
FROM duties d JOIN towns t ON t.id = d.town_id;

CREATE VIEW department_workload AS
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
GROUP BY p.id, p.name, p.jurisdiction, t.id, t.name;

CREATE VIEW category_summary AS
SELECT t.id AS town_id, t.name AS town, d.list, d.category, count(*) AS duties
FROM duties d JOIN towns t ON t.id = d.town_id
GROUP BY t.id, t.name, d.list, d.category;

CREATE VIEW current_findings AS
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
  AND r.run_id = (SELECT max(later.run_id) FROM run_documents later WHERE later.path = r.path);

CREATE VIEW town_peers AS
SELECT t.id AS town_id, p.id AS peer_id, t.name AS town, p.name AS peer, t.county
FROM towns t JOIN towns p
  ON t.county IS NULL
  OR (p.county = t.county AND coalesce(p.prefecture, '') = coalesce(t.prefecture, '')
      AND coalesce(p.province, '') = coalesce(t.province, ''));

CREATE VIEW catalogue_coverage AS
SELECT i.id AS item_id, t.id AS town_id,
       CASE WHEN EXISTS (SELECT 1 FROM duty_catalogue c
                         WHERE c.item_id = i.id AND c.town_id = t.id) THEN 1 ELSE 0 END
           AS present,
       i.list, t.name AS town, i.title
FROM towns t
JOIN catalogue_items i ON EXISTS (SELECT 1 FROM list_versions v
                                  WHERE v.town_id = t.id AND v.list = i.list AND v.is_current)
WHERE i.source = 'reference'
   OR EXISTS (SELECT 1 FROM town_peers g JOIN duty_catalogue c ON c.town_id = g.peer_id
              WHERE g.town_id = t.id AND c.item_id = i.id);

CREATE VIEW catalogue_shared AS
SELECT t.province, t.prefecture, t.county, i.id AS item_id, i.list, i.code, i.category,
       i.title, count(*) AS towns
FROM catalogue_coverage k
JOIN towns t ON t.id = k.town_id
JOIN catalogue_items i ON i.id = k.item_id
GROUP BY t.province, t.prefecture, t.county, i.id, i.list, i.code, i.category, i.title
HAVING min(k.present) = 1;

CREATE VIEW catalogue_lacks AS
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
WHERE 2 * towns_with > towns;

CREATE VIEW catalogue_local AS
SELECT i.id AS item_id, i.list, i.category, i.title, c.duty_id, t.id AS town_id,
       t.name AS town, t.county
FROM catalogue_items i
JOIN duty_catalogue c ON c.item_id = i.id
JOIN towns t ON t.id = c.town_id
WHERE NOT EXISTS (SELECT 1 FROM duty_catalogue o WHERE o.item_id = i.id AND o.town_id <> c.town_id);
