#!/usr/bin/env python3
"""Test oracle for the Swift Parquet writer: reads a file written by
ParquetWriterTests with pyarrow and with DuckDB and compares every value with
the rows the test's formula defines (kept in sync with the Swift test).

  python tools/check_parquet.py FILE ROWS MIN_ROW_GROUPS
"""
import datetime
import sys

import duckdb
import pyarrow.parquet as pq


def expected_row(i):
    return {
        "id": f"image-{i}" + (" 🍎 façade+x" if i % 7 == 0 else ""),
        "label": None if i % 11 == 0 else f"label-{i % 13}",
        "count": i * 7 - 3000,
        "taken_at": datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)
        + datetime.timedelta(microseconds=i * 1_000_003),
        "score": None if i % 5 == 0 else i * 0.25 - 100,
        "features": None if i % 17 == 0 else ([] if i % 3 == 0 else [i + k * 0.5 for k in range(i % 9 + 1)]),
    }


def fail(message):
    sys.exit(f"check_parquet: {message}")


def main():
    path, rows, min_groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    expected = [expected_row(i) for i in range(rows)]

    parquet = pq.ParquetFile(path)
    metadata = parquet.metadata
    if metadata.num_rows != rows:
        fail(f"pyarrow: {metadata.num_rows} rows, expected {rows}")
    if metadata.num_row_groups < min_groups:
        fail(f"pyarrow: {metadata.num_row_groups} row groups, expected at least {min_groups}")
    codec = metadata.row_group(0).column(0).compression
    stats = metadata.row_group(0).column(2).statistics
    group_rows = metadata.row_group(0).num_rows
    if stats is None or stats.min != -3000 or stats.max != (group_rows - 1) * 7 - 3000:
        fail(f"pyarrow: statistics of count in row group 0 are {stats}")
    table = parquet.read()
    if str(table.schema.field("features").type) != "list<element: float not null>":
        fail(f"pyarrow: features has type {table.schema.field('features').type}")
    got = table.to_pylist()
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            fail(f"pyarrow: row {i} is {g}, expected {e}")

    con = duckdb.connect()
    duck = con.execute("SELECT id, label, count, epoch_us(taken_at), score, features FROM read_parquet(?) ORDER BY count",
                       [path]).fetchall()
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    if len(duck) != rows:
        fail(f"duckdb: {len(duck)} rows")
    for i, (g, e) in enumerate(zip(duck, expected)):
        as_dict = dict(zip(["id", "label", "count", "taken_at", "score", "features"], g))
        as_dict["taken_at"] = epoch + datetime.timedelta(microseconds=as_dict["taken_at"])
        if as_dict != e:
            fail(f"duckdb: row {i} is {as_dict}, expected {e}")
    print(f"ok: {rows} rows, {metadata.num_row_groups} row groups, codec {codec}, pyarrow and duckdb agree")


if __name__ == "__main__":
    main()
