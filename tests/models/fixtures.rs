//! The models and workflows the model tests share: a `Candidate` with a field of every type and
//! every kind of default, an `Education` with a database-numbered key, related both ways.

use crate::common::TestProject;

pub const MODELS: &str = r#"
kind: ModelDefinition
metadata: { name: Candidate, schema_version: v1, description: "A job candidate" }
spec:
  tablename: candidates
  fields:
    - { name: id, type: uuid, primary_key: true }
    - { name: email, type: string, required: true, unique: true, index: true }
    - { name: name, type: text }
    - { name: status, type: enum, enum_values: [new, screening, hired], default: new }
    - { name: score, type: float }
    - { name: rating, type: numeric }
    - { name: years, type: integer, default: 0 }
    - { name: big, type: bigint }
    - { name: active, type: boolean, default: true }
    - { name: profile, type: json }
    - { name: ref_code, type: uuid, default: uuid4 }
    - { name: token, type: string, default: uuid4 }
    - { name: birthday, type: date }
    - { name: applied_on, type: date, default: today }
    - { name: seen_at, type: timestamp, default: now }
    - { name: interview_at, type: timestamptz }
    - { name: ssn, type: string, secure: true }
    - { name: created_at, type: timestamptz }
    - { name: updated_at, type: timestamptz }
  relations:
    - { name: education, model: Education, foreign_key: candidate_id, type: one_to_many }
---
kind: ModelDefinition
metadata: { name: Education }
spec:
  fields:
    - { name: id, type: integer, primary_key: true }
    - { name: candidate_id, type: uuid, required: true, index: true }
    - { name: school, type: string, required: true }
    - { name: year, type: integer }
  relations:
    - { name: candidate, model: Candidate, foreign_key: candidate_id, type: many_to_one }
"#;

pub const WORKFLOWS: &str = r#"
kind: Workflow
metadata: { name: create_candidate }
spec:
  context: [Candidate, Education]
  steps:
    - { id: create, kind: model-op, model: Candidate, operation: create, payload: "{{ candidate }}", output: candidate }
---
kind: Workflow
metadata: { name: read_candidate }
spec:
  context: Candidate
  steps:
    - { id: read, kind: model-op, model: Candidate, operation: read, record_id: "{{ id }}", output: candidate }
---
kind: Workflow
metadata: { name: read_expanded }
spec:
  context: Candidate
  steps:
    - { id: read, kind: ModelOp, model: Candidate, operation: read, record_id: "{{ id }}", include: "education", output: candidate }
---
kind: Workflow
metadata: { name: list_candidates }
spec:
  context: Candidate
  steps:
    - id: list
      kind: model-op
      model: Candidate
      operation: list
      filters: { status: "{{ status }}" }
      order_by: "-score"
      limit: "{{ limit }}"
      offset: "{{ offset }}"
      include: education
      output: candidates
---
kind: Workflow
metadata: { name: list_all }
spec:
  context: Candidate
  steps:
    - { id: list, kind: model-op, model: Candidate, operation: list }
---
kind: Workflow
metadata: { name: update_candidate }
spec:
  context: Candidate
  steps:
    - { id: update, kind: model-op, model: Candidate, operation: update, record_id: "{{ id }}", payload: "{{ changes }}", output: candidate }
---
kind: Workflow
metadata: { name: delete_candidate }
spec:
  context: Candidate
  steps:
    - { id: delete, kind: model-op, model: Candidate, operation: delete, record_id: "{{ id }}" }
---
kind: Workflow
metadata: { name: add_education }
spec:
  context: [Education]
  steps:
    - id: add
      kind: model-op
      model: Education
      operation: create
      payload: { candidate_id: "{{ candidate_id }}", school: "{{ school }}", year: "{{ year }}" }
      output: education
---
kind: Workflow
metadata: { name: list_education }
spec:
  context: Education
  steps:
    - { id: list, kind: model-op, model: Education, operation: list, filters: { candidate_id: "{{ candidate_id }}" }, order_by: year, include: candidate, output: education }
---
kind: Workflow
metadata: { name: create_routed }
spec:
  context: Candidate
  steps:
    - id: create
      kind: model-op
      model: Candidate
      operation: create
      payload: "{{ candidate }}"
      routes: { default: created, conflict: duplicate, error: other }
    - { id: created, kind: functional, runner: set, params: { outcome: created }, routes: { default: END } }
    - { id: duplicate, kind: functional, runner: set, params: { outcome: duplicate, why: "{{ _last_error }}", kind: "{{ _last_error_type }}" }, routes: { default: END } }
    - { id: other, kind: functional, runner: set, params: { outcome: other, kind: "{{ _last_error_type }}" } }
"#;

pub fn project() -> TestProject {
    TestProject::new()
        .file("models/candidate.yaml", MODELS)
        .workflow("ops", WORKFLOWS)
}
