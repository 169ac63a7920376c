"""The 24/7 duty roster: loading duty.csv, /duty, and who is on duty now for alerts."""
