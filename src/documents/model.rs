//! Documents' types and the pure checks of an upload (content sniffing, file names).

use crate::ids::DocumentId;
use crate::ids::{CaseId, SubmissionId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Largest document accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// How a document is marked, stored (the `document_marking` type), sent and audited by its
/// lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "document_marking", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Marking {
    /// Public.
    Public,
    /// Controlled unclassified information.
    Cui,
    /// Confidential business information.
    Cbi,
    /// Classified: only where it is held is recorded, never its content.
    ClassifiedReference,
}

impl Marking {
    /// Every marking, in increasing sensitivity.
    pub const ALL: [Marking; 4] = [Marking::Public, Marking::Cui, Marking::Cbi, Marking::ClassifiedReference];

    /// The name stored, sent and audited.
    pub fn as_str(self) -> &'static str {
        match self {
            Marking::Public => "public",
            Marking::Cui => "cui",
            Marking::Cbi => "cbi",
            Marking::ClassifiedReference => "classified_reference",
        }
    }

    /// The marking named `s`, if any.
    pub fn parse(s: &str) -> Option<Marking> {
        Marking::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// How it reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Marking::Public => "Public",
            Marking::Cui => "CUI",
            Marking::Cbi => "Confidential business information (CBI)",
            Marking::ClassifiedReference => "Classified — reference only (pointer, no content)",
        }
    }
}

/// A document's metadata.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Document {
    pub id: DocumentId,
    /// Case.
    pub case_id: CaseId,
    pub title: String,
    /// How it is marked.
    pub marking: Marking,
    /// Original file name (display only).
    pub filename: Option<String>,
    /// Media type found from the content.
    pub media_type: Option<String>,
    /// Size.
    pub size_bytes: Option<i64>,
    /// sha256 of the content (hex in JSON).
    #[serde(serialize_with = "crate::audit::hex_opt")]
    #[schema(value_type = Option<String>)]
    pub sha256: Option<Vec<u8>>,
    /// Where a classified-reference document is held.
    pub pointer: Option<String>,
    /// The submission it belongs to.
    pub submission_id: Option<SubmissionId>,
    /// Uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// By whom.
    pub uploaded_by_name: String,
}

impl Document {
    /// sha256 in hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.as_deref().map(hex::encode).unwrap_or_default()
    }
    /// Label of the marking.
    pub fn marking_label(&self) -> &'static str {
        self.marking.label()
    }
}

/// The media type of `bytes` if it is an accepted kind: PDF, an image, plain text or an
/// office document.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const ACCEPTED: [&str; 15] = [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/tiff",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    ];
    if let Some(t) = infer::get(bytes) {
        return ACCEPTED.iter().find(|a| **a == t.mime_type()).copied();
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}')) {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

/// A display-safe file name: the last path component, no control characters, at most 255.
pub fn clean_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(255).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// An upload as received.
#[derive(Default)]
pub struct Upload {
    pub title: String,
    pub marking: String,
    /// Pointer (classified reference).
    pub pointer: String,
    /// Submission.
    pub submission_id: Option<String>,
    /// File name and bytes.
    pub file: Option<(String, Vec<u8>)>,
    /// Problems found as the form was read (control characters in a text part), reported
    /// with the rest in one pass.
    pub refused: Vec<crate::error::FieldError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff("Plain notes, with accents: é.\n".as_bytes()), Some("text/plain; charset=utf-8"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), None, "a Windows executable");
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None, "an ELF binary");
        assert_eq!(sniff(b"text with a \x00 NUL"), None);
        assert_eq!(sniff(&[0xff, 0xfe, 0x00, 0x41]), None, "not UTF-8");
    }

    #[test]
    fn file_names_are_display_only_and_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("C:\\docs\\report \"final\".pdf").as_deref(), Some("report final.pdf"));
        assert_eq!(clean_filename("..").as_deref(), None);
        assert_eq!(clean_filename("a\u{0}b\nc.txt").as_deref(), Some("abc.txt"));
    }
}
