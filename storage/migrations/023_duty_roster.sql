-- The 24/7 duty roster (duty.csv): who is on duty for a unit from when to when. An import
-- replaces the shifts of the (unit, day) pairs it covers.
CREATE TABLE duty_shifts (
    id        INTEGER PRIMARY KEY,
    unit_id   TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    staff_id  TEXT NOT NULL,
    phone     TEXT              -- a duty phone for the shift; NULL: the person's own
);
CREATE INDEX duty_shifts_unit_start ON duty_shifts (unit_id, starts_at);
-- The gap check (every sweep from 16:00): the units with shifts today or tomorrow.
CREATE INDEX duty_shifts_start ON duty_shifts (starts_at);

-- The days whose roster was checked for gaps (told to the unit head the day before, once).
CREATE TABLE duty_gap_checks (
    unit_id TEXT NOT NULL,
    day     TEXT NOT NULL,  -- YYYY-MM-DD, local
    PRIMARY KEY (unit_id, day)
);
