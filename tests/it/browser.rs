//! Real headless Chromium against the real binary.

use crate::harness::{Browser, RunningServer, server_db};

#[tokio::test]
async fn home_page_renders_with_uswds_and_no_csp_errors() {
    let (_, url) = server_db().create_database().await;
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/", server.base)).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Home · ICTS Review");

    // The USWDS stylesheet loaded and applies: the header uses its font stack and the
    // stylesheet's rules are readable (same origin).
    let rules = c
        .execute(
            "const s = [...document.styleSheets].find(s => s.href && s.href.endsWith('/uswds.min.css')); return s ? s.cssRules.length : 0;",
            vec![],
        )
        .await
        .unwrap();
    assert!(rules.as_u64().unwrap() > 1000, "USWDS rules loaded: {rules}");
    let font = c.execute("return getComputedStyle(document.body).fontFamily;", vec![]).await.unwrap();
    assert!(font.as_str().unwrap().contains("Source Sans Pro Web"), "{font}");
    // USWDS JavaScript ran (it swaps no-js for its own class on <html>).
    let js = c.execute("return document.documentElement.className;", vec![]).await.unwrap();
    assert!(!js.as_str().unwrap().contains("usa-js-loading"), "USWDS JS initialised: {js}");

    // Keyboard: the first Tab lands on the skip link.
    c.execute("document.activeElement.blur();", vec![]).await.unwrap();
    c.active_element().await.unwrap().send_keys("\u{E004}").await.unwrap();
    let focused = c.execute("return document.activeElement.className;", vec![]).await.unwrap();
    assert_eq!(focused.as_str().unwrap(), "usa-skipnav");

    let path = browser.screenshot("home").await;
    assert!(std::fs::metadata(&path).unwrap().len() > 10_000);

    let console = browser.console().await;
    let errors: Vec<_> = console.iter().filter(|(level, _)| level == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors (CSP or otherwise): {errors:?}");
    // The log channel itself works: an error logged now is seen.
    c.execute("console.error('icts-probe');", vec![]).await.unwrap();
    let console = browser.console().await;
    assert!(console.iter().any(|(level, text)| level == "SEVERE" && text.contains("icts-probe")), "{console:?}");
    browser.close().await;
}
