# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU health: the counters a GPU reports, XID errors in the kernel log, and a verdict.

gpu_state reads the counters (NVML or nvidia-smi, same names and units) into ``COUNTER_KEYS``;
this module reads the kernel log through the collection's command runner, matches each
``NVRM: Xid`` line to its GPU by PCI address, and turns both into problems against thresholds
(``HEALTH_SPEC``, the module option both nvidia_gpu_info and node_compliance take). A counter a
GPU does not report (NVML_ERROR_NOT_SUPPORTED, ``[N/A]``) is listed as not reported, never a problem.
"""

from __future__ import annotations

import re

from ansible_collections.dlstack.cdh.plugins.module_utils.command import find_binary, run

# nvmlClocksEventReasons bits (nvml.h; nvidia-smi's clocks_throttle_reasons.active is the same mask).
CLOCK_EVENT_REASONS = (
    (0x1, "gpu_idle"), (0x2, "applications_clocks_setting"), (0x4, "sw_power_cap"), (0x8, "hw_slowdown"),
    (0x10, "sync_boost"), (0x20, "sw_thermal_slowdown"), (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"), (0x100, "display_clock_setting"),
)
CLOCK_EVENT_NAMES = [name for _bit, name in CLOCK_EVENT_REASONS]
# The slowdowns the hardware forces; idle, application clocks, SW power cap and sync boost are normal operation.
DEFAULT_THROTTLE_REASONS = ["hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"]
# Xids NVIDIA's Xid catalog resolves by restarting the application (13, 31, 43) or ignoring (45):
# a user program's fault, not the node's.
DEFAULT_IGNORE_XIDS = [13, 31, 43, 45]

# Per-GPU counters, the same from NVML and nvidia-smi; None means the GPU does not report it.
COUNTER_KEYS = (
    "ecc_mode_pending", "mig_mode_pending", "ecc_uncorrected_volatile", "ecc_uncorrected_aggregate",
    "retired_pages_pending", "remapped_rows_uncorrectable", "remapped_rows_pending", "remapped_rows_failure",
    "clock_event_reasons",
)

HEALTH_SPEC = dict(
    max_ecc_uncorrected_volatile=dict(type="int", default=0),
    max_ecc_uncorrected_aggregate=dict(type="int", default=0),
    pending_retirement=dict(type="bool", default=True),
    pending_modes=dict(type="bool", default=True),
    throttle_reasons=dict(type="list", elements="str", default=DEFAULT_THROTTLE_REASONS, choices=CLOCK_EVENT_NAMES),
    xid_scan=dict(type="bool", default=True),
    ignore_xids=dict(type="list", elements="int", default=DEFAULT_IGNORE_XIDS),
)

# "NVRM: Xid (PCI:0000:07:00): 48, pid=..., text"; drivers before R3xx print "(0000:01:00)" without "PCI:",
# MIG adds " GPU-I:05" after the address.
XID_RE = re.compile(r"NVRM: Xid \((?:PCI:)?([0-9A-Fa-f]+):([0-9A-Fa-f]+):([0-9A-Fa-f]+)[^)]*\):\s*(\d+)(?:,\s*(.*))?")
# Newer drivers say a GPU fell off the bus in three lines and no Xid 79 (NVIDIA/NVSentinel#155).
FALLEN_GPU_RE = re.compile(r"NVRM: The NVIDIA GPU ([0-9A-Fa-f]+):([0-9A-Fa-f]+):([0-9A-Fa-f]+)\.[0-9A-Fa-f]+")
FALLEN_TEXT = "fallen off the bus"
XID_FALLEN_OFF_BUS = 79
_BUS_ID_RE = re.compile(r"^([0-9A-Fa-f]+):([0-9A-Fa-f]+):([0-9A-Fa-f]+)")
# journalctl prints this (rc 0) when the journal has no kernel messages, e.g. in a container.
JOURNAL_EMPTY = "-- No entries --"


def defaults():
    return dict((key, spec["default"]) for key, spec in HEALTH_SPEC.items())


def empty_counters():
    return dict.fromkeys(COUNTER_KEYS)


def pci_key(text):
    """(domain, bus, device) of '00000000:07:00.0' or '0000:07:00', or None."""
    match = _BUS_ID_RE.match(text or "")
    return tuple(int(part, 16) for part in match.groups()) if match else None


def clock_event_names(mask):
    return [name for bit, name in CLOCK_EVENT_REASONS if mask & bit]


# --- the kernel log -----------------------------------------------------------
def read_kernel_log(module):
    """(source, text, message): this boot's kernel messages from the journal, else the ring buffer.

    source is journalctl, dmesg or none; none (with the reason in message) when neither can be read,
    e.g. dmesg_restrict without root, which the verdict reports as not read rather than failing.
    """
    reasons = []
    journalctl = find_binary(module, "journalctl")
    if journalctl:
        cmd = run(module, [journalctl, "-k", "-b", "--no-pager", "-q"])
        text = cmd.stdout or ""
        if cmd.rc == 0 and text.strip() and text.strip() != JOURNAL_EMPTY:
            return "journalctl", text, ""
        reasons.append("journalctl -k -b: %s" % ((cmd.stderr or "").strip() or "no kernel messages (rc=%d)" % cmd.rc))
    dmesg = find_binary(module, "dmesg")
    if dmesg:
        cmd = run(module, [dmesg])
        if cmd.rc == 0:
            return "dmesg", cmd.stdout or "", ""
        # dmesg's own messages start with "dmesg: ".
        reasons.append((cmd.stderr or cmd.stdout or "").strip() or "dmesg exited with rc=%d" % cmd.rc)
    else:
        reasons.append("dmesg not found")
    return "none", "", "; ".join(reasons)


def parse_xid_events(text):
    """Every XID the kernel logged, in order: dicts of xid, pci (domain:bus:device), text, line."""
    events = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = XID_RE.search(line)
        if match:
            domain, bus, device, xid, rest = match.groups()
            events.append({"xid": int(xid), "pci": "%04x:%02x:%02x" % (int(domain, 16), int(bus, 16), int(device, 16)),
                           "text": (rest or "").strip(), "line": line.strip()})
            continue
        fallen = FALLEN_GPU_RE.search(line)
        if fallen and any(FALLEN_TEXT in following for following in lines[number:number + 3]):
            domain, bus, device = (int(part, 16) for part in fallen.groups())
            events.append({"xid": XID_FALLEN_OFF_BUS, "pci": "%04x:%02x:%02x" % (domain, bus, device),
                           "text": "GPU has fallen off the bus (logged without an Xid line)", "line": line.strip()})
    return events


# --- the verdict --------------------------------------------------------------
def _label(gpu):
    if gpu.get("index") is not None:
        return "GPU %s (%s)" % (gpu["index"], gpu.get("pci_bus_id") or "no bus id")
    return "GPU %s" % (gpu.get("pci_bus_id") or "?")


def _problem(where, counter, value, limit, reason):
    return {"gpu": where, "counter": counter, "value": value, "limit": limit, "reason": "%s: %s" % (where, reason)}


def _counter_problems(where, counters, thresholds):
    problems = []
    for key, scope in (("ecc_uncorrected_volatile", "since the driver loaded"), ("ecc_uncorrected_aggregate", "over the GPU's life")):
        value, limit = counters.get(key), thresholds["max_" + key]
        if value is not None and value > limit:
            problems.append(_problem(where, key, value, "<= %d" % limit,
                                     "%d uncorrectable ECC error(s) %s (%s), at most %d allowed" % (value, scope, key, limit)))
    if thresholds["pending_retirement"]:
        if counters.get("retired_pages_pending"):
            problems.append(_problem(where, "retired_pages_pending", True, False,
                                     "memory pages are pending retirement (retired_pages_pending); reset the GPU or reboot"))
        if counters.get("remapped_rows_pending"):
            problems.append(_problem(where, "remapped_rows_pending", True, False,
                                     "row remapping is pending (remapped_rows_pending); reset the GPU or reboot"))
    if counters.get("remapped_rows_failure"):
        problems.append(_problem(where, "remapped_rows_failure", True, False,
                                 "row remapping failed (remapped_rows_failure); the GPU needs service"))
    if thresholds["pending_modes"]:
        for key, current_key, label in (("ecc_mode_pending", "ecc_mode", "ECC"), ("mig_mode_pending", "mig_mode", "MIG")):
            pending, current = counters.get(key), counters.get(current_key)
            if pending is not None and current is not None and pending != current:
                problems.append(_problem(where, key, pending, current,
                                         "%s mode is %s, %s after the next reset (%s); reset the GPU or reboot"
                                         % (label, current, pending, key)))
    mask = counters.get("clock_event_reasons")
    if mask is not None:
        for name in clock_event_names(mask):
            if name in thresholds["throttle_reasons"]:
                problems.append(_problem(where, "throttle_" + name, True, False,
                                         "clocks are slowed down by %s (clock_event_reasons %#x)" % (name, mask)))
    return problems


def _xid_problems(where, events):
    problems = []
    by_xid = {}
    for event in events:
        by_xid.setdefault(event["xid"], []).append(event)
    for xid in sorted(by_xid):
        found = by_xid[xid]
        problems.append(_problem(where, "xid_%d" % xid, len(found), 0, "Xid %d logged %d time(s) since boot, last: %s"
                                 % (xid, len(found), found[-1]["text"] or found[-1]["line"])))
    return problems


def evaluate(state, counters, thresholds, kernel_log=None):
    """The health verdict of the GPUs in ``state`` (gpu_state's result).

    counters: one dict of COUNTER_KEYS per entry of state['gpus'] (plus ecc_mode/mig_mode);
    kernel_log: (source, text, message) of read_kernel_log, or None when not read.
    """
    source, text, message = kernel_log or ("none", "", "not read")
    events = parse_xid_events(text)
    ignore = set(thresholds["ignore_xids"])
    counted = [event for event in events if event["xid"] not in ignore]
    xid = {"source": source, "read": source != "none", "message": message, "events": events,
           "ignored": len(events) - len(counted)}

    gpus, problems, claimed = [], [], set()
    for gpu, values in zip(state["gpus"], counters):
        where = _label(gpu)
        key = pci_key(gpu.get("pci_bus_id"))
        own = [event for event in counted if key is not None and pci_key(event["pci"]) == key]
        claimed.update(id(event) for event in own)
        found = []
        if gpu.get("error"):
            found.append(_problem(where, "error", gpu["error"], None, "%s (the driver cannot read this GPU)" % gpu["error"]))
        found.extend(_counter_problems(where, dict(values, ecc_mode=gpu.get("ecc_mode"), mig_mode=gpu.get("mig_mode")), thresholds))
        found.extend(_xid_problems(where, own))
        entry = dict((k, values.get(k)) for k in COUNTER_KEYS)
        entry.update(index=gpu.get("index"), uuid=gpu.get("uuid"), pci_bus_id=gpu.get("pci_bus_id"),
                     status="unhealthy" if found else "ok", problems=found,
                     clock_event_reasons_active=clock_event_names(values["clock_event_reasons"])
                     if values.get("clock_event_reasons") is not None else None,
                     not_reported=[k for k in COUNTER_KEYS if values.get(k) is None] if not gpu.get("error") else list(COUNTER_KEYS))
        gpus.append(entry)
        problems.extend(found)
    # Xids of a GPU the driver no longer lists (fallen off the bus) still count, under its PCI address.
    stray = {}
    for event in counted:
        if id(event) not in claimed:
            stray.setdefault(event["pci"], []).append(event)
    for pci in sorted(stray):
        problems.extend(_xid_problems("GPU at PCI %s" % pci, stray[pci]))

    if problems:
        status = "unhealthy"
        summary = "%d problem(s): %s" % (len(problems), "; ".join(p["reason"] for p in problems))
    elif not state["gpus"]:
        status = "no_gpus"
        summary = "no GPU to check (status %s%s)" % (state.get("status"), ": %s" % state["message"] if state.get("message") else "")
    else:
        status = "ok"
        summary = "%d GPU(s) healthy" % len(gpus)
    if xid["read"]:
        summary += "; kernel log (%s): %d Xid line(s) since boot, %d ignored" % (source, len(events), xid["ignored"])
    else:
        summary += "; kernel log not read (%s)" % message
    return {"status": status, "message": summary, "problems": problems, "gpus": gpus, "xid": xid,
            "thresholds": dict(thresholds)}
