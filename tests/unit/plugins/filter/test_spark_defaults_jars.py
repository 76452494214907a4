# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the dlstack.cdh.spark_defaults_jars filter."""

from __future__ import annotations

from ansible_collections.dlstack.cdh.plugins.filter.spark_defaults_jars import FilterModule, spark_defaults_jars

BEGIN = "# BEGIN managed"
END = "# END managed"
MOVED = "# merged: "


def test_jars_outside_the_block_in_every_separator_form():
    text = "\n".join([
        "spark.master yarn",
        "spark.jars=a.jar, b.jar",
        "spark.jars:c.jar",
        "  spark.jars   d.jar,a.jar",
        "spark.jarsx e.jar",
        "# spark.jars commented.jar",
        BEGIN,
        "spark.jars hdfs:///ours.jar",
        END,
    ])
    result = spark_defaults_jars(text, BEGIN, END, MOVED)
    assert result["jars"] == ["a.jar", "b.jar", "c.jar", "d.jar"]
    assert result["lines"] == ["spark.jars=a.jar, b.jar", "spark.jars:c.jar", "  spark.jars   d.jar,a.jar"]


def test_moved_lines_keep_their_jars_but_are_not_commented_again():
    text = "%sspark.jars=site.jar\n%s\nspark.jars hdfs:///ours.jar,site.jar\n%s\n" % (MOVED, BEGIN, END)
    assert spark_defaults_jars(text, BEGIN, END, MOVED) == {"jars": ["site.jar"], "lines": []}


def test_line_after_the_block_is_found():
    text = "%s\nspark.jars ours.jar\n%s\nspark.jars late.jar\n" % (BEGIN, END)
    assert spark_defaults_jars(text, BEGIN, END, MOVED) == {"jars": ["late.jar"], "lines": ["spark.jars late.jar"]}


def test_empty_or_missing_file():
    assert spark_defaults_jars("", BEGIN, END, MOVED) == {"jars": [], "lines": []}
    assert spark_defaults_jars(None, BEGIN, END, MOVED) == {"jars": [], "lines": []}


def test_registered():
    assert "spark_defaults_jars" in FilterModule().filters()
