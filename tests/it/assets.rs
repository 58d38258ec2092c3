//! The static files as a production site serves them: precompressed (brotli, gzip), named by
//! versioned URLs cached for good, validated by content ETags, short caching without a
//! version, and no cache-for-good of a version the file does not have.

use std::io::Read;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use icts_review::web::assets::{CODINGS, IMMUTABLE, PRECOMPRESSED_MIN_BYTES, PRECOMPRESSED_TYPES, REVALIDATE, SHORT};

use crate::harness::{TestApp, TestResponse, manifest_dir};

const CSS: &str = "vendor/uswds/css/uswds.min.css";

fn static_dir() -> PathBuf {
    manifest_dir().join("static")
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { all.push(path) }
        }
    }
    all.sort();
    all
}

fn decompress(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli_decompressor::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap(),
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap(),
        other => panic!("unexpected coding {other}"),
    };
    out
}

/// The `/static/` URLs a page's HTML names (`src` and `href`), as written.
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let url = &rest[..rest.find('"').unwrap()];
            if url.starts_with("/static/") {
                urls.push(url.to_string());
            }
        }
    }
    urls
}

async fn get_with(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The versioned URL of `path` as the sign-in page names it.
async fn versioned(app: &TestApp, path: &str) -> String {
    let page = app.get("/sign-in").await.text();
    asset_urls(&page)
        .into_iter()
        .find(|u| u.starts_with(&format!("/static/{path}?v=")))
        .unwrap_or_else(|| panic!("the sign-in page names {path} with a version: {page}"))
}

#[tokio::test]
async fn the_stylesheet_goes_out_brotli_and_cached_for_good_under_its_versioned_url() {
    let app = TestApp::new().await;
    let original = std::fs::read(static_dir().join(CSS)).unwrap();
    let url = versioned(&app, CSS).await;

    let r = get_with(&app, &url, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(r.header("cache-control").as_deref(), Some(IMMUTABLE));
    assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert!(r.header("vary").unwrap().to_ascii_lowercase().contains("accept-encoding"), "{r:?}");
    assert!(r.header("content-type").unwrap().starts_with("text/css"));
    assert!(r.header("last-modified").is_some(), "{r:?}");
    // The security headers stay, CSP included.
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(r.header("content-security-policy").unwrap().contains("default-src 'none'"));
    assert!(r.body.len() * 10 < original.len(), "brotli makes it a tenth: {} of {}", r.body.len(), original.len());
    assert_eq!(decompress("br", &r.body), original);
    let br_tag = r.header("etag").expect("an ETag");

    let r = get_with(&app, &url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(decompress("gzip", &r.body), original);
    let gzip_tag = r.header("etag").unwrap();

    let r = get_with(&app, &url, &[]).await;
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, original);
    assert_eq!(r.header("cache-control").as_deref(), Some(IMMUTABLE));
    let plain_tag = r.header("etag").unwrap();
    // One ETag per representation, drawn from the content (not from the file's time).
    assert!(br_tag != gzip_tag && gzip_tag != plain_tag && br_tag != plain_tag);
    let version = url.split("?v=").nth(1).unwrap();
    assert_eq!(plain_tag, format!("\"{version}\""));
    assert_eq!(br_tag, format!("\"{version}-br\""));

    // Revalidation: the ETag held answers 304 with no body, and the same caching.
    let r = get_with(&app, &url, &[("accept-encoding", "br"), ("if-none-match", &br_tag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(br_tag.as_str()));
    assert_eq!(r.header("cache-control").as_deref(), Some(IMMUTABLE));
    let r = get_with(&app, &url, &[("if-none-match", "\"something-else\", W/\"older\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, original);
    // A date that is in the future does not answer 304 when an ETag was asked about.
    let r = get_with(
        &app,
        &url,
        &[("if-none-match", "\"something-else\""), ("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unversioned_or_wrongly_versioned_url_is_served_but_never_cached_for_good() {
    let app = TestApp::new().await;
    let original = std::fs::read(static_dir().join(CSS)).unwrap();
    let current = versioned(&app, CSS).await;

    let r = get_with(&app, &format!("/static/{CSS}"), &[("accept-encoding", "br")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control").as_deref(), Some(SHORT));
    assert_eq!(decompress("br", &r.body), original);

    // During a deploy a page of the other release names another version: the file this
    // instance has is sent, for this once.
    for stale in
        ["/static/vendor/uswds/css/uswds.min.css?v=0000000000000000", "/static/vendor/uswds/css/uswds.min.css?v="]
    {
        let r = get_with(&app, stale, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{stale}");
        assert_eq!(r.body, original);
        assert_eq!(r.header("cache-control").as_deref(), Some(REVALIDATE), "{stale}");
        assert_eq!(r.header("etag").as_deref(), Some(format!("\"{}\"", current.split("?v=").nth(1).unwrap()).as_str()));
    }

    // What is not there is not cached.
    let r = app.get("/static/nothing.css?v=0123456789abcdef").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("cache-control").as_deref(), Some(REVALIDATE));
}

#[tokio::test]
async fn every_asset_a_page_names_is_versioned_and_loads() {
    let app = TestApp::new().await;
    let user = app.user("supervisor").await;
    let session = app.sign_in(&user).await;
    let mut seen = std::collections::BTreeSet::new();
    let pages = [
        app.get("/sign-in").await,
        app.send(session.get("/")).await,
        app.send(session.get("/cases")).await,
        app.send(session.get("/account/security-keys")).await,
        app.get("/no-such-page").await,
    ];
    for page in pages {
        let html = page.text();
        let urls = asset_urls(&html);
        assert!(urls.len() >= 6, "{html}");
        for url in urls {
            let (path, version) = url.split_once("?v=").unwrap_or_else(|| panic!("{url} carries no version"));
            assert_eq!(version.len(), 16, "{url}");
            let r = get_with(&app, &url, &[("accept-encoding", "br, gzip")]).await;
            assert_eq!(r.status, StatusCode::OK, "{url}");
            assert_eq!(r.header("cache-control").as_deref(), Some(IMMUTABLE), "{url}");
            assert!(r.header("etag").is_some(), "{url}");
            seen.insert(path.to_string());
        }
    }
    for expected in ["uswds.min.css", "uswds.min.js", "uswds-init.min.js", "app.css", "favicon.ico", "webauthn.js"] {
        assert!(seen.iter().any(|p| p.ends_with(expected)), "{expected} among {seen:?}");
    }
}

#[test]
fn no_template_names_a_static_file_but_through_the_versioning_helper() {
    let mut offenders = Vec::new();
    for template in files(&manifest_dir().join("templates")) {
        let text = std::fs::read_to_string(&template).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("/static/") {
                offenders.push(format!("{}:{}: {line}", template.display(), n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "name assets with crate::web::assets::url(...):\n{}", offenders.join("\n"));
}

/// Every stylesheet, script, SVG and icon of at least 1 KiB has a brotli and a gzip sibling
/// that decompress to it; no other sibling is left over. `scripts/precompress-static.sh`
/// writes them.
#[test]
fn precompressed_siblings_match_their_originals() {
    let dir = static_dir();
    let all = files(&dir);
    let is_sibling = |p: &Path| {
        CODINGS.iter().any(|(suffix, _)| p.extension().is_some_and(|e| e == *suffix)) && p.with_extension("").is_file()
    };
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in all.iter().filter(|p| !is_sibling(p)) {
        let qualifies = file.extension().is_some_and(|e| PRECOMPRESSED_TYPES.iter().any(|t| e == *t))
            && std::fs::metadata(file).unwrap().len() >= PRECOMPRESSED_MIN_BYTES;
        for (suffix, coding) in CODINGS {
            let sibling = PathBuf::from(format!("{}.{suffix}", file.display()));
            match (qualifies, sibling.is_file()) {
                (true, false) => problems.push(format!("{} is missing", sibling.display())),
                (false, true) => problems.push(format!("{} should not be there", sibling.display())),
                (true, true) => {
                    if decompress(coding, &std::fs::read(&sibling).unwrap()) != std::fs::read(file).unwrap() {
                        problems.push(format!("{} is not {} compressed", sibling.display(), file.display()));
                    }
                    checked += 1;
                }
                (false, false) => {}
            }
        }
    }
    for orphan in all.iter().filter(|p| {
        CODINGS.iter().any(|(suffix, _)| p.extension().is_some_and(|e| e == *suffix)) && !p.with_extension("").is_file()
    }) {
        problems.push(format!("{} has no original", orphan.display()));
    }
    assert!(problems.is_empty(), "run `bash scripts/precompress-static.sh`:\n{}", problems.join("\n"));
    assert!(checked >= 10, "{checked} siblings checked");
}

/// Each `url(...)` of each served stylesheet names a file that is there (relative to the
/// stylesheet), but for the hero image of the USWDS hero component, which is not vendored
/// because no page uses the component.
#[test]
fn the_stylesheets_references_resolve() {
    let dir = static_dir();
    let mut missing = Vec::new();
    let mut resolved = 0;
    for css in files(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "css")) {
        let text = std::fs::read_to_string(&css).unwrap();
        for (at, _) in text.match_indices("url(") {
            let rest = &text[at + 4..];
            let reference = rest[..rest.find(')').unwrap()].trim_matches(|c| c == '"' || c == '\'');
            if reference.is_empty() || reference.starts_with("data:") || reference.starts_with('#') {
                continue;
            }
            let target = css.parent().unwrap().join(reference.split(['?', '#']).next().unwrap());
            if target.is_file() {
                resolved += 1;
            } else if !reference.ends_with("img/hero.jpg") {
                missing.push(format!("{}: {reference}", css.display()));
            }
        }
    }
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert!(resolved > 60, "{resolved}");
    for template in files(&manifest_dir().join("templates")) {
        let text = std::fs::read_to_string(&template).unwrap();
        assert!(!text.contains("usa-hero"), "{} uses the USWDS hero, whose image is not vendored", template.display());
    }
}

#[tokio::test]
async fn a_font_the_stylesheet_loads_is_cached_briefly_and_revalidated() {
    let app = TestApp::new().await;
    let font = "/static/vendor/uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2";
    let r = get_with(&app, font, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-encoding"), None, "a font is compressed already");
    assert_eq!(r.header("content-type").as_deref(), Some("font/woff2"));
    assert_eq!(r.header("cache-control").as_deref(), Some(SHORT));
    let tag = r.header("etag").unwrap();
    let r = get_with(&app, font, &[("if-none-match", &tag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header("cache-control").as_deref(), Some(SHORT));
    // The date validator works too.
    let r = get_with(&app, font, &[]).await;
    let since = r.header("last-modified").unwrap();
    let r = get_with(&app, font, &[("if-modified-since", &since)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header("etag").as_deref(), Some(tag.as_str()));
}
