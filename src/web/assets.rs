//! The static files of `--static-dir` (`static/` in the repository), served under
//! `/static/` as a production site serves its assets:
//!
//! - **Precompressed.** Each stylesheet, script, SVG and icon of at least
//!   [`PRECOMPRESSED_MIN_BYTES`] is committed with a brotli (`.br`) and a gzip (`.gz`)
//!   sibling, made by `scripts/precompress-static.sh`; tower-http's `ServeDir` answers the
//!   variant the request's `Accept-Encoding` allows (`Content-Encoding: br` or `gzip`,
//!   `Vary: Accept-Encoding`). A test decompresses every sibling and compares it with its
//!   original, so a sibling cannot go stale unnoticed.
//! - **Versioned.** At start-up [`Manifest::read`] hashes every file of the folder
//!   (SHA-256); pages name an asset only through [`url`], which appends `?v=` and the first
//!   16 hex digits of its hash. A URL whose version is the file's current one is cached for a
//!   year as `immutable`; a URL without a version gets short caching ([`SHORT`]); a URL with
//!   any other version (a page from an older or newer release, met during a deploy) still
//!   gets the file this instance has, but only with `no-cache`, so that no cache keeps it
//!   under a version it does not have.
//! - **Validated.** The `ETag` is the content's hash (with the coding for a compressed
//!   variant), the same on every instance that serves the same files, and `If-None-Match`
//!   naming it is answered 304; `Last-Modified` (the file's time) stays as `ServeDir` sets it.
//!
//! The stylesheet's own `url(...)` references (fonts, icons) are relative to it and carry no
//! version: they get [`SHORT`] caching and are revalidated by their `ETag`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The caching of a URL that names the file's current version: its content never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The caching of a URL without a version (a stylesheet's fonts and icons, or a typed URL):
/// five minutes fresh; for a day after that a browser may use its copy once more while it
/// revalidates it in the background.
pub const SHORT: &str = "public, max-age=300, stale-while-revalidate=86400";
/// The caching of a URL whose version is not the file's (a deploy in progress), and of
/// anything that is not the file: a cache must ask again each time.
pub const REVALIDATE: &str = "no-cache";

/// The file types committed with `.br` and `.gz` siblings: text and icons. Fonts (`woff2`)
/// and raster images are compressed already.
pub const PRECOMPRESSED_TYPES: &[&str] = &["css", "js", "svg", "ico"];
/// Smaller files are sent as they are: they fit one packet either way.
pub const PRECOMPRESSED_MIN_BYTES: u64 = 1024;
/// The codings of the committed siblings, by file suffix.
pub const CODINGS: &[(&str, &str)] = &[("br", "br"), ("gz", "gzip")];

/// Hex digits of the SHA-256 kept as a file's version.
const VERSION_DIGITS: usize = 16;

/// Each file of the static folder (its path relative to the folder, with `/`) and the version
/// of its content. The compressed siblings are not listed: they are the same content.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    versions: HashMap<String, String>,
}

impl Manifest {
    /// Hashes every file under `dir` (about 1 MB: milliseconds).
    pub fn read(dir: &Path) -> std::io::Result<Manifest> {
        let mut versions = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    pending.push(path);
                    continue;
                }
                if is_compressed_sibling(&path) {
                    continue;
                }
                let Ok(relative) = path.strip_prefix(dir) else { continue };
                let Some(relative) = relative.to_str() else { continue };
                let relative = relative.replace(std::path::MAIN_SEPARATOR, "/");
                let digest = hex::encode(Sha256::digest(std::fs::read(&path)?));
                versions.insert(relative, digest[..VERSION_DIGITS].to_string());
            }
        }
        Ok(Manifest { versions })
    }

    /// The version of the file at `path` (relative to the folder), if the folder has it.
    pub fn version(&self, path: &str) -> Option<&str> {
        self.versions.get(path).map(String::as_str)
    }

    /// The files, by relative path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.versions.keys().map(String::as_str)
    }
}

/// Whether `path` is the `.br` or `.gz` sibling of another file.
pub fn is_compressed_sibling(path: &Path) -> bool {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else { return false };
    CODINGS.iter().any(|(suffix, _)| *suffix == extension) && path.with_extension("").is_file()
}

/// The manifest the pages' asset URLs are drawn from: the one of the served folder, set when
/// the router is built. Templates render without the application state, hence a global.
static CURRENT: RwLock<Option<Arc<Manifest>>> = RwLock::new(None);

/// Makes `manifest` the one [`url`] reads.
pub fn install(manifest: Arc<Manifest>) {
    *CURRENT.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(manifest);
}

/// The URL of the static file at `path` (relative to the static folder, e.g.
/// `"vendor/uswds/css/uswds.min.css"`), with its version: the one way a page names an asset.
/// A file the folder lacks gets its plain URL (and a warning in the log); the tests check
/// that every asset URL of a page is versioned.
pub fn url(path: &str) -> String {
    let current = CURRENT.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    match current.as_deref().and_then(|m| m.version(path)) {
        Some(version) => format!("/static/{path}?v={version}"),
        None => {
            tracing::warn!(path, "a page names a static file that the static folder does not have");
            format!("/static/{path}")
        }
    }
}

/// The `ETag` of a file's content in `coding` (`None`: as it is).
fn etag(version: &str, coding: Option<&str>) -> HeaderValue {
    let tag = match coding {
        None | Some("identity") => format!("\"{version}\""),
        Some(coding) => format!("\"{version}-{coding}\""),
    };
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// The first of the entity tags in `tags` (an `If-None-Match`, `If-Match` or `If-Range`
/// value) that names the content of `version`, in any coding (weak comparison); `*` names
/// any content.
fn naming<'a>(tags: &'a HeaderValue, version: &str) -> Option<&'a str> {
    let tags = tags.to_str().ok()?;
    tags.split(',').map(str::trim).find(|tag| {
        if *tag == "*" {
            return true;
        }
        let Some(opaque) = tag.strip_prefix("W/").unwrap_or(tag).strip_prefix('"').and_then(|t| t.strip_suffix('"'))
        else {
            return false;
        };
        opaque == version
            || CODINGS
                .iter()
                .any(|(_, coding)| opaque.strip_prefix(version).and_then(|r| r.strip_prefix('-')) == Some(coding))
    })
}

/// The caching a request for `path` gets: immutable for the file's current version, short
/// without a version, `no-cache` for any other version.
fn caching(manifest: &Manifest, path: &str, query: Option<&str>) -> &'static str {
    let asked = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("v=")));
    match (manifest.version(path), asked) {
        (Some(current), Some(asked)) if current == asked => IMMUTABLE,
        (_, Some(_)) => REVALIDATE,
        (_, None) => SHORT,
    }
}

/// Wraps the static files' `ServeDir` (mounted at `/static`, so the path it sees is relative
/// to the folder): answers `If-None-Match` from the content's hash, and sets the `ETag` and
/// the `Cache-Control` of every answer (see the module's notes).
pub async fn headers(State(manifest): State<Arc<Manifest>>, mut request: Request, next: Next) -> Response {
    let path = percent_encoding::percent_decode_str(request.uri().path().trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    let cache = caching(&manifest, &path, request.uri().query());
    let version = manifest.version(&path).map(str::to_owned);
    if let Some(version) = &version {
        // ServeDir's own validators are of the file's time and size, which differ between
        // instances; the ones clients hold are ours, so ours are checked here and ServeDir
        // sees no condition it would judge by other tags.
        let reading = matches!(*request.method(), Method::GET | Method::HEAD);
        let h = request.headers_mut();
        if let Some(tags) = h.remove(header::IF_NONE_MATCH) {
            h.remove(header::IF_MODIFIED_SINCE);
            if let Some(tag) = naming(&tags, version).filter(|_| reading) {
                let tag =
                    if tag == "*" { etag(version, None) } else { HeaderValue::from_str(tag).unwrap_or(tags.clone()) };
                let mut response = StatusCode::NOT_MODIFIED.into_response();
                let h = response.headers_mut();
                h.insert(header::ETAG, tag);
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                return response;
            }
        }
        if let Some(tags) = h.remove(header::IF_MATCH)
            && naming(&tags, version).is_none()
        {
            return StatusCode::PRECONDITION_FAILED.into_response();
        }
        if let Some(tag) = h.remove(header::IF_RANGE)
            && naming(&tag, version).is_none()
        {
            // The client's part is of other content: it gets the whole file.
            h.remove(header::RANGE);
        }
    }
    let mut response = next.run(request).await;
    let status = response.status();
    set_headers(response.headers_mut(), status, version.as_deref(), cache);
    response
}

fn set_headers(h: &mut HeaderMap, status: StatusCode, version: Option<&str>, cache: &'static str) {
    if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        return;
    }
    if let Some(version) = version {
        let coding = h.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
        h.insert(header::ETAG, etag(version, coding.as_deref()));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest { versions: HashMap::from([("app.css".to_string(), "0123456789abcdef".to_string())]) }
    }

    #[test]
    fn only_the_current_version_is_cached_for_good() {
        let m = manifest();
        assert_eq!(caching(&m, "app.css", Some("v=0123456789abcdef")), IMMUTABLE);
        assert_eq!(caching(&m, "app.css", Some("x=1&v=0123456789abcdef")), IMMUTABLE);
        assert_eq!(caching(&m, "app.css", Some("v=fedcba9876543210")), REVALIDATE);
        assert_eq!(caching(&m, "app.css", Some("v=")), REVALIDATE);
        assert_eq!(caching(&m, "app.css", None), SHORT);
        assert_eq!(caching(&m, "fonts/a.woff2", None), SHORT);
        assert_eq!(caching(&m, "gone.css", Some("v=0123456789abcdef")), REVALIDATE);
    }

    #[test]
    fn entity_tags_name_the_content_in_any_coding() {
        let v = "0123456789abcdef";
        let named = |tags: &'static str| naming(&HeaderValue::from_static(tags), v).map(str::to_owned);
        assert_eq!(named("\"0123456789abcdef\"").as_deref(), Some("\"0123456789abcdef\""));
        assert_eq!(named("\"x\", W/\"0123456789abcdef-br\"").as_deref(), Some("W/\"0123456789abcdef-br\""));
        assert_eq!(named("\"0123456789abcdef-gzip\"").as_deref(), Some("\"0123456789abcdef-gzip\""));
        assert_eq!(named("*").as_deref(), Some("*"));
        assert_eq!(named("\"0123456789abcdef-zstd\""), None);
        assert_eq!(named("\"fedcba9876543210\""), None);
        assert_eq!(named("0123456789abcdef"), None);
        assert_eq!(etag(v, Some("br")), HeaderValue::from_static("\"0123456789abcdef-br\""));
        assert_eq!(etag(v, None), HeaderValue::from_static("\"0123456789abcdef\""));
    }
}
