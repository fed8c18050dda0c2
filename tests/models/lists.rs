//! Lists and relations on SQLite and on PostgreSQL: `include` both ways (one list per record,
//! one record or null), database-numbered keys, filters (null included), ordering, paging from
//! templates and strings, and the limits.

use serde_json::{Value, json};
use weft::engine::FailureKind;

use crate::common::db::backends;
use crate::fixtures::project;
use crate::op::create;
use crate::support::start;

#[tokio::test]
async fn relations_are_included_both_ways() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let ada = create(&s, json!({"email": "ada@example.com", "score": 9.0})).await;
        let bob = create(&s, json!({"email": "bob@example.com", "score": 7.0})).await;
        let lone = create(&s, json!({"email": "lone@example.com", "score": 1.0})).await;
        let mut ids = Vec::new();
        for (who, school, year) in [
            (&ada, "Cambridge", 1830),
            (&ada, "Home", 1820),
            (&bob, "MIT", 1990),
        ] {
            let e = s
                .value(
                    "add_education",
                    json!({"candidate_id": who["id"], "school": school, "year": year}),
                    "education",
                )
                .await;
            ids.push(e["id"].clone());
        }
        assert_eq!(
            ids,
            [json!(1), json!(2), json!(3)],
            "{}: integer keys are numbered by the database",
            db.name
        );
        let read = s
            .value("read_expanded", json!({"id": ada["id"]}), "candidate")
            .await;
        let schools: Vec<&str> = read["education"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["school"].as_str().unwrap())
            .collect();
        assert_eq!(schools, ["Cambridge", "Home"]);
        assert_eq!(read["education"][0]["candidate_id"], ada["id"]);
        // A list with include: one list per record, empty when nothing relates.
        let list = s
            .value(
                "list_candidates",
                json!({"status": "new", "limit": 10, "offset": 0}),
                "candidates",
            )
            .await;
        let shape: Vec<(String, usize)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["email"].as_str().unwrap().to_string(),
                    c["education"].as_array().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("ada@example.com".to_string(), 2),
                ("bob@example.com".to_string(), 1),
                ("lone@example.com".to_string(), 0)
            ],
            "ordered by -score"
        );
        let _ = lone;
        // many_to_one: each education row carries its candidate.
        let edu = s
            .value(
                "list_education",
                json!({"candidate_id": ada["id"]}),
                "education",
            )
            .await;
        assert_eq!(edu.as_array().unwrap().len(), 2);
        assert_eq!(edu[0]["year"], 1820);
        assert_eq!(edu[0]["candidate"]["email"], "ada@example.com");
        assert!(edu[0]["candidate"].get("ssn").is_none());
        s.stop().await;
    }
}

#[tokio::test]
async fn lists_filter_order_and_page() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        for (i, status) in ["new", "screening", "new", "hired", "new"]
            .iter()
            .enumerate()
        {
            create(
                &s,
                json!({"email": format!("c{i}@example.com"), "status": status, "score": i}),
            )
            .await;
        }
        let emails = |v: Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|c| c["email"].as_str().unwrap().to_string())
                .collect()
        };
        let page = |limit: Value, offset: Value| json!({"status": "new", "limit": limit, "offset": offset});
        let all = s
            .value("list_candidates", page(json!(10), json!(0)), "candidates")
            .await;
        assert_eq!(
            emails(all),
            ["c4@example.com", "c2@example.com", "c0@example.com"],
            "{}",
            db.name
        );
        let second = s
            .value(
                "list_candidates",
                page(json!("1"), json!("1")),
                "candidates",
            )
            .await;
        assert_eq!(
            emails(second),
            ["c2@example.com"],
            "limit and offset from strings"
        );
        // Without options: every record (limit 100), by key = creation order for v7 keys.
        let every = s.value("list_all", json!({}), "list_result").await;
        assert_eq!(every.as_array().unwrap().len(), 5);
        assert_eq!(every[0]["email"], "c0@example.com");
        // A null filter matches NULL.
        let none = s
            .value(
                "list_candidates",
                json!({"status": null, "limit": 5, "offset": 0}),
                "candidates",
            )
            .await;
        assert_eq!(none, json!([]));
        // Out of range.
        let f = s
            .failure("list_candidates", page(json!(1001), json!(0)))
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Validation);
        assert_eq!(f.details.unwrap()[0]["field"], "limit");
        let f = s
            .failure(
                "list_candidates",
                json!({"status": "fired", "limit": 1, "offset": 0}),
            )
            .await
            .failure
            .unwrap();
        assert_eq!(
            f.kind,
            FailureKind::Validation,
            "a filter value is checked too"
        );
        s.stop().await;
    }
}
