-- Rows the last trusted read could not use (no ID, or an ID repeated), told
-- to the user until a read finds none. Kept apart from `warning`: a note
-- holds nothing back, so dismissing it must not lift the shrink check the
-- way dismissing a shrink warning does.
ALTER TABLE row_state ADD COLUMN note TEXT;
