"""Generate the Spark-written fixture corpus under ``tests/corpus/spark/data/``.

The files this script writes are committed, so the test suite reads them
without a JVM.  Run it by hand only when the corpus must change.

How to run (from the repository root; needs a Java 17+ runtime such as
Debian's ``openjdk-17-jre-headless`` at ``/usr/bin/java``)::

    python3 -m uv venv /tmp/sparkvenv
    python3 -m uv pip install --python /tmp/sparkvenv/bin/python pyspark delta-spark
    /tmp/sparkvenv/bin/python tests/corpus/spark/make_corpus.py

Keep pyspark out of the project's own virtualenv.

Versions used for the committed corpus: pyspark 4.2.0 (Scala 2.13, bundled
parquet-mr 1.17.0), delta-spark 4.4.1 (Python API only), py4j 0.10.9.9,
CPython 3.11.7, OpenJDK 17.0.15 (Debian 17.0.15+6-Debian-1deb12u1).

Delta tables: the ``delta-spark`` wheel ships only the Python API; the Delta
jars (``io.delta:delta-spark_4.2_2.13`` and ``io.delta:delta-storage``) come
from Maven.  Point ``DELTA_JARS`` at them (comma-separated local paths) or
set ``DELTA_PACKAGES=1`` to let Spark resolve them from Maven.  Without either,
the Delta datasets are skipped and ``EXPECTED.json`` says so.

Datasets (all written with ``local[1]``, session time zone UTC):

* ``parquet_hive/``  - ``partitionBy("s", "n")`` with string values Spark
  escapes in its own way (space, Unicode, ``{}``, ``/``, ``=``, ``%``, ``#``,
  ``?``, ``*``, empty string, null) and an int partition with a null.
* ``parquet_dates/`` - ``partitionBy`` a date, a timestamp, a boolean and a
  decimal column.
* ``parquet_int96/`` - timestamps stored as INT96 (proleptic Gregorian,
  ``int96RebaseModeInWrite=CORRECTED``).
* ``parquet_int96_legacy/`` - the same values written with
  ``int96RebaseModeInWrite=LEGACY`` (Julian-rebased, footer key
  ``org.apache.spark.legacyINT96``), as files from Spark 2.x / Databricks
  look.
* ``delta_*`` - column mapping (name and id), v2 checkpoints, deletion
  vectors; only when the Delta jars are available.

``EXPECTED.json`` holds, per dataset, the schema and the rows as Spark reads
them back, sorted by ``id`` (``rows``: Spark's own partition-type inference,
which reads boolean and timestamp partitions as strings and decimals as
doubles; ``rows_with_schema``: read with the schema they were written with).  Dates are written as
``YYYY-MM-DD``, timestamps as ``YYYY-MM-DDTHH:MM:SS.ffffff`` in UTC, decimals
as strings.  Spark's own ``_SUCCESS`` and ``.crc`` sidecars are kept on
purpose.  File names carry random UUIDs, so a rerun rewrites every file.

The Delta part of this script has not been run yet: the jars were not
reachable when the committed corpus was written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402


def build_session(with_delta: bool) -> SparkSession:
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("corpus")
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.warehouse.dir", "/tmp/corpus-spark-warehouse")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
    )
    if with_delta:
        builder = builder.config(
            "spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension"
        ).config(
            "spark.sql.catalog.spark_catalog",
            "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        )
        jars = os.environ.get("DELTA_JARS")
        if jars:
            builder = builder.config("spark.jars", jars)
        else:
            from delta import configure_spark_with_delta_pip

            builder = configure_spark_with_delta_pip(builder)
    return builder.getOrCreate()


def jsonable(df):
    """Rows of ``df`` as JSON-friendly dicts, formatted by Spark itself."""
    cols = []
    for f in df.schema.fields:
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, (T.TimestampType, T.TimestampNTZType)):
            c = F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
        elif isinstance(f.dataType, (T.DateType, T.DecimalType)):
            c = c.cast("string")
        cols.append(c.alias(f.name))
    out = df.select(*cols)
    if "id" in df.columns:
        out = out.orderBy("id")
    return [r.asDict() for r in out.collect()]


def schema_of(df):
    return [
        {"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable}
        for f in df.schema.fields
    ]


def files_of(path: Path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def write_parquet_hive(spark, expected):
    path = DATA / "parquet_hive"
    values = [
        "with space",
        "ünïcødé",
        "curly{x}",
        "a/b",
        "a=b",
        "100%",
        "#hash",
        "?q",
        "*star",
        "",
        None,
    ]
    ns = [1, 2, None]
    rows = []
    for i, s in enumerate(values):
        rows.append((i, f"v{i}", float(i) * 1.5, s, ns[i % 3]))
    schema = "id int, v string, x double, s string, n int"
    df = spark.createDataFrame(rows, schema).coalesce(1)
    df.write.partitionBy("s", "n").parquet(str(path))
    back = spark.read.parquet(str(path))
    typed = spark.read.schema(schema).parquet(str(path))
    expected["parquet_hive"] = {
        "rows_with_schema": jsonable(typed),
        "schema_given": schema,
        "written_rows": [dict(zip(["id", "v", "x", "s", "n"], r, strict=True)) for r in rows],
        "partition_columns": ["s", "n"],
        "schema": schema_of(back),
        "rows": jsonable(back),
    }


def write_parquet_dates(spark, expected):
    path = DATA / "parquet_dates"
    rows = [
        (0, "a", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 10, 0, 0), True, Decimal("1.50")),
        (1, "b", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 10, 0, 0), False, Decimal("-3.25")),
        (
            2,
            "c",
            dt.date(1970, 1, 1),
            dt.datetime(2024, 2, 29, 23, 59, 59, 500000),
            True,
            Decimal("0.00"),
        ),
        (
            3,
            "d",
            dt.date(2000, 2, 29),
            dt.datetime(1999, 12, 31, 0, 0, 0),
            None,
            Decimal("12345678.90"),
        ),
        (4, "e", None, None, False, None),
        (
            5,
            "f",
            dt.date(2024, 12, 31),
            dt.datetime(2024, 6, 1, 12, 34, 56, 789000),
            True,
            Decimal("1.50"),
        ),
    ]
    schema = "id int, v string, d date, ts timestamp, b boolean, dec decimal(10,2)"
    df = spark.createDataFrame(rows, schema).coalesce(1)
    df.write.partitionBy("d", "ts", "b", "dec").parquet(str(path))
    back = spark.read.parquet(str(path))
    typed = spark.read.schema(schema).parquet(str(path))
    expected["parquet_dates"] = {
        "rows_with_schema": jsonable(typed),
        "schema_given": schema,
        "partition_columns": ["d", "ts", "b", "dec"],
        "schema": schema_of(back),
        "rows": jsonable(back),
    }


INT96_ROWS = [
    (0, dt.datetime(1, 1, 1, 0, 0, 0), dt.date(1, 1, 1)),
    (1, dt.datetime(1900, 1, 1, 0, 0, 0), dt.date(1900, 1, 1)),
    (2, dt.datetime(2024, 6, 1, 12, 34, 56, 789000), dt.date(2024, 6, 1)),
    (3, dt.datetime(9999, 12, 31, 23, 59, 59), dt.date(9999, 12, 31)),
    (4, None, None),
]


def write_parquet_int96(spark, expected, name, mode):
    path = DATA / name
    spark.conf.set("spark.sql.parquet.outputTimestampType", "INT96")
    spark.conf.set("spark.sql.parquet.int96RebaseModeInWrite", mode)
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", mode)
    try:
        # Timestamps go through SQL literals so year 1 never meets Python's
        # local-time conversion.
        df = (
            spark.createDataFrame(
                [
                    (
                        i,
                        None if t is None else t.isoformat(sep=" "),
                        None if d is None else d.isoformat(),
                    )
                    for i, t, d in INT96_ROWS
                ],
                "id int, ts_s string, d_s string",
            )
            .select(
                "id",
                F.to_timestamp("ts_s").alias("ts"),
                F.to_date("d_s").alias("d"),
            )
            .coalesce(1)
        )
        df.write.parquet(str(path))
    finally:
        spark.conf.unset("spark.sql.parquet.outputTimestampType")
        spark.conf.unset("spark.sql.parquet.int96RebaseModeInWrite")
        spark.conf.unset("spark.sql.parquet.datetimeRebaseModeInWrite")
    back = spark.read.parquet(str(path))
    expected[name] = {
        "int96RebaseModeInWrite": mode,
        "schema": schema_of(back),
        "rows": jsonable(back),
    }


def delta_available(spark) -> bool:
    try:
        spark._jvm.java.lang.Class.forName("io.delta.tables.DeltaTable")
        return True
    except Exception:
        return False


def delta_versions(spark, path):
    """Rows of every version of the table, as Spark time travel reads them."""
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version").collect()
    out = {}
    for v in sorted(r.version for r in hist):
        df = spark.read.format("delta").option("versionAsOf", v).load(str(path))
        out[str(v)] = {"schema": schema_of(df), "rows": jsonable(df)}
    return out


def delta_table(spark, expected, name, props, after_create):
    path = DATA / name
    tbl = f"delta.`{path}`"
    tprops = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
    spark.sql(
        f"CREATE TABLE {tbl} (id INT, p STRING, v STRING, x DOUBLE, gone STRING) "
        f"USING delta PARTITIONED BY (p) TBLPROPERTIES ({tprops})"
    )
    spark.sql(
        f"INSERT INTO {tbl} VALUES (1, 'a', 'one', 1.0, 'g1'), (2, 'b', 'two', 2.0, 'g2'), "
        f"(3, 'with space', 'three', 3.0, 'g3'), (4, NULL, 'four', 4.0, 'g4')"
    )
    spark.sql(f"INSERT INTO {tbl} VALUES (5, 'a', 'five', 5.0, 'g5'), (6, 'a=b', 'six', 6.0, 'g6')")
    after_create(tbl)
    spark.sql(f"INSERT INTO {tbl} (id, p, x) VALUES (7, 'b', 7.0)")
    df = spark.read.format("delta").load(str(path))
    expected[name] = {
        "partition_columns": ["p"],
        "table_properties": props,
        "schema": schema_of(df),
        "rows": jsonable(df),
        "versions": delta_versions(spark, path),
    }


def write_delta(spark, expected):
    def colmap_changes(tbl):
        spark.sql(f"ALTER TABLE {tbl} RENAME COLUMN v TO v_renamed")
        spark.sql(f"ALTER TABLE {tbl} DROP COLUMN gone")

    def v2_changes(tbl):
        # With checkpointInterval=3 these commits make Delta write a v2
        # checkpoint (top-level JSON plus a sidecar under _sidecars/).
        spark.sql(f"UPDATE {tbl} SET x = x * 10 WHERE id = 2")
        spark.sql(f"ALTER TABLE {tbl} DROP COLUMN gone")
        spark.sql(f"OPTIMIZE {tbl}")

    def dv_changes(tbl):
        spark.sql(f"DELETE FROM {tbl} WHERE id IN (1, 5)")
        spark.sql(f"ALTER TABLE {tbl} DROP COLUMN gone")

    colmap = {"delta.minReaderVersion": "2", "delta.minWriterVersion": "5"}
    delta_table(
        spark,
        expected,
        "delta_colmap_name",
        {**colmap, "delta.columnMapping.mode": "name"},
        colmap_changes,
    )
    delta_table(
        spark,
        expected,
        "delta_colmap_id",
        {**colmap, "delta.columnMapping.mode": "id"},
        colmap_changes,
    )
    delta_table(
        spark,
        expected,
        "delta_v2_checkpoint",
        {
            "delta.checkpointPolicy": "v2",
            "delta.columnMapping.mode": "name",
            "delta.checkpointInterval": "3",
        },
        v2_changes,
    )
    delta_table(
        spark,
        expected,
        "delta_deletion_vectors",
        {"delta.enableDeletionVectors": "true", "delta.columnMapping.mode": "name"},
        dv_changes,
    )


def main() -> int:
    want_delta = bool(os.environ.get("DELTA_JARS") or os.environ.get("DELTA_PACKAGES"))
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    spark = build_session(want_delta)
    import pyspark

    expected = {
        "_about": {
            "writer": f"Apache Spark {spark.version} (pyspark {pyspark.__version__})",
            "java": spark._jvm.java.lang.System.getProperty("java.version"),
            "session_time_zone": "UTC",
            "timestamp_format": "yyyy-MM-ddTHH:mm:ss.ffffff, UTC",
            "rows_sorted_by": "id",
        }
    }
    write_parquet_hive(spark, expected)
    write_parquet_dates(spark, expected)
    write_parquet_int96(spark, expected, "parquet_int96", "CORRECTED")
    write_parquet_int96(spark, expected, "parquet_int96_legacy", "LEGACY")
    if want_delta and delta_available(spark):
        write_delta(spark, expected)
    else:
        expected["_about"]["delta"] = (
            "skipped: Delta jars not on the classpath (set DELTA_JARS or DELTA_PACKAGES=1)"
        )
    spark.stop()
    for name in list(expected):
        if not name.startswith("_"):
            expected[name]["files"] = files_of(DATA / name)
    (DATA / "EXPECTED.json").write_text(
        json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
