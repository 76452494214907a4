# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster profiles: what a Hadoop distribution and release imply for the gateway's defaults.

One profile name (dlstack_cluster_profile) sets the spark-submit command, the Spark client
configuration directory, the Hadoop and Spark homes of the parcels, and the Spark release the
Python environment's pyspark and Python must fit (the Spark/Python data is compat_data's).

Sources: Cloudera's documentation of each release ("Cloudera Runtime component versions" for
CDP, "CDH packaging and tarball information" for CDH 6, "CDS 2.4 Powered by Apache Spark" for
CDH 5, "Running Applications with CDS 3" for the spark3-submit, pyspark3 and /etc/spark3/conf
of the Spark 3 parcels), and Apache Spark's own layout for the Apache profile.
"""

from __future__ import annotations

PARCELS = "/opt/cloudera/parcels"

PROFILES = {
    "apache": {
        "description": "Apache Hadoop 3 with Apache Spark 3.5",
        "spark_version": "3.5", "spark_submit": "spark-submit", "spark_conf_dir": "/etc/spark/conf",
        "hadoop_home": "/opt/hadoop", "spark_home": "/opt/spark",
    },
    "cdh-5.16": {
        "description": "CDH 5.16 with the CDS 2.4 parcel (Spark 2.4 beside CDH's Spark 1.6)",
        "spark_version": "2.4", "spark_submit": "spark2-submit", "spark_conf_dir": "/etc/spark2/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/SPARK2/lib/spark2",
    },
    "cdh-6.3": {
        "description": "CDH 6.3 (Spark 2.4.0-cdh6.3)",
        "spark_version": "2.4", "spark_submit": "spark-submit", "spark_conf_dir": "/etc/spark/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/CDH/lib/spark",
    },
    "cdp-7.1.7": {
        "description": "CDP Private Cloud Base 7.1.7 (Spark 2.4.7)",
        "spark_version": "2.4", "spark_submit": "spark-submit", "spark_conf_dir": "/etc/spark/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/CDH/lib/spark",
    },
    "cdp-7.1.7-cds3": {
        "description": "CDP Private Cloud Base 7.1.7 with the CDS 3.2 parcel (Spark 3.2)",
        "spark_version": "3.2", "spark_submit": "spark3-submit", "spark_conf_dir": "/etc/spark3/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/SPARK3/lib/spark3",
    },
    "cdp-7.1.9": {
        "description": "CDP Private Cloud Base 7.1.9 (Spark 2.4.8)",
        "spark_version": "2.4", "spark_submit": "spark-submit", "spark_conf_dir": "/etc/spark/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/CDH/lib/spark",
    },
    "cdp-7.1.9-cds3": {
        "description": "CDP Private Cloud Base 7.1.9 with the CDS 3.3 parcel (Spark 3.3.2)",
        "spark_version": "3.3", "spark_submit": "spark3-submit", "spark_conf_dir": "/etc/spark3/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/SPARK3/lib/spark3",
    },
    "cdp-7.3": {
        "description": "CDP Private Cloud Base 7.3.1 (Spark 3.4, the only Spark, with the Spark 3 command names)",
        "spark_version": "3.4", "spark_submit": "spark3-submit", "spark_conf_dir": "/etc/spark3/conf",
        "hadoop_home": PARCELS + "/CDH/lib/hadoop", "spark_home": PARCELS + "/CDH/lib/spark3",
    },
}


class UnknownProfile(ValueError):
    """A profile name that is not in PROFILES."""


def profile(name):
    """The profile called name, with its name; UnknownProfile names the known ones."""
    if not isinstance(name, str) or name not in PROFILES:
        raise UnknownProfile("dlstack_cluster_profile: there is no profile %r; the profiles are %s"
                             % (name, ", ".join(sorted(PROFILES))))
    return dict(PROFILES[name], name=name)
