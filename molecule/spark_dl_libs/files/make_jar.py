"""Write a small, byte-for-byte reproducible jar (a zip with a manifest and one resource).

Maven Central is not reachable from the test environment, so the molecule scenario
stands in for the BigDL and DL4J jars with jars built here. They are real jars (Spark
adds them to its class loader; `jar tf` lists them); only the classes are missing.
Entries are stored uncompressed with a fixed timestamp so the SHA-256 in converge.yml
stays the same from run to run.
"""

import sys
import zipfile

STAMP = (2020, 1, 1, 0, 0, 0)


def main(dest, name):
    entries = [
        ("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: dlstack.cdh molecule\r\n"
                                 "Implementation-Title: %s\r\n\r\n" % name),
        ("dlstack/spark_dl_libs/%s.properties" % name, "name=%s\n" % name),
    ]
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as jar:
        for path, text in entries:
            info = zipfile.ZipInfo(path, date_time=STAMP)
            info.external_attr = 0o644 << 16
            jar.writestr(info, text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
