//! The federal calendar through the API and its page: a year's holidays as observed, and a
//! due date rolled over weekends and holidays with its reckoning; bad input named by field.

use axum::http::StatusCode;

use crate::harness::{TestApp, api};

fn fields(body: &serde_json::Value) -> Vec<String> {
    body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_api_gives_a_years_holidays_and_a_due_date_with_its_reckoning() {
    let app = TestApp::new().await;
    let t = app.token(&app.user("analyst").await).await;

    let y = app.send(api("GET", "/api/v1/calendar/holidays?year=2027", &t, None)).await;
    assert_eq!(y.status, StatusCode::OK, "{}", y.text());
    let y = y.json();
    let observed: Vec<&str> =
        y["holidays"].as_array().unwrap().iter().map(|h| h["observed_on"].as_str().unwrap()).collect();
    // Juneteenth and Christmas fall on Saturdays in 2027, and so does New Year's Day 2028.
    assert!(observed.contains(&"2027-06-18") && observed.contains(&"2027-12-24"), "{observed:?}");
    assert_eq!(observed.last(), Some(&"2027-12-31"));
    let new_year = &y["holidays"][observed.len() - 1];
    assert_eq!(new_year["holiday"], "new_years_day");
    assert_eq!(new_year["legal_date"], "2028-01-01");

    // A pre-penalty notice delivered on Friday 7 August 2026: the 30th day is a Sunday
    // and the Monday after is Labor Day, so the answer is due on Tuesday 8 September.
    let d = app.send(api("GET", "/api/v1/calendar/due?from=2026-08-07", &t, None)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let d = d.json();
    assert_eq!(d["days"], 30);
    assert_eq!(d["counted_to"], "2026-09-06");
    assert_eq!(d["due"], "2026-09-08");
    assert_eq!(d["passed_over"][0]["reason"]["kind"], "sunday");
    assert_eq!(d["passed_over"][1]["reason"]["holiday"], "labor_day");

    // Bad input is named by field, all of it at once.
    let bad = app.send(api("GET", "/api/v1/calendar/due?from=2026-02-30&days=0", &t, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.json()), ["from", "days"]);
    let bad = app.send(api("GET", "/api/v1/calendar/holidays?year=1776", &t, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.json()), ["year"]);
    let bad = app.send(api("GET", "/api/v1/calendar/due?from=2026-08-07&days=many", &t, None)).await;
    // A count that is no number does not fit the query's type: refused before any
    // reckoning, naming the parameter.
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    assert!(bad.json()["detail"].as_str().unwrap().contains("days"), "{}", bad.text());
}

#[tokio::test]
async fn the_page_reckons_a_due_date_and_lists_the_years_holidays() {
    let app = TestApp::new().await;
    let s = app.sign_in(&app.user("supervisor").await).await;
    let page = app.send(s.get("/calendar?year=2026&from=2026-08-07&days=30")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Due Tuesday 8 September 2026"), "{html}");
    assert!(html.contains("Monday 7 September 2026 is passed over: Labor Day."));
    // Independence Day 2026 is a Saturday: observed on Friday 3 July.
    assert!(html.contains("<td>Friday 3 July 2026</td><td>Independence Day</td><td>Saturday 4 July 2026</td>"));

    let bad = app.send(s.get("/calendar?year=2026&from=next+week&days=30")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text();
    assert!(html.contains("data-testid=\"error-summary\"") && html.contains("href=\"#from\""), "{html}");
    assert!(!html.contains("data-testid=\"due\""));
}
