"""Directory import at district scale: 100,000 staff in 2,000 units (goal: 5 s, 200 MB peak RSS).

Generates a seeded Long Biên-like directory in a temp dir, then runs
`python -m bot directory import` in a fresh child process per scenario and prints one JSON line
per scenario: wall seconds (interpreter start included) and the child's peak RSS. After each run
the database is compared with the files (active staff, names, phones, units, positions).

    .venv/bin/python bench/import_directory.py [--staff 100000] [--units 2000] [--no-xlsx]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 5.0
GOAL_RSS_MB = 200.0
SEED = 20210526
STAFF_HEADER = (
    "staff_id",
    "full_name",
    "phone",
    "unit_id",
    "position",
    "position_group",
    "roles",
    "language",
)

ROUTING_TOML = """\
# Long Biên table (seeds/002, §3): the first rule whose conditions all hold decides.

[[rule]]
name = "Bí thư Quận ủy (báo cáo Thành ủy)"
position_groups = ["top_leader"]
approver = "none"
notify = ["role:standing_deputy_secretary"]

[[rule]]
name = "Thường trực, lãnh đạo quận"
position_groups = ["district_standing"]
approver = "role:party_secretary"

[[rule]]
name = "Cấp phó ban Đảng, MTTQ; trưởng/phó đoàn thể; bí thư phường"
position_groups = ["party_deputy"]
approver = "role:standing_deputy_secretary"

[[rule]]
name = "Trưởng/phó phòng UBND, chủ tịch/phó chủ tịch phường"
position_groups = ["dept_head"]
approver = "role:ubnd_chair"

[[rule]]
name = "Hiệu trưởng, hiệu phó"
position_groups = ["school_head"]
approver = "role:vice_chair_education"

[[rule]]
name = "Công chức cơ quan Dân, Đảng"
unit_kinds = ["party"]
approver = "unit_head"
notify = ["role:standing_deputy_secretary"]

[[rule]]
name = "Công chức cơ quan UBND"
unit_kinds = ["government"]
approver = "unit_head"
notify = ["role:ubnd_vice_chair_office"]

[[rule]]
name = "Đơn vị sự nghiệp, phường, trường học"
approver = "unit_head"
notify = ["role:district_office"]
"""

# The child: runs `python -m bot ...` in this process and writes its exit code and peak RSS.
MEASURE_PY = """\
import json, resource, runpy, sys
out, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["bot", *argv]
code = 0
try:
    runpy.run_module("bot", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
# VmHWM is this program's own peak; ru_maxrss would also count the bench's memory at the fork
# (Linux keeps it across exec), which is more than a refused import ever uses.
try:
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(out, "w") as handle:
    json.dump({"code": code, "maxrss_kib": rss}, handle)
"""

SURNAMES = (
    ["Nguyễn"] * 30
    + ["Trần"] * 10
    + ["Lê"] * 8
    + ["Phạm"] * 6
    + ["Hoàng", "Huỳnh", "Vũ", "Võ"] * 3
    + [
        "Phan",
        "Trương",
        "Bùi",
        "Đặng",
        "Đỗ",
        "Ngô",
        "Hồ",
        "Dương",
        "Đinh",
        "Lý",
        "Đào",
        "Lương",
        "Tạ",
        "Kiều",
        "Quách",
        "Thân",
        "Lại",
        "Khúc",
        "Nghiêm",
        "Âu",
        "Ông",
        "Từ",
        "Châu",
        "Mai",
    ]
)
MIDDLES_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Tuấn", "Ngọc", "Xuân", "Mạnh"]
MIDDLES_F = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Bích", "Diệu", "Phương", "Thùy", "Kim"]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Đức",
    "Thắng",
    "Việt",
    "Quý",
    "Lộc",
    "Tùng",
    "Nghĩa",
    "Sơn",
    "Khánh",
    "Trường",
    "Cường",
    "Hải",
    "Phúc",
    "Thành",
    "Tuấn",
    "Long",
    "Bảo",
    "Toàn",
    "Đạt",
    "Hiếu",
]
GIVEN_F = [
    "Hương",
    "Lan",
    "Hà",
    "Linh",
    "Ngọc",
    "Nhung",
    "Yến",
    "Loan",
    "Xuân",
    "Oanh",
    "Tâm",
    "Diệp",
    "Dung",
    "Tuyết",
    "Hạnh",
    "Ngân",
    "Nguyệt",
    "Thảo",
    "Trang",
    "Huyền",
    "Ánh",
    "Phương",
]
MOBILE_PREFIXES = [
    "91",
    "94",
    "98",
    "97",
    "96",
    "86",
    "88",
    "89",
    "35",
    "36",
    "38",
    "39",
    "32",
    "33",
    "34",
    "70",
    "76",
    "77",
    "79",
    "81",
    "83",
    "84",
    "85",
    "56",
    "58",
]
WARDS = [
    ("BODE", "Bồ Đề"),
    ("CUKHOI", "Cự Khối"),
    ("DUCGIANG", "Đức Giang"),
    ("GIATHUY", "Gia Thụy"),
    ("GIANGBIEN", "Giang Biên"),
    ("LONGBIEN", "Long Biên"),
    ("NGOCLAM", "Ngọc Lâm"),
    ("NGOCTHUY", "Ngọc Thụy"),
    ("PHUCDONG", "Phúc Đồng"),
    ("PHUCLOI", "Phúc Lợi"),
    ("SAIDONG", "Sài Đồng"),
    ("THACHBAN", "Thạch Bàn"),
    ("THUONGTHANH", "Thượng Thanh"),
    ("VIETHUNG", "Việt Hưng"),
]
PARTY_DEPTS = [
    ("QU-VP", "Văn phòng Quận ủy"),
    ("QU-BTC", "Ban Tổ chức Quận ủy"),
    ("QU-BTG", "Ban Tuyên giáo Quận ủy"),
    ("QU-BDV", "Ban Dân vận Quận ủy"),
    ("QU-UBKT", "Ủy ban Kiểm tra Quận ủy"),
    ("MTTQ", "Ủy ban MTTQ quận"),
    ("HPN", "Hội Liên hiệp Phụ nữ quận"),
    ("QD", "Quận đoàn Long Biên"),
]
GOV_DEPTS = [
    ("UB-VP", "Văn phòng HĐND-UBND quận"),
    ("UB-NV", "Phòng Nội vụ"),
    ("UB-TCKH", "Phòng Tài chính - Kế hoạch"),
    ("UB-GDDT", "Phòng Giáo dục và Đào tạo"),
    ("UB-YT", "Phòng Y tế"),
    ("UB-TP", "Phòng Tư pháp"),
    ("UB-VHTT", "Phòng Văn hóa và Thông tin"),
    ("UB-QLDT", "Phòng Quản lý đô thị"),
]
HEALTH = "Trung tâm Y tế quận Long Biên, 024 3872 1234"


@dataclass(frozen=True)
class UnitRow:
    unit_id: str
    name: str
    kind: str
    parent_id: str
    health_contact: str = ""


@dataclass(frozen=True)
class StaffRow:
    staff_id: str
    full_name: str
    phone: str  # as written in the file
    stored_phone: str  # what the import must store: +84…
    unit_id: str
    position: str
    position_group: str
    roles: str
    language: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.staff_id,
            self.full_name,
            self.phone,
            self.unit_id,
            self.position,
            self.position_group,
            self.roles,
            self.language,
        )


# ------------------------------------------------------------------------------------ units


def make_units(total: int) -> list[UnitRow]:
    """Root, 30 departments and wards under it, the rest below (wards hold residential groups)."""
    units = [UnitRow("LB", "Quận Long Biên", "other", "", HEALTH)]
    units += [UnitRow(code, name, "party", "LB", HEALTH) for code, name in PARTY_DEPTS]
    units += [UnitRow(code, name, "government", "LB", HEALTH) for code, name in GOV_DEPTS]
    units += [
        UnitRow(f"P-{code}", f"Phường {name}", "ward", "LB", ward_health(name))
        for code, name in WARDS
    ]
    below = list(_units_below(units))
    return units + below[: total - len(units)]


def ward_health(name: str) -> str:
    return f"Trạm Y tế phường {name}, 024 3872 {zlib.crc32(name.encode()) % 9000 + 1000}"


def _units_below(top: list[UnitRow]) -> Iterator[UnitRow]:
    """Round-robin over wards and departments, so any cut keeps the tree balanced."""
    for n in range(1, 1000):
        for code, name in WARDS:
            yield from _ward_children(code, name, n)
        gov = GOV_DEPTS[n % len(GOV_DEPTS)]
        yield UnitRow(f"{gov[0]}-{n:03d}", f"Trường {_school_level(n)} số {n}", "school", "UB-GDDT")
        party = PARTY_DEPTS[n % len(PARTY_DEPTS)]
        yield UnitRow(f"{party[0]}-CB{n:03d}", f"Chi bộ {party[1]} số {n}", "party", party[0])


def _ward_children(code: str, name: str, n: int) -> Iterator[UnitRow]:
    ward, health = f"P-{code}", ward_health(name)
    if n == 1:
        yield UnitRow(f"{ward}-DU", f"Văn phòng Đảng ủy phường {name}", "party", ward, health)
        yield UnitRow(
            f"{ward}-UBND", f"Văn phòng HĐND-UBND phường {name}", "government", ward, health
        )
        yield UnitRow(
            f"{ward}-TYT", f"Trạm Y tế phường {name}", "public_service", f"{ward}-UBND", health
        )
    elif n % 4 == 0:
        yield UnitRow(
            f"{ward}-TR{n:03d}",
            f"Trường {_school_level(n)} {name} {n // 4}",
            "school",
            f"{ward}-UBND",
            health,
        )
    elif n % 4 == 1:
        yield UnitRow(
            f"{ward}-CB{n:03d}",
            f"Chi bộ tổ dân phố {n} phường {name}",
            "party",
            f"{ward}-DU",
            health,
        )
    else:
        yield UnitRow(f"{ward}-TDP{n:03d}", f"Tổ dân phố số {n}", "ward", ward, health)


def _school_level(n: int) -> str:
    return ("Mầm non", "Tiểu học", "THCS")[n % 3]


# ------------------------------------------------------------------------------------ staff


class StaffMaker:
    def __init__(self, rng: random.Random, total: int) -> None:
        self.rng = rng
        self.numbers = iter(rng.sample(range(10_000_000), total + 10_000))

    def name(self) -> str:
        female = self.rng.random() < 0.5
        middle = self.rng.choice(MIDDLES_F if female else MIDDLES_M)
        given = self.rng.choice(GIVEN_F if female else GIVEN_M)
        if self.rng.random() < 0.3:
            middle += " " + self.rng.choice(MIDDLES_F if female else MIDDLES_M)
        return f"{self.rng.choice(SURNAMES)} {middle} {given}"

    def phone(self) -> tuple[str, str]:
        significant = f"{self.rng.choice(MOBILE_PREFIXES)}{next(self.numbers):07d}"
        return written_phone(significant, self.rng.randrange(7)), f"+84{significant}"


def written_phone(sig: str, form: int) -> str:
    spaced = f"0{sig[:3]} {sig[3:6]} {sig[6:]}"
    return (
        spaced,
        spaced.replace(" ", "."),
        spaced.replace(" ", "-"),
        f"0{sig}",
        f"+84{sig}",
        f"84{sig}",
        f"(+84) {sig[:3]} {sig[3:6]} {sig[6:]}",
    )[form]


def unit_sizes(units: list[UnitRow], total: int, rng: random.Random) -> list[int]:
    weights = [rng.uniform(0.4, 1.6) * (3 if u.parent_id in ("", "LB") else 1) for u in units]
    scale = (total - 4 * len(units)) / sum(weights)
    sizes = [4 + int(w * scale) for w in weights]
    for index in range(total - sum(sizes)):
        sizes[index % len(sizes)] += 1
    return sizes


def make_staff(units: list[UnitRow], total: int, maker: StaffMaker) -> list[StaffRow]:
    staff: list[StaffRow] = []
    for unit, size in zip(units, unit_sizes(units, total, maker.rng), strict=True):
        for index in range(size):
            staff.append(_person(maker, unit, index))
    return _give_district_roles(staff)


def _person(maker: StaffMaker, unit: UnitRow, index: int) -> StaffRow:
    phone, stored = maker.phone()
    group, position, roles = _job(unit, index)
    language = "en" if maker.rng.random() < 0.01 else ("vi" if maker.rng.random() < 0.5 else "")
    return StaffRow(
        f"{unit.unit_id}-{index + 1:03d}",
        maker.name(),
        phone,
        stored,
        unit.unit_id,
        position,
        group,
        roles,
        language,
    )


LEADERS = {
    "party": ("party_deputy", "Trưởng ban", "Phó Trưởng ban"),
    "government": ("dept_head", "Trưởng phòng", "Phó Trưởng phòng"),
    "school": ("school_head", "Hiệu trưởng", "Phó Hiệu trưởng"),
    "public_service": ("dept_head", "Giám đốc", "Phó Giám đốc"),
    "ward": ("staff", "Tổ trưởng tổ dân phố", "Tổ phó tổ dân phố"),
}
ROOT_LEADERS = [
    ("top_leader", "Bí thư Quận ủy", "unit_head;party_secretary"),
    (
        "district_standing",
        "Phó Bí thư Thường trực Quận ủy",
        "deputy_head;standing_deputy_secretary",
    ),
    ("district_standing", "Chủ tịch UBND quận", "ubnd_chair"),
    ("district_standing", "Phó Chủ tịch UBND quận (văn hóa - xã hội)", "vice_chair_education"),
    ("district_standing", "Phó Chủ tịch UBND quận (kinh tế)", "ubnd_vice_chair_office"),
    ("district_standing", "Chủ tịch HĐND quận", ""),
]
STAFF_TITLES = {
    "party": ["Chuyên viên", "Cán sự", "Chuyên viên chính"],
    "government": ["Chuyên viên", "Công chức", "Chuyên viên chính", "Nhân viên văn thư"],
    "school": ["Giáo viên", "Giáo viên", "Giáo viên", "Nhân viên y tế học đường", "Kế toán"],
    "public_service": ["Y sĩ", "Điều dưỡng", "Bác sĩ", "Nữ hộ sinh"],
    "ward": ["Tổ viên tổ Covid cộng đồng", "Công an khu vực", "Chi hội trưởng"],
    "other": ["Chuyên viên"],
}


def _job(unit: UnitRow, index: int) -> tuple[str, str, str]:
    if unit.unit_id == "LB" and index < len(ROOT_LEADERS):
        return ROOT_LEADERS[index]
    if unit.kind == "ward" and unit.parent_id == "LB":
        leaders = [
            ("party_deputy", "Bí thư Đảng ủy phường", "unit_head"),
            ("dept_head", "Chủ tịch UBND phường", "deputy_head"),
        ]
        if index < 2:
            return leaders[index]
    group, head, deputy = LEADERS.get(unit.kind, ("staff", "Trưởng bộ phận", "Phó bộ phận"))
    if index < 2:
        return group, (head, deputy)[index], ("unit_head", "deputy_head")[index]
    titles = STAFF_TITLES[unit.kind]
    return "staff", titles[index % len(titles)], ""


def _give_district_roles(staff: list[StaffRow]) -> list[StaffRow]:
    by_id = {p.staff_id: i for i, p in enumerate(staff)}
    extra = {
        "QU-VP-001": "district_office",
        "UB-VP-003": "admin",
        "UB-VP-004": "admin",
        "UB-VP-005": "duty_officer",
        "UB-YT-003": "health_officer",
    }
    extra |= {f"P-{code}-TYT-003": "health_officer" for code, _ in WARDS}
    for staff_id, role in extra.items():
        person = staff[by_id[staff_id]]
        roles = f"{person.roles};{role}" if person.roles else role
        staff[by_id[staff_id]] = replace(person, roles=roles)
    return staff


def changed_copy(staff: list[StaffRow], maker: StaffMaker) -> list[StaffRow]:
    """1% of the staff changed (name, phone or position), 500 others removed."""
    plain = [i for i, p in enumerate(staff) if not p.roles]
    picked = maker.rng.sample(plain, len(staff) // 100 + 500)
    changed, removed = picked[: len(staff) // 100], set(picked[len(staff) // 100 :])
    result = list(staff)
    for n, index in enumerate(changed):
        result[index] = _changed(result[index], n, maker)
    return [p for i, p in enumerate(result) if i not in removed]


def _changed(person: StaffRow, n: int, maker: StaffMaker) -> StaffRow:
    if n % 3 == 0:
        return replace(person, full_name=maker.name() + " Anh")
    if n % 3 == 1:
        phone, stored = maker.phone()
        return replace(person, phone=phone, stored_phone=stored)
    return replace(person, position=person.position + " (biệt phái)")


# ------------------------------------------------------------------------------------ files


def write_units(path: Path, units: list[UnitRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "name", "kind", "parent_id", "health_contact"])
        writer.writerows((u.unit_id, u.name, u.kind, u.parent_id, u.health_contact) for u in units)


def write_staff_csv(path: Path, staff: list[StaffRow]) -> None:
    """As Excel's 'CSV UTF-8' writes it in Vietnam: BOM, semicolons, CRLF."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(STAFF_HEADER)
        writer.writerows(p.cells() for p in staff)


def write_staff_xlsx(path: Path, staff: list[StaffRow]) -> None:
    """Like a typed sheet: phones written as bare digits are numbers (Excel drops the 0)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Danh sách cán bộ")
    sheet.append(list(STAFF_HEADER))
    for person in staff:
        cells: list[object] = list(person.cells())
        if person.phone.isdigit() and person.phone.startswith("0"):
            cells[2] = int(person.phone)
        sheet.append(cells)
    book.save(path)


# ------------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class Run:
    code: int
    seconds: float
    peak_rss_mb: float
    output: str


def run_import(
    folder: Path,
    db: Path,
    units: Path,
    staff: Path,
    routing: Path,
    *extra: str,
    env_extra: dict[str, str] | None = None,
) -> Run:
    measure, figures = folder / "measure.py", folder / "figures.json"
    measure.write_text(MEASURE_PY, encoding="utf-8")
    argv = [
        "directory",
        "import",
        "--units",
        str(units),
        "--staff",
        str(staff),
        "--routing",
        str(routing),
        *extra,
    ]
    env = {**os.environ, "DATABASE_PATH": str(db), "PYTHONPATH": str(ROOT), **(env_extra or {})}
    begin = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(measure), str(figures), *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - begin
    child = json.loads(figures.read_text(encoding="utf-8"))
    output = done.stdout + done.stderr
    return Run(int(child["code"]), seconds, child["maxrss_kib"] / 1024, output)


def imported_district(
    folder: Path, staff_total: int, units_total: int
) -> tuple[Path, list[StaffRow]]:
    """A generated district imported through the real CLI into folder/bench.db (for other benches)."""
    maker = StaffMaker(random.Random(SEED), staff_total)
    units = make_units(units_total)
    staff = make_staff(units, staff_total, maker)
    files = {name: folder / name for name in ("units.csv", "staff.csv", "routing.toml")}
    write_units(files["units.csv"], units)
    write_staff_csv(files["staff.csv"], staff)
    files["routing.toml"].write_text(ROUTING_TOML, encoding="utf-8")
    db = folder / "bench.db"
    run = run_import(folder, db, files["units.csv"], files["staff.csv"], files["routing.toml"])
    if run.code != 0:
        raise SystemExit(run.output[-2000:])
    return db, staff


def check_db(db: Path, staff: list[StaffRow]) -> tuple[int, bool]:
    """Active staff in the database, and whether they are exactly the file's, with its values."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT staff_id, full_name, phone, unit_id, position, position_group FROM staff "
            "WHERE active = 1"
        ).fetchall()
    expected = {
        (p.staff_id, p.full_name, p.stored_phone, p.unit_id, p.position or None, p.position_group)
        for p in staff
    }
    return len(rows), set(rows) == expected


def report(
    scenario: str, run: Run, active: int, matches: bool, args: argparse.Namespace, goal: bool = True
) -> None:
    line: dict[str, object] = {
        "bench": "import_directory",
        "scenario": scenario,
        "staff": args.staff,
        "units": args.units,
        "seconds": round(run.seconds, 2),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
    }
    correct = run.code == 0 and matches
    if goal:
        line |= {"goal_seconds": GOAL_SECONDS, "goal_rss_mb": GOAL_RSS_MB}
        within = run.seconds <= GOAL_SECONDS and run.peak_rss_mb <= GOAL_RSS_MB
        line["ok"] = within and correct
    line |= {"active_staff": active, "db_matches_files": correct}
    print(json.dumps(line, ensure_ascii=False), flush=True)
    if run.code != 0:
        print(run.output[-3000:], file=sys.stderr)


def scenarios(folder: Path, args: argparse.Namespace) -> None:
    maker = StaffMaker(random.Random(SEED), args.staff)
    units = make_units(args.units)
    staff = make_staff(units, args.staff, maker)
    changed = changed_copy(staff, maker)
    files = {
        name: folder / name for name in ("units.csv", "staff.csv", "staff2.csv", "routing.toml")
    }
    write_units(files["units.csv"], units)
    write_staff_csv(files["staff.csv"], staff)
    write_staff_csv(files["staff2.csv"], changed)
    files["routing.toml"].write_text(ROUTING_TOML, encoding="utf-8")
    db = folder / "bench.db"
    plan = [
        ("first_import", files["staff.csv"], (), staff),
        ("dry_run_on_full_db", files["staff2.csv"], ("--dry-run",), staff),
        ("reimport_unchanged", files["staff.csv"], (), staff),
        ("reimport_1pct_changed_and_500_removed", files["staff2.csv"], (), changed),
    ]
    for scenario, staff_file, extra, expected in plan:
        run = run_import(folder, db, files["units.csv"], staff_file, files["routing.toml"], *extra)
        report(scenario, run, *check_db(db, expected), args)
    refused_early(folder, files, args)
    if not args.no_xlsx:
        xlsx = folder / "staff.xlsx"
        write_staff_xlsx(xlsx, staff)
        run = run_import(
            folder, folder / "xlsx.db", files["units.csv"], xlsx, files["routing.toml"]
        )
        report("xlsx_staff", run, *check_db(folder / "xlsx.db", staff), args, goal=False)


def refused_early(folder: Path, files: dict[str, Path], args: argparse.Namespace) -> None:
    """A file over IMPORT_MAX_ROWS (here a tenth of the staff) is refused as soon as the row
    after the limit is read: time and memory stay those of the limit, not of the file."""
    limit = max(1, args.staff // 10)
    db = folder / "refused.db"
    run = run_import(folder, db, files["units.csv"], files["staff.csv"], files["routing.toml"],
                     env_extra={"IMPORT_MAX_ROWS": str(limit)})  # fmt: skip
    line = {"bench": "import_directory", "scenario": "refused_over_the_row_limit",
            "staff": args.staff, "import_max_rows": limit, "seconds": round(run.seconds, 2),
            "peak_rss_mb": round(run.peak_rss_mb, 1), "refused": run.code == 1,
            "limit_named": "IMPORT_MAX_ROWS" in run.output}  # fmt: skip
    print(json.dumps(line, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the .xlsx scenario")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        scenarios(args.keep, args)
        return
    with tempfile.TemporaryDirectory(prefix="khaibao-bench-") as folder:
        scenarios(Path(folder), args)


if __name__ == "__main__":
    main()
