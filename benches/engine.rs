//! In-process engine overhead: a 10-step workflow (one `set` step with 4 templated params, eight
//! routers, one response mapping) over a 50-key context. Per-step overhead = time / 10.
//!
//! `cargo bench --bench engine`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use weft::engine::RunOptions;
use weft::{App, Project};

const WORKFLOW: &str = r#"
kind: Workflow
metadata: { name: bench }
spec:
  steps:
    - id: prepare
      kind: functional
      runner: set
      params:
        label: "order {{ order.id }} for {{ customer.name }}"
        total: "{{ order.amount * 2 }}"
        region: "{{ customer.region | upper }}"
        first_item: "{{ order.items[0] }}"
    - { id: r1, kind: router, condition: { field: order.amount, operator: gte, value: 10 } }
    - { id: r2, kind: router, condition: { field: customer.region, operator: eq, value: eu } }
    - { id: r3, kind: router, condition: { field: k7, operator: in, value: [a, b, v7] } }
    - { id: r4, kind: router, condition: { field: order.items, operator: contains, value: apple } }
    - { id: r5, kind: router, condition: { field: k12, operator: is_not_empty } }
    - { id: r6, kind: router, condition: { field: total, operator: lt, value: 1000000 } }
    - { id: r7, kind: router, condition: { field: k20, operator: neq, value: nope } }
    - { id: r8, kind: router, condition: { field: region, operator: eq, value: EU } }
    - id: respond
      kind: response
      mapping: { label: label, total: total, region: region, item: first_item, id: order.id }
"#;

fn context() -> Map<String, Value> {
    let mut m = Map::new();
    for i in 0..47 {
        m.insert(format!("k{i}"), json!(format!("v{i}")));
    }
    m.insert(
        "order".into(),
        json!({"id": "o-1", "amount": 125.5, "items": ["apple", "pear"]}),
    );
    m.insert(
        "customer".into(),
        json!({"name": "Ada", "region": "eu", "tier": "gold"}),
    );
    m.insert("meta".into(), json!({"source": "bench", "tags": [1, 2, 3]}));
    m
}

fn engine(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/bench.yaml"), WORKFLOW).unwrap();
    let app = App::new();
    let (project, _) = Project::load(dir.path(), &app).expect("bench project loads");
    let workflow = project.workflow("bench", None).unwrap().clone();
    let engine = app.engine();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let input = context();

    // Sanity: the workflow does what the benchmark claims.
    let out = rt
        .block_on(engine.run(&workflow, input.clone(), RunOptions::default()))
        .unwrap();
    assert_eq!(out.steps, 10);
    assert_eq!(out.body()["total"], json!(251.0));

    c.bench_function("run 10-step workflow, 50-key context", |b| {
        b.iter(|| {
            let out = rt
                .block_on(engine.run(&workflow, black_box(input.clone()), RunOptions::default()))
                .unwrap();
            black_box(out);
        })
    });
    c.bench_function("clone 50-key input (baseline included above)", |b| {
        b.iter(|| black_box(input.clone()))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
