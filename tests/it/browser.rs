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
            "const s = [...document.styleSheets].find(s => s.href && new URL(s.href).pathname.endsWith('/uswds.min.css')); return s ? s.cssRules.length : 0;",
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

#[tokio::test]
async fn a_user_signs_in_sees_their_name_and_signs_out() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let input = icts_review::accounts::model::NewUser::parse(
        "dana.analyst@agency.gov",
        "Dana Analyst",
        "analyst",
        "dana's long passphrase",
    )
    .unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();

    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/", server.base)).await.unwrap();
    c.find(fantoccini::Locator::Css("a.usa-button[href='/sign-in']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Id("email")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · ICTS Review");

    // A wrong password first: the generic message.
    c.find(fantoccini::Locator::Id("email")).await.unwrap().send_keys("dana.analyst@agency.gov").await.unwrap();
    c.find(fantoccini::Locator::Id("password")).await.unwrap().send_keys("not the passphrase").await.unwrap();
    c.find(fantoccini::Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let err = c
        .wait()
        .for_element(fantoccini::Locator::Css("[data-testid=sign-in-error]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("not correct"), "{err}");

    let password = c.find(fantoccini::Locator::Id("password")).await.unwrap();
    password.send_keys("dana's long passphrase").await.unwrap();
    c.find(fantoccini::Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let name =
        c.wait().for_element(fantoccini::Locator::Css("[data-testid=user-name]")).await.unwrap().text().await.unwrap();
    assert_eq!(name, "Dana Analyst");
    assert_eq!(c.title().await.unwrap(), "Home · ICTS Review");
    browser.screenshot("signed-in-home").await;
    // The session cookie is HttpOnly: page scripts cannot read it.
    let cookies = c.execute("return document.cookie;", vec![]).await.unwrap();
    assert_eq!(cookies.as_str().unwrap(), "");

    c.find(fantoccini::Locator::Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("form[action='/sign-in']")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · ICTS Review");
    assert!(c.find(fantoccini::Locator::Css("[data-testid=user-name]")).await.is_err(), "signed out");
    c.goto(&format!("{}/account/sessions", server.base)).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · ICTS Review", "pages need a session again");

    // The failed attempt's page is answered 401 on purpose; anything else is an error.
    let console = browser.console().await;
    let errors: Vec<_> = console
        .iter()
        .filter(|(level, text)| {
            level == "SEVERE"
                && !text.contains("/sign-in - Failed to load resource: the server responded with a status of 401")
        })
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

#[tokio::test]
async fn an_admin_adds_an_account_and_an_auditor_reads_the_log() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    for (email, name, role) in
        [("avery.admin@agency.gov", "Avery Admin", "admin"), ("ari.auditor@agency.gov", "Ari Auditor", "auditor")]
    {
        let input =
            icts_review::accounts::model::NewUser::parse(email, name, role, "a shared long passphrase").unwrap();
        icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();
    }
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let base = server.base.clone();
    let sign_in = |email: &'static str| browser.sign_in(&base, email, "a shared long passphrase");

    sign_in("avery.admin@agency.gov").await;
    c.find(fantoccini::Locator::LinkText("Users")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Id("name")).await.unwrap();
    // A bad email comes back beside its field, with the other input kept. (An analyst's
    // account: a supervisor's would wait for a second administrator, whom this office lacks.)
    c.find(fantoccini::Locator::Id("email")).await.unwrap().send_keys("sam@agency").await.unwrap();
    c.find(fantoccini::Locator::Id("name")).await.unwrap().send_keys("Sam Analyst").await.unwrap();
    c.find(fantoccini::Locator::Css("select#role option[value=analyst]")).await.unwrap().click().await.unwrap();
    c.find(fantoccini::Locator::Css("form[action='/admin/users'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = c.wait().for_element(fantoccini::Locator::Id("email-error")).await.unwrap().text().await.unwrap();
    assert!(err.contains("email address"), "{err}");
    assert_eq!(
        c.find(fantoccini::Locator::Id("name")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Sam Analyst")
    );
    browser.screenshot("admin-users-error").await;
    let email = c.find(fantoccini::Locator::Id("email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("sam.analyst@agency.gov").await.unwrap();
    c.find(fantoccini::Locator::Css("form[action='/admin/users'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let temp = c
        .wait()
        .for_element(fantoccini::Locator::Css("[data-testid=temporary-password]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(temp.len(), 20);
    browser.screenshot("admin-users").await;
    c.find(fantoccini::Locator::Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("form[action='/sign-in']")).await.unwrap();

    sign_in("ari.auditor@agency.gov").await;
    c.find(fantoccini::Locator::LinkText("Audit log")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("table.usa-table")).await.unwrap();
    let text = c.find(fantoccini::Locator::Css("table.usa-table")).await.unwrap().text().await.unwrap();
    assert!(text.contains("user.created") && text.contains("auth.sign_in") && text.contains("auth.sign_out"), "{text}");
    // People and objects by name, the changes as lines to read, the stored form a click away.
    assert!(text.contains("by Avery Admin (admin)") && text.contains("on account Sam Analyst"), "{text}");
    let raw = c.find(fantoccini::Locator::Css("[data-testid=raw]")).await.unwrap();
    assert!(!raw.is_displayed().await.unwrap(), "the stored form is folded away");
    c.find(fantoccini::Locator::Css(".icts-raw summary")).await.unwrap().click().await.unwrap();
    assert!(raw.is_displayed().await.unwrap() && raw.text().await.unwrap().trim_start().starts_with('{'));
    browser.screenshot("audit-log").await;
    // Auditors do not manage accounts: no Users link, and the page itself is refused.
    assert!(c.find(fantoccini::Locator::LinkText("Users")).await.is_err());
    c.goto(&format!("{}/admin/users", server.base)).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Forbidden · ICTS Review");

    let console = browser.console().await;
    let errors: Vec<_> = console
        .iter()
        .filter(|(level, text)| level == "SEVERE" && !text.contains("status of 422") && !text.contains("status of 403"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

#[tokio::test]
async fn an_analyst_files_a_case_finds_it_and_a_supervisor_accepts_it() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    for (email, name, role) in [
        ("ana.analyst@agency.gov", "Ana Analyst", "analyst"),
        ("sid.supervisor@agency.gov", "Sid Supervisor", "supervisor"),
    ] {
        let input =
            icts_review::accounts::model::NewUser::parse(email, name, role, "a shared long passphrase").unwrap();
        icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();
    }
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let base = server.base.clone();
    let sign_in = |email: &'static str| browser.sign_in(&base, email, "a shared long passphrase");
    let submit = |css: &'static str| async move {
        c.find(fantoccini::Locator::Css(css)).await.unwrap().click().await.unwrap();
    };

    sign_in("ana.analyst@agency.gov").await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    c.find(fantoccini::Locator::Css("a.usa-button[href='/cases/new']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Id("title")).await.unwrap();
    // First without a category or adversary: errors beside the fields, input kept.
    c.find(fantoccini::Locator::Id("title")).await.unwrap().send_keys("Kaspersky anti-virus software").await.unwrap();
    c.find(fantoccini::Locator::Id("summary"))
        .await
        .unwrap()
        .send_keys("Kernel-level access; updates from Moscow.")
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css("#referring_agency option[value=DOJ]")).await.unwrap().click().await.unwrap();
    submit("form[action='/cases'] button[type=submit]").await;
    let err = c.wait().for_element(fantoccini::Locator::Id("category-error")).await.unwrap().text().await.unwrap();
    assert!(err.contains("category"), "{err}");
    assert!(c.find(fantoccini::Locator::Id("adversaries-error")).await.is_ok());
    assert_eq!(
        c.find(fantoccini::Locator::Id("title")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Kaspersky anti-virus software")
    );
    browser.screenshot("case-intake-errors").await;
    c.find(fantoccini::Locator::Css("#category option[value=connected_software]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css("label[for=adv-RU]")).await.unwrap().click().await.unwrap();
    submit("form[action='/cases'] button[type=submit]").await;
    let docket =
        c.wait().for_element(fantoccini::Locator::Css("[data-testid=docket]")).await.unwrap().text().await.unwrap();
    assert!(docket.starts_with("ICTS-") && docket.ends_with("-001"), "{docket}");
    assert_eq!(
        c.find(fantoccini::Locator::Css("[data-testid=stage]")).await.unwrap().text().await.unwrap().to_lowercase(),
        "intake"
    );

    // Find it by a word of its summary.
    c.goto(&format!("{base}/cases")).await.unwrap();
    c.find(fantoccini::Locator::Id("q")).await.unwrap().send_keys("Moscow").await.unwrap();
    submit("form[role=search] button[type=submit]").await;
    // The unfiltered list shows the case too: wait for the search results page itself.
    for _ in 0..100 {
        if c.current_url().await.unwrap().as_str().contains("q=Moscow") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(c.current_url().await.unwrap().as_str().contains("q=Moscow"));
    let link = c.wait().for_element(fantoccini::Locator::LinkText(&docket)).await.unwrap();
    browser.screenshot("case-search").await;
    link.click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("[data-testid=docket]")).await.unwrap();
    assert!(
        c.find(fantoccini::Locator::Css("input[name=action][value=accept]")).await.is_err(),
        "analysts cannot accept"
    );
    c.find(fantoccini::Locator::Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("form[action='/sign-in']")).await.unwrap();

    // The supervisor sees it awaiting action on the dashboard and accepts it.
    sign_in("sid.supervisor@agency.gov").await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    c.wait().for_element(fantoccini::Locator::LinkText(&docket)).await.unwrap();
    browser.screenshot("dashboard").await;
    c.find(fantoccini::Locator::LinkText(&docket)).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("input[name=action][value=accept]")).await.unwrap();
    submit("form.icts-action:has(input[value=accept]) button[type=submit]").await;
    // Accepting cannot be undone: a confirmation step says what is about to happen.
    let facts = c.wait().for_element(fantoccini::Locator::Css("[data-testid=confirm-facts]")).await.unwrap();
    let facts = facts.text().await.unwrap();
    assert!(facts.contains(&docket) && facts.contains("Initial review"), "{facts}");
    browser.screenshot("confirm-accept").await;
    browser.assert_accessible("the confirmation of an acceptance").await;
    submit("[data-testid=confirm]").await;
    let stage = c.wait().for_element(fantoccini::Locator::Css("[data-testid=message]")).await.unwrap();
    assert_eq!(stage.text().await.unwrap(), "Done.");
    assert_eq!(
        c.find(fantoccini::Locator::Css("[data-testid=stage]")).await.unwrap().text().await.unwrap().to_lowercase(),
        "initial review"
    );
    browser.screenshot("case-page").await;

    // The supervisor finds a registered party by part of its alias and links it.
    let api = Api::new(&base, "sid.supervisor@agency.gov", "a shared long passphrase").await;
    api.call(
        reqwest::Method::POST,
        "/api/v1/parties",
        Some(serde_json::json!({"legal_name": "AO Kaspersky Lab", "aliases": ["Kaspersky Laboratory"], "kind": "company", "country": "RU"})),
    )
    .await;
    c.find(fantoccini::Locator::Id("party-q")).await.unwrap().send_keys("laborat").await.unwrap();
    submit("form[action$='#parties'] button[type=submit]").await;
    let hint = wait_text(c, "#link-party-hint", |t| t.contains("found")).await;
    assert!(hint.starts_with("1 found for"), "{hint}");
    c.find(fantoccini::Locator::Css("#link-party option:nth-child(2)")).await.unwrap().click().await.unwrap();
    browser.screenshot("case-party-finder").await;
    submit("form[action$='/parties'] button[type=submit]").await;
    let parties = wait_text(c, "#parties + ul", |t| t.contains("AO Kaspersky Lab")).await;
    assert!(parties.contains("AO Kaspersky Lab (RU) — Supplier / provider"), "{parties}");

    let console = browser.console().await;
    let errors: Vec<_> =
        console.iter().filter(|(level, text)| level == "SEVERE" && !text.contains("status of 422")).collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

#[tokio::test]
async fn a_new_supervisor_changes_the_one_time_password_and_opens_the_kaspersky_review() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let accounts = icts_review::seed::demo(pool, &config).await.unwrap();
    let sup = accounts.iter().find(|a| a.role == icts_review::access::Role::Supervisor).unwrap();
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let base = server.base.clone();
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    c.find(fantoccini::Locator::Id("email")).await.unwrap().send_keys(&sup.email).await.unwrap();
    c.find(fantoccini::Locator::Id("password")).await.unwrap().send_keys(&sup.password).await.unwrap();
    c.find(fantoccini::Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    // The one-time password must be changed first.
    c.wait().for_element(fantoccini::Locator::Id("current_password")).await.unwrap();
    c.find(fantoccini::Locator::Id("current_password")).await.unwrap().send_keys(&sup.password).await.unwrap();
    c.find(fantoccini::Locator::Id("new_password"))
        .await
        .unwrap()
        .send_keys("my own supervisor passphrase")
        .await
        .unwrap();
    c.find(fantoccini::Locator::Id("confirm_password"))
        .await
        .unwrap()
        .send_keys("my own supervisor passphrase")
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css("form[action='/account/password'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(fantoccini::Locator::Css(".usa-alert--success")).await.unwrap();
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("svg[role=img]")).await.unwrap();
    browser.screenshot("demo-dashboard").await;
    c.goto(&format!("{base}/cases?q=Kaspersky")).await.unwrap();
    c.wait().for_element(fantoccini::Locator::LinkText("ICTS-2021-002")).await.unwrap().click().await.unwrap();
    let stage =
        c.wait().for_element(fantoccini::Locator::Css("[data-testid=stage]")).await.unwrap().text().await.unwrap();
    assert_eq!(stage.to_lowercase(), "decided");
    let page = c.source().await.unwrap();
    assert!(page.contains("Prohibited") && page.contains("89 FR 52434") && page.contains("AO Kaspersky Lab"));
    browser.screenshot("demo-kaspersky").await;
    c.find(fantoccini::Locator::LinkText("AO Kaspersky Lab")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css("[data-testid=ownership-chain]")).await.unwrap();
    browser.screenshot("demo-party").await;
    // The start of a docket number finds the dockets it begins, and only those.
    c.goto(&format!("{base}/cases")).await.unwrap();
    c.find(fantoccini::Locator::Id("q")).await.unwrap().send_keys("2021-00").await.unwrap();
    c.find(fantoccini::Locator::Css("form[role=search] button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::LinkText("ICTS-2021-002")).await.unwrap();
    let dockets: Vec<String> = {
        let mut out = Vec::new();
        for a in c.find_all(fantoccini::Locator::Css("main table a")).await.unwrap() {
            let t = a.text().await.unwrap();
            if t.starts_with("ICTS-") {
                out.push(t);
            }
        }
        out
    };
    assert!(dockets.len() >= 2 && dockets.iter().all(|d| d.starts_with("ICTS-2021-00")), "{dockets:?}");
    browser.screenshot("demo-docket-search").await;
    let console = browser.console().await;
    let errors: Vec<_> = console.iter().filter(|(level, _)| level == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

#[tokio::test]
async fn an_analyst_scores_a_case_and_sees_the_explanation() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    let input = icts_review::accounts::model::NewUser::parse(
        "rita.analyst@agency.gov",
        "Rita Analyst",
        "analyst",
        "a shared long passphrase",
    )
    .unwrap();
    let rita =
        icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();
    let state = icts_review::app::AppState::new(pool.clone(), &config);
    let actor = icts_review::access::Actor {
        id: rita.id,
        email: rita.email.clone(),
        name: rita.name.clone(),
        role: icts_review::access::Role::Analyst,
        session_id: icts_review::ids::SessionId(uuid::Uuid::nil()),
        reauth_at: None,
        meta: Default::default(),
    };
    let reference = icts_review::cases::reference::Reference::load(&pool).await.unwrap();
    let new = icts_review::cases::model::CaseInput {
        title: "Genomic cloud".into(),
        summary: "Genetic data of US patients".into(),
        origin: icts_review::cases::model::Origin::OwnInitiative.into(),
        category: "data_hosting".into(),
        adversaries: vec!["CN".into()],
        ..Default::default()
    }
    .parse(&reference, icts_review::dates::today(now))
    .unwrap();
    let case =
        icts_review::cases::service::create(&mut state.conn().await.unwrap(), &actor, state.now(), new).await.unwrap();

    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&server.base, "rita.analyst@agency.gov", "a shared long passphrase").await;
    c.goto(&format!("{}/cases/{}", server.base, case.id)).await.unwrap();
    c.wait().for_element(fantoccini::Locator::LinkText("Record an assessment")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Id("narrative")).await.unwrap();
    let criteria = icts_review::risk::model::version_one();
    for (i, cr) in criteria.applicable(false).enumerate() {
        let level = if i % 2 == 0 { 3 } else { 1 };
        c.find(fantoccini::Locator::Css(&format!("label[for='s-{}-{level}']", cr.code)))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(fantoccini::Locator::Id(&format!("r-{}", cr.code)))
            .await
            .unwrap()
            .send_keys("Observed in the supplier's filings")
            .await
            .unwrap();
    }
    c.find(fantoccini::Locator::Id("narrative"))
        .await
        .unwrap()
        .send_keys("Cloud storage of genetic data within reach of PRC authorities.")
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css("form[action$='/assess'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let chart = c.wait().for_element(fantoccini::Locator::Css("[data-testid=risk-chart]")).await.unwrap();
    let bars = chart.find_all(fantoccini::Locator::Css("rect.icts-chart__bar")).await.unwrap();
    assert_eq!(bars.len(), 10);
    let composite = c.find(fantoccini::Locator::Css("[data-testid=composite]")).await.unwrap().text().await.unwrap();
    let expected = {
        let scores: std::collections::BTreeMap<String, u8> = criteria
            .applicable(false)
            .enumerate()
            .map(|(i, cr)| (cr.code.clone(), if i % 2 == 0 { 3 } else { 1 }))
            .collect();
        icts_review::risk::model::score(&criteria, false, &scores).unwrap().composite
    };
    assert_eq!(composite, expected.to_string());
    c.execute("document.getElementById('risk').scrollIntoView();", vec![]).await.unwrap();
    browser.screenshot("risk-assessment").await;
    let console = browser.console().await;
    let errors: Vec<_> = console.iter().filter(|(level, _)| level == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

/// The text of the element at `css` once `want` holds (the page may still be the previous
/// one, whose elements go stale): polls for up to 10 seconds and returns the last text.
async fn wait_text(c: &fantoccini::Client, css: &str, want: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(e) = c.find(fantoccini::Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            last = t;
            if want(&last) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    last
}

/// A JSON API client over the running server.
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub async fn new(base: &str, email: &str, password: &str) -> Api {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/v1/auth/token"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let token = r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        Api { http, base: base.to_string(), token }
    }

    /// The bearer token, for requests whose answers the caller reads itself.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
}

/// Files a case as `analyst` and brings it, through the API, to its initial determination
/// (accepted by `supervisor`, agencies notified, the three questions answered, nexus and
/// risk recorded); returns its id.
pub async fn case_at_initial_determination(
    analyst: &Api,
    supervisor: &Api,
    title: &str,
    summary: &str,
    today: &str,
) -> String {
    use reqwest::Method;
    use serde_json::json;
    let c = analyst
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(json!({"title": title, "summary": summary,
                "origin": "own_initiative", "category": "critical_infrastructure", "adversaries": ["CN"], "restricted": false})),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let act = |a: &'static str| json!({"action": a});
    supervisor.call(Method::POST, &format!("/api/v1/cases/{id}/transitions"), Some(act("accept"))).await;
    analyst
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/agency-notices"),
            Some(json!({"step": "first", "agency": "DHS", "sent_on": today})),
        )
        .await;
    analyst.call(Method::POST, &format!("/api/v1/cases/{id}/transitions"), Some(act("notify_agencies"))).await;
    let v = analyst.call(Method::GET, &format!("/api/v1/cases/{id}"), None).await["version"].clone();
    analyst.call(
        Method::PATCH,
        &format!("/api/v1/cases/{id}"),
        Some(json!({"version": v, "covered": "yes", "covered_note": "Critical-infrastructure ICTS in use after 19 January 2021.",
            "nexus": "yes", "nexus_note": "The vendor is headquartered in the PRC.", "undue_risk": "yes",
            "undue_risk_note": "Remote access to crane control systems at US ports."})),
    )
    .await;
    let criteria: serde_json::Map<String, serde_json::Value> =
        ["ownership", "facilities", "personnel_ties", "adversary_law", "operation_control"]
            .iter()
            .map(|c| (c.to_string(), json!({"finding": format!("{c}: found"), "evidence": "party record"})))
            .collect();
    analyst
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/nexus"),
            Some(json!({"criteria": criteria, "conclusion": "yes", "summary": "Nexus established"})),
        )
        .await;
    let rubric = analyst.call(Method::GET, "/api/v1/rubrics/current", None).await;
    let scores: serde_json::Map<String, serde_json::Value> = rubric["definition"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|cr| cr["connected_software_only"] != true)
        .map(|cr| (cr["code"].as_str().unwrap().to_string(), json!({"score": 3, "rationale": "level 3"})))
        .collect();
    analyst
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/assessments"),
            Some(json!({"scores": scores, "narrative": "n"})),
        )
        .await;
    analyst
        .call(Method::POST, &format!("/api/v1/cases/{id}/transitions"), Some(act("begin_initial_determination")))
        .await;

    id
}

#[tokio::test]
async fn an_analyst_drafts_a_supervisor_signs_with_step_up_and_the_document_renders() {
    use fantoccini::Locator::{Css, Id};
    let password = "a shared long passphrase";
    let (url, _pool, now) = database_with_users(
        &[
            ("drew.analyst@agency.gov", "Drew Analyst", "analyst"),
            ("sky.supervisor@agency.gov", "Sky Supervisor", "supervisor"),
        ],
        password,
    )
    .await;
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let base = server.base.clone();
    // The case is brought to the initial determination through the API.
    let drew = Api::new(&base, "drew.analyst@agency.gov", password).await;
    let sky = Api::new(&base, "sky.supervisor@agency.gov", password).await;
    let today = icts_review::dates::today(now).to_string();
    let id = case_at_initial_determination(
        &drew,
        &sky,
        "Port crane remote access",
        "Crane operating systems with vendor remote access from abroad.",
        &today,
    )
    .await;

    // The analyst drafts in the browser.
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&base, "drew.analyst@agency.gov", password).await;
    c.goto(&format!("{base}/cases/{id}")).await.unwrap();
    c.wait().for_element(Css("[data-testid=proceedings-link]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Id("draft-kind")).await.unwrap();
    c.execute("document.querySelector('details.icts-details').open = true;", vec![]).await.unwrap();
    c.find(Css("#draft-kind option[value=initial]")).await.unwrap().click().await.unwrap();
    c.find(Css("#draft-outcome option[value=prohibition]")).await.unwrap().click().await.unwrap();
    c.find(Css("form[action$='/determinations'] button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Css("[data-testid=draft-form]")).await.unwrap();
    let title = c.find(Id("title")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(title.starts_with("Initial Determination: Case No. ICTS-"), "{title}");
    assert_eq!(
        c.find(Id("nexus_finding")).await.unwrap().prop("value").await.unwrap().unwrap(),
        "The vendor is headquartered in the PRC.",
        "the draft starts from the case's answers"
    );
    // Submitting an incomplete draft names what is missing.
    c.find(Css("[data-testid=submit-draft]")).await.unwrap().click().await.unwrap();
    let msg = wait_text(c, "[data-testid=message]", |t| t.to_lowercase().contains("cessation")).await;
    assert!(msg.to_lowercase().contains("cessation"), "{msg}");
    c.find(Id("cessation"))
        .await
        .unwrap()
        .send_keys("New agreements cease 30 days after the final determination.")
        .await
        .unwrap();
    // Date inputs take keys in the browser's locale order; set the value as a user's picker would.
    c.execute("document.getElementById('prohibition_date_0').value = '2027-01-15';", vec![]).await.unwrap();
    c.find(Id("prohibition_text_0")).await.unwrap().send_keys("New crane software contracts").await.unwrap();
    c.find(Css("label[for=cbi-cessation]")).await.unwrap().click().await.unwrap();
    c.find(Css("[data-testid=save-draft]")).await.unwrap().click().await.unwrap();
    let msg = wait_text(c, "[data-testid=message]", |t| t.starts_with("Saved")).await;
    assert_eq!(msg, "Saved revision 2.");
    browser.screenshot("determination-draft").await;
    c.find(Css("[data-testid=submit-draft]")).await.unwrap().click().await.unwrap();
    // Wait for the new page (the old one has a status too).
    let status = wait_text(c, "[data-testid=determination-status]", |t| t.eq_ignore_ascii_case("submitted")).await;
    assert_eq!(status.to_lowercase(), "submitted");
    assert!(c.find(Css("[data-testid=draft-form]")).await.is_err(), "no editing while awaiting signature");
    let det_url = c.current_url().await.unwrap().to_string();
    let det_path = det_url.trim_start_matches(&base).trim_end_matches('/').to_string();
    let det_path =
        if det_path.ends_with("/submit") { det_path.trim_end_matches("/submit").to_string() } else { det_path };
    c.find(Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Css("form[action='/sign-in']")).await.unwrap();

    // The supervisor sees it in the queue and the unread count, signs after a step-up.
    browser.sign_in(&base, "sky.supervisor@agency.gov", password).await;
    let unread = c.wait().for_element(Css("[data-testid=unread-count]")).await.unwrap().text().await.unwrap();
    assert_eq!(unread, "1");
    c.goto(&format!("{base}/determinations")).await.unwrap();
    c.wait().for_element(Css("[data-testid=queue] a")).await.unwrap().click().await.unwrap();
    let reauth = c.wait().for_element(Css("[data-testid=reauth-to-sign]")).await.unwrap();
    assert!(c.find(Css("[data-testid=sign]")).await.is_err(), "no sign button without a fresh step-up");
    reauth.click().await.unwrap();
    c.wait().for_element(Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    // Signing passes through a step that shows what is about to be signed.
    let shown = c.wait().for_element(Css("[data-testid=content-hash]")).await.unwrap().text().await.unwrap();
    assert_eq!(shown.len(), 64, "{shown}");
    let facts = c.find(Css("[data-testid=confirm-facts]")).await.unwrap().text().await.unwrap();
    assert!(facts.contains("Initial determination") && facts.contains("Outcome"), "{facts}");
    browser.screenshot("determination-sign-confirm").await;
    browser.assert_accessible("the confirmation of a signature").await;
    c.find(Css("[data-testid=sign]")).await.unwrap().click().await.unwrap();
    let sig = c.wait().for_element(Css("[data-testid=signature]")).await.unwrap().text().await.unwrap();
    let signed = c.find(Css("[data-testid=signature] [data-testid=content-hash]")).await.unwrap().text().await.unwrap();
    assert_eq!(signed, shown, "the hash signed is the hash shown");
    assert!(sig.contains("Signed by Sky Supervisor"), "{sig}");
    assert!(sig.to_lowercase().contains("matches the content"), "{sig}");
    browser.screenshot("determination-signed").await;
    c.goto(&format!("{base}/cases/{id}/proceedings")).await.unwrap();
    c.wait().for_element(Css("[data-testid=determinations]")).await.unwrap();
    c.execute("document.querySelectorAll('details').forEach(d => d.open = true);", vec![]).await.unwrap();
    browser.screenshot("proceedings").await;
    c.find(Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Css("form[action='/sign-in']")).await.unwrap();

    // The analyst can no longer edit it: no form, and a forged post is refused.
    browser.sign_in(&base, "drew.analyst@agency.gov", password).await;
    c.goto(&format!("{base}{det_path}")).await.unwrap();
    c.wait().for_element(Css("[data-testid=signature]")).await.unwrap();
    assert!(c.find(Css("[data-testid=draft-form]")).await.is_err());
    assert!(c.find(Css("[data-testid=submit-draft]")).await.is_err());
    let status = c
        .execute(
            "const t = document.querySelector('input[name=csrf_token]') || document.querySelector('.icts-user input[name=csrf_token]');
             const body = new URLSearchParams({csrf_token: t.value, revision: '2', outcome: 'mitigation', title: 'changed', party: 'x', unclassified_confirmed: 'yes'});
             const r = await fetch(location.pathname, {method: 'POST', body});
             return r.status;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_u64(), Some(409), "a signed determination never changes");

    // The determination document renders, with markings at top and bottom.
    c.find(Css("[data-testid=document-link]")).await.unwrap().click().await.unwrap();
    let h1 = c.wait().for_element(Css("[data-testid=document-title]")).await.unwrap().text().await.unwrap();
    assert!(h1.starts_with("Initial Determination: Case No. ICTS-"), "{h1}");
    let top = c.find(Css("[data-testid=marking-top]")).await.unwrap().text().await.unwrap();
    let bottom = c.find(Css("[data-testid=marking-bottom]")).await.unwrap().text().await.unwrap();
    assert_eq!(top, bottom);
    assert!(top.contains("CONFIDENTIAL BUSINESS INFORMATION"), "{top}");
    let history = c.find(Css("[data-testid=history]")).await.unwrap().text().await.unwrap();
    assert!(history.contains("accepted the matter for review") && history.contains("signed"), "{history}");
    let body = c.find(Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("New crane software contracts") && body.contains("2027-01-15"), "{body}");
    assert!(body.contains("New agreements cease 30 days"), "the internal form keeps CBI");
    assert!(c.find(Css("[data-testid=draft-banner]")).await.is_err(), "signed: no draft banner");
    browser.screenshot("determination-document").await;
    c.goto(&format!("{base}{det_path}/document?form=federal-register")).await.unwrap();
    let body = c.wait().for_element(Css("main")).await.unwrap().text().await.unwrap();
    assert!(!body.contains("New agreements cease 30 days"), "the Federal Register form leaves out CBI");
    assert!(body.contains("[Confidential business information removed]"));
    let top = c.find(Css("[data-testid=marking-top]")).await.unwrap().text().await.unwrap();
    assert!(top.contains("FOR PUBLICATION"), "{top}");
    let console = browser.console().await;
    let errors: Vec<_> = console
        .iter()
        .filter(|(level, text)| level == "SEVERE" && !text.contains("status of 409") && !text.contains("status of 422"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

/// The post forms on the current page, by action.
async fn post_forms(c: &fantoccini::Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('form')].filter(f => f.method.toLowerCase() === 'post').map(f => new URL(f.action).pathname);",
            vec![],
        )
        .await
        .unwrap();
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_auditor_exports_a_dossier_after_step_up_and_can_change_nothing() {
    use fantoccini::Locator::{Css, Id};
    use reqwest::Method;
    use serde_json::json;
    let password = "a shared long passphrase";
    let (url, _pool, _) = database_with_users(
        &[("ann.analyst@agency.gov", "Ann Analyst", "analyst"), ("aud.auditor@agency.gov", "Aud Auditor", "auditor")],
        password,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit-key");
    icts_review::audit::checkpoint::keygen(&key).unwrap();
    let server =
        RunningServer::start(&["--audit-signing-key", key.to_str().unwrap()], &[("DATABASE_URL", url.as_str())]).await;
    let base = server.base.clone();
    let ann = Api::new(&base, "ann.analyst@agency.gov", password).await;
    let c = ann
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(json!({"title": "Satellite ground station software", "summary": "Ground-station control software updated from abroad.",
                "origin": "own_initiative", "category": "network_infrastructure", "adversaries": ["RU"], "restricted": false})),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    ann.call(Method::POST, &format!("/api/v1/cases/{id}/notes"), Some(json!({"body": "Vendor contacted."}))).await;

    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&base, "aud.auditor@agency.gov", password).await;
    // No write control anywhere an auditor goes.
    let allowed = ["/sign-out", "/audit/chain/verify"];
    for path in [
        format!("/cases/{id}"),
        format!("/cases/{id}/proceedings"),
        "/dashboard".to_string(),
        "/cases".to_string(),
        "/parties".to_string(),
        "/determinations".to_string(),
        "/notifications".to_string(),
        "/audit".to_string(),
        "/audit/chain".to_string(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.wait().for_element(Css("h1")).await.unwrap();
        let forms = post_forms(c).await;
        let extra: Vec<&String> = forms.iter().filter(|f| !allowed.contains(&f.as_str())).collect();
        assert!(extra.is_empty(), "{path}: write controls {extra:?}");
        let links = c
            .execute("return [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || '').filter(h => /\\/(new|edit|assess|nexus|import)$/.test(h));", vec![])
            .await
            .unwrap();
        assert_eq!(links, json!([]), "{path}: links to write forms");
    }
    // Every write request is refused.
    c.goto(&format!("{base}/cases/{id}")).await.unwrap();
    c.wait().for_element(Css("[data-testid=export-panel]")).await.unwrap();
    let statuses = c
        .execute(
            &format!(
                "const t = document.querySelector('input[name=csrf_token]').value; const id = '{id}';
                 const form = (extra) => new URLSearchParams(Object.assign({{csrf_token: t}}, extra));
                 const posts = [
                   ['/cases/' + id + '/notes', {{body: 'x'}}],
                   ['/cases/' + id + '/transitions', {{action: 'accept', version: '1'}}],
                   ['/cases/' + id + '/determinations', {{kind: 'initial', outcome: 'prohibition'}}],
                   ['/cases/' + id + '/agency-notices', {{step: 'first', agency: 'DHS', sent_on: '2026-01-01'}}],
                   ['/cases/' + id + '/measures', {{kind: 'other', description: 'x', owner: 'x'}}],
                   ['/cases/' + id + '/edit', {{title: 'x'}}],
                   ['/cases', {{title: 'x'}}],
                   ['/parties', {{legal_name: 'x'}}],
                 ];
                 const out = [];
                 for (const [p, b] of posts) {{ out.push((await fetch(p, {{method: 'POST', body: form(b)}})).status); }}
                 out.push((await fetch('/api/v1/cases/' + id, {{method: 'PATCH', headers: {{'content-type': 'application/json', 'x-csrf-token': t}}, body: JSON.stringify({{title: 'x'}})}})).status);
                 out.push((await fetch('/api/v1/cases/' + id + '/notes', {{method: 'POST', headers: {{'content-type': 'application/json', 'x-csrf-token': t}}, body: JSON.stringify({{body: 'x'}})}})).status);
                 return out;"
            ),
            vec![],
        )
        .await
        .unwrap();
    let statuses: Vec<u64> = statuses.as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 403), "{statuses:?}");
    // The export asks for the password again, then shows the sealed dossier.
    c.find(Css("[data-testid=export-print]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let title = wait_text(c, "[data-testid=dossier-title]", |t| t.starts_with("Case dossier")).await;
    assert!(title.starts_with("Case dossier: ICTS-"), "{title}");
    let seal = c.find(Css("[data-testid=dossier-seal]")).await.unwrap().text().await.unwrap();
    assert!(seal.contains("signed with key"), "{seal}");
    let body = c.find(Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("Vendor contacted."), "the dossier holds the notes");
    browser.screenshot("dossier").await;
    // The chain page shows the signing key and verifies on demand.
    c.goto(&format!("{base}/audit/chain")).await.unwrap();
    c.wait().for_element(Css("[data-testid=verify-now]")).await.unwrap().click().await.unwrap();
    let result = wait_text(c, "[data-testid=verify-result]", |t| t.starts_with("OK")).await;
    assert!(result.starts_with("OK"), "{result}");
    assert!(c.find(Css("[data-testid=unsigned-warning]")).await.is_err());
    browser.screenshot("audit-chain").await;
    let console = browser.console().await;
    let errors: Vec<_> =
        console.iter().filter(|(level, text)| level == "SEVERE" && !text.contains("status of 403")).collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

/// What the case page's forms write, counted in the database: notes, transactions, the
/// events of the three acts, and every audit event.
async fn written(pool: &sqlx::PgPool) -> [i64; 6] {
    let one = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap() };
    [
        one("SELECT count(*) FROM case_notes").await,
        one("SELECT count(*) FROM transactions").await,
        one("SELECT count(*) FROM audit_events WHERE event_type = 'case.note_added'").await,
        one("SELECT count(*) FROM audit_events WHERE event_type = 'case.transaction_added'").await,
        one("SELECT count(*) FROM audit_events WHERE event_type = 'case.assigned'").await,
        one("SELECT count(*) FROM audit_events").await,
    ]
}

/// Refreshes the page the form went back to: it is still that page, its message is gone,
/// and `what` is written no more (the counts stay `after`).
async fn refresh_writes_nothing(c: &fantoccini::Client, pool: &sqlx::PgPool, page: &str, after: [i64; 6], what: &str) {
    use fantoccini::Locator::Css;
    c.refresh().await.unwrap();
    c.wait().for_element(Css("[data-testid=docket]")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().as_str(), page, "{what}: the page of the result");
    assert!(c.find(Css("[data-testid=message]")).await.is_err(), "{what}: the message is gone after a reload");
    assert_eq!(written(pool).await, after, "{what}: a refresh writes nothing");
}

#[tokio::test]
async fn a_refresh_or_the_back_button_after_a_form_repeats_nothing_and_its_message_shows_once() {
    use fantoccini::Locator::{Css, Id};
    let password = "a shared long passphrase";
    let (url, pool, _) = database_with_users(
        &[
            ("ana.analyst@agency.gov", "Ana Analyst", "analyst"),
            ("sid.supervisor@agency.gov", "Sid Supervisor", "supervisor"),
        ],
        password,
    )
    .await;
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let base = server.base.clone();
    let sid = Api::new(&base, "sid.supervisor@agency.gov", password).await;
    let case = sid
        .call(
            reqwest::Method::POST,
            "/api/v1/cases",
            Some(serde_json::json!({"title": "Edge router firmware", "summary": "Firmware updates pushed from abroad.",
                "origin": "own_initiative", "category": "network_infrastructure", "adversaries": ["CN"], "restricted": false})),
        )
        .await;
    let id = case["id"].as_str().unwrap().to_string();
    let page = format!("{base}/cases/{id}");
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&base, "sid.supervisor@agency.gov", password).await;
    c.goto(&page).await.unwrap();
    let start = written(&pool).await;

    // A note.
    c.find(Id("note-body")).await.unwrap().send_keys("The vendor called back.").await.unwrap();
    c.find(Css("form[action$='/notes'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let shown = wait_text(c, "[data-testid=message]", |t| t == "Note added.").await;
    assert_eq!(shown, "Note added.");
    assert_eq!(c.current_url().await.unwrap().as_str(), page, "the form answered with a redirect to the case page");
    let after_note = written(&pool).await;
    assert_eq!(after_note[0] - start[0], 1, "one note");
    assert_eq!(after_note[2] - start[2], 1, "one note event");
    refresh_writes_nothing(c, &pool, &page, after_note, "the note").await;
    // Back (to the page before the form was sent) and forward again: still nothing more.
    c.back().await.unwrap();
    c.wait().for_element(Css("[data-testid=docket]")).await.unwrap();
    c.forward().await.unwrap();
    c.wait().for_element(Css("[data-testid=docket]")).await.unwrap();
    assert_eq!(written(&pool).await, after_note, "the back button writes nothing");

    // A transaction.
    c.find(Css("#panel-transaction summary")).await.unwrap().click().await.unwrap();
    c.find(Id("tx-item")).await.unwrap().send_keys("Edge router firmware 4.2").await.unwrap();
    c.find(Css("form[action$='/transactions'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let shown = wait_text(c, "[data-testid=message]", |t| t == "Transaction recorded.").await;
    assert_eq!(shown, "Transaction recorded.");
    let after_transaction = written(&pool).await;
    assert_eq!(after_transaction[1] - after_note[1], 1, "one transaction");
    assert_eq!(after_transaction[3] - after_note[3], 1, "one transaction event");
    refresh_writes_nothing(c, &pool, &page, after_transaction, "the transaction").await;

    // An assignment.
    c.find(Id("assignee")).await.unwrap().select_by_label("Ana Analyst").await.unwrap();
    c.find(Css("form[action='/cases/assign'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let shown = wait_text(c, "[data-testid=message]", |t| t == "Assignment saved.").await;
    assert_eq!(shown, "Assignment saved.");
    let after_assignment = written(&pool).await;
    assert_eq!(after_assignment[4] - after_transaction[4], 1, "one assignment event");
    refresh_writes_nothing(c, &pool, &page, after_assignment, "the assignment").await;
    let assignee = sid.call(reqwest::Method::GET, &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(assignee["assignee"]["name"], "Ana Analyst");
    browser.screenshot("case-after-refresh").await;

    let console = browser.console().await;
    let errors: Vec<_> = console.iter().filter(|(level, _)| level == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

/// A new database on the test server with `users` (e-mail, name, role), all with
/// `password`: its URL, a pool to it, and the time they were created.
pub async fn database_with_users(
    users: &[(&str, &str, &str)],
    password: &str,
) -> (String, sqlx::PgPool, time::OffsetDateTime) {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    for (email, name, role) in users {
        let input = icts_review::accounts::model::NewUser::parse(email, name, role, password).unwrap();
        icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();
    }
    (url, pool, now)
}

/// Where an element is, in CSS pixels (left and right), and how many lines its text takes
/// (the line boxes of a range over its contents).
async fn bounds(c: &fantoccini::Client, css: &str) -> (f64, f64, u64) {
    let v = c
        .execute(
            "const e = document.querySelector(arguments[0]); const r = e.getBoundingClientRect(); \
             const t = document.createRange(); t.selectNodeContents(e); \
             const lines = new Set([...t.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))); \
             return [r.left, r.right, lines.size];",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap(), v[2].as_u64().unwrap())
}

#[tokio::test]
async fn the_header_keeps_sign_out_on_screen_at_320_and_on_one_line_at_1280() {
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    let input = icts_review::accounts::model::NewUser::parse(
        "maximiliana.administrator@agency.gov",
        "Maximiliana Administrator-Longname",
        "admin",
        "a shared long passphrase",
    )
    .unwrap();
    icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&server.base, "maximiliana.administrator@agency.gov", "a shared long passphrase").await;

    // An administrator has the most items in the header: at 1,280 px, Sign out and the
    // site's title each stay on one line.
    c.set_window_size(1280, 900).await.unwrap();
    c.goto(&format!("{}/", server.base)).await.unwrap();
    browser.screenshot("header-1280-admin").await;
    let vw = c.execute("return document.documentElement.clientWidth;", vec![]).await.unwrap().as_f64().unwrap();
    for css in [".icts-user__signout", ".usa-logo__text a"] {
        let (left, right, lines) = bounds(c, css).await;
        assert_eq!(lines, 1, "{css} is one line");
        assert!(left >= 0.0 && right <= vw + 0.5, "{css} is on screen: {left}–{right} of {vw}");
    }

    // At 320 px, with the menu open, Sign out is inside the screen.
    c.set_window_size(320, 900).await.unwrap();
    c.goto(&format!("{}/", server.base)).await.unwrap();
    c.find(fantoccini::Locator::Css(".usa-menu-btn")).await.unwrap().click().await.unwrap();
    c.wait().for_element(fantoccini::Locator::Css(".usa-nav.is-visible")).await.unwrap();
    // The menu slides in: wait until Sign out is shown and stands still.
    let signout = c.find(fantoccini::Locator::Css(".icts-user__signout")).await.unwrap();
    let mut last = None;
    for _ in 0..40 {
        let at = bounds(c, ".icts-user__signout").await;
        if signout.is_displayed().await.unwrap() && last == Some(at) {
            break;
        }
        last = Some(at);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(signout.is_displayed().await.unwrap(), "Sign out is shown in the open menu");
    let vw = c.execute("return document.documentElement.clientWidth;", vec![]).await.unwrap().as_f64().unwrap();
    let (left, right, lines) = bounds(c, ".icts-user__signout").await;
    browser.screenshot("header-320-menu").await;
    assert!(left >= 0.0 && right <= vw + 0.5, "Sign out is inside the 320 px screen: {left}–{right} of {vw}");
    assert_eq!(lines, 1, "and on one line");
    browser.close().await;
}

/// A first visit (an empty cache) to the sign-in page, then to the home page after signing
/// in: what each transfers, the page and every asset it loads, in Resource Timing's
/// `transferSize`. The static files go out precompressed, so a first load stays under half
/// of what the uncompressed files made it (BENCHMARKS.md has the figures).
#[tokio::test]
async fn a_first_visit_transfers_the_assets_compressed() {
    let (url, _pool, _) =
        database_with_users(&[("dana.analyst@agency.gov", "Dana Analyst", "analyst")], "a shared long passphrase")
            .await;
    let server = RunningServer::start(&[], &[("DATABASE_URL", url.as_str())]).await;
    let browser = Browser::start().await;
    let base = &server.base;
    let total = |entries: &[(String, u64, u64)], what: &str| {
        for (name, transferred, decoded) in entries {
            println!("{what}: {transferred:>8} B transferred, {decoded:>8} B decoded  {name}");
            assert!(*transferred > 0, "{what}: {name} came from the cache, not a first load");
        }
        let sum: u64 = entries.iter().map(|e| e.1).sum();
        println!("{what}: {sum} B transferred in {} responses", entries.len());
        sum
    };
    browser.clear_cache().await;
    let sign_in = total(&browser.load_transfers(&format!("{base}/sign-in")).await, "/sign-in");
    browser.sign_in(base, "dana.analyst@agency.gov", "a shared long passphrase").await;
    browser.clear_cache().await;
    let home = total(&browser.load_transfers(&format!("{base}/")).await, "/ (signed in)");
    println!("first loads: /sign-in {sign_in} B, home {home} B");
    // Before the assets were precompressed (the same pages, measured the same way): 675,494 B
    // and 683,153 B.
    assert!(sign_in * 2 <= 675_494, "/sign-in transferred {sign_in} B");
    assert!(home * 2 <= 683_153, "the home page transferred {home} B");
    browser.close().await;
}
