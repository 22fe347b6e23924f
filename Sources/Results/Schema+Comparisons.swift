import GRDB

extension Schema {
    /// v7: paired tests between backbones (DeLong, paired bootstrap) in `statistical_test`, the
    /// few-shot coordinate `shots`, and per-epoch training curves.
    ///
    /// `statistical_test` is rebuilt (SQLite cannot change a CHECK): its effect size keeps the
    /// rank-biserial range only for Mann–Whitney rows (a paired test's effect is the metric
    /// difference, which for MCC spans [−2, 2]), its method may be `bootstrap`, and it gains the
    /// interval of the difference and the replicate count. `result` and `bootstrap_replicate`
    /// gain `shots`; the unique indexes and the `latest_` views now tell shots apart.
    static func registerComparisons(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: paired tests, few-shot coordinate, training curves") { db in
            try db.execute(sql: """
                DROP VIEW latest_result;
                DROP VIEW latest_bootstrap_replicate;
                DROP VIEW latest_statistical_test;

                CREATE TABLE statistical_test_v7 (
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
                    effect_size REAL NOT NULL
                        CHECK (test_name <> 'mann-whitney-u' OR (effect_size >= -1 AND effect_size <= 1)),
                    n1 INTEGER NOT NULL CHECK (n1 > 0),
                    n2 INTEGER NOT NULL CHECK (n2 > 0),
                    method TEXT NOT NULL CHECK (method IN ('exact', 'asymptotic', 'bootstrap')),
                    holm_p_value REAL CHECK (holm_p_value IS NULL OR (holm_p_value >= p_value AND holm_p_value <= 1)),
                    shots INTEGER CHECK (shots IS NULL OR shots >= 1),
                    ci_low REAL,
                    ci_high REAL,
                    replicates INTEGER CHECK (replicates IS NULL OR replicates > 0),
                    CHECK ((ci_low IS NULL) = (ci_high IS NULL) AND (ci_low IS NULL OR ci_low <= ci_high))
                );
                INSERT INTO statistical_test_v7 (id, stage_key, experiment, task, backbone, dataset, head, features, fraction,
                    seed, train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2,
                    statistic, p_value, effect_size, n1, n2, method, holm_p_value)
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction,
                    seed, train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2,
                    statistic, p_value, effect_size, n1, n2, method, holm_p_value
                FROM statistical_test;
                DROP TABLE statistical_test;
                ALTER TABLE statistical_test_v7 RENAME TO statistical_test;
                CREATE UNIQUE INDEX statistical_test_unique ON statistical_test(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), ifnull(shots, -1), train_subgroup, test_subgroup, label, metric,
                    test_name, compared_dimension, group1, group2);

                ALTER TABLE result ADD COLUMN shots INTEGER CHECK (shots IS NULL OR shots >= 1);
                DROP INDEX result_unique_coordinates;
                CREATE UNIQUE INDEX result_unique_coordinates ON result(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), ifnull(shots, -1), train_subgroup, test_subgroup, label, metric);

                ALTER TABLE bootstrap_replicate ADD COLUMN shots INTEGER CHECK (shots IS NULL OR shots >= 1);
                DROP INDEX bootstrap_replicate_unique;
                CREATE UNIQUE INDEX bootstrap_replicate_unique ON bootstrap_replicate(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), ifnull(shots, -1), train_subgroup, test_subgroup, label, metric,
                    replicate);

                CREATE TABLE training_curve (
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
                    shots INTEGER CHECK (shots IS NULL OR shots >= 1),
                    train_subgroup TEXT NOT NULL,
                    epoch INTEGER NOT NULL CHECK (epoch >= 1),
                    train_loss REAL NOT NULL,
                    validation_loss REAL NOT NULL,
                    validation_metric TEXT NOT NULL,
                    validation_value REAL NOT NULL,
                    learning_rate REAL NOT NULL CHECK (learning_rate > 0),
                    is_best INTEGER NOT NULL CHECK (is_best IN (0, 1))
                );
                CREATE UNIQUE INDEX training_curve_unique ON training_curve(
                    stage_key, experiment, task, backbone, dataset, head, features,
                    ifnull(fraction, -1), ifnull(seed, -1), ifnull(shots, -1), train_subgroup, epoch);

                CREATE VIEW latest_result AS
                WITH ranked AS (
                    SELECT r.*, row_number() OVER (
                        PARTITION BY r.experiment, r.task, r.backbone, r.dataset, r.head, r.features,
                                     r.fraction, r.seed, r.shots, r.train_subgroup, r.test_subgroup, r.label, r.metric
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN result r ON r.stage_key = s.stage_key AND r.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed, shots,
                       train_subgroup, test_subgroup, label, metric, value, note, n
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_bootstrap_replicate AS
                WITH ranked AS (
                    SELECT b.*, row_number() OVER (
                        PARTITION BY b.experiment, b.task, b.backbone, b.dataset, b.head, b.features,
                                     b.fraction, b.seed, b.shots, b.train_subgroup, b.test_subgroup, b.label, b.metric,
                                     b.replicate
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN bootstrap_replicate b ON b.stage_key = s.stage_key AND b.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed, shots,
                       train_subgroup, test_subgroup, label, metric, replicate, value
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_statistical_test AS
                WITH ranked AS (
                    SELECT t.*, row_number() OVER (
                        PARTITION BY t.experiment, t.task, t.backbone, t.dataset, t.head, t.features,
                                     t.fraction, t.seed, t.shots, t.train_subgroup, t.test_subgroup, t.label, t.metric,
                                     t.test_name, t.compared_dimension, t.group1, t.group2
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN statistical_test t ON t.stage_key = s.stage_key AND t.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed, shots,
                       train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2,
                       statistic, p_value, effect_size, n1, n2, method, holm_p_value, ci_low, ci_high, replicates
                FROM ranked WHERE recency = 1;

                CREATE VIEW latest_training_curve AS
                WITH ranked AS (
                    SELECT c.*, row_number() OVER (
                        PARTITION BY c.experiment, c.task, c.backbone, c.dataset, c.head, c.features,
                                     c.fraction, c.seed, c.shots, c.train_subgroup, c.epoch
                        ORDER BY s.execution_id DESC) AS recency
                    FROM current_stage s JOIN training_curve c ON c.stage_key = s.stage_key AND c.experiment = s.experiment
                )
                SELECT id, stage_key, experiment, task, backbone, dataset, head, features, fraction, seed, shots,
                       train_subgroup, epoch, train_loss, validation_loss, validation_metric, validation_value,
                       learning_rate, is_best
                FROM ranked WHERE recency = 1;
                """)
        }
    }
}
