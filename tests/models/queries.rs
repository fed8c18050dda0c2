//! Relations load without N+1 queries: the models layer counts the statements it runs, and a
//! list of many records with two relations included costs three queries, on both backends.

use crate::common::db::backends;
use crate::fixtures::project;
use crate::support::start;
use serde_json::{Map, Value, json};
use weft::models::{Db, Include, ListQuery, crud};

fn payload(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn includes_cost_one_query_per_relation_whatever_the_number_of_records() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let project = s.registry.project();
        let models = &project.models;
        let candidate = models.resolve("Candidate", None).unwrap().clone();
        let education = models.resolve("Education", None).unwrap().clone();
        let mut conn = s.registry.store().acquire().await.unwrap();
        let mut db_conn = Db::new(conn.conn());
        let mut ids = Vec::new();
        for i in 0..20 {
            let c = crud::create(
                &mut db_conn,
                &candidate,
                &payload(json!({"email": format!("c{i}@x.org")})),
            )
            .await
            .unwrap();
            for year in [2000, 2004] {
                let e = json!({"candidate_id": c["id"], "school": format!("s{i}"), "year": year});
                crud::create(&mut db_conn, &education, &payload(e))
                    .await
                    .unwrap();
            }
            ids.push(c["id"].clone());
        }
        assert_eq!(
            db_conn.queries(),
            60,
            "{}: one statement per create",
            db.name
        );

        let to_education = Include {
            relation: candidate.relation("education").unwrap().clone(),
            target: education.clone(),
        };
        let before = db_conn.queries();
        let q = ListQuery {
            filters: Vec::new(),
            order: None,
            limit: 100,
            offset: 0,
        };
        let list = crud::list(
            &mut db_conn,
            &candidate,
            q,
            std::slice::from_ref(&to_education),
        )
        .await
        .unwrap();
        assert_eq!(list.len(), 20);
        assert!(
            list.iter()
                .all(|c| c["education"].as_array().unwrap().len() == 2)
        );
        assert_eq!(
            db_conn.queries() - before,
            2,
            "{}: the list, then one query for all education rows",
            db.name
        );

        // many_to_one, and a read: the same rule.
        let to_candidate = Include {
            relation: education.relation("candidate").unwrap().clone(),
            target: candidate.clone(),
        };
        let before = db_conn.queries();
        let q = ListQuery {
            filters: Vec::new(),
            order: None,
            limit: 1000,
            offset: 0,
        };
        let rows = crud::list(
            &mut db_conn,
            &education,
            q,
            std::slice::from_ref(&to_candidate),
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 40);
        assert!(
            rows.iter()
                .all(|e| e["candidate"]["id"] == e["candidate_id"])
        );
        assert_eq!(db_conn.queries() - before, 2);
        let before = db_conn.queries();
        let one = crud::read(&mut db_conn, &candidate, ids[3].clone(), &[to_education])
            .await
            .unwrap();
        assert_eq!(one["education"].as_array().unwrap().len(), 2);
        assert_eq!(db_conn.queries() - before, 2);
        drop(conn);
        s.stop().await;
    }
}
