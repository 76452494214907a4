# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small read-only NVML binding over ctypes (no pynvml on managed nodes).

Only the calls needed to describe the driver and each GPU are bound. The
structures and constants follow ``nvml.h`` of the R535+ drivers; every call
used here exists since R450 except where noted; a per-GPU value whose symbol an
older library lacks is returned as null. Python 3.6 compatible.

Usage::

    lib = load_library()            # OSError when libnvidia-ml.so.1 is absent
    facts = query(lib)              # NVMLError(code, message) on failure
"""

import ctypes

LIBRARY_NAME = "libnvidia-ml.so.1"

# nvmlReturn_t values this code tells apart (nvml.h).
NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_INSUFFICIENT_SIZE = 7
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_UNKNOWN = 999

# Buffer sizes from nvml.h (the *_V2_* ones are the larger, current sizes).
SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80
DEVICE_NAME_V2_BUFFER_SIZE = 96
DEVICE_UUID_V2_BUFFER_SIZE = 96
DEVICE_PCI_BUS_ID_BUFFER_SIZE = 32
DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE = 16

NVML_TEMPERATURE_GPU = 0
# nvmlMemoryErrorType_t and nvmlEccCounterType_t (nvml.h).
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1

# Same words nvidia-smi prints, so both sources give identical facts.
ENABLE_STATE = {0: "Disabled", 1: "Enabled"}
COMPUTE_MODE = {0: "Default", 1: "Exclusive_Thread", 2: "Prohibited", 3: "Exclusive_Process"}

MIB = 1024 * 1024


class PciInfo(ctypes.Structure):
    """nvmlPciInfo_t (the v3 layout filled by nvmlDeviceGetPciInfo_v3)."""

    _fields_ = [
        ("busIdLegacy", ctypes.c_char * DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE),
        ("domain", ctypes.c_uint),
        ("bus", ctypes.c_uint),
        ("device", ctypes.c_uint),
        ("pciDeviceId", ctypes.c_uint),
        ("pciSubSystemId", ctypes.c_uint),
        ("busId", ctypes.c_char * DEVICE_PCI_BUS_ID_BUFFER_SIZE),
    ]


class Memory(ctypes.Structure):
    """nvmlMemory_t: bytes."""

    _fields_ = [
        ("total", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    ]


class NVMLError(Exception):
    """An nvmlReturn_t other than NVML_SUCCESS, with nvmlErrorString's text."""

    def __init__(self, code, message, function=None):
        self.code = code
        self.message = message
        self.function = function
        super(NVMLError, self).__init__("%s: %s (NVML error %d)" % (function or "NVML", message, code))


class _FunctionMissing(Exception):
    """The library predates a symbol (e.g. nvmlDeviceGetMigMode before R450)."""


def load_library(name=LIBRARY_NAME):
    """ctypes handle of the NVML library; raises OSError when it cannot be loaded."""
    return ctypes.CDLL(name)


def cuda_version_text(value):
    """nvmlSystemGetCudaDriverVersion_v2's integer 12020 -> '12.2' (1000*major + 10*minor)."""
    if value is None or value <= 0:
        return None
    return "%d.%d" % (value // 1000, (value % 1000) // 10)


class Session(object):
    """nvmlInit_v2 ... nvmlShutdown around the read-only queries below."""

    def __init__(self, lib):
        self.lib = lib
        self._error_string = getattr(lib, "nvmlErrorString", None)
        if self._error_string is not None:
            self._error_string.restype = ctypes.c_char_p
            self._error_string.argtypes = [ctypes.c_int]

    # -- plumbing -------------------------------------------------------
    def error_text(self, code):
        if self._error_string is None:
            return "NVML error %d" % code
        text = self._error_string(code)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return text or "NVML error %d" % code

    def _function(self, name):
        try:
            return getattr(self.lib, name)
        except AttributeError:
            raise _FunctionMissing(name)

    def call(self, name, *args):
        """Call ``name``; raise NVMLError on anything but NVML_SUCCESS."""
        rc = self._function(name)(*args)
        if rc != NVML_SUCCESS:
            raise NVMLError(rc, self.error_text(rc), name)

    def optional(self, name, *args):
        """Like call() but False when the GPU/driver does not offer the value.

        A per-GPU attribute that is unsupported (e.g. power on some boards,
        MIG before Ampere), not permitted or missing from an older library
        must not hide the rest of the facts. A lost GPU still raises.
        """
        try:
            self.call(name, *args)
        except _FunctionMissing:
            return False
        except NVMLError as exc:
            if exc.code == NVML_ERROR_GPU_IS_LOST:
                raise
            return False
        return True

    def init(self):
        try:
            self.call("nvmlInit_v2")
        except _FunctionMissing:
            raise NVMLError(NVML_ERROR_FUNCTION_NOT_FOUND, "nvmlInit_v2 is not exported by the library", "nvmlInit_v2")

    def shutdown(self):
        try:
            self._function("nvmlShutdown")()
        except _FunctionMissing:
            pass

    # -- system ---------------------------------------------------------
    def driver_version(self):
        buf = ctypes.create_string_buffer(SYSTEM_DRIVER_VERSION_BUFFER_SIZE)
        if not self.optional("nvmlSystemGetDriverVersion", buf, ctypes.c_uint(SYSTEM_DRIVER_VERSION_BUFFER_SIZE)):
            return None
        return _text(buf.value)

    def cuda_driver_version(self):
        value = ctypes.c_int(0)
        if not self.optional("nvmlSystemGetCudaDriverVersion_v2", ctypes.pointer(value)):
            return None
        return cuda_version_text(value.value)

    def device_count(self):
        count = ctypes.c_uint(0)
        self.call("nvmlDeviceGetCount_v2", ctypes.pointer(count))
        return count.value

    # -- devices --------------------------------------------------------
    def device(self, index):
        handle = ctypes.c_void_p()
        self.call("nvmlDeviceGetHandleByIndex_v2", ctypes.c_uint(index), ctypes.pointer(handle))
        return handle

    def _string(self, name, handle, size, required):
        buf = ctypes.create_string_buffer(size)
        if required:
            self.call(name, handle, buf, ctypes.c_uint(size))
        elif not self.optional(name, handle, buf, ctypes.c_uint(size)):
            return None
        return _text(buf.value)

    def _uint(self, name, handle, *leading):
        value = ctypes.c_uint(0)
        if not self.optional(name, handle, *(leading + (ctypes.pointer(value),))):
            return None
        return value.value

    def _current_and_pending(self, name, handle):
        """(current, pending) of nvmlDeviceGetEccMode/GetMigMode, (None, None) when not reported."""
        current, pending = ctypes.c_uint(0), ctypes.c_uint(0)
        if not self.optional(name, handle, ctypes.pointer(current), ctypes.pointer(pending)):
            return None, None
        return current.value, pending.value

    def _ulonglong(self, name, handle, *leading):
        value = ctypes.c_ulonglong(0)
        if not self.optional(name, handle, *(leading + (ctypes.pointer(value),))):
            return None
        return value.value

    def _remapped_rows(self, handle):
        """nvmlDeviceGetRemappedRows (Ampere and later): (uncorrectable rows, pending, failure)."""
        corr, unc, pending, failure = (ctypes.c_uint(0) for _i in range(4))
        if not self.optional("nvmlDeviceGetRemappedRows", handle, ctypes.pointer(corr), ctypes.pointer(unc),
                             ctypes.pointer(pending), ctypes.pointer(failure)):
            return None, None, None
        return unc.value, bool(pending.value), bool(failure.value)

    def _clock_event_reasons(self, handle):
        # The throttle name is exported from R2xx to now (deprecated, not removed, since R535's rename).
        value = self._ulonglong("nvmlDeviceGetCurrentClocksThrottleReasons", handle)
        if value is None:
            value = self._ulonglong("nvmlDeviceGetCurrentClocksEventReasons", handle)
        return value

    def counters(self, handle, ecc_pending, mig_pending):
        """gpu_health.COUNTER_KEYS of one GPU; a value the GPU does not support is None."""
        retired = self._uint("nvmlDeviceGetRetiredPagesPendingStatus", handle)
        unc_rows, remap_pending, remap_failure = self._remapped_rows(handle)
        return {
            "ecc_mode_pending": ENABLE_STATE.get(ecc_pending) if ecc_pending is not None else None,
            "mig_mode_pending": ENABLE_STATE.get(mig_pending) if mig_pending is not None else None,
            "ecc_uncorrected_volatile": self._ulonglong("nvmlDeviceGetTotalEccErrors", handle, ctypes.c_int(
                NVML_MEMORY_ERROR_TYPE_UNCORRECTED), ctypes.c_int(NVML_VOLATILE_ECC)),
            "ecc_uncorrected_aggregate": self._ulonglong("nvmlDeviceGetTotalEccErrors", handle, ctypes.c_int(
                NVML_MEMORY_ERROR_TYPE_UNCORRECTED), ctypes.c_int(NVML_AGGREGATE_ECC)),
            "retired_pages_pending": bool(retired) if retired is not None else None,
            "remapped_rows_uncorrectable": unc_rows,
            "remapped_rows_pending": remap_pending,
            "remapped_rows_failure": remap_failure,
            "clock_event_reasons": self._clock_event_reasons(handle),
        }

    def _compute_capability(self, handle):
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        if not self.optional("nvmlDeviceGetCudaComputeCapability", handle, ctypes.pointer(major), ctypes.pointer(minor)):
            return None
        return "%d.%d" % (major.value, minor.value)

    def gpu(self, index):
        handle = self.device(index)
        pci = PciInfo()
        pci_ok = self.optional("nvmlDeviceGetPciInfo_v3", handle, ctypes.pointer(pci))
        memory = Memory()
        memory_ok = self.optional("nvmlDeviceGetMemoryInfo", handle, ctypes.pointer(memory))
        power_mw = self._uint("nvmlDeviceGetPowerUsage", handle)
        persistence = self._uint("nvmlDeviceGetPersistenceMode", handle)
        ecc, ecc_pending = self._current_and_pending("nvmlDeviceGetEccMode", handle)
        compute = self._uint("nvmlDeviceGetComputeMode", handle)
        mig, mig_pending = self._current_and_pending("nvmlDeviceGetMigMode", handle)
        return {
            "index": index,
            "name": self._string("nvmlDeviceGetName", handle, DEVICE_NAME_V2_BUFFER_SIZE, True),
            "uuid": self._string("nvmlDeviceGetUUID", handle, DEVICE_UUID_V2_BUFFER_SIZE, True),
            "pci_bus_id": _text(pci.busId) if pci_ok else None,
            "memory_total_mib": memory.total // MIB if memory_ok else None,
            "memory_used_mib": memory.used // MIB if memory_ok else None,
            "temperature_c": self._uint("nvmlDeviceGetTemperature", handle, ctypes.c_int(NVML_TEMPERATURE_GPU)),
            "power_draw_w": round(power_mw / 1000.0, 2) if power_mw is not None else None,
            "persistence_mode": ENABLE_STATE.get(persistence) if persistence is not None else None,
            "ecc_mode": ENABLE_STATE.get(ecc) if ecc is not None else None,
            "compute_mode": COMPUTE_MODE.get(compute) if compute is not None else None,
            "mig_mode": ENABLE_STATE.get(mig) if mig is not None else None,
            "compute_capability": self._compute_capability(handle),
            "error": None,
            # Popped by gpu_state into the health verdict; not part of the GPU entry.
            "_counters": self.counters(handle, ecc_pending, mig_pending),
        }

    def gpu_or_error(self, index):
        """gpu(index), or an entry carrying the error when that one GPU fails (GPU_IS_LOST...)."""
        try:
            return self.gpu(index)
        except NVMLError as exc:
            failed = dict.fromkeys(("name", "uuid", "pci_bus_id", "memory_total_mib", "memory_used_mib",
                                    "temperature_c", "power_draw_w", "persistence_mode", "ecc_mode",
                                    "compute_mode", "mig_mode", "compute_capability"))
            failed.update(index=index, error=exc.message)
            return failed


def query(lib):
    """Driver, CUDA driver API version and every GPU, read in one NVML session.

    Raises NVMLError when nvmlInit_v2 or the device enumeration fails (e.g.
    NVML_ERROR_DRIVER_NOT_LOADED on a node with the library but no driver). A single GPU
    that fails (NVML_ERROR_GPU_IS_LOST when it fell off the bus) is listed with its error.
    """
    session = Session(lib)
    session.init()
    try:
        count = session.device_count()
        return {
            "driver_version": session.driver_version(),
            "cuda_driver_version": session.cuda_driver_version(),
            "gpus": [session.gpu_or_error(index) for index in range(count)],
        }
    finally:
        session.shutdown()


def _text(raw):
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw.strip("\x00").strip() or None
