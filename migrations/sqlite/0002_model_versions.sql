-- Every (model, schema_version) weft has loaded, with the admin's enabled override.
CREATE TABLE IF NOT EXISTS model_versions (
    name             TEXT    NOT NULL,
    schema_version   TEXT    NOT NULL,
    -- `enabled` as written in the YAML.
    yaml_enabled     BOOLEAN NOT NULL,
    -- Set once an admin toggles the version; NULL means "as the YAML says".
    enabled_override BOOLEAN,
    -- The document as written (`${VAR}` unexpanded).
    config           TEXT    NOT NULL,
    source_file      TEXT    NOT NULL,
    tablename        TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (name, schema_version)
);

-- The columns weft last applied to each model table (JSON): what schema diffing at start
-- compares the declared models against.
CREATE TABLE IF NOT EXISTS model_tables (
    tablename  TEXT NOT NULL PRIMARY KEY,
    columns    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
