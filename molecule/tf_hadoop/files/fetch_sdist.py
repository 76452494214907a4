"""Download one source distribution from the package index pip uses, checked by its sha256.

For sdists whose build cannot run here, so `pip download` (which prepares metadata) refuses them:
pydoop's, which carries a copy of Apache Hadoop's libhdfs C sources. The index is pip's own
(PIP_INDEX_URL or pip's configuration, else its default), read through its simple API (PEP 503).

usage: fetch_sdist.py NAME FILENAME SHA256 DEST_DIR
"""

import hashlib
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request


def index_url():
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                             capture_output=True, text=True, check=False)
        url = out.stdout.strip() if out.returncode == 0 else ""
    if not url:
        from pip._internal.models.index import PyPI  # pylint: disable=import-outside-toplevel
        url = PyPI.simple_url
    return url.rstrip("/") + "/"


def main(name, filename, sha256, dest):
    target = os.path.join(dest, filename)
    if os.path.exists(target) and hashlib.sha256(open(target, "rb").read()).hexdigest() == sha256:
        return
    page_url = urllib.parse.urljoin(index_url(), name + "/")
    page = urllib.request.urlopen(page_url, timeout=60).read().decode()
    links = [urllib.parse.urljoin(page_url, href) for href in re.findall(r'href="([^"]+)"', page)]
    (link,) = [ln for ln in links if urllib.parse.urlparse(ln).path.endswith("/" + filename)]
    data = urllib.request.urlopen(link.split("#")[0], timeout=300).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        sys.exit("%s: sha256 %s, expected %s" % (filename, digest, sha256))
    os.makedirs(dest, exist_ok=True)
    with open(target + ".part", "wb") as out:
        out.write(data)
    os.replace(target + ".part", target)


if __name__ == "__main__":
    main(*sys.argv[1:5])
