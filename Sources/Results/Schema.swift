import GRDB

/// The database schema, as an append-only list of migrations.
///
/// Never edit a migration once it is on `main`: databases in the wild have applied it.
/// Change the schema by appending a new migration. Rules live in the schema (NOT NULL,
/// CHECK, foreign keys, unique indexes) so that no writer, ours or a user's, can store a row
/// that breaks them.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, stages, results, replicates, tests, predictions") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    spec_digest TEXT NOT NULL,
                    experiment TEXT NOT NULL,
                    engine_version TEXT NOT NULL,
                    git_commit TEXT,
                    host TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    status TEXT NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))
                );

                CREATE TABLE stage_execution (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    stage_key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    parameters TEXT NOT NULL CHECK (json_valid(parameters)),
                    status TEXT NOT NULL
                        CHECK (status IN ('running', 'succeeded', 'failed', 'cached', 'blocked', 'interrupted')),
                    seconds REAL CHECK (seconds IS NULL OR seconds >= 0),
                    error_message TEXT CHECK (status <> 'failed' OR error_message IS NOT NULL),
                    recorded_at TEXT NOT NULL,
                    UNIQUE (run_id, stage_key)
                );
                CREATE INDEX stage_execution_on_stage_key ON stage_execution(stage_key);

                -- One row per stage whose outputs are recorded; the output tables hang from it,
                -- so re-recording a stage is: delete this row (cascading), insert again.
                CREATE TABLE stage_output (
                    stage_key TEXT PRIMARY KEY NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id),
                    recorded_at TEXT NOT NULL
                );

                CREATE TABLE result (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    experiment TEXT NOT NULL,
                    task TEXT NOT NULL,
                    backbone TEXT NOT NULL,
                    dataset TEXT NOT NULL,
                    head TEXT NOT NULL,
                    features TEXT NOT NULL,
                    fraction REAL CHECK (fraction IS NULL OR (fraction > 0 AND fraction <= 1)),
                    seed INTEGER,
                    train_subgroup TEXT NOT NULL,
                    test_subgroup TEXT NOT NULL,
                    label TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    value REAL,
                    note TEXT CHECK (value IS NOT NULL OR note IS NOT NULL),
                    n INTEGER NOT NULL CHECK (n >= 0)
                );
                -- NULL fraction/seed are mapped to sentinels so that they collide as equal.
                CREATE UNIQUE INDEX result_unique_coordinates ON result(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), train_subgroup, test_subgroup, label, metric);
                CREATE INDEX result_on_metric ON result(metric, experiment, task);

                CREATE TABLE bootstrap_replicate (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    experiment TEXT NOT NULL,
                    task TEXT NOT NULL,
                    backbone TEXT NOT NULL,
                    dataset TEXT NOT NULL,
                    head TEXT NOT NULL,
                    features TEXT NOT NULL,
                    fraction REAL CHECK (fraction IS NULL OR (fraction > 0 AND fraction <= 1)),
                    seed INTEGER,
                    train_subgroup TEXT NOT NULL,
                    test_subgroup TEXT NOT NULL,
                    label TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    replicate INTEGER NOT NULL CHECK (replicate >= 0),
                    value REAL
                );
                CREATE UNIQUE INDEX bootstrap_replicate_unique ON bootstrap_replicate(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), train_subgroup, test_subgroup, label, metric,
                    replicate);

                CREATE TABLE statistical_test (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    experiment TEXT NOT NULL,
                    task TEXT NOT NULL,
                    backbone TEXT NOT NULL,
                    dataset TEXT NOT NULL,
                    head TEXT NOT NULL,
                    features TEXT NOT NULL,
                    fraction REAL CHECK (fraction IS NULL OR (fraction > 0 AND fraction <= 1)),
                    seed INTEGER,
                    train_subgroup TEXT NOT NULL,
                    test_subgroup TEXT NOT NULL,
                    label TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    test_name TEXT NOT NULL,
                    compared_dimension TEXT NOT NULL,
                    group1 TEXT NOT NULL,
                    group2 TEXT NOT NULL,
                    statistic REAL NOT NULL,
                    p_value REAL NOT NULL CHECK (p_value >= 0 AND p_value <= 1),
                    effect_size REAL NOT NULL CHECK (effect_size >= -1 AND effect_size <= 1),
                    n1 INTEGER NOT NULL CHECK (n1 > 0),
                    n2 INTEGER NOT NULL CHECK (n2 > 0),
                    method TEXT NOT NULL CHECK (method IN ('exact', 'asymptotic')),
                    holm_p_value REAL CHECK (holm_p_value IS NULL OR (holm_p_value >= p_value AND holm_p_value <= 1))
                );
                CREATE UNIQUE INDEX statistical_test_unique ON statistical_test(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), train_subgroup, test_subgroup, label, metric,
                    test_name, compared_dimension, group1, group2);

                CREATE TABLE prediction (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    sample_id TEXT NOT NULL,
                    label TEXT NOT NULL,
                    score REAL NOT NULL,
                    target REAL NOT NULL,
                    UNIQUE (stage_key, sample_id, label)
                );

                -- The rows a table should show when one coordinate was recorded by several stages
                -- (a parameter outside the coordinates changed, e.g. the probe's learning rate):
                -- the stage most recently used by a run wins (executed or taken from the cache),
                -- then the most recently recorded one.
                CREATE VIEW latest_result AS
                WITH stage_use AS (
                    SELECT o.stage_key,
                           coalesce((SELECT max(e.id) FROM stage_execution e
                                     WHERE e.stage_key = o.stage_key
                                       AND e.status IN ('succeeded', 'cached')), 0) AS last_execution,
                           o.rowid AS output_order
                    FROM stage_output o
                ), ranked AS (
                    SELECT r.*, row_number() OVER (
                        PARTITION BY r.experiment, r.task, r.backbone, r.dataset, r.head, r.features,
                                     r.fraction, r.seed, r.train_subgroup, r.test_subgroup, r.label, r.metric
                        ORDER BY u.last_execution DESC, u.output_order DESC) AS recency
                    FROM result r JOIN stage_use u ON u.stage_key = r.stage_key
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, value, note, n
                FROM ranked WHERE recency = 1;
                """)
        }
        migrator.registerMigration("v2: latest views for replicates and tests") { db in
            try db.execute(sql: """
                -- How recently each recorded stage was used: the latest run execution that
                -- produced it or took it from the cache, then the order outputs were recorded.
                CREATE VIEW stage_recency AS
                SELECT o.stage_key,
                       coalesce((SELECT max(e.id) FROM stage_execution e
                                 WHERE e.stage_key = o.stage_key
                                   AND e.status IN ('succeeded', 'cached')), 0) AS last_execution,
                       o.rowid AS output_order
                FROM stage_output o;

                CREATE VIEW latest_bootstrap_replicate AS
                WITH ranked AS (
                    SELECT b.*, row_number() OVER (
                        PARTITION BY b.experiment, b.task, b.backbone, b.dataset, b.head, b.features,
                                     b.fraction, b.seed, b.train_subgroup, b.test_subgroup, b.label, b.metric,
                                     b.replicate
                        ORDER BY u.last_execution DESC, u.output_order DESC) AS recency
                    FROM bootstrap_replicate b JOIN stage_recency u ON u.stage_key = b.stage_key
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, replicate, value
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_statistical_test AS
                WITH ranked AS (
                    SELECT t.*, row_number() OVER (
                        PARTITION BY t.experiment, t.task, t.backbone, t.dataset, t.head, t.features,
                                     t.fraction, t.seed, t.train_subgroup, t.test_subgroup, t.label, t.metric,
                                     t.test_name, t.compared_dimension, t.group1, t.group2
                        ORDER BY u.last_execution DESC, u.output_order DESC) AS recency
                    FROM statistical_test t JOIN stage_recency u ON u.stage_key = t.stage_key
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2,
                       statistic, p_value, effect_size, n1, n2, method, holm_p_value
                FROM ranked WHERE recency = 1;
                """)
        }
        migrator.registerMigration("v3: the process that runs a run") { db in
            // NULL for runs recorded before this migration.
            try db.execute(sql: "ALTER TABLE run ADD COLUMN pid INTEGER CHECK (pid IS NULL OR pid > 0)")
        }
        migrator.registerMigration("v4: latest views follow each experiment's current run") { db in
            // v1–v3 kept, per coordinate, the row of the stage most recently used by any run; a
            // coordinate the spec no longer computes kept its old rows, and cached stages had no
            // execution rows, so a revert did not show. Now every stage of a run has an execution
            // row, and a row is current when its experiment's current run used its stage.
            try db.execute(sql: """
                DROP VIEW latest_result;
                DROP VIEW latest_bootstrap_replicate;
                DROP VIEW latest_statistical_test;
                DROP VIEW stage_recency;

                -- Per experiment, the run whose stages are current: the latest run that ended
                -- (succeeded or failed) with recorded stages; while none has, the latest run with
                -- recorded stages. Runs that are running or were interrupted do not displace an
                -- ended one.
                CREATE VIEW current_run AS
                SELECT experiment, run_id FROM (
                    SELECT r.experiment, r.id AS run_id, row_number() OVER (
                        PARTITION BY r.experiment
                        ORDER BY r.status IN ('succeeded', 'failed') DESC, r.id DESC) AS rank
                    FROM run r
                    WHERE EXISTS (SELECT 1 FROM stage_execution e WHERE e.run_id = r.id)
                ) WHERE rank = 1;

                -- The stages the current runs used (computed or taken from the cache).
                CREATE VIEW current_stage AS
                SELECT c.experiment, c.run_id, e.stage_key, e.id AS execution_id
                FROM current_run c
                JOIN stage_execution e ON e.run_id = c.run_id AND e.status IN ('succeeded', 'cached');

                CREATE VIEW latest_result AS
                WITH ranked AS (
                    SELECT r.*, row_number() OVER (
                        PARTITION BY r.experiment, r.task, r.backbone, r.dataset, r.head, r.features,
                                     r.fraction, r.seed, r.train_subgroup, r.test_subgroup, r.label, r.metric
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN result r ON r.stage_key = s.stage_key AND r.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, value, note, n
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_bootstrap_replicate AS
                WITH ranked AS (
                    SELECT b.*, row_number() OVER (
                        PARTITION BY b.experiment, b.task, b.backbone, b.dataset, b.head, b.features,
                                     b.fraction, b.seed, b.train_subgroup, b.test_subgroup, b.label, b.metric,
                                     b.replicate
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN bootstrap_replicate b ON b.stage_key = s.stage_key AND b.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, replicate, value
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_statistical_test AS
                WITH ranked AS (
                    SELECT t.*, row_number() OVER (
                        PARTITION BY t.experiment, t.task, t.backbone, t.dataset, t.head, t.features,
                                     t.fraction, t.seed, t.train_subgroup, t.test_subgroup, t.label, t.metric,
                                     t.test_name, t.compared_dimension, t.group1, t.group2
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN statistical_test t ON t.stage_key = s.stage_key AND t.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                       train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2,
                       statistic, p_value, effect_size, n1, n2, method, holm_p_value
                FROM ranked WHERE recency = 1;
                """)
        }
        migrator.registerMigration("v5: the spec file of a run") { db in
            // NULL for runs recorded before this migration and for runs of a spec given as text.
            try db.execute(sql: "ALTER TABLE run ADD COLUMN spec_path TEXT")
        }
        migrator.registerMigration("v6: sample issues") { db in
            try db.execute(sql: """
                CREATE TABLE sample_issue (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    dataset TEXT NOT NULL,
                    sample_id TEXT,
                    patient_id TEXT,
                    file TEXT NOT NULL,
                    line INTEGER CHECK (line IS NULL OR line >= 1),
                    severity TEXT NOT NULL CHECK (severity IN ('warning', 'skipped')),
                    message TEXT NOT NULL
                );
                CREATE INDEX sample_issue_on_stage_key ON sample_issue(stage_key);

                -- The issues of the stages each experiment's current run used.
                CREATE VIEW latest_sample_issue AS
                SELECT i.* FROM sample_issue i
                WHERE i.stage_key IN (SELECT stage_key FROM current_stage);
                """)
        }
        registerComparisons(&migrator)
        migrator.registerMigration("v8: segmentation scores per image and class") { db in
            try db.execute(sql: """
                CREATE TABLE segmentation_score (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage_key TEXT NOT NULL REFERENCES stage_output(stage_key) ON DELETE CASCADE,
                    sample_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL,
                    class TEXT NOT NULL,
                    dice REAL NOT NULL CHECK (dice >= 0 AND dice <= 1),
                    iou REAL NOT NULL CHECK (iou >= 0 AND iou <= 1),
                    positive INTEGER NOT NULL CHECK (positive IN (0, 1)),
                    UNIQUE (stage_key, sample_id, class)
                );

                -- The scores of the stages each experiment's current run used, with the stage's
                -- result coordinates (one result row per stage carries them: its mean Dice).
                CREATE VIEW latest_segmentation_score AS
                SELECT DISTINCT r.experiment, r.task, r.backbone, r.dataset, r.head, r.seed,
                       s.stage_key, s.sample_id, s.patient_id, s.class, s.dice, s.iou, s.positive
                FROM segmentation_score s
                JOIN latest_result r ON r.stage_key = s.stage_key AND r.metric = 'dice' AND r.label = ''
                """)
        }
        return migrator
    }
}
