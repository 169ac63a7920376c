-- The travel register lists the requests made in a period: find them by when they were made.
CREATE INDEX travel_created ON travel_requests (created_at);
