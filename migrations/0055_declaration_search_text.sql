-- Finding a declaration by a part of its number or of an item it covers (a make, model and
-- trim, or a part number) among a million: the text searched, one immutable function of
-- the row (array_to_string is only stable in general, but not for text[]), so that the
-- trigram index of 0056 can hold it. The declaration list matches it, or its filer by the
-- parties' own trigram index (0014), instead of testing every row.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION declaration_search_text(number text, covers text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT number || ' ' || array_to_string(covers, ' ') $$;
