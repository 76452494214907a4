# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compatibility check of driver / CUDA / cuDNN / TensorFlow / tensorflow-io / Python / Caffe versions.

One implementation for the dlstack.cdh.dl_stack_compat module and filter. It only reads the
published tables in compat_data.py; every verdict carries a sentence with the numbers it used.
"""

from __future__ import annotations

from ansible_collections.dlstack.cdh.plugins.module_utils import compat_data as data
from ansible_collections.dlstack.cdh.plugins.module_utils.version import (
    VersionError,
    parse_version,
    same_prefix,
    version_text,
)

INPUT_KEYS = (
    "driver_version",
    "cuda_version",
    "cudnn_version",
    "tensorflow_version",
    "tensorflow_io_version",
    "python_version",
    "caffe_version",
    "protobuf_version",
    "opencv_version",
)

OK = "ok"
MINOR_VERSION_COMPAT = "minor_version_compat"
INCOMPATIBLE = "incompatible"
UNKNOWN = "unknown"
NOT_CHECKED = "not_checked"
STATUSES = (OK, MINOR_VERSION_COMPAT, INCOMPATIBLE, UNKNOWN, NOT_CHECKED)


class CompatInputError(ValueError):
    """Input the check cannot read (garbage version, unknown key); names the field."""


class CompatLookupError(LookupError):
    """A well-formed version the tables do not contain (for the single-answer lookups)."""


# ---------------------------------------------------------------------------
# table access
# ---------------------------------------------------------------------------

def _mm(version):
    """(12, 4, 1) -> (12, 4); (9,) -> (9, 0)."""
    return (tuple(version) + (0,))[:2]


def _mm_text(version):
    return version_text(_mm(version))


def cuda_driver_row(cuda):
    """The CUDA_MIN_DRIVER row for a parsed CUDA version, or None.

    An exact third component ('12.4.1' -> 'CUDA 12.4 Update 1') picks that row; otherwise the
    row of that major.minor with the lowest driver, release candidates left out (the GA
    release; '10.1' -> 10.1.105, '11.0' -> 11.0.2 GA).
    """
    rows = [r for r in data.CUDA_MIN_DRIVER if _mm(parse_version(r[1])) == _mm(cuda)]
    if not rows:
        return None
    if len(cuda) >= 3:
        for row in rows:
            if parse_version(row[1]) == tuple(cuda[:3]):
                return row
    # A release candidate is not the release: '11.0' is 11.0.2 GA, not 11.0.1 RC.
    released = [r for r in rows if not r[0].endswith(" RC")] or rows
    return min(released, key=lambda r: parse_version(r[2]))


def cuda_min_driver(cuda_version):
    """'12.2' -> '535.54.03'. Raises CompatInputError on garbage, CompatLookupError when unknown."""
    cuda = _parse("cuda_version", cuda_version)
    row = cuda_driver_row(cuda)
    if row is None:
        raise CompatLookupError(
            "CUDA %s is not in the table '%s'" % (version_text(cuda), "CUDA Toolkit and Corresponding Driver Versions"))
    return row[2]


def cudnn_row(cudnn):
    """(row, inferred) for a parsed cuDNN version; row None when its major.minor series is unknown.

    A release inside a row's first..last range is exact. A release of a series the tables
    cover only in part (8.9.7: the tables have 8.9.1 and 8.9.5-8.9.6) uses the nearest older
    row of that series, else the nearest newer one, and says so (inferred=True).
    """
    key = (tuple(cudnn) + (0, 0))[:3]
    for row in data.CUDNN_CUDA:
        if parse_version(row["first"]) <= key <= parse_version(row["last"]):
            return row, False
    series = [r for r in data.CUDNN_CUDA if _mm(parse_version(r["first"])) == _mm(cudnn)]
    if not series:
        return None, False
    older = [r for r in series if parse_version(r["last"]) < key]
    if older:
        return max(older, key=lambda r: parse_version(r["last"])), True
    return min(series, key=lambda r: parse_version(r["first"])), True


def cudnn_bracket(cudnn):
    """(older, newer): the nearest CUDNN_CUDA rows of the same cuDNN major before and after a parsed
    cuDNN release that no row covers, either None."""
    key = (tuple(cudnn) + (0, 0))[:3]
    same = [r for r in data.CUDNN_CUDA if parse_version(r["first"])[0] == key[0]]
    older = [r for r in same if parse_version(r["last"]) < key]
    newer = [r for r in same if parse_version(r["first"]) > key]
    return (max(older, key=lambda r: parse_version(r["last"])) if older else None,
            min(newer, key=lambda r: parse_version(r["first"])) if newer else None)


def _judged_between(cuda, cudnn, cudnn_text):
    """OK when the matrices on both sides of an unlisted cuDNN release agree that it has this CUDA.

    Both neighbours list the CUDA minor; or, from CUDA 11 (cuDNN packages per CUDA major), the newer
    one lists it and the older one has that CUDA major but predates the minor. Otherwise None:
    the neighbours say nothing definite and the caller falls back to the nearest row.
    """
    older, newer = cudnn_bracket(cudnn)
    if older is None or newer is None:
        return None
    mm = _mm(cuda)

    def listed(row):
        return [_mm(parse_version(c)) for c in row["cuda"]]

    if mm not in listed(newer):
        return None
    head = "cuDNN %s is between the %s and %s support matrices in the data" % (
        cudnn_text, _row_label(older), _row_label(newer))
    if mm in listed(older):
        return OK, "%s; both list CUDA %s" % (head, _mm_text(cuda))
    same_major = [c for c in listed(older) if c[0] == cuda[0]]
    if cuda[0] >= 11 and same_major and mm > max(same_major):
        return OK, ("%s; the newer lists CUDA %s, the older has the CUDA %d.x package but predates %s "
                    "(its newest is %s)" % (head, _mm_text(cuda), cuda[0], _mm_text(cuda),
                                            version_text(max(same_major))))
    return None


def cudnn_cuda_majors(cudnn_version):
    """'8.9.7' -> [11, 12]: CUDA majors the cuDNN release ships packages for."""
    cudnn = _parse("cudnn_version", cudnn_version)
    row, _inferred = cudnn_row(cudnn)
    if row is None:
        raise CompatLookupError("cuDNN %s is not in the cuDNN support matrix data" % version_text(cudnn))
    return sorted({parse_version(c)[0] for c in row["cuda"]})


def _row_label(row):
    return row["first"] if row["first"] == row["last"] else "%s-%s" % (row["first"], row["last"])


def tensorflow_cuda(row):
    """The CUDA a TENSORFLOW_GPU row was built with, as a version tuple.

    The table prints '9' and '8' for TensorFlow 1.x, but before CUDA 11 every library soname
    carries the minor (TF 1.5-1.12 load libcudart.so.9.0, 1.0-1.4 libcudart.so.8.0), so a
    major-only entry before 11 means major.0, not any 9.x.
    """
    cuda = parse_version(row[3])
    if len(cuda) == 1 and cuda[0] < 11:
        cuda = (cuda[0], 0)
    return cuda


def tensorflow_row(tf):
    for row in data.TENSORFLOW_GPU:
        if _mm(parse_version(row[0].split("-", 1)[1])) == _mm(tf):
            return row
    return None


def _python_ranges(text):
    """'2.7, 3.3-3.6' -> [((2, 7), (2, 7)), ((3, 3), (3, 6))]."""
    ranges = []
    for part in text.split(","):
        lo, _sep, hi = part.strip().partition("-")
        ranges.append((_mm(parse_version(lo)), _mm(parse_version(hi or lo))))
    return ranges


# ---------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------

def _parse(field, value):
    try:
        return parse_version(value, field)
    except VersionError as exc:
        raise CompatInputError(str(exc))


def normalize_inputs(params):
    """{'cuda_version': '12.4', ...} -> {'cuda_version': ('12.4', (12, 4)), ...}; absent keys dropped."""
    if not isinstance(params, dict):
        raise CompatInputError("expected a dict of versions, got %s" % type(params).__name__)
    unknown = sorted(set(params) - set(INPUT_KEYS))
    if unknown:
        raise CompatInputError(
            "unknown key(s) %s; known keys: %s" % (", ".join(map(str, unknown)), ", ".join(INPUT_KEYS)))
    versions = {}
    for key in INPUT_KEYS:
        value = params.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise CompatInputError("%s %r is not a version (expected dotted numbers such as 11.8)" % (key, value))
        text = str(value).strip()
        versions[key] = (text, _parse(key, text))
    return versions


# ---------------------------------------------------------------------------
# pair checks: each returns (status, reason, extras) where extras may hold warnings/patches
# ---------------------------------------------------------------------------

def _mvc_clause(cuda, driver):
    major = cuda[0]
    mvc = data.MINOR_VERSION_COMPAT_MIN_DRIVER.get(major)
    if mvc is None:
        return None, "CUDA %d.x has no minor version compatibility" % major
    return mvc, "minor version compatibility runs CUDA %d.x on >= %s" % (major, mvc)


def check_driver_cuda(v):
    driver_text, driver = v["driver_version"]
    cuda_text, cuda = v["cuda_version"]
    row = cuda_driver_row(cuda)
    mvc, mvc_text = _mvc_clause(cuda, driver)
    if row is None:
        if mvc is not None and driver < parse_version(mvc):
            return INCOMPATIBLE, ("CUDA %s is not in the table of minimum drivers, and driver %s is older than the "
                                  "%s that minor version compatibility needs for any CUDA %d.x"
                                  % (cuda_text, driver_text, mvc, cuda[0]))
        extra = "" if mvc is None else "; %s, which %s meets" % (mvc_text, driver_text)
        return UNKNOWN, "CUDA %s is not in the table of minimum drivers%s" % (cuda_text, extra)
    need_text = row[2]
    head = "CUDA %s needs driver >= %s (%s)" % (cuda_text, need_text, row[0])
    if driver >= parse_version(need_text):
        return OK, "%s; %s meets it" % (head, driver_text)
    if mvc is not None and driver >= parse_version(mvc):
        return MINOR_VERSION_COMPAT, (
            "%s; %s is older; with minor version compatibility CUDA %d.x runs on >= %s but without PTX JIT "
            "for newer architectures and without features that need the newer driver"
            % (head, driver_text, cuda[0], mvc))
    if mvc is not None:
        return INCOMPATIBLE, "%s; %s is older, and older than the %s that %s needs" % (
            head, driver_text, mvc, "minor version compatibility for CUDA %d.x" % cuda[0])
    return INCOMPATIBLE, "%s; %s is older and %s" % (head, driver_text, mvc_text)


def _cap(text):
    return text[0].upper() + text[1:]


def check_cuda_cudnn(v):
    cuda_text, cuda = v["cuda_version"]
    cudnn_text, cudnn = v["cudnn_version"]
    row, inferred = cudnn_row(cudnn)
    if row is None or inferred:
        judged = _judged_between(cuda, cudnn, cudnn_text)
        if judged is not None:
            return judged
    if row is None:
        return UNKNOWN, "cuDNN %s is not in the support matrix data (known: %s)" % (
            cudnn_text, ", ".join(_row_label(r) for r in data.CUDNN_CUDA))
    listed = [parse_version(c) for c in row["cuda"]]
    basis = "the cuDNN %s support matrix" % _row_label(row)
    if inferred:
        basis += " (nearest release of the %s series in the data; %s itself is not)" % (_mm_text(cudnn), cudnn_text)
    listed_text = ", ".join(row["cuda"])
    if _mm(cuda) in [_mm(c) for c in listed]:
        return OK, "%s lists CUDA %s for cuDNN %s" % (_cap(basis), _mm_text(cuda), cudnn_text)
    same_major = [c for c in listed if c[0] == cuda[0]]
    if not row["complete"]:
        return UNKNOWN, "%s as available here lists CUDA %s, not %s, and is incomplete" % (
            _cap(basis), listed_text, _mm_text(cuda))
    # From CUDA 11 a cuDNN package is built per CUDA major, so a newer minor the matrix predates
    # may work; before 11 packages were per CUDA minor release.
    if same_major and _mm(cuda) > max(same_major) and cuda[0] >= 11:
        return UNKNOWN, ("%s lists CUDA %s; %s is a newer %d.x release the matrix does not list"
                         % (_cap(basis), listed_text, _mm_text(cuda), cuda[0]))
    return INCOMPATIBLE, "%s lists CUDA %s; %s is not among them" % (
        _cap(basis), listed_text, _mm_text(cuda))


def _tf_head(row):
    return "TensorFlow %s (%s)" % (_mm_text(parse_version(row[0].split("-", 1)[1])), row[0])


def _tf_unknown(tf_text):
    known = sorted({_mm_text(parse_version(r[0].split("-", 1)[1])) for r in data.TENSORFLOW_GPU},
                   key=parse_version)
    return "TensorFlow %s is not in the tested build configurations (%s to %s)" % (tf_text, known[0], known[-1])


def check_tensorflow_cuda(v):
    tf_text, tf = v["tensorflow_version"]
    cuda_text, cuda = v["cuda_version"]
    row = tensorflow_row(tf)
    if row is None:
        return UNKNOWN, _tf_unknown(tf_text)
    tested = tensorflow_cuda(row)
    head = "%s was tested with CUDA %s" % (_tf_head(row), version_text(tested))
    if same_prefix(cuda, tested):
        return OK, "%s; %s matches" % (head, cuda_text)
    if cuda[0] == tested[0] and cuda[0] >= 11:
        return UNKNOWN, ("%s; %s is another release of the same major (CUDA %d libraries are versioned by major) "
                         "but not a tested configuration" % (head, cuda_text, cuda[0]))
    if cuda[0] == tested[0]:
        return INCOMPATIBLE, ("%s; before CUDA 11 the library names carry the minor version "
                              "(libcudart.so.%s), so %s does not provide them" % (head, version_text(tested), cuda_text))
    return INCOMPATIBLE, "%s; %s is another major version" % (head, cuda_text)


def check_tensorflow_cudnn(v):
    tf_text, tf = v["tensorflow_version"]
    cudnn_text, cudnn = v["cudnn_version"]
    row = tensorflow_row(tf)
    if row is None:
        return UNKNOWN, _tf_unknown(tf_text)
    tested = parse_version(row[2])
    head = "%s was tested with cuDNN %s" % (_tf_head(row), row[2])
    rule = "TensorFlow needs a cuDNN with the same major and an equal or higher minor version"
    if cudnn[0] != tested[0]:
        return INCOMPATIBLE, "%s; %s has another major version (%s)" % (head, cudnn_text, rule)
    if same_prefix(cudnn, tested):
        return OK, "%s; %s matches" % (head, cudnn_text)
    if len(tested) > 1 and _mm(cudnn) < _mm(tested):
        return INCOMPATIBLE, "%s; %s is older (%s)" % (head, cudnn_text, rule)
    return OK, "%s; %s is a newer minor of the same major, which %s accepts, though not the tested one" % (
        head, cudnn_text, "TensorFlow's cuDNN version check")


def check_tensorflow_python(v):
    tf_text, tf = v["tensorflow_version"]
    py_text, py = v["python_version"]
    row = tensorflow_row(tf)
    if row is None:
        return UNKNOWN, _tf_unknown(tf_text)
    head = "%s was tested with Python %s" % (_tf_head(row), row[1])
    for lo, hi in _python_ranges(row[1]):
        if lo <= _mm(py) <= hi:
            return OK, "%s; %s is in range" % (head, py_text)
    return INCOMPATIBLE, "%s; %s is outside" % (head, py_text)


def tensorflow_io_row(tfio):
    """The TENSORFLOW_IO row of a parsed tensorflow-io version (by major.minor: every release of a
    minor series targets the same TensorFlow), or None."""
    for row in data.TENSORFLOW_IO:
        if _mm(parse_version(row[0])) == _mm(tfio):
            return row
    return None


def _tfio_for(tf):
    return [r[0] for r in data.TENSORFLOW_IO if parse_version(r[1]) == _mm(tf)]


def check_tensorflow_tensorflow_io(v):
    tf_text, tf = v["tensorflow_version"]
    tfio_text, tfio = v["tensorflow_io_version"]
    row = tensorflow_io_row(tfio)
    if row is None:
        return UNKNOWN, "tensorflow-io %s is not in the compatibility table (known: %s to %s)" % (
            tfio_text, data.TENSORFLOW_IO[-1][0], data.TENSORFLOW_IO[0][0])
    head = "tensorflow-io %s is built against TensorFlow %s.x" % (tfio_text, row[1])
    if _mm(tf) == parse_version(row[1]):
        return OK, "%s; %s matches" % (head, tf_text)
    measured = data.TENSORFLOW_IO_MEASURED.get((version_text((tuple(tfio) + (0, 0))[:3]), _mm_text(tf)))
    if measured:
        why = (head, _mm_text(tf), tfio_text, data.TENSORFLOW_IO_MEASURED_SOURCE)
        return UNKNOWN, ("%s, and tensorflow-io's table lists no other; TensorFlow %s with tensorflow-io %s was "
                         "measured to read and write hdfs:// (%s)" % why)
    others = _tfio_for(tf)
    hint = ("tensorflow-io for TensorFlow %s: %s" % (_mm_text(tf), ", ".join(others)) if others
            else "no tensorflow-io release targets TensorFlow %s (newest: %s for %s.x)"
            % (_mm_text(tf), data.TENSORFLOW_IO[0][0], data.TENSORFLOW_IO[0][1]))
    return INCOMPATIBLE, ("%s; TensorFlow %s cannot load its file system plugins (hdfs:// stays "
                          "unimplemented); %s" % (head, tf_text, hint))


def _caffe_known(v):
    caffe_text, caffe = v["caffe_version"]
    if _mm_text(caffe) in data.CAFFE_KNOWN:
        return None
    return UNKNOWN, "Caffe %s is not a release the build notes cover (%s)" % (caffe_text, ", ".join(data.CAFFE_KNOWN))


def check_caffe_protobuf(v):
    unknown = _caffe_known(v)
    if unknown:
        return unknown
    pb_text, pb = v["protobuf_version"]
    spec = data.CAFFE_PROTOBUF
    call = "Caffe 1.0 calls SetTotalBytesLimit with two arguments"
    if pb >= parse_version(spec["removed_from"]):
        return OK, ("%s; protobuf %s no longer has that overload (removed in %s), so the build needs patch %s"
                    % (call, pb_text, spec["removed_from"], spec["patch"]["id"])), {"patch": spec["patch"]}
    if pb >= parse_version(spec["deprecated_from"]):
        warning = ("%s; protobuf %s deprecates the second argument (since %s, ignored) and removes it in %s: "
                   "the build warns but works" % (call, pb_text, spec["deprecated_from"], spec["removed_from"]))
        return OK, warning, {"warning": warning}
    return OK, "%s; protobuf %s still has that overload" % (call, pb_text)


def check_caffe_opencv(v):
    unknown = _caffe_known(v)
    if unknown:
        return unknown
    cv_text, cv = v["opencv_version"]
    spec = data.CAFFE_OPENCV
    use = "Caffe 1.0 uses the OpenCV C constants CV_LOAD_IMAGE_*"
    if cv >= parse_version(spec["removed_from"]):
        return OK, ("%s; OpenCV %s no longer defines them (since %s), so the build needs patch %s"
                    % (use, cv_text, spec["removed_from"], spec["patch"]["id"])), {"patch": spec["patch"]}
    return OK, "%s; OpenCV %s still defines them" % (use, cv_text)


def check_caffe_cudnn(v):
    unknown = _caffe_known(v)
    if unknown:
        return unknown
    cudnn_text, cudnn = v["cudnn_version"]
    spec = data.CAFFE_CUDNN
    if cudnn >= parse_version(spec["removed_from"]):
        return INCOMPATIBLE, ("Caffe 1.0 calls cudnnGetConvolution{Forward,BackwardFilter,BackwardData}Algorithm, "
                              "which cuDNN %s removed; cuDNN %s cannot build it (%s)"
                              % (spec["removed_from"], cudnn_text, spec["source"]))
    if cudnn < parse_version(spec["min"]):
        return UNKNOWN, ("Caffe 1.0 has code paths for cuDNN %s to 7; cuDNN %s is older (%s)"
                         % (spec["min"], cudnn_text, spec["source"]))
    return OK, "Caffe 1.0 builds with cuDNN %s to 7; cuDNN %s is in range" % (spec["min"], cudnn_text)


PAIRS = (
    ("driver/cuda", ("driver_version", "cuda_version"), check_driver_cuda),
    ("cuda/cudnn", ("cuda_version", "cudnn_version"), check_cuda_cudnn),
    ("tensorflow/cuda", ("tensorflow_version", "cuda_version"), check_tensorflow_cuda),
    ("tensorflow/cudnn", ("tensorflow_version", "cudnn_version"), check_tensorflow_cudnn),
    ("tensorflow/python", ("tensorflow_version", "python_version"), check_tensorflow_python),
    ("tensorflow/tensorflow_io", ("tensorflow_version", "tensorflow_io_version"), check_tensorflow_tensorflow_io),
    ("caffe/protobuf", ("caffe_version", "protobuf_version"), check_caffe_protobuf),
    ("caffe/opencv", ("caffe_version", "opencv_version"), check_caffe_opencv),
    ("caffe/cudnn", ("caffe_version", "cudnn_version"), check_caffe_cudnn),
)


# ---------------------------------------------------------------------------
# suggestions: the nearest working choices for what was given
# ---------------------------------------------------------------------------

def _tf_versions(pred):
    return [_mm_text(parse_version(r[0].split("-", 1)[1])) for r in data.TENSORFLOW_GPU if pred(r)]


def suggestions(v):
    out = []
    if "driver_version" in v:
        driver_text, driver = v["driver_version"]
        full = [r for r in data.CUDA_MIN_DRIVER if driver >= parse_version(r[2])]
        if full:
            best = max(full, key=lambda r: parse_version(r[1]))
            out.append("driver %s fully supports up to %s (needs >= %s)" % (driver_text, best[0], best[2]))
        else:
            out.append("driver %s is older than every CUDA release in the table (oldest: %s needs >= %s)"
                       % (driver_text, data.CUDA_MIN_DRIVER[-1][0], data.CUDA_MIN_DRIVER[-1][2]))
        mvc = [m for m, d in sorted(data.MINOR_VERSION_COMPAT_MIN_DRIVER.items()) if driver >= parse_version(d)]
        if mvc:
            out.append("with minor version compatibility driver %s runs CUDA %s.x toolkits (without PTX JIT for "
                       "newer architectures)" % (driver_text, mvc[-1]))
    if "cuda_version" in v:
        cuda_text, cuda = v["cuda_version"]
        row = cuda_driver_row(cuda)
        if row is not None:
            out.append("CUDA %s needs driver >= %s (%s) for full compatibility" % (cuda_text, row[2], row[0]))
        mvc = data.MINOR_VERSION_COMPAT_MIN_DRIVER.get(cuda[0])
        if mvc is not None:
            out.append("CUDA %d.x runs on driver >= %s with minor version compatibility" % (cuda[0], mvc))
        exact = [_row_label(r) for r in data.CUDNN_CUDA if _mm_text(cuda) in r["cuda"]]
        if exact:
            out.append("cuDNN releases whose support matrix lists CUDA %s: %s" % (_mm_text(cuda), ", ".join(exact)))
        else:
            major = [_row_label(r) for r in data.CUDNN_CUDA
                     if any(parse_version(c)[0] == cuda[0] for c in r["cuda"])]
            if major:
                out.append("cuDNN releases with a CUDA %d.x package: %s" % (cuda[0], ", ".join(major)))
    if "tensorflow_version" in v:
        row = tensorflow_row(v["tensorflow_version"][1])
        if row is not None:
            out.append("%s was tested with CUDA %s, cuDNN %s, Python %s" % (_tf_head(row), version_text(tensorflow_cuda(row)), row[2], row[1]))
    if "tensorflow_io_version" in v:
        row = tensorflow_io_row(v["tensorflow_io_version"][1])
        if row is not None:
            out.append("tensorflow-io %s needs TensorFlow %s.x" % (v["tensorflow_io_version"][0], row[1]))
    if "tensorflow_version" in v and "tensorflow_io_version" in v:
        tf = v["tensorflow_version"][1]
        others = _tfio_for(tf)
        out.append("tensorflow-io releases for TensorFlow %s: %s" % (_mm_text(tf), ", ".join(others) or "none"))
    cuda = v.get("cuda_version", (None, None))[1]
    cudnn = v.get("cudnn_version", (None, None))[1]
    if cuda is not None:
        tfs = _tf_versions(lambda r: same_prefix(cuda, tensorflow_cuda(r)))
        out.append("TensorFlow versions tested with CUDA %s: %s" % (v["cuda_version"][0], ", ".join(tfs) or "none"))
    if cudnn is not None:
        tfs = _tf_versions(lambda r: same_prefix(cudnn, parse_version(r[2])))
        out.append("TensorFlow versions tested with cuDNN %s: %s" % (v["cudnn_version"][0], ", ".join(tfs) or "none"))
    return out


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

def check_stack(params, strict=False):
    """Check every pair of the given versions. Raises CompatInputError for unreadable input only.

    Returns compatible (no incompatible pair; with strict also no unknown pair), checks,
    reasons (the failing checks' reasons), warnings_list, required_patches, suggestions
    and versions (the inputs as given, stripped).
    """
    v = normalize_inputs(params)
    checks, reasons, warnings_list, patches = [], [], [], []
    for pair, keys, func in PAIRS:
        missing = [k for k in keys if k not in v]
        if missing:
            checks.append({"pair": pair, "status": NOT_CHECKED,
                           "reason": "needs %s (missing: %s)" % (" and ".join(keys), ", ".join(missing))})
            continue
        result = func(v)
        status, reason = result[0], result[1]
        extras = result[2] if len(result) > 2 else {}
        checks.append({"pair": pair, "status": status, "reason": reason})
        if status == INCOMPATIBLE or (strict and status == UNKNOWN):
            reasons.append(reason)
        if "warning" in extras:
            warnings_list.append(extras["warning"])
        if "patch" in extras and extras["patch"] not in patches:
            patches.append(dict(extras["patch"], files=list(extras["patch"]["files"])))
        if status == MINOR_VERSION_COMPAT:
            warnings_list.append(reason)
    return {
        "compatible": not reasons,
        "strict": bool(strict),
        "checks": checks,
        "reasons": reasons,
        "warnings_list": warnings_list,
        "required_patches": patches,
        "suggestions": suggestions(v),
        "versions": dict((k, t) for k, (t, _p) in v.items()),
    }


# ---------------------------------------------------------------------------
# Spark <-> Python <-> pyspark <-> TensorFlow (cluster profiles)
# ---------------------------------------------------------------------------

SPARK_INPUT_KEYS = ("spark_version", "pyspark_version")
INPUT_KEYS = INPUT_KEYS + SPARK_INPUT_KEYS


def spark_row(spark):
    for row in data.SPARK_PYTHON:
        if parse_version(row["spark"]) == _mm(spark):
            return row
    return None


def _spark_unknown(label, text):
    known = sorted((r["spark"] for r in data.SPARK_PYTHON), key=parse_version)
    return "%s %s is not in the Spark/Python data (%s to %s)" % (label, text, known[0], known[-1])


def _spark_python_text(row):
    text = "Python %s+" % row["min"]
    if row.get("python2"):
        text = "Python %s or %s+" % (row["python2"], row["min"])
    if row["broken_from"]:
        text += " below %s" % row["broken_from"]
    return text


def _check_spark_python(label, spark_text, spark, py_text, py):
    row = spark_row(spark)
    if row is None:
        return UNKNOWN, _spark_unknown(label, spark_text)
    head = "%s %s runs on %s (%s)" % (label, _mm_text(spark), _spark_python_text(row), row["source"])
    pymm = _mm(py)
    if row["broken_from"] and pymm >= parse_version(row["broken_from"]):
        return INCOMPATIBLE, "%s; Python %s is %s or newer" % (head, py_text, row["broken_from"])
    if row.get("python2") and pymm[0] == 2:
        if pymm >= _mm(parse_version(row["python2"])):
            return OK, "%s; Python %s is supported" % (head, py_text)
        return INCOMPATIBLE, "%s; Python %s is older" % (head, py_text)
    if pymm < _mm(parse_version(row["min"])):
        return INCOMPATIBLE, "%s; Python %s is older" % (head, py_text)
    if row["listed"] and pymm > _mm(parse_version(row["listed"])):
        return UNKNOWN, "%s; Python %s is newer than the newest its release lists (%s)" % (head, py_text, row["listed"])
    return OK, "%s; Python %s is supported" % (head, py_text)


def check_spark_python(v):
    return _check_spark_python("Spark", v["spark_version"][0], v["spark_version"][1], *v["python_version"])


def check_pyspark_python(v):
    return _check_spark_python("pyspark", v["pyspark_version"][0], v["pyspark_version"][1], *v["python_version"])


def check_spark_pyspark(v):
    spark_text, spark = v["spark_version"]
    pyspark_text, pyspark = v["pyspark_version"]
    rule = "the pip pyspark and the cluster's Spark must be the same release (%s)" % data.SPARK_PYSPARK_RULE_SOURCE
    if _mm(spark) == _mm(pyspark):
        return OK, "pyspark %s and Spark %s are the same release %s" % (pyspark_text, spark_text, _mm_text(spark))
    return INCOMPATIBLE, "pyspark %s does not match the cluster's Spark %s: %s" % (pyspark_text, spark_text, rule)


def _python_set(ranges, candidates):
    return [c for c in candidates if any(lo <= c <= hi for lo, hi in ranges)]


def check_spark_tensorflow(v):
    """Is there a Python that both this Spark and this TensorFlow run on."""
    spark_text, spark = v["spark_version"]
    tf_text, tf = v["tensorflow_version"]
    srow = spark_row(spark)
    trow = tensorflow_row(tf)
    if srow is None:
        return UNKNOWN, _spark_unknown("Spark", spark_text)
    if trow is None:
        return UNKNOWN, _tf_unknown(tf_text)
    candidates = [(2, 7)] + [(3, n) for n in range(0, 20)]
    tf_pys = _python_set(_python_ranges(trow[1]), candidates)
    both = [c for c in tf_pys if _check_spark_python("Spark", spark_text, spark, version_text(c), c)[0] == OK]
    head = "%s was tested with Python %s and Spark %s runs on %s" % (
        _tf_head(trow), trow[1], _mm_text(spark), _spark_python_text(srow))
    if both:
        return OK, "%s; both run on Python %s" % (head, ", ".join(version_text(c) for c in both))
    return INCOMPATIBLE, "%s; no Python version runs both" % head


SPARK_PAIRS = (
    ("spark/python", ("spark_version", "python_version"), check_spark_python),
    ("pyspark/python", ("pyspark_version", "python_version"), check_pyspark_python),
    ("spark/pyspark", ("spark_version", "pyspark_version"), check_spark_pyspark),
    ("spark/tensorflow", ("spark_version", "tensorflow_version"), check_spark_tensorflow),
)
PAIRS = PAIRS + SPARK_PAIRS


# ---------------------------------------------------------------------------
# GPU architecture (compute capability) <-> driver branch / CUDA / kernel modules
# Not wired into check_stack yet: nvidia_gpu_info does not report the compute capability.
# ---------------------------------------------------------------------------

KERNEL_MODULE_FLAVOURS = ("open", "proprietary")


def gpu_arch_row(compute_capability):
    """The GPU_ARCH row of a compute capability ('8.6', (8, 6)), or None."""
    cc = _mm(parse_version(compute_capability) if isinstance(compute_capability, str) else compute_capability)
    for row in data.GPU_ARCH:
        if cc in [_mm(parse_version(c)) for c in row["cc"]]:
            return row
    return None


def _cuda_after_last(cuda, last):
    last_v = parse_version(last)
    return cuda[0] > last_v[0] if len(last_v) == 1 else _mm(cuda) > last_v


def check_gpu_arch(compute_capability, driver_version=None, cuda_version=None, kernel_modules=None):
    """Judge a GPU architecture against a driver, a CUDA toolkit and a kernel module flavour.

    Returns [(topic, status, reason)] for each of 'driver', 'cuda', 'kernel_modules' that was given.
    Raises CompatInputError on unreadable input.
    """
    cc = _parse("compute_capability", compute_capability)
    if kernel_modules is not None and kernel_modules not in KERNEL_MODULE_FLAVOURS:
        raise CompatInputError("kernel_modules %r is not one of %s" % (kernel_modules, ", ".join(KERNEL_MODULE_FLAVOURS)))
    row = gpu_arch_row(cc)
    out = []
    if row is None:
        why = "compute capability %s is not in the GPU architecture data" % _mm_text(cc)
        for topic, given in (("driver", driver_version), ("cuda", cuda_version), ("kernel_modules", kernel_modules)):
            if given is not None:
                out.append((topic, UNKNOWN, why))
        return out
    name = "%s (compute capability %s)" % (row["arch"], _mm_text(cc))
    if driver_version is not None:
        driver_text = str(driver_version).strip()
        branch = _parse("driver_version", driver_text)[0]
        if row["last_branch"] is not None and branch > row["last_branch"]:
            out.append(("driver", INCOMPATIBLE, "%s is supported up to driver branch R%d; %s is R%d"
                        % (name, row["last_branch"], driver_text, branch)))
        elif row["last_branch"] is not None:
            out.append(("driver", OK, "%s is supported up to driver branch R%d; %s is R%d"
                        % (name, row["last_branch"], driver_text, branch)))
        else:
            out.append(("driver", OK, "%s is supported by current driver branches" % name))
    if cuda_version is not None:
        cuda_text = str(cuda_version).strip()
        cuda = _parse("cuda_version", cuda_text)
        if row["first_cuda"] is not None and _mm(cuda) < parse_version(row["first_cuda"]):
            out.append(("cuda", INCOMPATIBLE, "%s needs CUDA %s or newer; %s is older"
                        % (name, row["first_cuda"], cuda_text)))
        elif row["last_cuda"] is not None and _cuda_after_last(cuda, row["last_cuda"]):
            last = row["last_cuda"] + (".x" if "." not in row["last_cuda"] else "")
            out.append(("cuda", INCOMPATIBLE, "%s is supported up to CUDA %s; %s is newer" % (name, last, cuda_text)))
        elif row["first_cuda"] is None:
            out.append(("cuda", UNKNOWN, "the first CUDA toolkit for %s is not in the data" % name))
        else:
            out.append(("cuda", OK, "%s is supported by CUDA %s" % (name, cuda_text)))
    if kernel_modules is not None:
        if row["modules"] is None:
            out.append(("kernel_modules", UNKNOWN, "the kernel module flavour for %s is not in the data" % name))
        elif row["modules"] in ("both", kernel_modules):
            out.append(("kernel_modules", OK, "the %s kernel modules drive %s" % (kernel_modules, name)))
        else:
            out.append(("kernel_modules", INCOMPATIBLE, "%s needs the %s kernel modules, not the %s ones"
                        % (name, row["modules"], kernel_modules)))
    return out
