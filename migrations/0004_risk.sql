-- Risk: versioned rubrics (immutable once created), append-only assessments, band
-- overrides that need a second person, and nexus findings.

CREATE TYPE risk_band AS ENUM ('low', 'moderate', 'high', 'critical');

CREATE TABLE rubric_versions (
    version    integer PRIMARY KEY CHECK (version >= 1),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    definition jsonb NOT NULL,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL
);

-- Version 1: the ten criteria of 15 CFR 791.103(c) and the eight connected-software
-- criteria (the same data as src/risk/rubric-v1.json; a test checks they agree).
INSERT INTO rubric_versions (version, name, definition, created_at) VALUES
    (1, 'Rubric v1: 791.103(c) criteria', '{"criteria":[{"code":"c01_nature","name":"Nature and characteristics of the ICTS","source":"791.103(c)(1)","group":"consequence","weight":1.0,"connected_software_only":false,"levels":["Commodity item with no privileged access, niche use","Limited capabilities or use; small US market share","Moderate capabilities or a notable US market share","Privileged access or wide use in sensitive settings","Deep privileged access at scale, or embedded in critical functions"]},{"code":"c02_adversary_control","name":"Degree of foreign-adversary ownership, control, direction or jurisdiction","source":"791.103(c)(2)","group":"threat","weight":1.5,"connected_software_only":false,"levels":["No known adversary ownership, control or jurisdiction","Remote or indirect ties (minor investors, distant suppliers)","Material ties: minority ownership, key facilities or staff in an adversary country","Substantial control or subject to adversary jurisdiction and laws compelling cooperation","Owned, controlled or directed by the adversary or its state entities"]},{"code":"c03_adversary_conduct","name":"Statements and actions of the foreign adversary","source":"791.103(c)(3)","group":"threat","weight":1.0,"connected_software_only":false,"levels":["No relevant statements or actions","General hostile rhetoric unrelated to this ICTS","Documented intent or laws enabling misuse of this kind of ICTS","Documented misuse of comparable ICTS","Documented misuse of this ICTS or supplier"]},{"code":"c04_supplier_conduct","name":"Statements and actions of designers, developers, manufacturers and suppliers","source":"791.103(c)(4)","group":"threat","weight":1.0,"connected_software_only":false,"levels":["Transparent, cooperative, no adverse history","Minor transparency gaps","Refusals to disclose or questionable practices","Documented cooperation with adversary services or deceptive conduct","Documented malicious conduct in the ICTS"]},{"code":"c05_party_conduct","name":"Statements and actions of the parties to the transaction","source":"791.103(c)(5)","group":"threat","weight":0.75,"connected_software_only":false,"levels":["Parties cooperative and transparent","Minor gaps in information provided","Incomplete or inconsistent information","Evasive conduct or structuring to avoid review","Deliberate concealment or false statements"]},{"code":"c06_persistence","name":"Whether the threat is discrete or persistent","source":"791.103(c)(6)","group":"likelihood","weight":1.0,"connected_software_only":false,"levels":["One-off, completed, no continuing access","Limited follow-on contact","Periodic updates or support from the supplier","Continuous connectivity or managed service","Continuous privileged remote control by the supplier"]},{"code":"c07_vulnerability","name":"Nature of the vulnerability","source":"791.103(c)(7)","group":"vulnerability","weight":1.25,"connected_software_only":false,"levels":["No exploitable weakness identified","Weakness hard to exploit, low impact","Exploitable weakness with moderate impact","Readily exploitable weakness (e.g. unsigned updates, hidden access)","Built-in capability to exfiltrate, disable or manipulate"]},{"code":"c08_mitigation","name":"Whether the risk can be addressed by other means","source":"791.103(c)(8)","group":"vulnerability","weight":1.0,"connected_software_only":false,"levels":["Fully addressed by existing controls","Simple, verifiable mitigation available","Mitigation possible with monitoring","Mitigation partial or hard to verify","No credible mitigation short of prohibition"]},{"code":"c09_severity","name":"Severity of the harm","source":"791.103(c)(9)","group":"consequence","weight":1.5,"connected_software_only":false,"levels":["Negligible harm","Limited harm to individuals or one organisation","Significant harm to sensitive data or a sector","Serious harm to critical infrastructure, national security or many US persons","Catastrophic or nationwide harm to essential functions"]},{"code":"c10_likelihood","name":"Likelihood of the harm","source":"791.103(c)(10)","group":"likelihood","weight":1.5,"connected_software_only":false,"levels":["Remote","Unlikely","Plausible","Likely","Near certain or already occurring"]},{"code":"s01_military_support","name":"Owner''s support of the adversary''s military or intelligence","source":"791.103(c), connected software","group":"threat","weight":1.0,"connected_software_only":true,"levels":["None known","Indirect commercial ties","Contracts or cooperation with state entities","Known support of military or intelligence activities","Integral part of military or intelligence activities"]},{"code":"s02_surveillance","name":"Use of the application for surveillance","source":"791.103(c), connected software","group":"threat","weight":1.0,"connected_software_only":true,"levels":["No surveillance capability","Telemetry beyond need","Collection that could support surveillance","Documented surveillance use of comparable apps","Documented surveillance use of this app"]},{"code":"s03_jurisdiction","name":"Owner subject to the adversary''s jurisdiction","source":"791.103(c), connected software","group":"threat","weight":1.0,"connected_software_only":true,"levels":["Not subject","Minor presence in an adversary country","Operations or staff subject to adversary laws","Headquarters or data under adversary jurisdiction","Owned by the adversary state"]},{"code":"s04_malicious_cyber","name":"Malicious cyber activity by the owner or the application","source":"791.103(c), connected software","group":"threat","weight":1.0,"connected_software_only":true,"levels":["None known","Unverified reports","Credible reports of risky behaviour","Documented malicious behaviour of comparable apps","Documented malicious activity of this app or owner"]},{"code":"s05_third_party_audit","name":"Lack of reliable third-party auditing","source":"791.103(c), connected software","group":"vulnerability","weight":0.75,"connected_software_only":true,"levels":["Independent audits, fully verified","Regular audits with minor limits","Audits limited in scope","Audits not independent or not permitted in key areas","No audit possible"]},{"code":"s06_data_scope","name":"Scope and sensitivity of the data collected","source":"791.103(c), connected software","group":"consequence","weight":1.0,"connected_software_only":true,"levels":["No personal data","Limited non-sensitive personal data","Personal data at scale","Sensitive personal data (health, location, biometrics)","Sensitive data of government personnel or critical functions"]},{"code":"s07_user_scale","name":"Number and sensitivity of users","source":"791.103(c), connected software","group":"consequence","weight":1.0,"connected_software_only":true,"levels":["Few users, none sensitive","Thousands of users","Hundreds of thousands of users","Millions of users or sensitive user groups","Tens of millions, including government and critical-infrastructure users"]},{"code":"s08_verifiable_mitigation","name":"Lack of verifiable mitigation","source":"791.103(c), connected software","group":"vulnerability","weight":0.75,"connected_software_only":true,"levels":["Verified mitigation in place","Mitigation verifiable with modest effort","Mitigation partly verifiable","Mitigation hard to verify","No verifiable mitigation"]}],"thresholds":{"moderate":25.0,"high":50.0,"critical":75.0}}'::jsonb, '2021-03-22T00:00:00Z');

CREATE TABLE assessments (
    id                 uuid PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases (id),
    rubric_version     integer NOT NULL REFERENCES rubric_versions (version),
    connected_software boolean NOT NULL,
    scores             jsonb NOT NULL,
    contributions      jsonb NOT NULL,
    composite          numeric(5, 2) NOT NULL CHECK (composite BETWEEN 0 AND 100),
    band               risk_band NOT NULL,
    narrative          text NOT NULL CHECK (length(narrative) <= 20000),
    author             uuid NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL
);
CREATE INDEX assessments_case_idx ON assessments (case_id, created_at DESC, id DESC);

-- A proposed band other than the computed one takes effect only when a supervisor who is
-- not the proposer approves it.
CREATE TABLE band_overrides (
    id               uuid PRIMARY KEY,
    assessment_id    uuid NOT NULL REFERENCES assessments (id),
    proposed_band    risk_band NOT NULL,
    justification    text NOT NULL CHECK (length(justification) BETWEEN 1 AND 20000),
    proposed_by      uuid NOT NULL REFERENCES users (id),
    proposed_at      timestamptz NOT NULL,
    decided_by       uuid REFERENCES users (id),
    decided_at       timestamptz,
    approved         boolean,
    decision_comment text,
    CHECK (decided_by IS NULL OR decided_by <> proposed_by),
    CHECK ((decided_by IS NULL) = (approved IS NULL))
);
CREATE UNIQUE INDEX band_overrides_one_open ON band_overrides (assessment_id) WHERE decided_by IS NULL;

-- The foreign-adversary nexus question, answered per criterion with evidence.
CREATE TABLE nexus_findings (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    criteria   jsonb NOT NULL,
    conclusion question_answer NOT NULL,
    summary    text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    author     uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX nexus_findings_case_idx ON nexus_findings (case_id, created_at DESC, id DESC);

-- Rubric versions, assessments and nexus findings never change once written.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER rubric_versions_immutable BEFORE UPDATE OR DELETE ON rubric_versions FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER assessments_immutable BEFORE UPDATE OR DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER nexus_findings_immutable BEFORE UPDATE OR DELETE ON nexus_findings FOR EACH ROW EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE ON rubric_versions, assessments, nexus_findings FROM icts_app;
REVOKE DELETE ON band_overrides FROM icts_app;
