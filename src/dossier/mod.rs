//! The case dossier: everything about one case, exported so that it can be verified after
//! it leaves the system (format: `docs/DOSSIER.md`). It gathers from every domain (the case,
//! its parties, determinations, proceedings, mitigation, documents) and from the audit
//! log, so it sits above them all: no domain, and not the audit log's core, imports it.
//! [`service`] gathers a case's dossier for a reader and seals it.
//!
//! The dossier is one compact JSON document `{"format", "parts", "manifest", "signature"}`.
//! `parts` holds the case record, its parties and their nexus facts, screening hits and list
//! versions, assessments, nexus findings, determinations with their revisions, returns,
//! signatures and content hashes, agency notices, service, submissions, mitigation measures
//! and compliance checks, documents' metadata and hashes (optionally their content), notes,
//! requests for information, extensions, every audit event of the case with its chain
//! hashes, and the signed checkpoint of the chain head taken at export. `manifest` has the
//! sha256 of the canonical JSON of every part; `signature` is the Ed25519 signature of the
//! canonical manifest with the checkpoint key. [`verify`] checks all of it with no database
//! and no network.

mod db;
pub mod service;

use crate::ids::{CaseId, PartyId};
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::audit::checkpoint::{self, Checkpoint, Checkpointer};
use crate::audit::{StoredEvent, event_from_json, recompute_hash};
use crate::determinations::{Signed, canonical_json, content_hash};

/// The format name written into every dossier.
pub const FORMAT: &str = "icts-review-dossier/1";

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The sha256 of a part: of its canonical JSON.
pub fn part_hash(v: &Value) -> String {
    sha_hex(canonical_json(v).as_bytes())
}

/// Gathers the parts of a case's dossier (everything but the checkpoint).
pub async fn gather(
    conn: &mut PgConnection,
    case_id: CaseId,
    include_content: bool,
) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    let mut parts = BTreeMap::new();
    let case: Option<Value> = db::case(&mut *conn, case_id).await?;
    parts.insert("case".into(), case.unwrap_or(Value::Null));
    parts.extend(db::case_parts(&mut *conn, case_id, include_content).await?);
    let events: Vec<StoredEvent> = crate::audit::of_case(conn, case_id).await?;
    parts.insert("audit_events".into(), serde_json::to_value(&events).expect("events serialise"));
    Ok(parts)
}

/// Gathers the parts of a party's dossier as a filer, across both dockets (everything but
/// the checkpoint): the party, its owners, its nexus evidence and screening hits, the cases
/// it is linked to (their numbers: a case's own dossier holds the case), its filer roles,
/// declarations with their history and questions, its enforcement matters with their acts,
/// and the audit events of the party, its declarations and its matters.
pub async fn gather_party(conn: &mut PgConnection, party: PartyId) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    let mut parts = db::party_parts(&mut *conn, party).await?;
    let events: Vec<StoredEvent> = crate::audit::of_party(&mut *conn, party).await?;
    parts.insert("people".into(), people(conn, &events).await?);
    parts.insert("audit_events".into(), serde_json::to_value(&events).expect("events serialise"));
    Ok(parts)
}

/// Who acted in `events`: each person's id, name and role, by id.
async fn people(conn: &mut PgConnection, events: &[StoredEvent]) -> Result<Value, sqlx::Error> {
    let ids: Vec<Uuid> = events.iter().filter_map(|e| e.actor_id.map(|a| a.0)).collect();
    db::people(conn, &ids).await
}

/// Gathers the parts of an enforcement matter's dossier (everything but the checkpoint):
/// the matter, its acts, the party it concerns, the declaration it names (if any), the
/// case it names by number only (a case's own dossier holds the case), who acted on it,
/// and its audit events.
pub async fn gather_matter(
    conn: &mut PgConnection,
    matter: crate::ids::MatterId,
) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    let mut parts = db::matter_parts(&mut *conn, matter).await?;
    let events: Vec<StoredEvent> = crate::audit::of_matter(&mut *conn, matter).await?;
    parts.insert("people".into(), people(conn, &events).await?);
    parts.insert("audit_events".into(), serde_json::to_value(&events).expect("events serialise"));
    Ok(parts)
}

/// A finished dossier.
pub struct Dossier {
    /// The compact JSON document.
    pub json: Vec<u8>,
    /// The parts (for the CSV and printable forms).
    pub parts: BTreeMap<String, Value>,
    /// sha256 of the canonical manifest.
    pub manifest_sha256: String,
    /// The checkpoint taken at export.
    pub checkpoint: Checkpoint,
}

/// The hash of each part ([`part_hash`]) and the hash of all of them as one object (what
/// `part_hash` of that object gives), from one canonical pass over the parts.
pub fn hash_parts(parts: &BTreeMap<String, Value>) -> (BTreeMap<String, String>, String) {
    let mut whole = vec![b'{'];
    let mut hashes = BTreeMap::new();
    let mut part = Vec::new();
    // A BTreeMap iterates in the order canonical JSON sorts keys.
    for (i, (k, v)) in parts.iter().enumerate() {
        part.clear();
        crate::canonical::write(&mut part, v);
        hashes.insert(k.clone(), sha_hex(&part));
        if i > 0 {
            whole.push(b',');
        }
        serde_json::to_writer(&mut whole, k).expect("strings serialise");
        whole.push(b':');
        whole.extend_from_slice(&part);
    }
    whole.push(b'}');
    (hashes, sha_hex(&whole))
}

/// Seals gathered parts: adds the header and the checkpoint, the manifest and its signature.
pub fn seal(parts: BTreeMap<String, Value>, header: Value, checkpoint: Checkpoint, signer: &Checkpointer) -> Dossier {
    let (hashes, _) = hash_parts(&parts);
    seal_hashed(parts, hashes, header, checkpoint, signer)
}

/// [`seal`], given the hashes of the gathered parts ([`hash_parts`]).
pub fn seal_hashed(
    mut parts: BTreeMap<String, Value>,
    mut manifest: BTreeMap<String, String>,
    header: Value,
    checkpoint: Checkpoint,
    signer: &Checkpointer,
) -> Dossier {
    let checkpoint_part = serde_json::to_value(&checkpoint).expect("checkpoints serialise");
    manifest.insert("header".into(), part_hash(&header));
    manifest.insert("checkpoint".into(), part_hash(&checkpoint_part));
    parts.insert("header".into(), header);
    parts.insert("checkpoint".into(), checkpoint_part);
    let manifest_value = serde_json::to_value(&manifest).expect("maps serialise");
    let canonical_manifest = canonical_json(&manifest_value);
    let signature = signer.key.as_ref().map(|k| {
        json!({
            "public_key": hex::encode(k.verifying_key().as_bytes()),
            "manifest_signature": hex::encode(k.sign(canonical_manifest.as_bytes()).to_bytes()),
        })
    });
    // The document as `json!` would write it (keys in order), without copying the parts.
    #[derive(serde::Serialize)]
    struct Document<'a> {
        format: &'a str,
        manifest: &'a Value,
        parts: &'a BTreeMap<String, Value>,
        signature: &'a Option<Value>,
    }
    let doc = Document { format: FORMAT, manifest: &manifest_value, parts: &parts, signature: &signature };
    Dossier {
        json: serde_json::to_vec(&doc).expect("dossiers serialise"),
        manifest_sha256: sha_hex(canonical_manifest.as_bytes()),
        parts,
        checkpoint,
    }
}

/// The header part.
pub fn header(
    case_id: CaseId,
    docket: &str,
    by: (crate::ids::UserId, &str, &str),
    at: OffsetDateTime,
    marking: &str,
    include_content: bool,
) -> Value {
    json!({
        "format": FORMAT,
        "case_id": case_id,
        "docket_number": docket,
        "generated_at": at.format(&Rfc3339).expect("UTC times format"),
        "generated_by": {"id": by.0, "name": by.1, "role": by.2},
        "marking": marking,
        "document_contents_included": include_content,
    })
}

/// The header part of a party's dossier.
pub fn party_header(
    party: PartyId,
    legal_name: &str,
    by: (crate::ids::UserId, &str, &str),
    at: OffsetDateTime,
    marking: &str,
) -> Value {
    json!({
        "format": FORMAT,
        "party_id": party,
        "legal_name": legal_name,
        "generated_at": at.format(&Rfc3339).expect("UTC times format"),
        "generated_by": {"id": by.0, "name": by.1, "role": by.2},
        "marking": marking,
        "document_contents_included": false,
    })
}

/// The header part of an enforcement matter's dossier.
pub fn matter_header(
    matter: crate::ids::MatterId,
    number: &str,
    by: (crate::ids::UserId, &str, &str),
    at: OffsetDateTime,
    marking: &str,
) -> Value {
    json!({
        "format": FORMAT,
        "matter_id": matter,
        "matter_number": number,
        "generated_at": at.format(&Rfc3339).expect("UTC times format"),
        "generated_by": {"id": by.0, "name": by.1, "role": by.2},
        "marking": marking,
        "document_contents_included": false,
    })
}

/// What the audit events of a dossier may be about: its case; its enforcement matter (named
/// by its header); or its party, the party's
/// declarations, its enforcement matters, its specific authorization applications, its
/// reliances on general authorizations, its applications for GA 3's list and its requests
/// for advisory opinions (each read from the verified parts).
fn subjects(parts: &serde_json::Map<String, Value>) -> BTreeSet<String> {
    let ids = |part: &str| -> Vec<String> {
        parts
            .get(part)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let matter = parts.get("header").and_then(|h| h["matter_id"].as_str());
    match (parts.get("case").and_then(|c| c["id"].as_str()), matter) {
        (Some(case), _) => BTreeSet::from([case.to_string()]),
        (None, Some(matter)) => BTreeSet::from([matter.to_string()]),
        (None, None) => [
            "party",
            "declarations",
            "enforcement_matters",
            "authorization_applications",
            "ga_reliances",
            "ga_suppliers",
            "opinion_requests",
        ]
        .into_iter()
        .flat_map(ids)
        .collect(),
    }
}

/// What offline verification found.
#[derive(Debug, Default)]
pub struct Report {
    /// What holds, one line each.
    pub ok: Vec<String>,
    /// What does not, one line each, naming the part and item.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether everything holds.
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

fn hex_of_bytea(v: &Value) -> Option<String> {
    v.as_str().and_then(|s| s.strip_prefix("\\x")).map(str::to_string)
}

/// Verifies a dossier with no database and no network. `expected` is the office's
/// published public key; without it the key embedded in the dossier is used (and said so).
pub fn verify(bytes: &[u8], expected: Option<&VerifyingKey>) -> Report {
    let mut r = Report::default();
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            r.problems.push(format!("the file is not valid JSON: {e}"));
            return r;
        }
    };
    let Some(top) = doc.as_object() else {
        r.problems.push("the file is not a dossier (not a JSON object)".into());
        return r;
    };
    let keys: BTreeSet<&str> = top.keys().map(String::as_str).collect();
    if keys != BTreeSet::from(["format", "parts", "manifest", "signature"]) {
        r.problems.push(format!("unexpected top-level members: {keys:?}"));
    }
    if doc["format"] != FORMAT {
        r.problems.push(format!("format is {}, expected {FORMAT:?}", doc["format"]));
    }
    let (Some(parts), Some(manifest)) = (doc["parts"].as_object(), doc["manifest"].as_object()) else {
        r.problems.push("parts or manifest missing".into());
        return r;
    };
    // Every part against the manifest.
    for (name, v) in parts {
        match manifest.get(name).and_then(Value::as_str) {
            None => r.problems.push(format!("part {name}: not in the manifest")),
            Some(h) if h == part_hash(v) => {}
            Some(_) => r.problems.push(format!("part {name}: its sha256 does not match the manifest (altered)")),
        }
    }
    for name in manifest.keys() {
        if !parts.contains_key(name) {
            r.problems.push(format!("manifest: lists part {name}, which is missing"));
        }
    }
    if r.problems.is_empty() {
        r.ok.push(format!("{} parts match the manifest", parts.len()));
    }
    // The manifest's signature.
    let canonical_manifest = canonical_json(&doc["manifest"]);
    let mut signer_key: Option<VerifyingKey> = None;
    match &doc["signature"] {
        Value::Null => r.problems.push(
            "signature: the dossier is not signed (no audit signing key was configured); its parts are consistent but nothing proves where they came from".into(),
        ),
        s => {
            let pk = s["public_key"].as_str().unwrap_or("");
            match checkpoint::parse_public(pk) {
                Err(e) => r.problems.push(format!("signature.public_key: {e}")),
                Ok(k) => {
                    if let Some(exp) = expected
                        && exp.as_bytes() != k.as_bytes()
                    {
                        r.problems.push(format!(
                            "signature.public_key: signed with {pk}, not with the expected key {}",
                            hex::encode(exp.as_bytes())
                        ));
                    }
                    let sig = s["manifest_signature"]
                        .as_str()
                        .filter(|h| h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
                        .and_then(|h| hex::decode(h).ok())
                        .and_then(|b| Signature::from_slice(&b).ok());
                    match sig {
                        None => r.problems.push("signature.manifest_signature: not a 64-byte hex signature".into()),
                        Some(sig) => match k.verify(canonical_manifest.as_bytes(), &sig) {
                            Ok(()) => r.ok.push(format!(
                                "manifest signed by {pk}{}",
                                if expected.is_some() { " (the expected key)" } else { " (key embedded in the file; pass --public-key to pin it)" }
                            )),
                            Err(_) => r.problems.push("signature.manifest_signature: does not match the manifest".into()),
                        },
                    }
                    signer_key = Some(k);
                }
            }
        }
    }
    // The checkpoint of the chain head.
    let mut checkpoint_seq = i64::MAX;
    match serde_json::from_value::<Checkpoint>(parts.get("checkpoint").cloned().unwrap_or(Value::Null)) {
        Err(e) => r.problems.push(format!("part checkpoint: not a checkpoint ({e})")),
        Ok(cp) => {
            checkpoint_seq = cp.seq;
            match cp.signature_valid(expected.or(signer_key.as_ref())) {
                Ok(()) => r.ok.push(format!("checkpoint of the chain at event {} ({}) is signed", cp.seq, cp.at)),
                Err(e) => r.problems.push(format!("part checkpoint: {e}")),
            }
        }
    }
    // Every audit event against its own hash, in chain order, within the checkpoint.
    let subjects = subjects(parts);
    let mut last_seq = 0i64;
    let mut events_ok = 0;
    for (i, e) in
        parts.get("audit_events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        match event_from_json(e) {
            Err(err) => r.problems.push(format!("audit_events[{i}]: unreadable ({err})")),
            Ok(ev) => {
                if recompute_hash(&ev).as_slice() != ev.hash.as_slice() {
                    r.problems
                        .push(format!("audit_events[{i}] (event {}): its content does not match its hash", ev.seq));
                } else if ev.seq <= last_seq {
                    r.problems.push(format!("audit_events[{i}] (event {}): out of chain order", ev.seq));
                } else if ev.seq > checkpoint_seq {
                    r.problems.push(format!("audit_events[{i}] (event {}): after the checkpoint", ev.seq));
                } else if !ev.object_id.as_ref().is_some_and(|o| subjects.contains(o)) {
                    r.problems
                        .push(format!("audit_events[{i}] (event {}): not an event of this dossier's subject", ev.seq));
                } else {
                    events_ok += 1;
                }
                last_seq = ev.seq;
            }
        }
    }
    r.ok.push(format!("{events_ok} audit events match their chain hashes"));
    // Signed determinations against their content hashes.
    for (i, d) in
        parts.get("determinations").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        if d["status"] != "signed" {
            continue;
        }
        let uuid = |k: &str| d[k].as_str().and_then(|s| Uuid::parse_str(s).ok());
        let cited: Vec<crate::ids::DocumentId> = d["cited_documents"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().and_then(|s| s.parse().ok())).collect())
            .unwrap_or_default();
        let (Some(id), Some(case), Some(drafted_by)) = (
            uuid("id").map(crate::ids::DeterminationId),
            uuid("case_id").map(CaseId),
            uuid("drafted_by").map(crate::ids::UserId),
        ) else {
            r.problems.push(format!("determinations[{i}]: unreadable"));
            continue;
        };
        let computed = hex::encode(content_hash(&Signed {
            id,
            case_id: case,
            kind: d["kind"].as_str().unwrap_or(""),
            outcome: d["outcome"].as_str().unwrap_or(""),
            revision: d["revision"].as_i64().unwrap_or(-1) as i32,
            content: &d["content"],
            cited_documents: &cited,
            assessment_id: uuid("assessment_id").map(Into::into),
            supersedes: uuid("supersedes").map(Into::into),
            drafted_by,
        }));
        match hex_of_bytea(&d["content_sha256"]) {
            Some(h) if h == computed => r.ok.push(format!(
                "determination {id} ({}) matches its signed content hash",
                d["kind"].as_str().unwrap_or("")
            )),
            _ => r
                .problems
                .push(format!("determinations[{i}] ({id}): the content does not match the signed content_sha256")),
        }
    }
    let docs: BTreeMap<String, String> = parts
        .get("documents")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|d| Some((d["id"].as_str()?.to_string(), hex_of_bytea(&d["sha256"])?))).collect())
        .unwrap_or_default();
    // A determination signed outside the system: its signed copy is the document it names,
    // with the hash recorded when the signature was.
    for (i, d) in
        parts.get("determinations").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        if d["status"] != "signed" || d["outside_signer"].is_null() {
            continue;
        }
        let copy = d["signed_copy_id"].as_str().unwrap_or("");
        match (docs.get(copy), hex_of_bytea(&d["signed_copy_sha256"])) {
            (Some(listed), Some(recorded)) if *listed == recorded => r.ok.push(format!(
                "determination {} was signed outside the system by {}; its signed copy {copy} matches the recorded sha256",
                d["id"].as_str().unwrap_or(""),
                d["outside_signer"].as_str().unwrap_or("")
            )),
            _ => r.problems.push(format!(
                "determinations[{i}]: signed outside the system, but its signed copy {copy} is missing or does not match the recorded sha256"
            )),
        }
    }
    // Document contents, when included, against their hashes.
    for (i, c) in
        parts.get("document_contents").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        let id = c["document_id"].as_str().unwrap_or("");
        let bytes = c["content_base64"]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.replace('\n', "")).ok());
        match (bytes, docs.get(id)) {
            (Some(b), Some(h)) if sha_hex(&b) == *h => r.ok.push(format!("document {id} matches its sha256")),
            _ => r.problems.push(format!("document_contents[{i}] ({id}): does not match the document's sha256")),
        }
    }
    r
}

/// The files of the dossier zip, each a function of the signed JSON: the README, the
/// dossier itself, `manifest.csv` (every part's and every CSV file's sha256) and one CSV per
/// part. Verifying a zip rebuilds them from its verified `dossier.json` and compares bytes,
/// so every file is proven by the one signature.
fn zip_members(
    json: &[u8],
    parts: &BTreeMap<String, Value>,
    manifest_sha256: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = vec![(
        "README.txt".to_string(),
        format!(
            "icts-review case dossier ({FORMAT}).\n\ndossier.json is the signed dossier; every other file is derived from it. Check the zip with `icts-review verify-export dossier.zip --public-key KEY.pub`: it verifies dossier.json and that each file here is exactly what the signed parts give.\nThe CSV files are the same parts for reading in a spreadsheet (cells that could be read as formulas are prefixed with ').\nManifest sha256: {manifest_sha256}\n"
        )
        .into_bytes(),
    )];
    files.push(("dossier.json".into(), json.to_vec()));
    let mut csvs = Vec::new();
    for (name, v) in parts {
        csvs.push((format!("{name}.csv"), part_csv(v)?));
    }
    let mut manifest = csv::Writer::from_writer(Vec::new());
    manifest.write_record(["part or file", "sha256"]).map_err(|e| e.to_string())?;
    for (name, v) in parts {
        manifest.write_record([name.as_str(), &part_hash(v)]).map_err(|e| e.to_string())?;
    }
    for (name, bytes) in &csvs {
        manifest.write_record([name.as_str(), &sha_hex(bytes)]).map_err(|e| e.to_string())?;
    }
    files.push(("manifest.csv".into(), manifest.into_inner().map_err(|e| e.to_string())?));
    files.extend(csvs);
    Ok(files)
}

/// The parts as CSV files in a zip, with the signed JSON dossier itself and a README.
pub fn zip(d: &Dossier) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in zip_members(&d.json, &d.parts, &d.manifest_sha256)? {
            z.start_file(name, opts).map_err(|e| e.to_string())?;
            z.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        z.finish().map_err(|e| e.to_string())?;
    }
    Ok(out.into_inner())
}

/// Checks a dossier zip: its `dossier.json` as [`verify`] does, then every other file
/// against what the signed parts give, naming each file that was altered, added or
/// removed.
pub fn verify_zip(bytes: &[u8], expected_key: Option<&VerifyingKey>) -> Report {
    use std::io::Read;
    let mut r = Report::default();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            r.problems.push(format!("not a readable zip: {e}"));
            return r;
        }
    };
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                r.problems.push(format!("zip member {i}: unreadable: {e}"));
                continue;
            }
        };
        let name = f.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("zip member {i}"));
        let mut buf = Vec::new();
        match f.read_to_end(&mut buf) {
            Ok(_) => {
                found.insert(name, buf);
            }
            Err(e) => r.problems.push(format!("{name}: unreadable: {e}")),
        }
    }
    let Some(json) = found.get("dossier.json").cloned() else {
        r.problems.push("the zip has no dossier.json".into());
        return r;
    };
    let inner = verify(&json, expected_key);
    r.ok.extend(inner.ok.iter().map(|l| format!("dossier.json: {l}")));
    r.problems.extend(inner.problems.iter().map(|l| format!("dossier.json: {l}")));
    let doc: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
    let parts: BTreeMap<String, Value> = match doc["parts"].as_object() {
        Some(p) => p.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        None => return r,
    };
    let manifest_sha256 = sha_hex(canonical_json(&doc["manifest"]).as_bytes());
    let expected = match zip_members(&json, &parts, &manifest_sha256) {
        Ok(m) => m,
        Err(e) => {
            r.problems.push(format!("the parts cannot be rendered: {e}"));
            return r;
        }
    };
    let mut checked = 0;
    for (name, want) in &expected {
        match found.get(name) {
            None => r.problems.push(format!("{name}: missing from the zip")),
            Some(got) if got == want => checked += 1,
            Some(_) => r.problems.push(format!("{name}: differs from what the signed dossier gives (altered)")),
        }
    }
    for name in found.keys() {
        if !expected.iter().any(|(n, _)| n == name) {
            r.problems.push(format!("{name}: not a file of the dossier (added)"));
        }
    }
    if checked == expected.len() {
        r.ok.push(format!("all {checked} files of the zip match the signed dossier"));
    }
    r
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A part as a table: an array of objects gets one column per key; an object gets
/// field/value rows.
pub fn table(v: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    match v {
        Value::Array(items) => {
            let mut cols: Vec<String> = Vec::new();
            for it in items {
                if let Some(o) = it.as_object() {
                    for k in o.keys() {
                        if !cols.contains(k) {
                            cols.push(k.clone());
                        }
                    }
                }
            }
            let rows = items.iter().map(|it| cols.iter().map(|c| cell(&it[c.as_str()])).collect()).collect();
            (cols, rows)
        }
        Value::Object(o) => {
            (vec!["field".into(), "value".into()], o.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect())
        }
        other => (vec!["value".into()], vec![vec![cell(other)]]),
    }
}

fn part_csv(v: &Value) -> Result<Vec<u8>, String> {
    let (cols, rows) = table(v);
    let mut w = csv::Writer::from_writer(Vec::new());
    crate::audit::export::write_csv_record(&mut w, &cols).map_err(|e| e.to_string())?;
    for r in rows {
        crate::audit::export::write_csv_record(&mut w, &r).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_parts_hashed_in_one_pass_are_hashed_as_one_at_a_time() {
        let mut parts = BTreeMap::new();
        parts.insert("case".to_string(), json!({"b": [1, {"d": "é", "c": null}], "a": 1.5}));
        parts.insert("audit_events".to_string(), json!([{"z": 1, "y": "x\"y"}]));
        parts.insert("notes".to_string(), json!([]));
        let (hashes, whole) = super::hash_parts(&parts);
        for (k, v) in &parts {
            assert_eq!(hashes[k], super::part_hash(v), "{k}");
        }
        assert_eq!(whole, super::part_hash(&serde_json::to_value(&parts).unwrap()));
    }

    use super::*;
    use ed25519_dalek::SigningKey;

    fn sample(key: Option<SigningKey>) -> Dossier {
        let case_id = CaseId::new();
        let mut parts = BTreeMap::new();
        parts.insert("case".into(), json!({"id": case_id, "title": "=cmd", "stage": "decided"}));
        parts.insert("notes".into(), json!([{"id": 1, "body": "first"}, {"id": 2, "body": "+second", "extra": true}]));
        parts.insert("audit_events".into(), json!([]));
        let at = "2026-11-28T10:00:00Z".to_string();
        let hash = hex::encode([3u8; 32]);
        let (public_key, signature) = match &key {
            Some(k) => (
                Some(hex::encode(k.verifying_key().as_bytes())),
                Some(hex::encode(k.sign(&checkpoint::message(9, &hash, &at)).to_bytes())),
            ),
            None => (None, None),
        };
        let cp = Checkpoint { seq: 9, hash, at, public_key, signature, reason: "export".into() };
        let signer = Checkpointer { key: key.map(std::sync::Arc::new), ..Default::default() };
        seal(
            parts,
            header(
                case_id,
                "ICTS-2026-001",
                (crate::ids::UserId(Uuid::nil()), "A", "auditor"),
                OffsetDateTime::UNIX_EPOCH,
                "CUI",
                false,
            ),
            cp,
            &signer,
        )
    }

    #[test]
    fn a_sealed_dossier_verifies_and_every_byte_matters() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let d = sample(Some(key.clone()));
        let r = verify(&d.json, Some(&key.verifying_key()));
        assert!(r.holds(), "{:?}", r.problems);
        for i in 0..d.json.len() {
            let mut bad = d.json.clone();
            bad[i] = if bad[i] == b'0' {
                b'1'
            } else if bad[i].is_ascii_lowercase() {
                bad[i].to_ascii_uppercase()
            } else {
                b'0'
            };
            if bad == d.json {
                continue;
            }
            assert!(
                !verify(&bad, Some(&key.verifying_key())).holds(),
                "byte {i} ({:?}) changed unnoticed",
                d.json[i] as char
            );
        }
        let other = SigningKey::from_bytes(&[6; 32]);
        let r = verify(&d.json, Some(&other.verifying_key()));
        assert!(r.problems.iter().any(|p| p.contains("expected key")), "{:?}", r.problems);
    }

    #[test]
    fn an_unsigned_dossier_does_not_verify() {
        let d = sample(None);
        let r = verify(&d.json, None);
        assert!(r.problems.iter().any(|p| p.contains("not signed")), "{:?}", r.problems);
    }

    #[test]
    fn parts_become_tables_and_csv_cells_are_neutralised() {
        let d = sample(Some(SigningKey::from_bytes(&[5; 32])));
        let (cols, rows) = table(&d.parts["notes"]);
        assert_eq!(cols, ["body", "id", "extra"]);
        assert_eq!(rows[1], ["+second", "2", "true"]);
        let csv = String::from_utf8(part_csv(&d.parts["notes"]).unwrap()).unwrap();
        assert!(csv.contains("'+second"), "{csv}");
        let z = zip(&d).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).unwrap();
        let names: Vec<String> =
            (0..archive.len()).map(|i| archive.by_index(i).unwrap().name().unwrap().to_string()).collect();
        assert!(names.contains(&"dossier.json".to_string()) && names.contains(&"case.csv".to_string()), "{names:?}");
        use std::io::Read;
        let mut inner = Vec::new();
        archive.by_name("dossier.json").unwrap().read_to_end(&mut inner).unwrap();
        assert_eq!(inner, d.json);
    }
}
