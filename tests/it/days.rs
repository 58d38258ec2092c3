//! Every user's day in a real browser: pages that reflow at 320 CSS pixels, a home page per
//! role, lists and forms that work the way people expect.

use crate::harness::{Browser, RunningServer, server_db};
use fantoccini::Locator;
use icts_review::access::Role;
use icts_review::seed::DemoAccount;

/// A demonstration office served by the real binary.
pub struct DemoOffice {
    pub server: RunningServer,
    pub accounts: Vec<DemoAccount>,
}

impl DemoOffice {
    pub async fn start() -> DemoOffice {
        let (_, url) = server_db().create_database().await;
        let config = crate::harness::test_config(&url);
        let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
        let accounts = icts_review::seed::demo(pool, &config).await.unwrap();
        let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
        DemoOffice { server, accounts }
    }

    pub fn account(&self, role: Role) -> &DemoAccount {
        self.accounts.iter().find(|a| a.role == role).unwrap()
    }

    /// Signs `role` in through the page, replacing the one-time password as the product
    /// asks, and returns the path the user lands on afterwards.
    pub async fn sign_in(&self, browser: &Browser, role: Role) -> String {
        let a = self.account(role);
        let c = &browser.client;
        let base = &self.server.base;
        c.goto(&format!("{base}/sign-in")).await.unwrap();
        browser.assert_accessible("the sign-in page").await;
        c.find(Locator::Id("email")).await.unwrap().send_keys(&a.email).await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys(&a.password).await.unwrap();
        c.find(Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("current_password")).await.unwrap();
        browser.assert_accessible("the password change page").await;
        let mine = format!("{} own long passphrase", role.as_str());
        c.find(Locator::Id("current_password")).await.unwrap().send_keys(&a.password).await.unwrap();
        c.find(Locator::Id("new_password")).await.unwrap().send_keys(&mine).await.unwrap();
        c.find(Locator::Id("confirm_password")).await.unwrap().send_keys(&mine).await.unwrap();
        c.find(Locator::Css("form[action='/account/password'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let home = c.wait().for_element(Locator::Css("[data-testid=home]")).await.unwrap();
        // Lands on the home page of its own role.
        assert_eq!(c.current_url().await.unwrap().path(), "/");
        assert_eq!(home.attr("data-home").await.unwrap().as_deref(), Some(role.as_str()));
        browser.screenshot(&format!("home-{}", role.as_str())).await;
        c.current_url().await.unwrap().path().to_string()
    }
}

/// How wide the page is against its viewport, in CSS pixels.
async fn widths(c: &fantoccini::Client) -> (u64, u64) {
    let measure = || async {
        let w = c
            .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
            .await
            .unwrap();
        (w[0].as_u64().unwrap(), w[1].as_u64().unwrap())
    };
    let (scroll, client) = measure().await;
    if scroll <= client {
        return (scroll, client);
    }
    // Just after a load or a resize the layout may not have settled (web fonts swapping
    // in): a page counts as too wide only if it still is a moment later.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    measure().await
}

/// The elements that stick out of the viewport (the innermost ones, outside any region
/// that scrolls by itself), to say why a page is too wide.
async fn sticking_out(c: &fantoccini::Client) -> Vec<String> {
    let v = c
        .execute(
            r#"const w = document.documentElement.clientWidth;
            const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) { if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
            const out = (e) => e.getBoundingClientRect().right > w + 0.5;
            const names = [];
            for (const e of document.querySelectorAll('body *')) {
              if (!out(e) || clipped(e) || [...e.children].some(out)) continue;
              const cls = typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '';
              names.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
              if (names.length >= 6) break;
            }
            return names;"#,
            vec![],
        )
        .await
        .unwrap();
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

/// The parts of the page that scroll sideways by themselves without being a focusable,
/// named region (`tabindex="0"`, `role="region"`, an `aria-label` or `aria-labelledby`),
/// as keyboard and screen-reader users need to reach and scroll them.
async fn unlabelled_scrollers(c: &fantoccini::Client) -> Vec<String> {
    let v = c
        .execute(
            r#"const names = [];
            for (const e of document.querySelectorAll('body *')) {
              const ox = getComputedStyle(e).overflowX;
              if ((ox !== 'auto' && ox !== 'scroll') || e.scrollWidth <= e.clientWidth + 1) continue;
              const named = (e.getAttribute('aria-label') || '').trim() !== '' || (e.getAttribute('aria-labelledby') || '').trim() !== '';
              if (e.getAttribute('tabindex') === '0' && e.getAttribute('role') === 'region' && named) continue;
              const cls = typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '';
              names.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls);
            }
            return names;"#,
            vec![],
        )
        .await
        .unwrap();
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

/// The first link on the current page whose address matches `pattern` (a regular expression
/// over the path).
async fn first_link(c: &fantoccini::Client, pattern: &str) -> Option<String> {
    let v = c
        .execute(
            "const re = new RegExp(arguments[0]); const a = [...document.querySelectorAll('main a[href]')].find(a => re.test(new URL(a.href).pathname)); return a ? new URL(a.href).pathname : null;",
            vec![serde_json::json!(pattern)],
        )
        .await
        .unwrap();
    v.as_str().map(str::to_string)
}

#[tokio::test]
async fn no_main_page_scrolls_sideways_at_320_or_640_css_pixels() {
    let office = DemoOffice::start().await;
    let base = office.server.base.clone();
    let mut wide = Vec::new();
    let mut inaccessible = Vec::new();
    let mut unlabelled = Vec::new();
    for role in [Role::Supervisor, Role::Analyst, Role::Auditor, Role::Admin] {
        let browser = Browser::start().await;
        let c = &browser.client;
        office.sign_in(&browser, role).await;
        c.set_window_size(320, 900).await.unwrap();
        let mut pages: Vec<String> = match role {
            Role::Admin => vec![
                "/",
                "/admin/users",
                "/admin/sign-in-policy",
                "/admin/reference",
                "/admin/screening",
                "/audit",
                "/audit/chain",
            ],
            Role::Auditor => vec!["/", "/dashboard", "/cases", "/parties", "/determinations", "/audit", "/audit/chain"],
            _ => vec![
                "/",
                "/dashboard",
                "/cases",
                "/cases/new",
                "/cases/import",
                "/parties",
                "/determinations",
                "/notifications",
                "/account/sessions",
                "/account/two-step",
                "/account/security-keys",
            ],
        }
        .into_iter()
        .map(str::to_string)
        .collect();
        if role == Role::Admin {
            c.goto(&format!("{base}/admin/users")).await.unwrap();
            pages.extend(first_link(c, "^/admin/users/[0-9a-f-]{36}$").await);
        }
        if role != Role::Admin {
            c.goto(&format!("{base}/cases?q=ICTS-2021-002")).await.unwrap();
            if let Some(case) = first_link(c, "^/cases/[0-9a-f-]{36}$").await {
                pages.push(case.clone());
                pages.push(format!("{case}/proceedings"));
            }
            c.goto(&format!("{base}{}", pages.last().unwrap())).await.unwrap();
            if let Some(d) = first_link(c, "^/determinations/[0-9a-f-]{36}$").await {
                pages.push(format!("{d}/document"));
                pages.push(d);
            }
            c.goto(&format!("{base}/parties")).await.unwrap();
            pages.extend(first_link(c, "^/parties/[0-9a-f-]{36}$").await);
            for kind in ["/cases/", "/proceedings", "/determinations/", "/document", "/parties/"] {
                assert!(
                    pages.iter().any(|p| p.contains(kind) && p.len() > 40),
                    "{role:?} reaches a {kind} page: {pages:?}"
                );
            }
        }
        assert!(pages.len() >= 6, "{role:?}: {pages:?}");
        for p in &pages {
            c.goto(&format!("{base}{p}")).await.unwrap();
            let (scroll, client) = widths(c).await;
            assert!(client <= 320, "{role:?}: the viewport is {client} px wide");
            let shot = format!(
                "320-{}-{}",
                role.as_str(),
                p.split('/').filter(|s| !s.is_empty() && s.len() < 30).collect::<Vec<_>>().join("-")
            );
            browser.screenshot(&shot).await;
            if scroll > client {
                wide.push(format!("{role:?} {p}: {scroll} px ({})", sticking_out(c).await.join(", ")));
            }
            // Every main page, as each role sees it, with no critical or serious violation.
            for v in browser.axe().await {
                inaccessible.push(format!("{role:?} {p}: {v}"));
            }
            for s in unlabelled_scrollers(c).await {
                unlabelled.push(format!("{role:?} {p} at 320 px: {s}"));
            }
            // At 200 % zoom of a 1,280 px window (640 CSS pixels), where tables are no longer
            // stacked: wide ones scroll inside their own labelled region, never the page.
            c.set_window_size(640, 900).await.unwrap();
            let (scroll, client) = widths(c).await;
            assert!(client <= 640, "{role:?}: the viewport is {client} px wide");
            if scroll > client {
                wide.push(format!("{role:?} {p} at 640 px: {scroll} px ({})", sticking_out(c).await.join(", ")));
                browser.screenshot(&shot.replacen("320-", "640-", 1)).await;
            }
            for s in unlabelled_scrollers(c).await {
                unlabelled.push(format!("{role:?} {p} at 640 px: {s}"));
            }
            c.set_window_size(320, 900).await.unwrap();
        }
        if role == Role::Analyst {
            // Setting up one-time codes: the QR code and the key, and a refused first code.
            c.goto(&format!("{base}/account/two-step")).await.unwrap();
            c.find(fantoccini::Locator::Css("form[action='/account/two-step/begin'] button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            // Setting up asks for the password first, then comes back to the same button.
            c.wait().for_element(fantoccini::Locator::Css("form[action='/account/reauth']")).await.unwrap();
            c.find(fantoccini::Locator::Id("password"))
                .await
                .unwrap()
                .send_keys("analyst own long passphrase")
                .await
                .unwrap();
            c.find(fantoccini::Locator::Css("form[action='/account/reauth'] button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait().for_element(fantoccini::Locator::Css("form[action='/account/two-step/begin']")).await.unwrap();
            c.find(fantoccini::Locator::Css("form[action='/account/two-step/begin'] button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait().for_element(fantoccini::Locator::Css("[data-testid=totp-qr] svg")).await.unwrap();
            c.find(fantoccini::Locator::Id("code")).await.unwrap().send_keys("12").await.unwrap();
            c.find(fantoccini::Locator::Css("form[action='/account/two-step/confirm'] button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait().for_element(fantoccini::Locator::Css("[data-testid=error-summary]")).await.unwrap();
            let (scroll, client) = widths(c).await;
            browser.screenshot("320-analyst-two-step-setup").await;
            if scroll > client {
                wide.push(format!("Analyst two-step set-up: {scroll} px ({})", sticking_out(c).await.join(", ")));
            }
            for v in browser.axe().await {
                inaccessible.push(format!("Analyst two-step set-up: {v}"));
            }
            c.set_window_size(1280, 1500).await.unwrap();
            browser.screenshot("analyst-two-step-setup").await;
        }
        browser.close().await;
    }
    assert!(wide.is_empty(), "pages wider than their viewport:\n{}", wide.join("\n"));
    assert!(unlabelled.is_empty(), "parts that scroll sideways without a labelled region:\n{}", unlabelled.join("\n"));
    assert!(inaccessible.is_empty(), "axe-core violations:\n{}", inaccessible.join("\n"));
}

/// The part of a page inside the element with `data-testid="{id}"` (up to its `</section>`).
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn each_role_lands_on_a_home_page_of_its_own_work_with_totals_and_only_open_cases() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let (a1, a2, sup) = (app.user("analyst").await, app.user("analyst").await, app.user("supervisor").await);
    let (auditor, admin) = (app.user("auditor").await, app.user("admin").await);
    let (t1, t2, ts) = (app.token(&a1).await, app.token(&a2).await, app.token(&sup).await);
    let file = |t: String, title: String| {
        let app = &app;
        async move {
            let body = json!({"title": title, "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": false});
            let r = app.send(api("POST", "/api/v1/cases", &t, Some(body))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_string()
        }
    };
    let mut mine = Vec::new();
    for i in 0..12 {
        mine.push(file(t1.clone(), format!("Analyst one's case {i}")).await);
    }
    let theirs = file(t2.clone(), "Analyst two's case".into()).await;

    // The analyst: their 12 open cases, 10 shown with the total and a link to the rest;
    // not the other analyst's.
    let s1 = app.sign_in(&a1).await;
    let page = app.send(s1.get("/")).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(page.contains("data-home=\"analyst\""), "{page}");
    let list = section(&page, "my-cases");
    assert!(list.contains("(12 cases)"), "{list}");
    assert_eq!(list.matches("<li>").count(), 10);
    assert!(list.contains("/cases?assignee=me&#38;open=true&#38;sort=due"), "{list}");
    assert!(!list.contains(&theirs));
    assert!(section(&page, "my-drafts").contains("(0 determinations)"));
    assert!(section(&page, "rfis").contains("(0 requests)"));
    // Requests for information on two of the analyst's cases; the first case is rejected
    // below, and its request leaves the home page with it.
    for case in &mine[..2] {
        let r = app
            .send(s1.post(
                &format!("/cases/{case}/rfis"),
                &[("asked_of", "Vendor counsel"), ("question", "Who holds the update keys?")],
            ))
            .await;
        assert!(r.status.is_redirection() || r.status == StatusCode::OK, "{}", r.text());
    }
    assert!(section(&app.send(s1.get("/")).await.text(), "rfis").contains("(2 requests)"));

    // The supervisor: 13 referrals to decide; one rejected leaves the list (only open
    // cases where someone has to act).
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{}/transitions", mine[0]),
            &ts,
            Some(json!({"action": "reject", "comment": "Out of scope"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let ss = app.sign_in(&sup).await;
    let page = app.send(ss.get("/")).await.text();
    assert!(page.contains("data-home=\"supervisor\""));
    let referrals = section(&page, "referrals");
    assert!(referrals.contains("(12 cases)"), "{referrals}");
    assert!(!referrals.contains(&mine[0]), "a rejected referral is not waiting");
    assert_eq!(referrals.matches("<li>").count(), 10);
    for id in ["to-sign", "unassigned", "overdue", "due-soon", "returned"] {
        section(&page, id);
    }
    assert!(page.contains("Cases by stage"));
    // The analyst's list follows: 11 open cases now, and one open request.
    let home = app.send(s1.get("/")).await.text();
    assert!(section(&home, "my-cases").contains("(11 cases)"));
    assert!(section(&home, "rfis").contains("(1 request)"), "{}", section(&home, "rfis"));
    // The full list the link leads to holds the same 11.
    let full = app.send(api("GET", "/api/v1/cases?assignee=me&open=true&sort=due&limit=200", &t1, None)).await.json();
    assert_eq!(full["items"].as_array().unwrap().len(), 11);

    // The auditor: exports and restricted views, and the chain.
    let page = app.send(app.sign_in(&auditor).await.get("/")).await.text();
    assert!(page.contains("data-home=\"auditor\""));
    assert!(section(&page, "chain").contains("Head: event"));
    section(&page, "events");
    // The administrator: locked accounts and recent administrative acts (the accounts
    // this test created).
    let page = app.send(app.sign_in(&admin).await.get("/")).await.text();
    assert!(page.contains("data-home=\"admin\""));
    assert!(section(&page, "locked").contains("No account is locked."));
    assert!(section(&page, "events").contains("user.created"), "{page}");
    // The old dashboard address leads home.
    let r = app.send(s1.get("/dashboard")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location").as_deref(), Some("/"));
    drop(t2);
}

/// The `href` of the link with `data-testid="{id}"` on a page, unescaped.
pub fn link(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("data-testid=\"{id}\""))?;
    let start = page[..at].rfind("href=\"")? + 6;
    let end = start + page[start..].find('"')?;
    let href = page[start..end].replace("&#38;", "&").replace("&amp;", "&");
    Some(href.split('#').next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn the_case_list_shows_its_total_pages_keep_the_filters_and_headers_sort() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let t = app.token(&a).await;
    for i in 0..30 {
        let body = json!({"title": format!("Router firmware {i:02}"), "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": false});
        assert_eq!(app.send(api("POST", "/api/v1/cases", &t, Some(body))).await.status, StatusCode::CREATED);
    }
    let s = app.sign_in(&a).await;
    let page = app.send(s.get("/cases?q=router&limit=25&open=true")).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(page.contains("<strong>30 cases</strong>"), "{page}");
    assert_eq!(page.matches("data-label=\"Docket\"").count(), 25);
    // The next page keeps the search, the page size and the filters.
    let next = link(&page, "next-page").expect("a next page");
    for kept in ["q=router", "limit=25", "open=true", "cursor="] {
        assert!(next.contains(kept), "{next} keeps {kept}");
    }
    let second = app.send(s.get(&next)).await.text();
    assert_eq!(second.matches("data-label=\"Docket\"").count(), 5);
    assert!(second.contains("<strong>30 cases</strong>"));
    assert!(link(&second, "next-page").is_none());
    let first = link(&second, "first-page").expect("a way back");
    assert!(!first.contains("cursor=") && first.contains("q=router"));
    // Previous goes back to the same rows, in the same order, keeping the filters; on the
    // first page there is no way further back.
    let dockets =
        |html: &str| -> Vec<String> { html.match_indices("ICTS-").map(|(i, _)| html[i..i + 13].to_string()).collect() };
    let prev = link(&second, "prev-page").expect("a previous page");
    assert!(prev.contains("before=") && prev.contains("q=router") && !prev.contains("cursor="), "{prev}");
    let back = app.send(s.get(&prev)).await.text();
    assert_eq!(dockets(&back), dockets(&page), "the searched list's previous page is its first");
    assert!(link(&back, "prev-page").is_none() && link(&back, "first-page").is_none());
    assert!(link(&back, "next-page").is_some());
    // The same in an order of another index, without a search, over three pages.
    let p1 = app.send(s.get("/cases?sort=docket&limit=10")).await.text();
    let p2 = app.send(s.get(&link(&p1, "next-page").unwrap())).await.text();
    let p3 = app.send(s.get(&link(&p2, "next-page").unwrap())).await.text();
    assert_eq!(p3.matches("data-label=\"Docket\"").count(), 10);
    let back2 = app.send(s.get(&link(&p3, "prev-page").unwrap())).await.text();
    assert_eq!(dockets(&back2), dockets(&p2));
    assert!(back2.contains("(a later page)") && link(&back2, "first-page").is_some());
    let back1 = app.send(s.get(&link(&back2, "prev-page").unwrap())).await.text();
    assert_eq!(dockets(&back1), dockets(&p1));
    assert!(link(&back1, "prev-page").is_none());
    // The API pages both ways with the same cursors.
    let one = app.send(api("GET", "/api/v1/cases?sort=due&limit=12", &t, None)).await.json();
    assert!(one["prev_cursor"].is_null());
    let two = app
        .send(api(
            "GET",
            &format!("/api/v1/cases?sort=due&limit=12&cursor={}", one["next_cursor"].as_str().unwrap()),
            &t,
            None,
        ))
        .await
        .json();
    let before = two["prev_cursor"].as_str().expect("a page before the second");
    let again =
        app.send(api("GET", &format!("/api/v1/cases?sort=due&limit=12&before={before}"), &t, None)).await.json();
    assert_eq!(again["items"], one["items"]);
    assert!(again["prev_cursor"].is_null());
    let both = app.send(api("GET", &format!("/api/v1/cases?cursor={before}&before={before}"), &t, None)).await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", both.text());
    // A column header sorts, keeping the filters, from the first page.
    let by_docket = link(&page, "sort-docket").unwrap();
    assert!(by_docket.contains("sort=docket") && by_docket.contains("q=router") && !by_docket.contains("cursor="));
    let sorted = app.send(s.get(&by_docket)).await.text();
    assert!(sorted.contains("aria-sort=\"ascending\""));
    let dockets: Vec<&str> = sorted.match_indices("ICTS-").map(|(i, _)| &sorted[i..i + 13]).collect();
    let mut in_order = dockets.clone();
    in_order.sort();
    assert_eq!(dockets, in_order);
    assert!(dockets.first().is_some_and(|d| d.ends_with("-001")), "{dockets:?}");
    // Newest first is the default; the Filed header turns it to oldest first.
    assert!(link(&page, "sort-filed").unwrap().contains("sort=oldest"));
}

/// The error summary of the page: its heading and each link as (target id, text).
async fn error_summary(c: &fantoccini::Client) -> (String, Vec<(String, String)>, bool) {
    let v = c
        .execute(
            "const s = document.querySelector('[data-testid=error-summary]');
             if (!s) return null;
             const links = [...s.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.textContent.trim(),
                 !!document.getElementById(a.getAttribute('href').slice(1))]);
             return [s.querySelector('h2').textContent.trim(), links, document.activeElement === s];",
            vec![],
        )
        .await
        .unwrap();
    let heading = v[0].as_str().expect("an error summary").to_string();
    let links: Vec<(String, String)> = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert!(l[2].as_bool().unwrap(), "the summary's link {} has a target on the page", l[0]);
            (l[0].as_str().unwrap().to_string(), l[1].as_str().unwrap().to_string())
        })
        .collect();
    (heading, links, v[2].as_bool().unwrap())
}

#[tokio::test]
async fn a_refused_form_lists_every_problem_as_a_link_with_focus_on_the_list_and_keeps_what_was_typed() {
    let office = DemoOffice::start().await;
    let base = office.server.base.clone();
    let browser = Browser::start().await;
    let c = &browser.client;
    office.sign_in(&browser, Role::Analyst).await;

    // Three mistakes on the new-case form: no title, no covered category, no adversary.
    c.goto(&format!("{base}/cases/new")).await.unwrap();
    c.find(Locator::Id("summary")).await.unwrap().send_keys("Routers bought for a county network").await.unwrap();
    c.find(Locator::Css("label[for=origin-own_initiative]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=error-summary]")).await.unwrap();
    browser.screenshot("form-errors").await;
    browser.assert_accessible("the new-case form with errors").await;
    let (heading, links, focused) = error_summary(c).await;
    assert_eq!(heading, "There are 3 problems with what you entered");
    assert_eq!(
        links.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        ["#title", "#category", "#adversaries"],
        "{links:?}"
    );
    assert!(links[0].1.starts_with("Title is required"), "{links:?}");
    assert!(links[1].1.starts_with("Covered category must be one of the covered categories"), "{links:?}");
    assert!(links[2].1.starts_with("Foreign adversaries: name at least one"), "{links:?}");
    assert!(links.iter().all(|l| !l.1.contains("/api/")), "no message points at the API: {links:?}");
    assert!(focused, "focus is on the error summary");
    // What was typed is kept, and the message stands at its field too.
    assert_eq!(
        c.find(Locator::Id("summary")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Routers bought for a county network")
    );
    let at_field =
        c.find(Locator::Css(".usa-form-group--error .usa-error-message")).await.unwrap().text().await.unwrap();
    assert!(at_field.starts_with("Title is required"), "{at_field}");
    // A link moves to its field.
    c.find(Locator::Css("[data-testid=error-summary] a[href='#title']")).await.unwrap().click().await.unwrap();
    let active = c.execute("return document.activeElement.id", vec![]).await.unwrap();
    assert_eq!(active.as_str(), Some("title"));

    // Corrected, the case is filed; its page's transaction panel reports at the field.
    c.find(Locator::Id("title")).await.unwrap().send_keys("County network routers").await.unwrap();
    let category = c.find(Locator::Id("category")).await.unwrap();
    category.select_by_index(1).await.unwrap();
    c.find(Locator::Css("#adversaries label")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=docket]")).await.unwrap();
    c.find(Locator::Css("#panel-transaction > summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("tx-value_usd")).await.unwrap().send_keys("a great deal").await.unwrap();
    c.find(Locator::Id("tx-ongoing_activity")).await.unwrap().send_keys("firmware updates").await.unwrap();
    c.find(Locator::Css("form[action$='/transactions'] button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=error-summary]")).await.unwrap();
    browser.screenshot("panel-errors").await;
    browser.assert_accessible("the case page with a refused panel form").await;
    let open = c.execute("return document.getElementById('panel-transaction').open", vec![]).await.unwrap();
    assert_eq!(open.as_bool(), Some(true), "the panel comes back open");
    let (heading, links, focused) = error_summary(c).await;
    assert_eq!(heading, "There are 2 problems with what you entered");
    assert_eq!(links.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["#tx-value_usd", "#tx-item"], "{links:?}");
    assert!(focused, "focus is on the panel's error summary");
    assert_eq!(
        c.find(Locator::Id("tx-value_usd")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("a great deal")
    );
    assert_eq!(
        c.find(Locator::Id("tx-ongoing_activity")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("firmware updates")
    );
    let msg = c.find(Locator::Id("tx-value_usd-error")).await.unwrap().text().await.unwrap();
    assert_eq!(msg, "Value (US dollars) must be a number.");

    // The proceedings page's panels do the same: a measure without what it requires.
    let case_path = c.current_url().await.unwrap().path().trim_end_matches('/').to_string();
    let case_path = case_path.split("/transactions").next().unwrap().to_string();
    c.goto(&format!("{base}{case_path}/proceedings")).await.unwrap();
    c.find(Locator::Css("#panel-measure > summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("m-owner")).await.unwrap().send_keys("Vendor security office").await.unwrap();
    c.find(Locator::Css("form[action$='/measures'] button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=error-summary]")).await.unwrap();
    browser.assert_accessible("the proceedings page with a refused panel form").await;
    let open = c.execute("return document.getElementById('panel-measure').open", vec![]).await.unwrap();
    assert_eq!(open.as_bool(), Some(true), "the panel comes back open");
    let (_, links, focused) = error_summary(c).await;
    assert_eq!(links.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["#m-description"], "{links:?}");
    assert!(focused, "focus is on the panel's error summary");
    assert_eq!(
        c.find(Locator::Id("m-owner")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Vendor security office")
    );
    // Lists refuse a bad order or page by name, and stay accessible while they do.
    for (path, what) in [
        ("/parties?sort=size", "the party list with a bad order"),
        ("/determinations?kind=verdict", "the determination list with a bad filter"),
        ("/cases?limit=0", "the case list with a bad page size"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.wait().for_element(Locator::Css("[data-testid=error-summary]")).await.unwrap();
        browser.assert_accessible(what).await;
    }
}

/// The value of the hidden field `name` on a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn acts_that_cannot_be_undone_ask_to_confirm_what_is_about_to_happen_and_write_nothing_until_then() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let (analyst, sup, admin) = (app.user("analyst").await, app.user("supervisor").await, app.user("admin").await);
    let ta = app.token(&analyst).await;
    let body = json!({"title": "Satellite ground station", "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["CN"], "restricted": false});
    let r = app.send(api("POST", "/api/v1/cases", &ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let (id, docket) =
        (r.json()["id"].as_str().unwrap().to_string(), r.json()["docket_number"].as_str().unwrap().to_string());

    // The case page's accept and reject buttons lead to the confirmation step.
    let s = app.sign_in(&sup).await;
    let page = app.send(s.get(&format!("/cases/{id}"))).await.text();
    assert!(page.contains(&format!("action=\"/cases/{id}/transitions/confirm\"")), "{page}");
    let events = app.count("audit_events").await;
    let confirm =
        app.send(s.post(
            &format!("/cases/{id}/transitions/confirm"),
            &[("action", "accept"), ("version", "1"), ("date", "")],
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let confirm = confirm.text();
    assert!(confirm.contains(&docket) && confirm.contains("Satellite ground station"), "{confirm}");
    assert!(confirm.contains("Initial review") && confirm.contains("This cannot be undone."), "{confirm}");
    assert_eq!(app.count("audit_events").await, events, "the confirmation step writes nothing");
    let case = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ta, None)).await.json();
    assert_eq!(case["stage"], "intake");
    // A rejection without its reason is refused at the first step, naming the field.
    let r = app
        .send(s.post(
            &format!("/cases/{id}/transitions/confirm"),
            &[("action", "reject"), ("version", "1"), ("comment", " ")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Comment is required"), "{}", r.text());
    // Confirmed, the act is done with what the first step carried.
    assert_eq!(hidden(&confirm, "action"), "accept");
    let r = app
        .submit(s.post(
            &format!("/cases/{id}/transitions"),
            &[("action", &hidden(&confirm, "action")), ("version", &hidden(&confirm, "version")), ("date", "")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ta, None)).await.json();
    assert_eq!(case["stage"], "initial_review");
    // A confirmation of a step already taken (the case moved on) says so.
    let r =
        app.send(s.post(&format!("/cases/{id}/transitions/confirm"), &[("action", "accept"), ("version", "1")])).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Deactivating an account: whose, and what follows, before it happens.
    let sa = app.sign_in(&admin).await;
    let page = app.send(sa.get(&format!("/admin/users/{}", analyst.id))).await.text();
    assert!(page.contains(&format!("action=\"/admin/users/{}/confirm\"", analyst.id)), "{page}");
    let version = hidden(&page, "version");
    let confirm = app
        .send(
            sa.post(
                &format!("/admin/users/{}/confirm", analyst.id),
                &[("action", "deactivate"), ("version", &version)],
            ),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let confirm = confirm.text();
    assert!(confirm.contains(&analyst.email) && confirm.contains("can no longer sign in"), "{confirm}");
    assert_eq!(app.send(api("GET", "/api/v1/me", &ta, None)).await.status, StatusCode::OK, "still active");
    let r = app
        .submit(sa.post(
            &format!("/admin/users/{}", analyst.id),
            &[("action", "deactivate"), ("version", &hidden(&confirm, "version"))],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.send(api("GET", "/api/v1/me", &ta, None)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_auditor_exports_a_month_of_the_log_from_the_audit_page_after_a_step_up() {
    use crate::harness::TestApp;
    use axum::http::StatusCode;
    let app = TestApp::new().await;
    let auditor = app.user("auditor").await;
    let analyst = app.user("analyst").await;
    app.token(&analyst).await;
    let s = app.sign_in(&auditor).await;
    let page = app.send(s.get("/audit")).await.text();
    assert!(page.contains("data-testid=\"export-log-form\""), "{page}");
    // The form offers the last whole month; the test's clock says which.
    let today = icts_review::clock::Clock::now(&app.clock).date();
    let first = today.replace_day(1).unwrap();
    let from = first.previous_day().unwrap().replace_day(1).unwrap();
    assert!(page.contains(&format!("name=\"from\" type=\"date\" value=\"{from}\"")), "{page}");
    assert!(page.contains(&format!("name=\"to\" type=\"date\" value=\"{first}\"")), "{page}");
    // This month's events, as CSV: first the step-up, then the file.
    let path = format!("/audit/export?from={first}&to={}&format=csv", today.next_day().unwrap());
    let r = app.send(s.get(&path)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to_reauth = r.header("location").unwrap();
    assert!(to_reauth.starts_with("/account/reauth?next=%2Faudit%2Fexport%3F"), "{to_reauth}");
    let r = app.send(s.post("/account/reauth", &[("password", &auditor.password), ("next", &path)])).await;
    assert_eq!(r.header("location").as_deref(), Some(path.as_str()), "back to the export");
    let exported = app.events("audit.exported").await;
    let r = app.send(s.get(&path)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"), "{:?}", r.header("content-type"));
    assert!(r.header("content-disposition").unwrap().contains("audit-log.csv"));
    let csv = r.text();
    assert!(csv.lines().next().unwrap().contains("event_type"), "{csv}");
    assert!(csv.contains("auth.sign_in"), "the month's sign-ins are in it");
    assert_eq!(app.events("audit.exported").await.len(), exported.len() + 1, "the export is recorded");
}

#[tokio::test]
async fn the_case_page_links_to_its_parts_and_says_what_the_next_steps_wait_for_and_who_takes_them() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let (analyst, sup) = (app.user("analyst").await, app.user("supervisor").await);
    let ta = app.token(&analyst).await;
    let body = json!({"title": "Port crane telemetry", "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["CN"], "restricted": false});
    let r = app.send(api("POST", "/api/v1/cases", &ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();

    // The analyst, at intake: nothing to do, and why.
    let s = app.sign_in(&analyst).await;
    let page = app.send(s.get(&format!("/cases/{id}"))).await.text();
    let nav = section(&page, "case-nav");
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let anchors: Vec<&str> = nav.split("href=\"#").skip(1).map(|h| &h[..h.find('"').unwrap()]).collect();
    assert!(anchors.len() >= 10, "{nav}");
    for a in anchors {
        assert!(page.contains(&format!("id=\"{a}\"")), "the in-page link #{a} has its part on the page");
    }
    assert!(page.contains("Nothing you can do at this stage."), "{page}");
    let waiting = section(&page, "waiting");
    assert!(waiting.contains("Accept for review: a supervisor takes this step"), "{waiting}");
    assert!(waiting.contains("Reject: a supervisor takes this step"), "{waiting}");
    assert!(page.contains("aria-label=\"Breadcrumbs\""));

    // The supervisor accepts; the next step waits for the agencies' notices.
    let ts = app.token(&sup).await;
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/transitions"),
            &ts,
            Some(json!({"action": "accept", "version": 1})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = app.sign_in(&sup).await;
    let page = app.send(s.get(&format!("/cases/{id}"))).await.text();
    let waiting = section(&page, "waiting");
    assert!(waiting.contains("record the notice sent to each appropriate agency first"), "{waiting}");
}

/// Time where people are: each user chooses a time zone on their account page (the
/// office's, configurable, is the default); pages show times in it, naming it; the audit
/// log stays UTC and says so; a name the system does not know is refused at the field
/// and nothing is written.
#[tokio::test]
async fn pages_show_times_in_each_users_zone_naming_it_and_the_audit_log_stays_utc() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use icts_review::clock::Clock;
    use icts_review::zone::Zone;
    let app = TestApp::with(|c| c.time_zone = Zone::parse("America/Chicago").unwrap()).await;
    let now = Clock::now(&app.clock);
    let analyst = app.user("analyst").await;
    let browser = app.sign_in(&analyst).await;

    // The office's zone until the user chooses one.
    let page = app.send(browser.get("/account/sessions")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let chicago = Zone::parse("America/Chicago").unwrap().wall_clock(now);
    assert!(chicago.ends_with(" CST") || chicago.ends_with(" CDT"), "{chicago}");
    assert!(html.contains(&format!("it is now {chicago}")), "the page names the office's zone: {html}");
    assert!(html.contains("(the office&#x27;s time zone)") || html.contains("(the office's time zone)"));
    assert!(html.contains("<option value=\"Asia/Tokyo\">Asia/Tokyo</option>"));

    // A zone the system does not know: refused at the field, nothing written.
    let before = app.count("audit_events").await;
    let r = app.send(browser.post("/account/time-zone", &[("time_zone", "Mars/Olympus")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("data-testid=\"error-summary\"") && html.contains("href=\"#time_zone\""), "{html}");
    assert!(html.contains("Time zone") && html.contains("not a time zone this system knows"), "{html}");
    assert_eq!(app.count("audit_events").await, before, "a refused zone writes nothing");

    // Chosen: recorded with before and after, and every page follows.
    let r = app.send(browser.post("/account/time-zone", &[("time_zone", "Asia/Tokyo")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location").as_deref(), Some("/account/sessions?done=time-zone"));
    let set = app.events("user.time_zone_set").await;
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["changes"]["time_zone"], serde_json::json!({"before": null, "after": "Asia/Tokyo"}));
    let tokyo = Zone::parse("Asia/Tokyo").unwrap().wall_clock(now);
    assert!(tokyo.ends_with(" JST"), "{tokyo}");
    let html = app.send(browser.get("/account/sessions?done=time-zone")).await.text();
    assert!(html.contains("data-testid=\"time-zone-done\"") && html.contains(&format!("it is now {tokyo}")), "{html}");
    assert!(html.contains(&format!("<td data-label=\"Signed in\">{tokyo}</td>")), "the sessions table follows");

    // A case's notes and timeline are shown in the reader's zone.
    let t = app.token(&analyst).await;
    let case = app
        .send(api(
            "POST",
            "/api/v1/cases",
            &t,
            Some(serde_json::json!({
                "title": "Router firmware update service",
                "summary": "Firmware updates for home routers pushed from servers abroad.",
                "origin": "own_initiative",
                "category": "connected_software",
                "adversaries": ["CN"],
                "restricted": false
            })),
        ))
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text());
    let id = case.json()["id"].as_str().unwrap().to_string();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/notes"),
            &t,
            Some(serde_json::json!({"body": "Vendor called."})),
        ))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let html = app.send(browser.get(&format!("/cases/{id}"))).await.text();
    assert!(html.contains(&format!(", {tokyo}</p>")), "the note is shown in Tokyo time: {html}");
    assert!(!html.contains(&Zone::utc().wall_clock(now)), "no time on the case page is shown in UTC");

    // The API reads and sets the same setting; null goes back to the office's.
    let me = app.send(api("GET", "/api/v1/me", &t, None)).await.json();
    assert_eq!((me["time_zone"].as_str(), me["time_zone_chosen"].as_bool()), (Some("Asia/Tokyo"), Some(true)));
    let bad =
        app.send(api("PUT", "/api/v1/me/time-zone", &t, Some(serde_json::json!({"time_zone": "Tokyo\u{0}"})))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["errors"][0]["field"], "time_zone");
    let back = app.send(api("PUT", "/api/v1/me/time-zone", &t, Some(serde_json::json!({"time_zone": null})))).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert_eq!(
        (back.json()["time_zone"].as_str(), back.json()["time_zone_chosen"].as_bool()),
        (Some("America/Chicago"), Some(false))
    );
    assert_eq!(app.events("user.time_zone_set").await.len(), 2);

    // The audit log keeps UTC, whatever the auditor's zone, and says so.
    let auditor = app.user("auditor").await;
    let ab = app.sign_in(&auditor).await;
    let r = app.send(ab.post("/account/time-zone", &[("time_zone", "Asia/Tokyo")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = app.send(ab.get("/audit")).await.text();
    assert!(html.contains("When (UTC)") && html.contains("Times in the log are UTC"), "{html}");
    assert!(html.contains(&format!("<td data-label=\"When\">{}</td>", Zone::utc().wall_clock(now))), "{html}");
    assert!(!html.contains(&format!("<td data-label=\"When\">{tokyo}</td>")));
}

/// The party registry's list: its total, a page size, first, previous and next pages that
/// keep the search, and headers that sort by legal name (either way) and by country.
#[tokio::test]
async fn the_party_list_shows_its_total_pages_both_ways_and_sorts_by_its_headers() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let t = app.token(&a).await;
    let countries = ["CN", "HK", "RU", "US"];
    for i in 0..23 {
        let body =
            json!({"legal_name": format!("Relay Systems {i:02}"), "kind": "company", "country": countries[i % 4]});
        let r = app.send(api("POST", "/api/v1/parties", &t, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let other = json!({"legal_name": "Harbour Freight Ltd", "kind": "company", "country": "US"});
    assert_eq!(app.send(api("POST", "/api/v1/parties", &t, Some(other))).await.status, StatusCode::CREATED);
    let names = |html: &str| -> Vec<String> {
        html.match_indices("data-label=\"Legal name\"><a class=\"usa-link\" href=\"/parties/")
            .map(|(i, _)| {
                let rest = &html[i..];
                let start = rest.find("\">").unwrap() + 2;
                let start = start + rest[start..].find('>').unwrap() + 1;
                rest[start..start + rest[start..].find('<').unwrap()].to_string()
            })
            .collect()
    };
    let s = app.sign_in(&a).await;
    let p1 = app.send(s.get("/parties?q=relay&limit=10")).await;
    assert_eq!(p1.status, StatusCode::OK);
    let p1 = p1.text();
    assert!(p1.contains("<strong>23 parties</strong>"), "{p1}");
    let first: Vec<String> = (0..10).map(|i| format!("Relay Systems {i:02}")).collect();
    assert_eq!(names(&p1), first);
    assert!(link(&p1, "prev-page").is_none() && link(&p1, "first-page").is_none());
    let next = link(&p1, "next-page").expect("a next page");
    assert!(next.contains("q=relay") && next.contains("limit=10") && next.contains("cursor="), "{next}");
    let p2 = app.send(s.get(&next)).await.text();
    assert_eq!(names(&p2), (10..20).map(|i| format!("Relay Systems {i:02}")).collect::<Vec<_>>());
    assert!(p2.contains("<strong>23 parties</strong> (a later page)"));
    let p3 = app.send(s.get(&link(&p2, "next-page").unwrap())).await.text();
    assert_eq!(names(&p3).len(), 3);
    assert!(link(&p3, "next-page").is_none());
    let back = app.send(s.get(&link(&p3, "prev-page").unwrap())).await.text();
    assert_eq!(names(&back), names(&p2));
    let back = app.send(s.get(&link(&back, "prev-page").unwrap())).await.text();
    assert_eq!(names(&back), first);
    assert!(link(&back, "prev-page").is_none());
    // Headers sort from the first page, keeping the search and the page size.
    let by_name = link(&p1, "sort-name").unwrap();
    assert!(by_name.contains("sort=name_desc") && by_name.contains("q=relay") && !by_name.contains("cursor="));
    let desc = app.send(s.get(&by_name)).await.text();
    assert!(desc.contains("aria-sort=\"descending\""));
    assert_eq!(names(&desc)[0], "Relay Systems 22");
    let by_country = app.send(s.get(&link(&p1, "sort-country").unwrap())).await.text();
    let listed = names(&by_country);
    assert_eq!(listed.len(), 10);
    assert!(
        listed.iter().take(6).all(|n| ["00", "04", "08", "12", "16", "20"].iter().any(|k| n.ends_with(k))),
        "CN first: {listed:?}"
    );
    let p2c = app.send(s.get(&link(&by_country, "next-page").unwrap())).await.text();
    let back_c = app.send(s.get(&link(&p2c, "prev-page").unwrap())).await.text();
    assert_eq!(names(&back_c), listed, "back by country to the same page");
    // A page past the last (its rows gone since, say) is empty, with the true total and a
    // way back to the first.
    let past = app.send(s.get("/parties?q=relay&cursor=zzzz~00000000-0000-0000-0000-000000000000")).await.text();
    assert!(past.contains("No parties match.") && past.contains("<strong>23 parties</strong>"), "{past}");
    assert!(link(&past, "first-page").is_some_and(|f| !f.contains("cursor=")));
    // Without a search, every party; a bad order is named, not a failure.
    assert!(app.send(s.get("/parties")).await.text().contains("<strong>24 parties</strong>"));
    let bad = app.send(s.get("/parties?sort=size&limit=0")).await.text();
    assert!(
        bad.contains("data-testid=\"error-summary\"") && bad.contains("Sort") && bad.contains("Page size"),
        "{bad}"
    );
}

/// The audit log's page: its total, first, previous and next pages that keep the filters,
/// newest or oldest first from the When header; the API pages the same way.
#[tokio::test]
async fn the_audit_log_shows_its_total_pages_both_ways_and_turns_its_order() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    let app = TestApp::new().await;
    let auditor = app.user("auditor").await;
    for _ in 0..12 {
        app.user("analyst").await;
    }
    let seqs = |html: &str| -> Vec<i64> {
        html.match_indices("<td data-label=\"#\">")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                rest[..rest.find('<').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let s = app.sign_in(&auditor).await;
    let p1 = app.send(s.get("/audit?type=user.created&limit=5")).await;
    assert_eq!(p1.status, StatusCode::OK);
    let p1 = p1.text();
    assert!(p1.contains("<strong>13 events</strong>"), "{p1}");
    let first = seqs(&p1);
    assert_eq!(first.len(), 5);
    assert!(first.windows(2).all(|w| w[0] > w[1]), "newest first: {first:?}");
    assert!(link(&p1, "prev-page").is_none());
    let next = link(&p1, "next-page").unwrap();
    assert!(next.contains("type=user.created") && next.contains("limit=5"), "{next}");
    let p2 = app.send(s.get(&next)).await.text();
    assert!(seqs(&p2)[0] < first[4] && p2.contains("(a later page)"));
    let p3 = app.send(s.get(&link(&p2, "next-page").unwrap())).await.text();
    assert_eq!(seqs(&p3).len(), 3);
    assert!(link(&p3, "next-page").is_none());
    let back = app.send(s.get(&link(&p3, "prev-page").unwrap())).await.text();
    assert_eq!(seqs(&back), seqs(&p2));
    let back = app.send(s.get(&link(&back, "prev-page").unwrap())).await.text();
    assert_eq!(seqs(&back), first);
    // Oldest first from the header, keeping the filter, from the first page.
    let oldest = link(&p1, "sort-when").unwrap();
    assert!(oldest.contains("sort=oldest") && oldest.contains("type=user.created") && !oldest.contains("cursor="));
    let o1 = app.send(s.get(&oldest)).await.text();
    let mut all: Vec<i64> = [first.clone(), seqs(&p2), seqs(&p3)].concat();
    all.sort();
    assert_eq!(seqs(&o1), all[..5].to_vec());
    let o2 = app.send(s.get(&link(&o1, "next-page").unwrap())).await.text();
    assert_eq!(seqs(&o2), all[5..10].to_vec());
    let o1again = app.send(s.get(&link(&o2, "prev-page").unwrap())).await.text();
    assert_eq!(seqs(&o1again), all[..5].to_vec());
    // The API: prev_cursor and before.
    let t = app.token(&auditor).await;
    let a1 = app.send(api("GET", "/api/v1/audit/events?type=user.created&limit=4", &t, None)).await.json();
    assert!(a1["prev_cursor"].is_null());
    let a2 = app
        .send(api(
            "GET",
            &format!("/api/v1/audit/events?type=user.created&limit=4&cursor={}", a1["next_cursor"].as_str().unwrap()),
            &t,
            None,
        ))
        .await
        .json();
    let again = app
        .send(api(
            "GET",
            &format!("/api/v1/audit/events?type=user.created&limit=4&before={}", a2["prev_cursor"].as_str().unwrap()),
            &t,
            None,
        ))
        .await
        .json();
    assert_eq!(again["items"], a1["items"]);
    let bad = app.send(api("GET", "/api/v1/audit/events?sort=sideways", &t, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["errors"][0]["field"], "sort");
}

/// The panel forms of the proceedings page come back open after a refusal, with the
/// problems listed and linked at the top of the panel, each at its field, and what was
/// typed kept; nothing is written.
#[tokio::test]
async fn the_proceedings_panels_come_back_open_with_their_errors_at_the_fields() {
    use axum::http::StatusCode;
    let o = crate::determinations::Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let s = app.sign_in(&o.analyst).await;
    let before = app.count("audit_events").await;
    // A notice sent in the future, with a response date before it.
    let r = app
        .send(s.post(
            &format!("/cases/{id}/agency-notices"),
            &[("step", "second"), ("agency", "DOJ"), ("sent_on", "2999-01-01"), ("due_on", "")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of(&html, "panel-notice");
    assert!(panel.starts_with("<details class=\"icts-details\" id=\"panel-notice\" open>"), "{panel}");
    assert!(panel.contains("data-testid=\"error-summary\"") && panel.contains("href=\"#notice-sent_on\""), "{panel}");
    assert!(panel.contains("id=\"notice-sent_on-error\""), "the message stands at the field: {panel}");
    assert!(panel.contains("value=\"2999-01-01\""), "what was typed is kept");
    assert!(panel.contains("<option value=\"second\" selected>"), "the chosen step is kept");
    assert!(!section_of(&html, "panel-measure").contains(" open>"), "other panels stay closed");
    // A measure without what it requires.
    let r = app
        .send(s.post(
            &format!("/cases/{id}/measures"),
            &[("kind", "independent_audit"), ("description", ""), ("owner", "Vendor security office"), ("due_on", "")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of(&html, "panel-measure");
    assert!(panel.contains(" open>") && panel.contains("href=\"#m-description\""), "{panel}");
    assert!(
        panel.contains("id=\"m-description-error\"") && panel.contains("value=\"Vendor security office\""),
        "{panel}"
    );
    assert_eq!(app.count("audit_events").await, before, "nothing was written");
    // A draft of no kind, and an agency's objection without the objector's level (a form
    // of one row of the notices' table).
    let r = app
        .send(s.post(&format!("/cases/{id}/determinations"), &[("kind", "verdict"), ("outcome", "prohibition")]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of_id(&html, "panel-draft");
    assert!(panel.contains(" open>") && panel.contains("href=\"#draft-kind\""), "{panel}");
    let n = crate::determinations::notice(app, &o.ta, &id, "first", "STATE").await;
    let nid = n["id"].as_str().unwrap();
    let today = icts_review::clock::Clock::now(&app.clock).date().to_string();
    let before = app.count("audit_events").await;
    let r = app
        .send(s.post(
            &format!("/agency-notices/{nid}/response"),
            &[
                ("response", "object"),
                ("responded_on", &today),
                ("comment", "Objects to the scope."),
                ("version", &n["version"].to_string()),
                ("case_id", &id),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of_id(&html, &format!("panel-response-{nid}"));
    assert!(panel.contains(" open>") && panel.contains(&format!("href=\"#resp-{nid}-objector_level\"")), "{panel}");
    assert!(panel.contains("<option value=\"object\" selected>") && panel.contains("Objects to the scope."), "{panel}");
    assert_eq!(app.count("audit_events").await, before, "nothing was written");
    // A measure rejected without the comment that must say why.
    let r = app
        .submit(s.post(
            &format!("/cases/{id}/measures"),
            &[
                ("kind", "independent_audit"),
                ("description", "Annual audit of the update servers"),
                ("owner", "Vendor"),
            ],
        ))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let measures =
        app.send(crate::harness::api("GET", &format!("/api/v1/cases/{id}/measures"), &o.ta, None)).await.json();
    let m = &measures[0];
    let mid = m["id"].as_str().unwrap();
    let r = app
        .send(s.post(
            &format!("/measures/{mid}/status"),
            &[
                ("status", "rejected"),
                ("comment", ""),
                ("version", &m["version"].to_string()),
                ("case_id", &id),
                ("changed_on", &today),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains(&format!("href=\"#st-{mid}-comment\""))
            && html.contains(&format!("id=\"st-{mid}-comment-error\"")),
        "{html}"
    );
    assert!(html.contains("<option value=\"rejected\" selected>"), "the chosen status is kept");
}

/// A document refused on the proceedings page comes back in its open panel: every
/// problem in one pass, each at its field, the title and marking kept, a word that the
/// file must be chosen again, and nothing written.
#[tokio::test]
async fn a_refused_document_upload_comes_back_open_with_its_errors_at_the_fields() {
    use axum::http::StatusCode;
    let o = crate::determinations::Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let s = app.sign_in(&o.analyst).await;
    let before = app.count("audit_events").await;
    let exe = b"MZ\x90\x00\x03 not a document".to_vec();
    let upload = |fields: &[(&str, &str)]| {
        let (ct, body) = crate::determinations::multipart(fields, Some(("report.pdf", &exe)));
        axum::http::Request::post(format!("/cases/{id}/documents?csrf_token={}", s.csrf))
            .header("cookie", s.cookie_header())
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let r = app.send(upload(&[("title", "Vendor\u{7}report"), ("marking", "cbi"), ("pointer", "Room 3")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of_id(&html, "panel-document");
    assert!(panel.contains(" open>"), "the panel comes back open: {panel}");
    assert!(panel.contains("data-testid=\"error-summary\"") && panel.contains("href=\"#doc-title\""), "{panel}");
    assert!(panel.contains("id=\"doc-title-error\""), "the control character is named at the title: {panel}");
    assert!(panel.contains("id=\"doc-file-error\""), "and the file's own problem in the same pass: {panel}");
    assert!(panel.contains("<option value=\"cbi\" selected>"), "the marking is kept: {panel}");
    assert!(panel.contains("value=\"Room 3\""), "the pointer is kept: {panel}");
    assert!(panel.contains("Choose the file again"), "{panel}");
    // With a clean title, the file's own problem stands at the file, nothing else.
    let r = app.send(upload(&[("title", "Vendor report"), ("marking", "cbi")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of_id(&html, "panel-document");
    assert!(panel.contains("id=\"doc-file-error\"") && panel.contains("href=\"#doc-file\""), "{panel}");
    assert!(panel.contains("value=\"Vendor report\"") && !panel.contains("id=\"doc-title-error\""), "{panel}");
    assert!(!section_of_id(&html, "panel-measure").contains(" open>"), "other panels stay closed");
    assert_eq!(app.count("audit_events").await, before, "nothing was written");
    assert_eq!(app.count("documents").await, 0);
}

/// The `<details>` element with `id` on a page (whatever its class), up to its end.
fn section_of_id<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!(" id=\"{id}\"")).unwrap_or_else(|| panic!("no {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</details>").unwrap_or(rest.len())]
}

/// The same on the determination page: a refused publication reopens its panel, with the
/// problem at the citation and what was typed kept, and not in the draft form's summary.
#[tokio::test]
async fn the_determination_page_panels_come_back_open_with_their_errors_at_the_fields() {
    use crate::harness::api;
    use axum::http::StatusCode;
    let mut o = crate::determinations::Office::new().await;
    let case = o.at_initial_determination(false).await;
    crate::determinations::signed(&o.app, &o.ta, (&o.sup, &o.ts), &case, "initial", "prohibition").await;
    // Served after the agencies' 21 days; no response in 30: on to the final determination.
    o.app.clock.advance(time::Duration::days(21));
    o.refresh().await;
    let act = |o: &crate::determinations::Office, body: serde_json::Value| {
        api("POST", &format!("/api/v1/cases/{case}/transitions"), &o.ta, Some(body))
    };
    let today = icts_review::clock::Clock::now(&o.app.clock).date().to_string();
    let r = o
        .app
        .send(act(
            &o,
            serde_json::json!({"action": "serve_initial_determination", "date": today, "method": "registered_mail"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    o.app.clock.advance(time::Duration::days(31));
    o.refresh().await;
    let r = o.app.send(act(&o, serde_json::json!({"action": "proceed_without_response"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = crate::determinations::signed(&o.app, &o.ta, (&o.sup2, &o.ts2), &case, "final", "prohibited").await;
    let app = &o.app;
    let id = d["id"].as_str().unwrap();
    let s = app.sign_in(&o.analyst).await;
    let r = app
        .send(s.post(
            &format!("/determinations/{id}/publication"),
            &[("published_on", ""), ("citation", "page 12"), ("document_number", "2024-13532")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let panel = section_of(&html, "panel-publication");
    assert!(panel.contains(" open>") && panel.contains("data-testid=\"error-summary\""), "{panel}");
    assert!(panel.contains("href=\"#pub-citation\"") && panel.contains("id=\"pub-citation-error\""), "{panel}");
    assert!(panel.contains("value=\"page 12\"") && panel.contains("value=\"2024-13532\""), "{panel}");
    assert_eq!(html.matches("data-testid=\"error-summary\"").count(), 1, "one summary, in the panel");
}

/// The `<details>` element with `id` on a page, up to its end.
fn section_of<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("<details class=\"icts-details\" id=\"{id}\"")).unwrap_or_else(|| panic!("no {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</details>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_searched_lists_total_is_counted_once_and_follows_every_write_and_who_looks() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use serde_json::json;
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let other = app.user("analyst").await;
    let sup = app.user("supervisor").await;
    let t = app.token(&a).await;
    let file = async |title: &str, restricted: bool| {
        let body = json!({"title": title, "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": restricted});
        let r = app.send(api("POST", "/api/v1/cases", &t, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    };
    for i in 0..12 {
        file(&format!("Baseband module {i:02}"), false).await;
    }
    let total = |page: &str| -> String {
        let at = page.find("data-testid=\"total\"").expect("a total");
        let start = at + page[at..].find("<strong>").unwrap() + 8;
        page[start..start + page[start..].find("</strong>").unwrap()].to_string()
    };
    let (sa, so, ss) = (app.sign_in(&a).await, app.sign_in(&other).await, app.sign_in(&sup).await);
    let list =
        async |s: &crate::harness::BrowserSession| total(&app.send(s.get("/cases?q=baseband&limit=5")).await.text());
    assert_eq!(list(&sa).await, "12 cases");
    // Counted once, then read while nothing is written: the same on every page.
    let next = link(&app.send(sa.get("/cases?q=baseband&limit=5")).await.text(), "next-page").unwrap();
    assert_eq!(total(&app.send(sa.get(&next)).await.text()), "12 cases");
    // A new match is counted at once.
    let restricted = file("Baseband module, restricted", true).await;
    assert_eq!(list(&sa).await, "13 cases", "the analyst's own restricted case");
    assert_eq!(list(&ss).await, "13 cases", "a supervisor sees every case");
    assert_eq!(list(&so).await, "12 cases", "another analyst does not see it, counted or kept");
    // An edit that takes the word out is counted at once too.
    let id = restricted["id"].as_str().unwrap();
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &t,
            Some(json!({"title": "Radio module, restricted", "version": restricted["version"]})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(list(&sa).await, "12 cases");
    assert_eq!(list(&ss).await, "12 cases");
    // Counted once: a change made behind the service's back (no audit event, which no
    // change through it lacks) is not seen until the log moves on.
    sqlx::query("UPDATE cases SET title = 'Radio module' WHERE title = 'Baseband module 00'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(list(&ss).await, "12 cases", "the kept total");
    // Reading writes events too (a sign-in, an opening of a restricted case): the kept
    // total holds through them.
    let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(&app.pool).await.unwrap();
    let ss = app.sign_in(&sup).await;
    let opened = app.send(ss.get(&format!("/cases/{id}"))).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert_eq!(app.events("case.viewed").await.len(), 1);
    let moved: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(&app.pool).await.unwrap();
    assert!(moved >= head + 2, "{head} {moved}");
    assert_eq!(list(&ss).await, "12 cases", "the kept total, through reads");
    file("Unrelated filing", false).await;
    assert_eq!(list(&ss).await, "11 cases", "counted again once the log moved");
    // An append by a release that does not keep `written_seq` (it moves the head's `seq`
    // alone) counts as a write: the kept total is not trusted past it.
    sqlx::query("UPDATE cases SET title = 'Radio module' WHERE title = 'Baseband module 01'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = seq + 1").execute(&app.pool).await.unwrap();
    assert_eq!(list(&ss).await, "10 cases", "an earlier release's append counts as a write");
}

#[tokio::test]
async fn an_undated_act_takes_the_offices_day_in_the_timeline_not_the_utc_one() {
    use crate::harness::{TestApp, api};
    use axum::http::StatusCode;
    use icts_review::clock::Clock;
    use serde_json::json;
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let t = app.token(&a).await;
    let noon = app.clock.now();
    let day = noon.date();
    let body = json!({"title": "Timeline order", "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": false});
    let case = app.send(api("POST", "/api/v1/cases", &t, Some(body))).await.json();
    let id = case["id"].as_str().unwrap();
    // 01:00 UTC the next day is still the evening of `day` at the office (America/New_York).
    app.clock.set(noon + time::Duration::hours(13));
    let t = app.token(&a).await;
    let r =
        app.send(api("POST", &format!("/api/v1/cases/{id}/notes"), &t, Some(json!({"body": "Evening note"})))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The next office day, an answer dated `day` is recorded.
    app.clock.set(noon + time::Duration::hours(27));
    let t = app.token(&a).await;
    let version = app.send(api("GET", &format!("/api/v1/cases/{id}"), &t, None)).await.json()["version"].clone();
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &t,
            Some(json!({"covered_note": "Answered that evening", "answered_on": day.to_string(), "version": version})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = app.send(app.sign_in(&a).await.get(&format!("/cases/{id}"))).await.text();
    let timeline = &page[page.find("id=\"timeline\"").unwrap()..];
    let timeline = &timeline[..timeline.find("</ol>").unwrap()];
    let headings: Vec<&str> =
        timeline.split("usa-process-list__heading\">").skip(1).map(|h| &h[..h.find("</p>").unwrap()]).collect();
    let note = headings.iter().position(|h| h.contains("note")).expect("the note");
    let answer = headings.iter().position(|h| h.starts_with(&format!("{day} · "))).expect("the dated answer");
    // Both on the office's `day`, in the order recorded: the note first.
    assert!(note < answer, "{headings:?}");
}
