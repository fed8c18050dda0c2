//! `examples/candidate_screening` over a real socket, on SQLite and on PostgreSQL: what its
//! README promises, request by request.

use serde_json::{Value, json};

use crate::common::db::backends;
use crate::common::server::{Options, TestServer, state};
use crate::common::{TestProject, repo_root};

struct Http {
    client: reqwest::Client,
    server: TestServer,
}

impl Http {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method, self.server.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test]
async fn candidate_screening_end_to_end() {
    for db in backends().await {
        let p = TestProject::copy_of(&repo_root().join("examples/candidate_screening"));
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let http = Http {
            client: reqwest::Client::new(),
            server: TestServer::start(st).await,
        };
        let name = db.name;

        // Apply: 201 with the read variant.
        let ada = json!({"email": "ada@example.com", "name": "Ada", "ssn": "123-45-6789", "profile": {"skills": ["math"]}});
        let (status, body) = http.post("/api/candidates", ada.clone()).await;
        assert_eq!(status, 201, "{name}: {body}");
        assert_eq!(body["status"], "applied");
        assert_eq!(body["profile"], json!({"skills": ["math"]}));
        assert!(body.get("ssn").is_none(), "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let (_, bob) = http
            .post(
                "/api/candidates",
                json!({"email": "bob@example.com", "name": "Bob"}),
            )
            .await;
        let bob_id = bob["id"].as_str().unwrap().to_string();

        // The same email again: the conflict route answers 409; bad input: 422.
        let (status, body) = http.post("/api/candidates", ada).await;
        assert_eq!(status, 409, "{name}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("`email`"),
            "{body}"
        );
        let (status, body) = http
            .post(
                "/api/candidates",
                json!({"email": "x@example.com", "status": "boss"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "validation_failed");

        // Education for Ada, then for nobody.
        for (school, year) in [("Cambridge", "1833-06-01"), ("Home", "1830-01-01")] {
            let (status, body) = http
                .post(
                    &format!("/api/candidates/{id}/education"),
                    json!({"school": school, "graduated": year}),
                )
                .await;
            assert_eq!(status, 201, "{name}: {body}");
            assert_eq!(body["candidate_id"], json!(id));
        }
        let nobody = uuid::Uuid::new_v4();
        let (status, _) = http
            .post(
                &format!("/api/candidates/{nobody}/education"),
                json!({"school": "X"}),
            )
            .await;
        assert_eq!(status, 404, "{name}");

        // Screening: both updates commit together.
        let (status, body) = http
            .post(
                &format!("/api/candidates/{id}/screen"),
                json!({"score": 8.5}),
            )
            .await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(
            (body["status"].clone(), body["score"].clone()),
            (json!("interview"), json!(8.5))
        );
        let (_, body) = http
            .post(
                &format!("/api/candidates/{bob_id}/screen"),
                json!({"score": 3}),
            )
            .await;
        assert_eq!(body["status"], "rejected");

        // Read with education; list a status.
        let (status, body) = http.get(&format!("/api/candidates/{id}")).await;
        assert_eq!(status, 200, "{name}: {body}");
        let schools: Vec<&str> = body["education"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["school"].as_str().unwrap())
            .collect();
        assert_eq!(schools, ["Cambridge", "Home"]);
        let (status, body) = http.get("/api/candidates?status=interview").await;
        assert_eq!(status, 200, "{body}");
        let emails: Vec<&str> = body["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["ada@example.com"]);
        let (status, _) = http.get(&format!("/api/candidates/{nobody}")).await;
        assert_eq!(status, 404);
        let (status, _) = http.get("/api/candidates/not-a-uuid").await;
        assert_eq!(status, 404);

        // The admin API lists both models.
        let (status, body) = http.get("/admin/models").await;
        assert_eq!(status, 200);
        assert_eq!(body["Candidate"][0]["tablename"], "candidates");
        assert_eq!(body["Education"][0]["relations"], json!(["candidate"]));
        http.server.stop().await;
    }
}
