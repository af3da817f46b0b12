-- 0010 (issue 13): ad spend, for cost per conversion in the marketers'
-- report. `tally spend import FILE` writes it; a row is the spend of one
-- campaign on one platform on one day, as the platform's ads manager
-- reports it. Importing the same day, platform and campaign again replaces
-- the row; every import leaves one spend_import entry in audit_log.
--   campaign      the value that arrives as utm_campaign; it passed the
--                 intake's campaign check (package campaign), never ''
--   spend_micros  the amount in millionths of the currency's unit
--                 (12.50 is 12500000): an integer, so it is stored and
--                 summed exactly
--   currency      ISO 4217 code, upper case
--   imported_at   when the import that wrote the row ran
CREATE TABLE spend (
    day          TEXT NOT NULL,
    platform     TEXT NOT NULL CHECK (platform IN ('meta', 'google', 'tiktok', 'linkedin')),
    campaign     TEXT NOT NULL CHECK (campaign <> ''),
    spend_micros INTEGER NOT NULL CHECK (spend_micros >= 0),
    currency     TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    imported_at  TEXT NOT NULL,
    PRIMARY KEY (day, platform, campaign)
) WITHOUT ROWID;
