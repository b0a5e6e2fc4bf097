"""The IPP driver on answers recorded from real printers (../shared/fixtures/real-printers).

Every well-formed recording decodes with no problem; what the models read equals what the
recording says (values below were read by hand from the files and from the text dumps that
ipp-client-kotlin recorded beside the Xerox session); the two malformed answers lose only
their bad attribute.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from drivers.ipp.codec import IppMessage, LangString, decode
from drivers.ipp.errors import IppProtocolError
from drivers.ipp.models import JobInfo, PrinterInfo, job_from_group, printer_from_group
from drivers.ipp.tags import GroupTag, JobState, PrinterState
from tests.realprinters.conftest import RECORDINGS, recordings

IPP = RECORDINGS / "ipp"
MALFORMED = {"invalidHpNameWithLanguage.response", "invalidXeroxMediaCol.response"}
ALL = recordings("ipp", "*.bin", "*.res", "*.req", "*.response")
WELL_FORMED = [p for p in ALL if p.name not in MALFORMED]


def read(rel: str) -> IppMessage:
    return decode((IPP / rel).read_bytes())


def printer(rel: str) -> PrinterInfo:
    group = read(rel).group(GroupTag.PRINTER)
    assert group is not None
    return printer_from_group(group)


def job(rel: str) -> JobInfo:
    group = read(rel).group(GroupTag.JOB)
    assert group is not None
    return job_from_group(group)


def test_every_recording_is_found() -> None:
    assert len(ALL) >= 100  # 5 pyipp, 79 jipp, 34 ipp-client-kotlin files


@pytest.mark.parametrize("path", WELL_FORMED, ids=lambda p: str(p.relative_to(IPP)))
def test_well_formed_recording_decodes_without_problems(path: Path) -> None:
    msg = decode(path.read_bytes())
    assert msg.problems == [] and msg.notes == []
    assert msg.version[0] in (1, 2) and msg.groups[0].tag == GroupTag.OPERATION
    assert msg.operation.value("attributes-charset") in ("utf-8", "us-ascii")
    if path.name.endswith((".res", ".bin")) and msg.code < 0x0400:
        for group in msg.groups_of(GroupTag.PRINTER):
            assert printer_from_group(group).state in PrinterState


_TXT_LINE = re.compile(r"^  (\S+) \((1setOf )?(integer|keyword|nameWithoutLanguage|"
                       r"textWithoutLanguage|uri|charset|naturalLanguage|mimeMediaType|"
                       r"boolean)\) = (.*)$")


@pytest.mark.parametrize("path", recordings("ipp/ipp-client-kotlin", "*.res"),
                         ids=lambda p: p.name)
def test_xerox_values_equal_the_recorded_text_dump(path: Path) -> None:
    """The Xerox session was dumped to text by another IPP implementation: every plain
    value there (one line per attribute, values joined by commas) is what we decode."""
    msg = decode(path.read_bytes())
    ours = {name: attr for g in msg.groups for name, attr in g.attributes.items()}
    checked = 0
    for line in Path(f"{path}.txt").read_text(encoding="utf-8").splitlines():
        m = _TXT_LINE.match(line)
        if not m or ("," in m[4] and len(line) > 140):  # the dump cuts long lines
            continue
        name, syntax, text = m[1], m[3], m[4]
        values = ours[name].values
        if syntax == "integer":
            text = text.split(" ", 1)[0]  # "3632169 (1970-02-12T00:56:09Z)"
            assert values == [int(v) for v in text.split(",")], name
        elif syntax == "boolean":
            assert values == [v == "true" for v in text.split(",")], name
        else:  # a value may hold a comma itself, so compare the joined text
            assert all(isinstance(v, str) for v in values), name
            assert ",".join(map(str, values)) == text, name
        checked += 1
    assert checked >= 3


def test_xerox_b210_printer_and_job() -> None:
    base = "ipp-client-kotlin/Xerox_B210_Printer/"
    idle = printer(base + "001-Get-Printer-Attributes.res")
    assert (idle.state, idle.state_reasons, idle.make_model) == (
        PrinterState.IDLE, ("none",), "Xerox B210 Printer")
    assert idle.state_message == "Printer is ready to print."
    assert idle.impressions_completed is None  # no IPP counter: SNMP only
    jam = printer(base + "printer-stopped-media-jam.res")
    assert (jam.state, jam.state_reasons, jam.up_time) == (
        PrinterState.STOPPED, ("media-jam-error",), 1891)
    toner = printer(base + "printer-stopped-toner-empty.res")
    assert (toner.state, toner.state_reasons) == (PrinterState.STOPPED, ("toner-empty-error",))
    canceled = job(base + "007-Get-Job-Attributes.res")
    assert (canceled.id, canceled.state, canceled.state_reasons, canceled.name) == (
        3679, JobState.CANCELED, ("job-canceled-by-user",), "blank_A4.pdf")
    assert canceled.user == "ipp-inspector" and canceled.impressions_completed == 0
    # Up-time stamps only; time-at-processing 0 means it never started.
    assert canceled.created_at is None and canceled.completed_at is None
    assert (canceled.created_uptime, canceled.processing_uptime, canceled.completed_uptime,
            canceled.printer_up_time) == (3632169, None, 3632169, 3632158)
    held = job(base + "005-Get-Jobs.res")
    assert (held.id, held.state, held.state_reasons) == (
        3679, JobState.PENDING_HELD, ("job-hold-until-",))  # sic: the printer's keyword


def test_clock_never_set_is_recognised() -> None:
    """The Canon TS6000 says it is 1970-01-02: not a 56-year offset, an unset clock."""
    canon = printer("jipp/Canon_TS6000/Canon_TS6000.Get-Printer-Attributes."
                    "fb933fb023644ef37e620cba9ee33d0a.rsp.bin")
    assert canon.clock_set is False and canon.current_time is None
    assert canon.up_time == 89593 and canon.make_model == "Canon TS6000 series"
    hp = printer("jipp/HP_LaserJet_M605/HP_LaserJet_M605.Get-Printer-Attributes.rsp.bin")
    assert hp.clock_set is True
    assert hp.current_time == datetime(2017, 4, 28, 17, 40, 3, 900_000,
                                       tzinfo=timezone(timedelta(hours=-8)))


def test_no_value_times_and_repeated_reasons_hp_officejet_250() -> None:
    base = "jipp/HP_OfficeJet_250_Mobile_Series/HP_OfficeJet_250_Mobile_Series."
    info = printer(base + "Get-Printer-Attributes.rsp.bin")
    assert info.state == PrinterState.STOPPED
    # The printer sends media-empty-error and media-needed-error twice each.
    assert info.state_reasons == ("media-empty-error", "media-needed-error",
                                  "spool-area-full-report")
    assert info.current_time is None and info.up_time == 936924  # no-value clock
    printing = job(base + "Get-Job-Attributes.rsp.bin")
    assert printing.state == JobState.PROCESSING
    assert printing.created_at is None  # date-time-at-creation is no-value
    assert (printing.created_uptime, printing.processing_uptime, printing.printer_up_time) == (
        224, 224, 234)


def test_wall_clock_and_up_time_hp_laserjet_m605() -> None:
    done = job("jipp/HP_LaserJet_M605/HP_LaserJet_M605.Get-Job-Attributes.rsp.bin")
    pst = timezone(timedelta(hours=-8))
    assert done.created_at == datetime(2017, 4, 28, 17, 38, 53, 400_000, tzinfo=pst)
    assert done.completed_at == datetime(2017, 4, 28, 17, 38, 55, 900_000, tzinfo=pst)
    assert (done.created_uptime, done.completed_uptime) == (2287520, 2287522)


def test_kyocera_job_history_in_utf8() -> None:
    jobs = [job_from_group(g) for g in read("pyipp/get-jobs-kyocera-ecosys-m2540dn-000.bin")
            .groups_of(GroupTag.JOB)]
    first = jobs[0]
    assert (first.id, first.state, first.impressions_completed) == (
        1000, JobState.COMPLETED, 3)
    assert first.name == "Microsoft Word - ТСД" and first.user == "CORP\\OFFICE20708$"
    assert first.completed_at == datetime(2021, 9, 28, 9, 37, 35, tzinfo=UTC)


def test_canon_aborted_job() -> None:
    aborted = job("jipp/Canon_CNMF720C/Canon_CNMF720C.Get-Job-Attributes.rsp.bin")
    assert (aborted.id, aborted.state, aborted.state_reasons) == (
        2, JobState.ABORTED, ("document-format-error",))
    assert (aborted.created_uptime, aborted.processing_uptime, aborted.completed_uptime) == (
        1493428962, 1493428963, 1493428963)


@pytest.mark.parametrize("rel", [
    "jipp/Brother_MFC_J870DW/Brother_MFC-J870DW.Get-Jobs.rsp.bin",
    "jipp/EPSON_WF_2630_Series/EPSON_WF_2630_Series.Get-Jobs.rsp.bin",
    "jipp/Photosmart_6510/Photosmart_6510.Get-Jobs.rsp.bin",
])
def test_listing_without_job_state_is_a_plain_error(rel: str) -> None:
    """These listings were recorded with the default attributes (job-id and job-uri only):
    the codec reads them; a job with no state cannot be metered, and the error says so."""
    group = read(rel).group(GroupTag.JOB)
    assert group is not None and isinstance(group.value("job-id"), int)
    with pytest.raises(IppProtocolError, match=r"job \d+ with no job-state"):
        job_from_group(group)


def test_hp_name_with_language_missing_its_outer_length() -> None:
    msg = read("ipp-client-kotlin/invalidHpNameWithLanguage.response")
    assert msg.problems == []
    assert [(n.attribute, n.offset) for n in msg.notes] == [
        ("job-name", 199), ("job-originating-user-name", 245)]
    done = job_from_group(msg.groups_of(GroupTag.JOB)[0])
    assert (done.id, done.name, done.user, done.state) == (
        993, "A4-blank.pdf", "gmuth", JobState.CANCELED)
    assert msg.groups_of(GroupTag.JOB)[0].value("job-name") == LangString("A4-blank.pdf", "de")


def test_xerox_media_col_without_length_fails_only_itself() -> None:
    msg = read("ipp-client-kotlin/invalidXeroxMediaCol.response")
    [problem] = msg.problems
    assert (problem.attribute, problem.offset) == ("media-col", 130)
    assert "media-col" in str(problem) and "byte 130" in str(problem)
    assert all("media-col" not in g for g in msg.groups)
    held = job_from_group(msg.groups_of(GroupTag.JOB)[0])
    assert (held.id, held.state, held.state_reasons) == (
        598, JobState.PENDING_HELD, ("job-hold-until-specified",))
