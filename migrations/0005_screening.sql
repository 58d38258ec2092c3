-- Screening against the Consolidated Screening List: dated list versions, their entries,
-- and the hits found on parties (confirmed or dismissed by an analyst, with a reason).

CREATE TABLE screening_lists (
    version     integer PRIMARY KEY CHECK (version >= 1),
    source_file text NOT NULL,
    sha256      bytea NOT NULL,
    entries     integer NOT NULL,
    imported_by uuid REFERENCES users (id),
    imported_at timestamptz NOT NULL
);

CREATE TABLE screening_entries (
    list_version            integer NOT NULL REFERENCES screening_lists (version),
    entry_no                integer NOT NULL,
    source                  text NOT NULL,
    entity_number           text NOT NULL DEFAULT '',
    type                    text NOT NULL DEFAULT '',
    programs                text NOT NULL DEFAULT '',
    name                    text NOT NULL,
    title                   text NOT NULL DEFAULT '',
    addresses               text NOT NULL DEFAULT '',
    federal_register_notice text NOT NULL DEFAULT '',
    start_date              text NOT NULL DEFAULT '',
    end_date                text NOT NULL DEFAULT '',
    alt_names               text NOT NULL DEFAULT '',
    source_list_url         text NOT NULL DEFAULT '',
    PRIMARY KEY (list_version, entry_no)
);

CREATE TABLE screening_hits (
    id            uuid PRIMARY KEY,
    party_id      uuid NOT NULL REFERENCES parties (id),
    list_version  integer NOT NULL,
    entry_no      integer NOT NULL,
    party_name    text NOT NULL,
    matched_name  text NOT NULL,
    score         real NOT NULL CHECK (score BETWEEN 0 AND 1),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
    reason        text,
    decided_by    uuid REFERENCES users (id),
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL,
    FOREIGN KEY (list_version, entry_no) REFERENCES screening_entries (list_version, entry_no),
    UNIQUE (party_id, list_version, entry_no),
    CHECK ((status = 'open') = (decided_by IS NULL)),
    CHECK (status = 'open' OR length(coalesce(reason, '')) > 0)
);
CREATE INDEX screening_hits_party_idx ON screening_hits (party_id, list_version);

-- Which list version an assessment saw.
ALTER TABLE assessments ADD COLUMN screening_list_version integer REFERENCES screening_lists (version);

REVOKE UPDATE, DELETE ON screening_lists, screening_entries FROM icts_app;
REVOKE DELETE ON screening_hits FROM icts_app;
